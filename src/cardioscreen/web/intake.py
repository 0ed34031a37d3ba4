"""Turning an upload into a study: stage the files, read the record, analyse it, store all of it atomically.

A file that cannot be read as an ECG is refused (:class:`ECGFormatError`) and leaves nothing behind. A record that
reads but whose analysis fails still becomes a study, with status ``failed`` and the error shown on its page.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import IO

from sqlalchemy.orm import Session

from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.io import read_ecg
from cardioscreen.web import crud
from cardioscreen.web.analysis import AnalyzeFn
from cardioscreen.web.models import Study, StudyStatus, User
from cardioscreen.web.storage import RECORD_FILE, UPLOAD_DIR, StudyStore, main_file, save_record, save_result

logger = logging.getLogger(__name__)


def ingest(
    db: Session,
    store: StudyStore,
    analyze: AnalyzeFn,
    slots: threading.Semaphore,
    owner: User,
    files: Iterable[tuple[str, IO[bytes]]],
    client: str = "",
) -> Study:
    """Store and analyse an upload for ``owner``; blocking (call it from a worker thread).

    Parameters
    ----------
    files : iterable of (file name, binary file)
        One ECG file, or a WFDB header with its signal file.
    slots : threading.Semaphore
        Bounds how many analyses run at once in this process.

    Returns
    -------
    Study
        The committed study (status done, refused or failed).

    Raises
    ------
    ECGFormatError
        The upload is empty or not a readable ECG; nothing was stored.
    """
    folder = store.stage(files)
    try:
        source = main_file(folder / UPLOAD_DIR)
        try:
            record = read_ecg(source)
        except CardioScreenError:
            raise
        except Exception as exc:  # a reader tripping over a malformed file is still a bad file, not a server fault
            logger.info("reader failed on %s: %r", source.name, exc)
            raise ECGFormatError(f"{source.name} could not be read as an ECG ({type(exc).__name__})") from exc
        save_record(record, folder / RECORD_FILE)
    except BaseException:
        store.discard(folder)
        raise
    status, error, result = StudyStatus.FAILED.value, None, None
    try:
        with slots:
            analysis = analyze(record)
        save_result(analysis, folder)
        status = StudyStatus.REFUSED.value if analysis.refused else StudyStatus.DONE.value
        result = analysis.to_dict()
    except Exception as exc:  # the upload is kept and the failure shown on the study page
        logger.exception("analysis of %s failed", source.name)
        error = f"{type(exc).__name__}: {exc}"
    key = store.commit(folder)
    try:
        study = crud.add_study(db, owner, storage_key=key, original_filename=source.name, status=status,
                               result=result, error=error, device_statements=record.meta.get("statements") or ())
        crud.record_event(db, "upload", user=owner, subject=f"study:{study.id}", client=client,
                          detail={"status": status, "file": source.name})
        db.commit()
    except BaseException:
        db.rollback()
        store.discard(store.folder(key))
        raise
    return study
