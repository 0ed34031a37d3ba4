"""Reviewed records as a training set in PTB-XL layout.

``OUT/ptbxl_database.csv`` (the official columns a reader uses: ``ecg_id``, ``patient_id``, ``age``, ``sex``,
``recording_date``, ``scp_codes``, ``strat_fold``, ``filename_lr``, ``filename_hr``; plus ``review_verdicts``,
``model_version`` and ``export_note``), ``OUT/scp_statements.csv`` (PTB-XL's own table) and ``OUT/records500/``
(WFDB, 12 standard leads, 500 Hz, 10 s). A record at another rate is resampled, an 8-lead record gets its derived
limb leads, a longer one keeps its first 10 s (each noted in ``export_note``); one shorter than 10 s or without the
needed leads is left out and reported.

Patients are pseudonymised: ``patient_id`` and the patient-wise ``strat_fold`` (1-10) come from an HMAC of the
clinic's patient key with a secret key kept by the caller, so they are stable from one export to the next and no
one without the key can link them back. ``ecg_id`` is the study number plus :data:`ECG_ID_OFFSET`, so that the
export never shares a record id with PTB-XL when trained beside it.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import os
import secrets
import shutil
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd

from cardioscreen.datasets.ptbxl import DATABASE_CSV, RECORD_SECONDS, STATEMENTS_CSV, VERDICTS_COLUMN
from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.io.wfdb_format import write as write_wfdb
from cardioscreen.record import ECGRecord
from cardioscreen.reviews.labels import STATEMENTS_FILE, review_labels

logger = logging.getLogger(__name__)

EXPORT_FS = 500
ECG_ID_OFFSET = 100_000_000
PATIENT_ID_OFFSET = 100_000_000
_PATIENT_ID_RANGE = 900_000_000
_SEX = {"M": 0, "F": 1}  # PTB-XL's coding


@dataclass(frozen=True)
class ReviewedRecord:
    """One concluded study to export.

    Attributes
    ----------
    study_id : int
        The study's number in the clinic's database.
    patient_key : str
        Identifies the patient within the clinic (pseudonymised before it is written).
    record : ECGRecord
        The stored recording (mV).
    verdicts : mapping
        ``{code: present}``: the doctor's verdicts (confirmed, rejected, added) on the model's classes and on the
        interpretation's statements (SCP codes).
    concluded_at : datetime
        When the doctor concluded it.
    model_version : str or None
        The model version of the result the doctor reviewed.
    age, sex
        The file's patient age (years) and sex (``"M"``/``"F"``), if known.
    """

    study_id: int
    patient_key: str
    record: ECGRecord
    verdicts: Mapping[str, bool]
    concluded_at: datetime
    model_version: str | None = None
    age: float | None = None
    sex: str | None = None


@dataclass(frozen=True)
class ExportSummary:
    """What an export wrote: records and patients, records per fold, records changed (noted) and left out."""

    out: Path
    n_records: int
    n_patients: int
    folds: dict[int, int]
    noted: dict[int, str] = field(default_factory=dict)
    skipped: dict[int, str] = field(default_factory=dict)


def _digest(key: bytes, patient_key: str) -> int:
    return int.from_bytes(hmac.new(key, patient_key.encode(), hashlib.sha256).digest()[:8], "big")


def pseudonym(key: bytes, patient_key: str) -> tuple[int, int]:
    """``(patient_id, strat_fold)`` of a patient under the secret ``key``."""
    value = _digest(key, patient_key)
    return PATIENT_ID_OFFSET + value % _PATIENT_ID_RANGE, 1 + (value >> 32) % 10


def export_key(path: Path) -> bytes:
    """The secret pseudonymisation key kept at ``path`` (made, readable by its owner only, on first use)."""
    path = Path(path)
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(secrets.token_hex(32))
    return bytes.fromhex(path.read_text().strip())


def training_signal(record: ECGRecord) -> tuple[ECGRecord, str]:
    """``record`` as PTB-XL stores one (12 standard leads, :data:`EXPORT_FS` Hz, 10 s, no metadata) and a note of
    what was changed ("" when nothing was); :class:`ECGFormatError` for a record that cannot become one."""
    notes = []
    std = record.to_standard12()
    if record.n_leads != 12 or not record.is_standard12:
        notes.append(f"{record.n_leads} leads ({', '.join(record.leads)}) as the 12 standard leads")
    if std.fs != EXPORT_FS:
        notes.append(f"resampled from {std.fs:g} Hz")
        std = std.resample(EXPORT_FS)
    samples = RECORD_SECONDS * EXPORT_FS
    if std.n_samples < samples:
        raise ECGFormatError(f"{std.n_samples / EXPORT_FS:.1f} s long; training records are {RECORD_SECONDS} s")
    if std.n_samples > samples:
        notes.append(f"first {RECORD_SECONDS} s of {std.n_samples / EXPORT_FS:.1f} s")
    signal = np.ascontiguousarray(std.signal[:, :samples], dtype=np.float32)
    return ECGRecord(signal=signal, fs=float(EXPORT_FS), leads=std.leads, meta={}), "; ".join(notes)


def _record_name(ecg_id: int) -> str:
    return f"records500/{ecg_id // 1000 * 1000:05d}/{ecg_id:05d}_hr"


def write_ptbxl(records: Iterable[ReviewedRecord], out: Path, key: bytes) -> ExportSummary:
    """Write ``records`` into the PTB-XL-layout folder ``out`` (its table and records replaced).

    Raises
    ------
    CardioScreenError
        No record could be exported.
    """
    out = Path(out)
    statements = pd.read_csv(STATEMENTS_FILE, index_col=0)
    shutil.rmtree(out / "records500", ignore_errors=True)
    rows, noted, skipped = [], {}, {}
    for item in records:
        try:
            signal, note = training_signal(item.record)
        except ECGFormatError as exc:
            skipped[item.study_id] = str(exc)
            continue
        ecg_id = ECG_ID_OFFSET + item.study_id
        name = _record_name(ecg_id)
        write_wfdb(signal, out / name)
        patient_id, fold = pseudonym(key, item.patient_key)
        scp_codes, verdicts = review_labels(item.verdicts.items(), statements.index)
        if note:
            noted[item.study_id] = note
        rows.append({"ecg_id": ecg_id, "patient_id": float(patient_id), "age": item.age,
                     "sex": _SEX.get(str(item.sex or "").upper()[:1]),
                     "recording_date": item.concluded_at.date().isoformat(), "scp_codes": repr(scp_codes),
                     "strat_fold": fold, "filename_lr": name.replace("records500", "records100")[:-3] + "_lr",
                     "filename_hr": name, VERDICTS_COLUMN: repr(verdicts), "model_version": item.model_version or "",
                     "export_note": note})
    if not rows:
        raise CardioScreenError("no reviewed study could be exported" + (
            f" ({len(skipped)} left out: {next(iter(skipped.values()))})" if skipped else ""))
    table = pd.DataFrame(rows).set_index("ecg_id").sort_index()
    out.mkdir(parents=True, exist_ok=True)
    table.to_csv(out / DATABASE_CSV)
    shutil.copyfile(STATEMENTS_FILE, out / STATEMENTS_CSV)
    values, counts = np.unique(table["strat_fold"].to_numpy(dtype=np.int64), return_counts=True)
    folds = {int(f): int(n) for f, n in zip(values, counts, strict=True)}
    logger.info("exported %d reviewed records to %s", len(table), out)
    return ExportSummary(out=out, n_records=len(table), n_patients=int(table["patient_id"].nunique()), folds=folds,
                         noted=noted, skipped=skipped)
