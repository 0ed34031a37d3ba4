"""Helpers shared by the format modules: unit scaling, size guards, metadata clean-up, error translation."""

from __future__ import annotations

import math
import re
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

from cardioscreen.errors import ECGFormatError
from cardioscreen.record import MAX_LEADS, MAX_SAMPLES_PER_LEAD, MAX_SAMPLES_PER_RECORD

_MILLIVOLTS_PER_UNIT: dict[str, float] = {"nv": 1e-6, "uv": 1e-3, "µv": 1e-3, "μv": 1e-3, "mv": 1.0, "v": 1e3}

LIBRARY_ERRORS: tuple[type[BaseException], ...] = (
    ValueError, TypeError, LookupError, AttributeError, ArithmeticError, OSError, EOFError, MemoryError,
    UnicodeError, RuntimeError, SyntaxError,
)
"""What third-party parsers raise on malformed input; :func:`library_errors` turns them into ECGFormatError."""

MAX_DECODED_BYTES = 96_000_000
"""Most bytes a reader inflates or loads from one file (the largest record, :data:`MAX_SAMPLES_PER_RECORD` samples
as float64, is 64 MB): a compressed member or stream that would grow past it is refused before it is inflated."""
_INFLATE_CHUNK = 1 << 20


def millivolts_per_unit(unit: str) -> float | None:
    """Factor that converts a value in ``unit`` to mV (``"uV"`` -> 0.001), or None for a non-voltage unit.

    Case and surrounding spaces are ignored; ``µV``/``μV``/``uV`` all mean microvolts.
    """
    return _MILLIVOLTS_PER_UNIT.get(unit.strip().lower())


def check_size(n_leads: int, n_samples: int, where: str) -> None:
    """Refuse a declared size before any memory is allocated for it.

    Parameters
    ----------
    n_leads, n_samples : int
        The counts a file declares (samples per lead).
    where : str
        Name of the file, used in the message.
    """
    if n_leads < 1 or n_samples < 1:
        raise ECGFormatError(f"{where}: no samples ({n_leads} leads x {n_samples} samples)")
    if n_leads > MAX_LEADS:
        raise ECGFormatError(f"{where}: {n_leads} channels; at most {MAX_LEADS} leads are accepted")
    if n_samples > MAX_SAMPLES_PER_LEAD:
        raise ECGFormatError(f"{where}: {n_samples} samples per lead; the limit is {MAX_SAMPLES_PER_LEAD}")
    if n_leads * n_samples > MAX_SAMPLES_PER_RECORD:
        raise ECGFormatError(f"{where}: {n_leads} x {n_samples} samples; the limit is {MAX_SAMPLES_PER_RECORD}")


def check_inflated_size(stream: BinaryIO, n_bytes: int, where: str, *, wbits: int = zlib.MAX_WBITS) -> int:
    """Inflate ``n_bytes`` of a deflate stream in 1 MB steps, keeping nothing, and return its inflated size.

    Parameters
    ----------
    stream : binary file
        Positioned at the start of the compressed data.
    n_bytes : int
        Compressed bytes to read (the stream may end sooner).
    where : str
        Name of the file, used in the message.
    wbits : int
        As for :func:`zlib.decompressobj`: ``15`` for zlib-wrapped data, ``-15`` for raw deflate.

    Raises
    ------
    ECGFormatError
        The data would inflate past :data:`MAX_DECODED_BYTES` (checked before that much memory is used), or
        the stream is damaged.
    """
    inflater = zlib.decompressobj(wbits)
    total, left = 0, n_bytes
    try:
        while left > 0 and not inflater.eof:
            chunk = stream.read(min(left, _INFLATE_CHUNK))
            if not chunk:
                break
            left -= len(chunk)
            data = chunk
            while data and not inflater.eof:
                total += len(inflater.decompress(data, _INFLATE_CHUNK))
                if total > MAX_DECODED_BYTES:
                    raise ECGFormatError(f"{where}: compressed data inflate to more than {MAX_DECODED_BYTES} bytes")
                data = inflater.unconsumed_tail
    except zlib.error as exc:
        raise ECGFormatError(f"{where}: damaged compressed data ({exc})") from exc
    return total


def parse_age(value: object) -> float | None:
    """Age in years from a header field (``"85"``, ``85.0``), or None when missing or implausible."""
    try:
        age = float(str(value).strip())
    except ValueError:
        return None
    return age if math.isfinite(age) and 0 <= age <= 130 else None


def parse_sex(value: object) -> str | None:
    """``"M"`` or ``"F"`` from the usual spellings (``Male``, ``female``, ``m``, ``F``), else None."""
    text = str(value).strip().lower()
    if text in {"m", "male", "man"}:
        return "M"
    if text in {"f", "female", "woman"}:
        return "F"
    return None


def parse_codes(value: str) -> list[str]:
    """Diagnosis codes from a comma/space separated list (``"164889003,59118001"``), duplicates removed."""
    codes = [code for code in re.split(r"[\s,;]+", value.strip()) if code]
    return list(dict.fromkeys(codes))


@contextmanager
def library_errors(path: Path, what: str, extra: tuple[type[Exception], ...] = ()) -> Iterator[None]:
    """Translate a parsing library's exception into :class:`ECGFormatError` naming the file and the problem.

    ``with library_errors(path, "WFDB header"): ...`` turns e.g. ``ValueError: invalid literal`` into
    ``ECGFormatError("00001_hr.hea: cannot read WFDB header: invalid literal")``. ``extra`` adds
    library-specific exception types (``zipfile.BadZipFile``...) to :data:`LIBRARY_ERRORS`.
    """
    try:
        yield
    except ECGFormatError:
        raise
    except (*LIBRARY_ERRORS, *extra) as exc:
        detail = str(exc).strip().splitlines()[0][:200] if str(exc).strip() else type(exc).__name__
        raise ECGFormatError(f"{path.name}: cannot read {what}: {detail}") from exc
