"""Study files on disk: the upload, its parsed record and its result, stored together atomically.

A study is staged in ``<data>/staging/<key>/`` and moved in one ``rename`` to ``<data>/studies/<key>/``, which
then holds the uploaded file(s) under ``upload/``, ``record.npz`` (signal, fs, leads, meta) and, when the analysis
ran, ``result.json``; ``saliency.npz`` is added when the saliency is first needed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import unicodedata
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.wfdb_format import signal_file_names
from cardioscreen.record import ECGRecord
from cardioscreen.result import AnalysisResult

_UNSAFE_RUN = re.compile(r"[^\w .-]+")  # \w: letters and digits of every script (Cyrillic names kept)
_CHUNK = 1 << 16
UPLOAD_DIR = "upload"
RECORD_FILE = "record.npz"
RESULT_FILE = "result.json"
SALIENCY_FILE = "saliency.npz"


def safe_filename(name: str) -> str:
    """``name`` (NFC) without any folder part, each run of characters other than letters, digits, ``_``, ``.``,
    ``-`` and single spaces made one ``_`` (controls, bidi overrides, ``/`` and ``\\`` among them): never empty,
    never hidden, at most 120 characters (240 bytes in UTF-8). ``ЭКГ Иванова 2024.dcm`` stays as it is."""
    base = Path(unicodedata.normalize("NFC", name).replace("\\", "/")).name
    cleaned = _UNSAFE_RUN.sub("_", " ".join(base.split())).strip(" ").lstrip(".")
    return cleaned[:120] or "upload"


def main_file(folder: Path) -> Path:
    """The file to read in an upload folder: the WFDB header, when the upload is one with the signal files it names
    and nothing else, or the only file.

    Raises :class:`ECGFormatError` naming the files that belong to no record (they would be stored and offered
    for download with the study).
    """
    files = sorted(p for p in folder.iterdir() if p.is_file())
    headers = [p for p in files if p.suffix.lower() == ".hea"]
    if len(files) == 1:
        return files[0]
    if len(headers) == 1:
        named = set(signal_file_names(headers[0].read_bytes()))
        extra = [p.name for p in files if p != headers[0] and p.name not in named]
        if extra:
            raise ECGFormatError(f"not part of the WFDB record {headers[0].name}: {', '.join(extra)}; upload only "
                                 "the header and the signal files it names")
        return headers[0]
    raise ECGFormatError(f"upload one ECG file, or a WFDB record as its .hea file with its .dat/.mat file (got "
                         f"{', '.join(p.name for p in files)})")


@dataclass(frozen=True)
class StudyStore:
    """The study folders under ``root`` (staging beside them, on the same file system)."""

    root: Path
    staging: Path

    def __post_init__(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.staging.mkdir(parents=True, exist_ok=True)

    def stage(self, files: Iterable[tuple[str, IO[bytes]]]) -> Path:
        """Copy uploaded files into a new staging folder; raises :class:`ECGFormatError` for empty uploads."""
        folder = self.staging / uuid.uuid4().hex
        upload = folder / UPLOAD_DIR
        upload.mkdir(parents=True)
        try:
            for name, handle in files:
                target = upload / safe_filename(name)
                with target.open("wb") as out:
                    shutil.copyfileobj(handle, out, _CHUNK)
                if target.stat().st_size == 0:
                    raise ECGFormatError(f"the file {name!r} is empty")
            if not any(upload.iterdir()):
                raise ECGFormatError("no file was uploaded")
        except BaseException:
            self.discard(folder)
            raise
        return folder

    def discard(self, folder: Path) -> None:
        shutil.rmtree(folder, ignore_errors=True)

    def commit(self, folder: Path) -> str:
        """Move a complete staging folder into place in one rename; returns its storage key."""
        key = folder.name
        folder.rename(self.root / key)
        return key

    def folder(self, key: str) -> Path:
        if not re.fullmatch(r"[0-9a-f]{32}", key):
            raise ValueError(f"invalid storage key {key!r}")
        return self.root / key

    def upload_files(self, key: str) -> list[Path]:
        return sorted(p for p in (self.folder(key) / UPLOAD_DIR).iterdir() if p.is_file())

    def load_record(self, key: str) -> ECGRecord:
        return load_record(self.folder(key) / RECORD_FILE)

    def load_result(self, key: str) -> AnalysisResult | None:
        """The stored analysis result with its saliency maps, or None when the analysis did not complete."""
        folder = self.folder(key)
        if not (folder / RESULT_FILE).exists():
            return None
        data = json.loads((folder / RESULT_FILE).read_text())
        saliency: dict[str, np.ndarray] = {}
        if self.has_saliency(key):
            with np.load(folder / SALIENCY_FILE) as arrays:
                saliency = {code: arrays[code] for code in arrays.files}
        return AnalysisResult.from_dict(data, saliency)

    def forget_derived(self, key: str) -> None:
        """Remove what was made from the study's result (saliency, printouts, reports), after a re-analysis."""
        folder = self.folder(key)
        for path in [folder / SALIENCY_FILE, *folder.glob("plot-*.png"), *folder.glob("report-*.pdf")]:
            path.unlink(missing_ok=True)

    def has_saliency(self, key: str) -> bool:
        return (self.folder(key) / SALIENCY_FILE).exists()

    def save_saliency(self, key: str, saliency: dict[str, np.ndarray]) -> None:
        """Store saliency maps computed after the upload (written aside, then renamed into place)."""
        target = self.folder(key) / SALIENCY_FILE
        staged = target.with_name(f".{uuid.uuid4().hex}.npz")
        arrays: dict[str, Any] = {code: np.asarray(a, np.float32) for code, a in saliency.items()}
        np.savez_compressed(staged, **arrays)
        os.replace(staged, target)


def save_record(record: ECGRecord, path: Path) -> None:
    np.savez(path, signal=record.signal, fs=np.float64(record.fs), leads=np.array(record.leads),
             meta=np.array(json.dumps(record.meta, default=str)))


def load_record(path: Path) -> ECGRecord:
    with np.load(path, allow_pickle=False) as data:
        return ECGRecord(signal=data["signal"], fs=float(data["fs"]), leads=tuple(str(x) for x in data["leads"]),
                         meta=json.loads(str(data["meta"])))


def save_result(result: AnalysisResult, folder: Path) -> None:
    """Write the result's JSON form (saliency maps are stored later, by :meth:`StudyStore.save_saliency`)."""
    (folder / RESULT_FILE).write_text(json.dumps(result.to_dict()))
