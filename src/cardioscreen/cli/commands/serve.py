"""``cardioscreen serve``: run the clinic web app with uvicorn (SQLite by default, PostgreSQL for several workers)."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from cardioscreen.errors import CardioScreenError


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve", help="run the clinic web app",
        description="Run the web app. Settings come from CARDIOSCREEN_* environment variables "
                    "(CARDIOSCREEN_DATABASE_URL for PostgreSQL, CARDIOSCREEN_SECURE_COOKIES behind HTTPS, ...).")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (more than 1 needs PostgreSQL)")
    parser.add_argument("--data-dir", type=Path, help="data folder (database, studies, session secret)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import uvicorn

    from cardioscreen.web.main import BOOTSTRAP_ADMIN, init_database
    from cardioscreen.web.settings import WebSettings

    if args.data_dir is not None:
        os.environ["CARDIOSCREEN_DATA_DIR"] = str(args.data_dir.resolve())  # read again by each worker process
    settings = WebSettings()
    if args.workers < 1:
        raise CardioScreenError("--workers must be at least 1")
    if args.workers > 1 and settings.resolved_database_url().startswith("sqlite"):
        raise CardioScreenError("several workers need PostgreSQL: set CARDIOSCREEN_DATABASE_URL")
    settings.resolved_session_secret()  # created once here, read by every worker
    _, admin_password = init_database(settings)
    if admin_password is not None:
        print(f"Created the administrator '{BOOTSTRAP_ADMIN}' with password: {admin_password}")
        print("This password is shown only once; sign in and keep it safe.")
    print(f"CardioScreen on http://{args.host}:{args.port} (data in {settings.data_dir})", flush=True)
    uvicorn.run("cardioscreen.web.main:app_from_env", factory=True, host=args.host, port=args.port,
                workers=args.workers, log_level="warning", proxy_headers=False)
    return 0
