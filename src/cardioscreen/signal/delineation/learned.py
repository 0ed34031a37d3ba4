"""Learned delineator: a small 1-D U-Net that segments every lead into P, QRS and ST-T at 250 Hz.

The network sees all 12 leads at once (cross-lead context) and labels each lead's samples as background,
P wave, QRS complex or ST-T segment (QRS offset to T offset). Per beat and lead, the fiducials are the ends
of the segments around the beat's R-peak. The weights ship with the package
(``cardioscreen/data/delineation/unet.safetensors`` + ``unet.json``); training is
:mod:`cardioscreen.signal.delineation.training`.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import signal as sps

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.delineation.fiducials import FIDUCIAL_INDEX, N_FIDUCIALS

if TYPE_CHECKING:
    import torch

MODEL_FS = 250.0
"""Sampling rate (Hz) the network works at."""
N_CLASSES = 4
"""Background, P, QRS, ST-T."""
N_LEADS = 12
SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "data" / "delineation" / "unet.safetensors"
"""The shipped weights; their metadata (architecture, training, metrics) is ``unet.json`` beside them."""


def preprocess(sig: np.ndarray, fs: float) -> np.ndarray:
    """Resample ``(12, samples)`` mV to 250 Hz, band-pass 0.5-40 Hz and scale each lead to unit spread.

    Returns
    -------
    np.ndarray
        Shape ``(12, samples_at_250_hz)``, float32.
    """
    x = np.asarray(sig, dtype=float)
    if fs != MODEL_FS:
        from fractions import Fraction

        frac = Fraction(MODEL_FS / fs).limit_denominator(1000)
        x = sps.resample_poly(x, frac.numerator, frac.denominator, axis=-1)
    sos = sps.butter(2, [0.5, 40.0], btype="band", fs=MODEL_FS, output="sos")
    x = sps.sosfiltfilt(sos, x, axis=-1)
    spread = np.percentile(x, 99, axis=-1, keepdims=True) - np.percentile(x, 1, axis=-1, keepdims=True)
    return np.asarray(x / np.maximum(spread, 0.05), dtype=np.float32)


def build_unet(channels: tuple[int, ...] = (16, 32, 48, 64), kernel: int = 9) -> torch.nn.Module:
    """The U-Net: ``(batch, 12, samples)`` -> logits ``(batch, 12 * 4, samples)``; samples divisible by 8."""
    import torch
    from torch import nn

    def block(c_in: int, c_out: int) -> nn.Sequential:
        pad = kernel // 2
        return nn.Sequential(
            nn.Conv1d(c_in, c_out, kernel, padding=pad), nn.BatchNorm1d(c_out), nn.ReLU(),
            nn.Conv1d(c_out, c_out, kernel, padding=pad), nn.BatchNorm1d(c_out), nn.ReLU(),
        )

    class UNet1d(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.ModuleList()
            c = N_LEADS
            for out in channels:
                self.enc.append(block(c, out))
                c = out
            self.dec = nn.ModuleList()
            for out in reversed(channels[:-1]):
                self.dec.append(block(c + out, out))
                c = out
            self.head = nn.Conv1d(c, N_LEADS * N_CLASSES, 1)

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            skips = []
            for i, enc in enumerate(self.enc):
                x = enc(x)
                if i < len(self.enc) - 1:
                    skips.append(x)
                    x = nn.functional.max_pool1d(x, 2)
            for dec in self.dec:
                x = nn.functional.interpolate(x, scale_factor=2.0)
                x = dec(torch.cat([x, skips.pop()], dim=1))
            out: torch.Tensor = self.head(x)
            return out

    return UNet1d()


def segment(model: torch.nn.Module, x: np.ndarray) -> np.ndarray:
    """Class per lead and sample, ``(12, samples)`` int, from a preprocessed ``(12, samples)`` array."""
    import torch

    n = x.shape[-1]
    padded = np.pad(x, ((0, 0), (0, (-n) % 8)))
    with torch.inference_mode():
        logits = model(torch.from_numpy(padded[None]))[0].reshape(N_LEADS, N_CLASSES, -1)
    return np.asarray(logits.argmax(dim=1).numpy()[:, :n])


def _runs(labels: np.ndarray, cls: int, min_len: int) -> np.ndarray:
    """``(n, 2)`` start / end (inclusive) of the runs of ``cls`` at least ``min_len`` long."""
    edges = np.diff(np.concatenate([[0], (labels == cls).astype(np.int8), [0]]))
    starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1
    keep = ends - starts + 1 >= min_len
    return np.stack([starts[keep], ends[keep]], axis=1)


def fiducials_from_labels(labels: np.ndarray, x: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Per-beat, per-lead fiducials (at 250 Hz) from segment labels ``(12, samples)``.

    ``x`` is the preprocessed signal (for the T peak) and ``r`` the R-peaks at 250 Hz.
    """
    F = FIDUCIAL_INDEX
    ms = MODEL_FS / 1000.0
    out = np.full((r.size, labels.shape[0], N_FIDUCIALS), np.nan)
    for lead in range(labels.shape[0]):
        qrs = _runs(labels[lead], 2, round(20 * ms))
        p = _runs(labels[lead], 1, round(20 * ms))
        t = _runs(labels[lead], 3, round(40 * ms))
        if qrs.size == 0:
            continue
        centre = qrs.mean(axis=1)
        prev_off = -np.inf
        for b, rb in enumerate(r):
            j = int(np.argmin(np.abs(centre - rb)))
            if abs(centre[j] - rb) > 100 * ms:
                continue
            on, off = qrs[j]
            out[b, lead, F["qrs_on"]], out[b, lead, F["qrs_off"]] = on, off
            before = p[(p[:, 1] <= on + 2) & (p[:, 0] > prev_off) & (p[:, 0] >= on - 400 * ms)]
            if before.size:
                ps, pe = before[-1]
                out[b, lead, F["p_on"]], out[b, lead, F["p_off"]] = ps, pe
                out[b, lead, F["p_peak"]] = ps + int(np.argmax(np.abs(x[lead, ps : pe + 1] - x[lead, ps])))
            nxt = centre[j + 1] if j + 1 < centre.size else np.inf
            after = t[(t[:, 0] >= off - 10 * ms) & (t[:, 0] <= off + 120 * ms) & (t[:, 1] < nxt)]
            if after.size:
                ts, te = after[0]
                mid = ts + (te - ts) // 3
                out[b, lead, F["t_off"]] = te
                out[b, lead, F["t_peak"]] = mid + int(np.argmax(np.abs(x[lead, mid : te + 1] - x[lead, te])))
            prev_off = off
    return out


