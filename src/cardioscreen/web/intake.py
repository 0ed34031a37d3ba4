"""Turning an upload into a study: stage the files, read the record, analyse it, store all of it atomically.

Reading and analysis run in the :class:`~cardioscreen.web.sandbox.Sandbox`'s worker processes, under its memory,
CPU and time limits. A file that cannot be read as an ECG (or whose reading passes a limit or crashes the reader) is
refused (:class:`ECGFormatError`) and leaves nothing behind. A record that reads but whose analysis fails (or passes
a limit) still becomes a study, with status ``failed`` and the error shown on its page. Where the model registry has
a shadow candidate, it analyses the record too and its findings are kept apart, never shown.

In a job queue deployment (:mod:`cardioscreen.web.jobs`) the web process only stores the upload and queues it
(:func:`accept`); a worker reads and analyses it with the same steps (:func:`analyse_stored`), so a file that is no
ECG then becomes a failed study with the reason, shown on its page. An administrator's re-analysis is queued the
same way (:func:`queue_reanalysis`) and run by a worker with the same code as in the web process
(:func:`redo_analysis`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Literal

from sqlalchemy.orm import Session

from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.record import ECGRecord
from cardioscreen.result import AnalysisResult
from cardioscreen.web import crud, review_data
from cardioscreen.web.jobs import queue
from cardioscreen.web.models import PENDING, Study, StudyStatus, User
from cardioscreen.web.sandbox import JobFailedError, Sandbox
from cardioscreen.web.storage import RECORD_FILE, UPLOAD_DIR, StudyStore, main_file, save_record, save_result

logger = logging.getLogger(__name__)


def ingest(
    db: Session,
    store: StudyStore,
    sandbox: Sandbox,
    owner: User,
    files: Iterable[tuple[str, IO[bytes]]],
    client: str = "",
) -> Study:
    """Store and analyse an upload for ``owner``; blocking (call it from a worker thread).

    Parameters
    ----------
    sandbox : Sandbox
        Reads and analyses the record in a worker process.
    files : iterable of (file name, binary file)
        One ECG file, or a WFDB header with its signal file.

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
        record = _read(sandbox, source)
        save_record(record, folder / RECORD_FILE)
    except BaseException:
        store.discard(folder)
        raise
    status, error, result, shadow = _analyse(sandbox, record, folder)
    key = store.commit(folder)
    try:
        study = crud.add_study(db, owner, storage_key=key, original_filename=source.name, status=status,
                               result=result, error=error, device_statements=record.meta.get("statements") or (),
                               age=record.meta.get("age"), sex=record.meta.get("sex"))
        if shadow is not None:
            review_data.add_shadow_result(db, study, shadow)
        crud.record_event(db, "upload", user=owner, subject=f"study:{study.id}", client=client,
                          detail={"status": status, "file": source.name})
        db.commit()
    except BaseException:
        db.rollback()
        store.discard(store.folder(key))
        raise
    return study


def accept(db: Session, store: StudyStore, owner: User, files: Iterable[tuple[str, IO[bytes]]],
           client: str = "") -> Study:
    """Store an upload for ``owner`` and queue its analysis (a job queue deployment, :mod:`~cardioscreen.web.jobs`).

    Returns
    -------
    Study
        The committed study, status ``queued``; a worker reads and analyses it (:func:`analyse_stored`).

    Raises
    ------
    ECGFormatError
        The upload is empty, or holds files that belong to no record; nothing was stored. Whether the file reads
        as an ECG is the worker's to find (its study then shows why not).
    """
    folder = store.stage(files)
    try:
        source = main_file(folder / UPLOAD_DIR)
    except BaseException:
        store.discard(folder)
        raise
    key = store.commit(folder)
    try:
        study = crud.add_study(db, owner, storage_key=key, original_filename=source.name,
                               status=StudyStatus.QUEUED.value, result=None, error=None)
        queue.enqueue(db, queue.ANALYSE, study.id)
        crud.record_event(db, "upload", user=owner, subject=f"study:{study.id}", client=client,
                          detail={"status": study.status, "file": source.name})
        db.commit()
    except BaseException:
        db.rollback()
        store.discard(store.folder(key))
        raise
    return study


def analyse_stored(db: Session, store: StudyStore, sandbox: Sandbox, study: Study) -> None:
    """Read and analyse a queued study's upload and store the outcome on ``study`` (a worker's ``analyse`` job; the
    caller commits). Idempotent: run again, it writes the same files and the same study. A file that does not read
    as an ECG makes the study ``failed``, with the reason as its error."""
    folder = store.folder(study.storage_key)
    try:
        record = _read(sandbox, main_file(folder / UPLOAD_DIR))
    except ECGFormatError as exc:
        crud.set_result(study, None)
        study.status, study.error = StudyStatus.FAILED.value, str(exc)
        return
    save_record(record, folder / RECORD_FILE)
    status, error, result, shadow = _analyse(sandbox, record, folder)
    crud.set_patient(study, record.meta.get("statements") or (), record.meta.get("age"), record.meta.get("sex"))
    crud.set_result(study, result)
    study.status, study.error = status, error
    if shadow is not None:
        review_data.add_shadow_result(db, study, shadow)


