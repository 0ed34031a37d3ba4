"""Fast path for the common WFDB record: one ``.hea`` header, one interleaved format-16 signal file.

:func:`parse_simple_header` reads the header text itself (the wfdb library's parser goes through pandas and
costs more than the rest of a record's read) and gives up, returning None, on anything outside that simple
subset (multi-segment records, other formats, skew, samples per frame, several signal files, missing fields,
gain 0): the caller then uses the wfdb library. :func:`read_physical` reproduces wfdb's
``rdrecord(..., return_res=32)`` conversion to physical units bit for bit.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np

_RECORD_LINE = re.compile(r"[-\w]+(?:\.mat)?[ \t]+(\d+)[ \t]+(\d+(?:\.\d*)?)[ \t]+(\d+)(?:[ \t].*)?")
"""Record name (the CinC 2020 release writes it with ``.mat``: ``E01137.mat 12 500 5000 05-May-2020 ...``),
number of signals, rate, samples; base date and time, in any layout, are not used."""
_SIGNAL_LINE = re.compile(
    r"(?P<file>[-\w]+\.\w+)[ \t]+16(?:\+(?P<offset>\d+))?"
    r"[ \t]+(?P<gain>\d+(?:\.\d*)?(?:e[+-]?\d+)?)(?:\((?P<baseline>-?\d+)\))?/(?P<units>\w+)"
    r"[ \t]+\d+[ \t]+(?P<zero>-?\d+)[ \t]+-?\d+[ \t]+-?\d+[ \t]+\d+(?:[ \t]+(?P<name>[^\t\n\r\f\v]*))?"
)
_INVALID_16 = -32768
"""Format 16's marker for a missing sample (read as NaN)."""


@dataclass(frozen=True)
class SimpleHeader:
    """The fields of a simple WFDB header, named as the wfdb library's ``Record`` attributes.

    Attributes
    ----------
    n_sig : int
        Number of signals.
    fs : float
        Sampling rate in Hz.
    sig_len : int
        Samples per signal.
    file_name, fmt, units, sig_name : tuple of str
        Per signal: signal file, WFDB format (always ``"16"``), physical unit and description (None if absent).
    byte_offset, baseline : tuple of int
        Per signal: bytes before the first sample in the signal file, and the digital value of 0 physical units.
    adc_gain : tuple of float
        Per signal: digital units per physical unit.
    comments : tuple of str
        Comment lines without their ``#``.
    """

    n_sig: int
    fs: float
    sig_len: int
    file_name: tuple[str, ...]
    fmt: tuple[str, ...]
    byte_offset: tuple[int, ...]
    adc_gain: tuple[float, ...]
    baseline: tuple[int, ...]
    units: tuple[str, ...]
    sig_name: tuple[str | None, ...]
    comments: tuple[str, ...]
    samps_per_frame: tuple[int, ...] = ()


def parse_simple_header(raw: bytes) -> SimpleHeader | None:
    """Parse the bytes of a ``.hea`` file, or return None if it is not a simple single-file format-16 header.

    Lines are decoded and split as wfdb does (ASCII, other bytes ignored; stripped; ``#`` lines are comments).
    """
    lines, comments = [], []
    for line in raw.decode("ascii", errors="ignore").splitlines():
        line = line.strip()
        if line.startswith("#"):
            comments.append(line.strip(" \t#"))
        elif line:
            lines.append(line)
    record = _RECORD_LINE.fullmatch(lines[0]) if lines else None
    signals = [_SIGNAL_LINE.fullmatch(line) for line in lines[1:]]
    if record is None or not signals or any(match is None for match in signals):
        return None
    fields = [match.groupdict() for match in signals if match is not None]
    if len({(field["file"], field["offset"]) for field in fields}) != 1:
        return None
    gains = tuple(float(field["gain"]) for field in fields)
    if 0.0 in gains:
        return None
    return SimpleHeader(
        n_sig=int(record[1]), fs=float(record[2]), sig_len=int(record[3]),
        file_name=tuple(field["file"] for field in fields), fmt=("16",) * len(fields),
        byte_offset=tuple(int(field["offset"] or 0) for field in fields), adc_gain=gains,
        baseline=tuple(int(field["baseline"] if field["baseline"] is not None else field["zero"]) for field in fields),
        units=tuple(field["units"] for field in fields), sig_name=tuple(field["name"] or None for field in fields),
        comments=tuple(comments),
    )


def read_physical(head: SimpleHeader, header: Path, channels: list[int]) -> np.ndarray:
    """Samples of ``channels`` in the header's physical units, exactly as wfdb's ``return_res=32`` gives them.

    Parameters
    ----------
    head : SimpleHeader
        The parsed header; its signal file must already be checked to hold ``sig_len`` frames.
    header : Path
        The ``.hea`` file (the signal file lies beside it).
    channels : list of int
        Indices of the signals to return.

    Returns
    -------
    np.ndarray
        Shape ``(sig_len, len(channels))``, float32; missing samples are NaN.
    """
    frames = np.fromfile(header.parent / head.file_name[0], dtype="<i2", count=head.n_sig * head.sig_len,
                         offset=head.byte_offset[0]).reshape(head.sig_len, head.n_sig)[:, channels]
    missing = frames == _INVALID_16
    physical = frames.astype(np.float32)
    np.subtract(physical, np.asarray([head.baseline[i] for i in channels]), physical)
    np.divide(physical, np.asarray([head.adc_gain[i] for i in channels]), physical)
    physical[missing] = np.nan
    return physical
