"""The table of file formats: which module reads (and writes) each, and how a file's format is found.

Every format module exposes

``sniff(path: Path, head: bytes) -> bool``
    True when the file's first bytes (up to :data:`SNIFF_BYTES`) look like this format. Decided from the
    content; the extension is only a tie-breaker for formats without a signature (CSV).
``read(path: Path, **options) -> ECGRecord``
    Parse the file; raise :class:`~cardioscreen.errors.ECGFormatError` on any problem.

and optionally ``write(record: ECGRecord, path: Path) -> Path``. Modules import their heavy
dependencies inside ``read``/``write`` so that finding a format stays cheap.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from types import ModuleType

SNIFF_BYTES = 4096

# Order matters: the first module whose sniff() accepts a file reads it (signatures before heuristics).
FORMAT_MODULES: dict[str, str] = {
    "hl7-aecg": "cardioscreen.io.hl7_aecg",
    "dicom": "cardioscreen.io.dicom",
    "scp-ecg": "cardioscreen.io.scp_ecg",
    "sierra": "cardioscreen.io.sierra",
    "muse": "cardioscreen.io.muse",
    "edf": "cardioscreen.io.edf",
    "numpy": "cardioscreen.io.numpy_format",
    "wfdb": "cardioscreen.io.wfdb_format",
    "matlab": "cardioscreen.io.matlab_format",
    "csv": "cardioscreen.io.csv_format",
}


def format_module(name: str) -> ModuleType:
    """The module that handles format ``name``; the error lists the known formats."""
    from cardioscreen.errors import ECGFormatError

    if name not in FORMAT_MODULES:
        raise ECGFormatError(f"unknown format {name!r}; known formats: {', '.join(FORMAT_MODULES)}")
    return importlib.import_module(FORMAT_MODULES[name])


def detect_format(path: Path) -> str:
    """Name of the format of the file at ``path``, from its content."""
    from cardioscreen.errors import ECGFormatError

    try:
        with open(path, "rb") as handle:
            head = handle.read(SNIFF_BYTES)
    except OSError as exc:
        raise ECGFormatError(f"cannot open {path.name}: {exc.strerror or exc}") from exc
    if not head:
        raise ECGFormatError(f"{path.name} is empty")
    for name in FORMAT_MODULES:
        if format_module(name).sniff(path, head):
            return name
    raise ECGFormatError(
        f"{path.name}: unknown ECG format (supported: {', '.join(FORMAT_MODULES)})"
    )