def _read(sandbox: Sandbox, source: Path) -> ECGRecord:
    """The record of an upload's main file, read in the sandbox; raises :class:`ECGFormatError` for a file that is
    no readable ECG (or whose reading crashed the reader or passed a limit)."""
    try:
        record: ECGRecord = sandbox.run("read", source)
    except JobFailedError as exc:  # the reader crashed or passed a limit on this file
        logger.warning("reading %s failed in the sandbox: %s", source.name, exc)
        raise ECGFormatError(f"{source.name} could not be read as an ECG: {exc}") from exc
    record.meta.setdefault("record_id", source.stem)  # the name reports show (DICOM files carry none)
    return record


def _analyse(sandbox: Sandbox, record: ECGRecord, folder: Path,
             ) -> tuple[str, str | None, dict[str, Any] | None, dict[str, Any] | None]:
    """Analyse ``record`` in the sandbox and write its result into ``folder``: ``(status, error, result, shadow)``,
    where a failed analysis is status ``failed`` with its error (the upload is kept and the failure shown)."""
    status, error, result = StudyStatus.FAILED.value, None, None
    try:
        analysis: AnalysisResult = sandbox.run("analyze", record)
        save_result(analysis, folder)
        status = StudyStatus.REFUSED.value if analysis.refused else StudyStatus.DONE.value
        result = analysis.to_dict()
    except CardioScreenError as exc:
        logger.warning("analysis of %s failed: %s", record.meta.get("record_id"), exc)
        error = str(exc) if isinstance(exc, JobFailedError) else f"{type(exc).__name__}: {exc}"
    shadow = _shadow(sandbox, record) if result is not None else None
    return status, error, result, shadow


def _shadow(sandbox: Sandbox, record: ECGRecord) -> dict[str, Any] | None:
    """The shadow candidate's findings on ``record`` (None without a candidate); its failure is logged, never the
    upload's."""
    try:
        shadow: dict[str, Any] | None = sandbox.run("shadow", record)
    except CardioScreenError as exc:
        logger.warning("the shadow model failed: %s", exc)
        return None
    return shadow


Reanalysis = Literal["reanalysed", "queued", "pending"]
"""What became of an administrator's re-analysis: done in the web process, queued for a worker, or not started
because the study is still being analysed (its pending analysis uses the active model already)."""


@dataclass(frozen=True)
class Intake:
    """How this deployment turns an upload into a study, and re-analyses one: in the web process's ``sandbox`` while
    the request waits (:func:`ingest`, :func:`reanalyse`), or stored and queued for the workers when ``queued``
    (:func:`accept`, :func:`queue_reanalysis`)."""

    store: StudyStore
    sandbox: Sandbox
    queued: bool

    def __call__(self, db: Session, owner: User, files: Iterable[tuple[str, IO[bytes]]], client: str = "") -> Study:
        if self.queued:
            return accept(db, self.store, owner, files, client=client)
        return ingest(db, self.store, self.sandbox, owner, files, client=client)

    def reanalyse(self, db: Session, study: Study, actor: User, client: str = "") -> Reanalysis:
        """Re-analyse ``study`` with the model now active, on ``actor``'s request (see :func:`redo_analysis`)."""
        if study.status in PENDING:
            return "pending"
        if self.queued:
            queue_reanalysis(db, study, actor, client=client)
            return "queued"
        reanalyse(db, self.store, self.sandbox, study, actor, client=client)
        return "reanalysed"


def reanalyse(db: Session, store: StudyStore, sandbox: Sandbox, study: Study, actor: User, client: str = "") -> Study:
    """Re-analyse ``study`` in this process and commit (:func:`redo_analysis`)."""
    redo_analysis(db, store, sandbox, study, actor, client=client)
    db.commit()
    return study


def queue_reanalysis(db: Session, study: Study, actor: User, client: str = "") -> None:
    """Queue ``study``'s re-analysis for a worker (a job queue deployment) and commit: the study shows ``queued``,
    then ``analysing``, keeping its earlier result until the worker stores the new one (:func:`redo_analysis`, in
    the job's transaction)."""
    study.status = StudyStatus.QUEUED.value
    queue.enqueue(db, queue.REANALYSE, study.id, requested_by=actor.id, client=client)
    db.commit()


def redo_analysis(db: Session, store: StudyStore, sandbox: Sandbox, study: Study, actor: User | None,
                  client: str = "") -> None:
    """Analyse ``study``'s stored record again with the model now active (on request; studies otherwise keep the
    result they were reviewed on); the caller commits. Its conclusion, and the model version that conclusion
    reviewed, stay; what was made from the old result (saliency, printouts, reports) is removed; the audit log
    records both versions and ``actor``. Idempotent: run again, it writes the same files and the same study."""
    record = store.load_record(study.storage_key)
    analysis: AnalysisResult = sandbox.run("analyze", record)
    save_result(analysis, store.folder(study.storage_key))
    store.forget_derived(study.storage_key)
    previous = study.model_version
    crud.set_result(study, analysis.to_dict())
    study.status = StudyStatus.REFUSED.value if analysis.refused else StudyStatus.DONE.value
    study.error = None
    crud.record_event(db, "study_reanalysed", user=actor, subject=f"study:{study.id}", client=client,
                      detail={"previous": previous, "model_version": study.model_version})
