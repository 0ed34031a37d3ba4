"""``cardioscreen reviews export``: the doctors' reviewed studies as a PTB-XL-layout training set."""

from __future__ import annotations

import argparse
from datetime import date, datetime, timezone
from pathlib import Path

from cardioscreen.reviews.export import ReviewedRecord, export_key, write_ptbxl

KEY_FILE = "review-export.key"


def _day(text: str) -> datetime:
    try:
        return datetime.combine(date.fromisoformat(text), datetime.min.time(), tzinfo=timezone.utc)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"dates are YYYY-MM-DD, got {text!r}") from exc


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "reviews", help="use the doctors' reviews as training data",
        description="Reviewed studies of the web app as training data.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")
    export = actions.add_parser(
        "export", help="write the reviewed studies as a PTB-XL-layout folder",
        description="Every concluded study (analysed, not refused) becomes a record of OUT in PTB-XL layout: "
        "scp_codes from the doctor's verdicts (confirmed and added statements), review_verdicts with the verdict "
        "per class (classes without one are unknown, not negative), a pseudonymised patient_id and patient-wise "
        "strat_fold (HMAC with a key kept in DATA_DIR), records500/ WFDB at 500 Hz (other rates resampled, noted in "
        "export_note). `train --extra-data OUT`, `evaluate --data OUT` and `train-ensemble` read it unchanged. "
        "The database is the app's (CARDIOSCREEN_DATABASE_URL, else the SQLite file in DATA_DIR).")
    export.add_argument("--data-dir", type=Path, required=True, help="the web app's data folder")
    export.add_argument("--out", type=Path, required=True, help="folder to write (its table and records replaced)")
    export.add_argument("--since", type=_day, default=None, help="only studies concluded on or after YYYY-MM-DD")
    export.set_defaults(func=run_export)


def run_export(args: argparse.Namespace) -> int:
    from cardioscreen.web.db import create_db_engine, make_session_factory
    from cardioscreen.web.review_data import reviewed_studies
    from cardioscreen.web.settings import WebSettings
    from cardioscreen.web.storage import StudyStore

    settings = WebSettings(data_dir=args.data_dir)
    store = StudyStore(settings.studies_dir, settings.staging_dir)
    factory = make_session_factory(create_db_engine(settings.resolved_database_url()))
    with factory() as db:
        studies = reviewed_studies(db, args.since)
        records = (ReviewedRecord(
            study_id=study.id, patient_key=f"user:{study.owner_id}", record=store.load_record(study.storage_key),
            verdicts={**{v.code: v.agree for v in study.conclusion.statements},
                      **{v.code: v.agree for v in study.conclusion.verdicts}},
            concluded_at=study.conclusion.created_at,
            model_version=study.conclusion.model_version, age=study.patient_age, sex=study.patient_sex)
            for study in studies if study.conclusion is not None)
        summary = write_ptbxl(records, args.out, export_key(args.data_dir / KEY_FILE))
    print(f"exported {summary.n_records} reviewed records of {summary.n_patients} patients to {summary.out}")
    print("records per strat_fold: " + ", ".join(f"{fold}: {n}" for fold, n in summary.folds.items()))
    for study_id, note in summary.noted.items():
        print(f"  study {study_id}: {note}")
    for study_id, reason in summary.skipped.items():
        print(f"  study {study_id} left out: {reason}")
    return 0
