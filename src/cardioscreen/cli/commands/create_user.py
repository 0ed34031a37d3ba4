"""``cardioscreen create-user``: add a patient, doctor or administrator to the web app's database."""

from __future__ import annotations

import argparse
import getpass
import os
from pathlib import Path

from cardioscreen.errors import CardioScreenError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("create-user", help="add a user to the web app",
                                   description="Add a user; the password is asked for unless "
                                               "CARDIOSCREEN_NEW_PASSWORD is set.")
    parser.add_argument("username")
    parser.add_argument("--role", choices=("patient", "doctor", "admin"), default="doctor")
    parser.add_argument("--full-name", default="")
    parser.add_argument("--language", choices=("en", "ru"), default="en")
    parser.add_argument("--data-dir", type=Path, help="data folder of the web app")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from cardioscreen.web import crud
    from cardioscreen.web.main import init_database
    from cardioscreen.web.settings import WebSettings

    if args.data_dir is not None:
        os.environ["CARDIOSCREEN_DATA_DIR"] = str(args.data_dir.resolve())
    password = os.environ.get("CARDIOSCREEN_NEW_PASSWORD") or getpass.getpass(f"password for {args.username}: ")
    factory, admin_password = init_database(WebSettings())
    if admin_password is not None:
        print(f"Created the administrator 'admin' with password: {admin_password} (shown once)")
    with factory() as db:
        try:
            user = crud.create_user(db, args.username, password, role=args.role, full_name=args.full_name,
                                    language=args.language)
        except crud.UserExistsError as exc:
            raise CardioScreenError(str(exc)) from exc
        crud.record_event(db, "user_created", subject=user.username, client="cli", detail={"role": args.role})
        db.commit()
    print(f"created {args.role} {user.username!r}")
    return 0
