"""ECGRecord: the one in-memory record type that every reader returns and every stage consumes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from cardioscreen.errors import ECGFormatError
from cardioscreen.leads import INDEPENDENT_LEADS, STANDARD_LEADS, derive_limb_leads, normalize_lead_name

MIN_FS_HZ = 50.0
"""Lowest sampling rate accepted: below it a QRS complex (~80 ms) is a handful of samples."""
MAX_FS_HZ = 20_000.0
"""Highest sampling rate accepted: anything above is a unit mistake, not an ECG."""
MIN_DURATION_S = 2.0
"""Shortest record accepted: fewer than two beats at normal heart rates cannot be analysed."""
MAX_SAMPLES_PER_LEAD = 8_000_000
"""Longest record accepted (over 2 h at 1 kHz); protects memory from hostile or mistaken files."""
MAX_LEADS = 24
MAX_SAMPLES_PER_RECORD = 8_000_000
"""Most samples over all leads (32 MB as float32; 12 leads for 22 min at 500 Hz): bounds the memory of a hostile
file that declares many long leads, and of every stage after reading."""


@dataclass(frozen=True, eq=False)
class ECGRecord:
    """A multi-lead ECG in physical units.

    The constructor validates everything and raises :class:`ECGFormatError` naming the problem.

    Parameters
    ----------
    signal : np.ndarray
        Shape ``(leads, samples)``, float32, millivolts.
    fs : float
        Sampling rate in Hz.
    leads : tuple of str
        Lead names, normalised (``"I"``, ``"aVR"``, ``"V1"``...), one per row of ``signal``.
    meta : dict
        What the file said beyond the samples: ``record_id``, ``age``, ``sex``, ``format``, ``dx``
        (diagnosis codes), ``device``, ``statements`` (the device's own interpretation) and the like.
        Personal identifiers (names, birth dates) are never put here.
    """

    signal: np.ndarray
    fs: float
    leads: tuple[str, ...]
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        sig = np.asarray(self.signal)
        if sig.ndim != 2:
            raise ECGFormatError(f"signal must be 2-D (leads x samples), got shape {sig.shape}")
        if not np.issubdtype(sig.dtype, np.number):
            raise ECGFormatError(f"signal must be numeric, got dtype {sig.dtype}")
        n_leads, n_samples = sig.shape
        if n_leads == 0 or n_samples == 0:
            raise ECGFormatError(f"signal is empty (shape {sig.shape})")
        if n_leads > MAX_LEADS:
            raise ECGFormatError(
                f"signal has {n_leads} rows; expected at most {MAX_LEADS} leads (is it transposed?)"
            )
        if n_samples > MAX_SAMPLES_PER_LEAD:
            raise ECGFormatError(f"record has {n_samples} samples per lead; the limit is {MAX_SAMPLES_PER_LEAD}")
        if n_leads * n_samples > MAX_SAMPLES_PER_RECORD:
            raise ECGFormatError(f"record has {n_leads} x {n_samples} samples; the limit is {MAX_SAMPLES_PER_RECORD}")
        fs = float(self.fs)
        if not np.isfinite(fs) or not MIN_FS_HZ <= fs <= MAX_FS_HZ:
            raise ECGFormatError(f"sampling rate {self.fs!r} Hz is outside {MIN_FS_HZ:g}-{MAX_FS_HZ:g} Hz")
        if n_samples / fs < MIN_DURATION_S:
            raise ECGFormatError(
                f"record is {n_samples / fs:.2f} s long; at least {MIN_DURATION_S:g} s are needed"
            )
        leads = tuple(normalize_lead_name(str(name)) for name in self.leads)
        if len(leads) != n_leads:
            raise ECGFormatError(f"{len(leads)} lead names for {n_leads} signal rows")
        if len(set(leads)) != len(leads):
            raise ECGFormatError(f"duplicate lead names: {list(leads)}")
        sig = sig.astype(np.float32, copy=False)
        bad = ~np.isfinite(sig)
        if bad.any():
            rows = sorted({leads[i] for i in np.nonzero(bad.any(axis=1))[0]})
            raise ECGFormatError(f"signal has {int(bad.sum())} NaN/inf samples in leads {rows}")
        object.__setattr__(self, "signal", sig)
        object.__setattr__(self, "fs", fs)
        object.__setattr__(self, "leads", leads)
        object.__setattr__(self, "meta", dict(self.meta))

    @property
    def n_leads(self) -> int:
        return int(self.signal.shape[0])

    @property
    def n_samples(self) -> int:
        return int(self.signal.shape[1])

    @property
    def duration_s(self) -> float:
        return self.n_samples / self.fs

    @property
    def is_standard12(self) -> bool:
        return self.leads == STANDARD_LEADS

    def lead(self, name: str) -> np.ndarray:
        """Samples of one lead, shape ``(samples,)``, mV."""
        key = normalize_lead_name(name)
        if key not in self.leads:
            raise ECGFormatError(f"lead {name!r} not in record (has {list(self.leads)})")
        return self.signal[self.leads.index(key)]

    def with_signal(
        self, signal: np.ndarray, fs: float | None = None, leads: tuple[str, ...] | None = None
    ) -> ECGRecord:
        """A copy with new samples (and optionally a new rate or lead list), same metadata."""
        return replace(
            self, signal=signal, fs=self.fs if fs is None else fs, leads=self.leads if leads is None else leads
        )

    def to_standard12(self) -> ECGRecord:
        """The record with the 12 standard leads in standard order.

        An 8-lead record (I, II, V1-V6, as GE MUSE stores it) gets III, aVR, aVL and aVF derived.
        Extra leads are dropped. Raises :class:`ECGFormatError` naming the missing leads otherwise.
        """
        if self.is_standard12:
            return self
        rows = {name: self.signal[i] for i, name in enumerate(self.leads)}
        if "I" in rows and "II" in rows:
            for name, values in derive_limb_leads(rows["I"], rows["II"]).items():
                rows.setdefault(name, values)
        missing = [name for name in STANDARD_LEADS if name not in rows]
        if missing:
            needed = [name for name in INDEPENDENT_LEADS if name not in rows]
            raise ECGFormatError(
                f"record lacks leads {missing} (has {list(self.leads)}); a 12-lead analysis needs at least {needed}"
            )
        signal = np.stack([rows[name] for name in STANDARD_LEADS]).astype(np.float32)
        return self.with_signal(signal, leads=STANDARD_LEADS)

    def resample(self, fs: float) -> ECGRecord:
        """The record resampled to ``fs`` Hz with a polyphase anti-aliasing filter."""
        from fractions import Fraction

        from scipy.signal import resample_poly

        if float(fs) == self.fs:
            return self
        ratio = Fraction(float(fs) / self.fs).limit_denominator(1000)
        resampled = resample_poly(self.signal, ratio.numerator, ratio.denominator, axis=1)
        return self.with_signal(resampled.astype(np.float32), fs=float(fs))

    def crop(self, start_s: float, stop_s: float) -> ECGRecord:
        """The part of the record between two times in seconds."""
        start, stop = int(round(start_s * self.fs)), int(round(stop_s * self.fs))
        return self.with_signal(self.signal[:, max(start, 0) : min(stop, self.n_samples)])