@lru_cache(maxsize=8)
def load_model(path: str | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The shipped U-Net (or the one at ``path``, a ``.safetensors`` beside its ``.json``), in eval mode."""
    from safetensors.torch import load_file

    weights = Path(path) if path is not None else SHIPPED_WEIGHTS
    meta_path = weights.with_suffix(".json")
    if not weights.is_file() or not meta_path.is_file():
        raise CardioScreenError(f"delineation model not found at {weights} (with {meta_path.name})")
    meta = json.loads(meta_path.read_text())
    model = build_unet(tuple(meta["channels"]), int(meta["kernel"]))
    model.load_state_dict(load_file(str(weights)))
    model.eval()
    return model, meta


def delineate_unet(
    sig: np.ndarray, fs: float, r_peaks: np.ndarray, model_path: str | None = None
) -> tuple[np.ndarray, dict[str, Any]]:
    """Per-beat, per-lead fiducials by the U-Net; same contract as the DSP delineator.

    Parameters
    ----------
    sig : np.ndarray
        Shape ``(12, samples)``, mV, leads in standard order (I, II, III, aVR, aVL, aVF, V1-V6).
    fs : float
        Sampling rate in Hz.
    r_peaks : np.ndarray
        Shape ``(n_beats,)``, R-peak sample indices.
    model_path : str, optional
        Weights to use instead of the shipped ones.

    Returns
    -------
    per_lead : np.ndarray
        Shape ``(n_beats, 12, 7)``, float sample indices at ``fs`` (NaN where absent).
    info : dict
        ``pacing_spikes`` (empty: the network handles spikes itself) and ``model`` (its metadata).
    """
    if sig.shape[0] != N_LEADS:
        raise CardioScreenError(f"the U-Net delineator needs the 12 standard leads, got {sig.shape[0]} rows")
    model, meta = load_model(model_path)
    x = preprocess(sig, fs)
    labels = segment(model, x)
    r = np.round(np.asarray(r_peaks, dtype=float) * MODEL_FS / fs).astype(np.int64)
    per_lead = fiducials_from_labels(labels, x, r) * fs / MODEL_FS
    return per_lead, {"pacing_spikes": np.zeros(0, dtype=np.int64), "model": meta}
