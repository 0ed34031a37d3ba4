"""Reading and writing ECG files: ``read_ecg(path) -> ECGRecord`` whatever the format."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cardioscreen.errors import ECGFormatError
from cardioscreen.io.registry import FORMAT_MODULES, detect_format, format_module
from cardioscreen.record import ECGRecord

logger = logging.getLogger(__name__)

__all__ = ["FORMAT_MODULES", "read_ecg", "resolve_path", "write_ecg"]


def resolve_path(path: str | Path) -> Path:
    """The file to open for ``path``: a WFDB record may be named without its ``.hea`` extension."""
    path = Path(path)
    if not path.exists() and path.with_name(path.name + ".hea").exists():
        return path.with_name(path.name + ".hea")
    if not path.exists():
        raise ECGFormatError(f"no such file: {path}")
    if path.is_dir():
        raise ECGFormatError(f"{path} is a folder, not an ECG file")
    return path


def read_ecg(
    path: str | Path,
    *,
    fmt: str | None = None,
    target_fs: float | None = None,
    standard12: bool = False,
    **options: Any,
) -> ECGRecord:
    """Read an ECG file of any supported format.

    Parameters
    ----------
    path : path-like
        The file (for WFDB the ``.hea`` header, the ``.dat``/``.mat`` beside it, or the record name).
    fmt : str, optional
        Force a format by name (a key of :data:`FORMAT_MODULES`) instead of detecting it from content.
    target_fs : float, optional
        Resample to this rate in Hz.
    standard12 : bool
        Return exactly the 12 standard leads in standard order, deriving III/aVR/aVL/aVF from an
        8-lead record; raise :class:`ECGFormatError` naming the missing leads otherwise.
    **options
        Passed to the format's reader, e.g. ``fs`` for CSV and NumPy files.

    Returns
    -------
    ECGRecord
        Signal ``(leads, samples)`` float32 in mV; ``meta["format"]`` names the format read.

    Raises
    ------
    ECGFormatError
        For any file that cannot be read: whatever a reader or the library under it raises on a malformed file
        (``zlib.error``, ``IndexError``, ``MemoryError``...) is turned into this error naming the file.
    """
    resolved = resolve_path(path)
    name = fmt or detect_format(resolved)
    try:
        record = format_module(name).read(resolved, **options)
    except ECGFormatError:
        raise
    except MemoryError as exc:
        raise ECGFormatError(f"{resolved.name}: too large to read as {name}") from exc
    except Exception as exc:  # a library tripping over a malformed file: still a bad file, not a program fault
        logger.info("reading %s as %s failed: %r", resolved.name, name, exc)
        raise ECGFormatError(f"{resolved.name}: cannot be read as {name} ({type(exc).__name__})") from exc
    record.meta.setdefault("format", name)
    if standard12:
        record = record.to_standard12()
    if target_fs is not None:
        record = record.resample(target_fs)
    logger.debug("read %s as %s: %d leads, %.0f Hz, %.1f s", resolved.name, name, record.n_leads, record.fs,
                 record.duration_s)
    return record


def write_ecg(record: ECGRecord, path: str | Path, fmt: str | None = None) -> Path:
    """Write ``record`` to ``path`` in format ``fmt`` (default: from the extension); returns the main file."""
    path = Path(path)
    name = fmt or {".hea": "wfdb", ".dat": "wfdb", ".edf": "edf", ".npy": "numpy", ".npz": "numpy", ".csv": "csv",
                   ".mat": "matlab"}.get(path.suffix.lower(), "")
    module = format_module(name) if name else None
    if module is None or not hasattr(module, "write"):
        writable = [n for n in FORMAT_MODULES if hasattr(format_module(n), "write")]
        raise ECGFormatError(f"cannot write {path.name}: writable formats are {writable}")
    written: Path = module.write(record, path)
    return written
