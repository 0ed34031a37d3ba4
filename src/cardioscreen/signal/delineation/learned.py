"""Learned delineator: a small 1-D U-Net that segments every lead into P, QRS and ST-T at 125 Hz.

The network sees all 12 leads at once (cross-lead context) and labels each lead's samples as background,
P wave, QRS complex or ST-T segment (QRS offset to T offset). At 125 Hz its boundaries come in 8 ms steps; on LUDB
(``bench/delineation.py``, 5-fold cross-validation) its P onsets are as close to the cardiologists' as those of
the 250 Hz network it replaced, in half the time. Per beat and lead, the fiducials are the ends
of the segments around the beat's R-peak (:mod:`cardioscreen.signal.delineation.segments`). The weights ship
with the package (``cardioscreen/data/delineation/unet.safetensors`` + ``unet.json``); training is
:mod:`cardioscreen.signal.delineation.training`. Inference runs through ONNX Runtime with one thread: the graph
``unet.onnx`` ships beside the weights with a stamp of the weights it was made from (``unet.onnx.json``), and is
exported again in memory when missing or stale (other weights, e.g. the benchmark's fold models).
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.onnx_graph import cpu_session, export_graph, load_graph, save_graph
from cardioscreen.signal.delineation.segments import fiducials_from_labels
from cardioscreen.signal.spectral import bandpass

if TYPE_CHECKING:
    import torch


MODEL_FS = 125.0
"""Sampling rate (Hz) new networks are trained at; a stored network works at the rate in its metadata (``fs``)."""
N_CLASSES = 4
"""Background, P, QRS, ST-T."""
N_LEADS = 12
PREPROCESSING = ("zero-phase Butterworth 0.5-40 Hz (order 2) by FFT, resampled to the model's rate, "
                 "leads scaled by 1-99 % spread (nearest ranks of samples 16 ms apart)")
"""What :func:`preprocess` does, stored with trained weights (a network only fits the input it was trained on)."""
SHIPPED_WEIGHTS = Path(__file__).resolve().parents[2] / "data" / "delineation" / "unet.safetensors"
"""The shipped weights; their metadata (architecture, training, metrics) is ``unet.json`` beside them."""


def preprocess(sig: np.ndarray, fs: float, model_fs: float = MODEL_FS) -> np.ndarray:
    """Band-pass ``(12, samples)`` mV to 0.5-40 Hz (below 45 % of ``fs``) at ``model_fs`` and scale each lead.

    One zero-phase pass in the frequency domain band-passes and resamples. Each lead is divided by its spread, that
    between its 1st and 99th percentiles, the nearest ranks of samples 16 ms apart (the band-passed signal is
    smooth at that step, and these ranks cost a fraction of all samples').

    Returns
    -------
    np.ndarray
        Shape ``(12, ceil(samples * model_fs / fs))``, float32.
    """
    x = bandpass(sig, fs, 0.5, min(40.0, 0.45 * fs, 0.45 * model_fs), out_fs=model_fs)
    spaced = x[..., :: max(1, round(0.016 * model_fs))]
    low, high = round(0.01 * (spaced.shape[-1] - 1)), round(0.99 * (spaced.shape[-1] - 1))
    ranked = np.partition(spaced, (low, high), axis=-1)
    return np.asarray(x / np.maximum(ranked[..., high : high + 1] - ranked[..., low : low + 1], 0.05), dtype=np.float32)


def build_unet(channels: tuple[int, ...] = (8, 16, 24, 32), kernel: int = 9, dec_kernel: int = 5) -> torch.nn.Module:
    """The U-Net: ``(batch, 12, samples)`` -> logits ``(batch, 12 * 4, samples)``; samples divisible by 8."""
    import torch
    from torch import nn

    def block(c_in: int, c_out: int, k: int) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv1d(c_in, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out), nn.ReLU(),
            nn.Conv1d(c_out, c_out, k, padding=k // 2), nn.BatchNorm1d(c_out), nn.ReLU(),
        )

    class UNet1d(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.enc = nn.ModuleList()
            c = N_LEADS
            for out in channels:
                self.enc.append(block(c, out, kernel))
                c = out
            self.dec = nn.ModuleList()
            for out in reversed(channels[:-1]):
                self.dec.append(block(c + out, out, dec_kernel))
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


@lru_cache(maxsize=8)
def load_model(path: str | None = None) -> tuple[torch.nn.Module, dict[str, Any]]:
    """The shipped U-Net (or the one at ``path``, a ``.safetensors`` beside its ``.json``) in PyTorch, eval mode."""
    from safetensors.torch import load_file

    meta = model_meta(path)
    model = build_unet(tuple(meta["channels"]), int(meta["kernel"]), int(meta.get("dec_kernel", meta["kernel"])))
    model.load_state_dict(load_file(str(_weights_path(path))))
    model.eval()
    return model, meta


def _weights_path(path: str | None) -> Path:
    weights = Path(path) if path is not None else SHIPPED_WEIGHTS
    if not weights.is_file() or not weights.with_suffix(".json").is_file():
        raise CardioScreenError(f"delineation model not found at {weights} (with {weights.with_suffix('.json').name})")
    return weights


@lru_cache(maxsize=8)
def model_meta(path: str | None = None) -> dict[str, Any]:
    """The metadata (``.json`` beside the weights: architecture, training, records) of the U-Net at ``path``."""
    meta: dict[str, Any] = json.loads(_weights_path(path).with_suffix(".json").read_text())
    return meta


def _graph_path(weights: Path) -> Path:
    return weights.with_suffix(".onnx")


def export_onnx(path: str | None = None, save: bool = False) -> bytes:
    """The U-Net at ``path`` (default: the shipped one) as an ONNX graph ``x (1, 12, n)`` -> ``logits (1, 48, n)``.

    ``n`` is free (a multiple of 8). With ``save``, the graph is written beside the weights (``.onnx``) with a
    stamp of the weights it was made from (``.onnx.json``), so later processes start without exporting.
    """
    import torch

    weights = _weights_path(path)
    graph = export_graph(load_model(path)[0], torch.zeros(1, N_LEADS, 1024), ["x"], ["logits"],
                         {"x": {2: "samples"}, "logits": {2: "samples"}})
    if save:
        save_graph(graph, _graph_path(weights), weights)
    return graph


def stored_onnx(path: str | None = None) -> bytes | None:
    """The graph saved beside the weights if it was made from these weights, else None."""
    weights = _weights_path(path)
    return load_graph(_graph_path(weights), weights)


@lru_cache(maxsize=8)
def onnx_session(path: str | None = None) -> Any:
    """An ONNX Runtime session (one intra-op thread) of the U-Net at ``path``: the stored graph, or exported."""
    return cpu_session(stored_onnx(path) or export_onnx(path))


def unet_logits(x: np.ndarray, model_path: str | None = None) -> np.ndarray:
    """Logits ``(12, 4, samples)`` of a preprocessed ``(12, samples)`` array, by ONNX Runtime."""
    n = x.shape[-1]
    padded = np.pad(np.asarray(x, dtype=np.float32), ((0, 0), (0, (-n) % 8)))
    (logits,) = onnx_session(model_path).run(None, {"x": padded[None]})
    return np.asarray(logits[0].reshape(N_LEADS, N_CLASSES, -1)[..., :n])


def segment_labels(logits: np.ndarray) -> np.ndarray:
    """Class per lead and sample, ``(12, samples)`` int64, of logits ``(12, 4, samples)`` (their arg-max).

    By comparisons class after class: numpy's arg-max along a strided axis of length 4 is four times slower.
    """
    best = logits[:, 0].copy()
    labels = np.zeros(best.shape, dtype=np.int64)
    for cls in range(1, logits.shape[1]):
        labels[logits[:, cls] > best] = cls
        np.maximum(best, logits[:, cls], out=best)
    return labels


def delineate_unet(
    sig: np.ndarray, fs: float, r_peaks: np.ndarray, model_path: str | None = None, *, t_wave: bool = True
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
    t_wave : bool
        Find the T peak and offset too (NaN otherwise; the hybrid method takes them from the DSP delineator).

    Returns
    -------
    per_lead : np.ndarray
        Shape ``(n_beats, 12, 7)``, float sample indices at ``fs`` (NaN where absent).
    info : dict
        ``pacing_spikes`` (empty: the network handles spikes itself) and ``model`` (its metadata).
    """
    if sig.shape[0] != N_LEADS:
        raise CardioScreenError(f"the U-Net delineator needs the 12 standard leads, got {sig.shape[0]} rows")
    model_fs = float(model_meta(model_path)["fs"])
    x = preprocess(sig, fs, model_fs)
    labels = segment_labels(unet_logits(x, model_path))
    r = np.round(np.asarray(r_peaks, dtype=float) * model_fs / fs).astype(np.int64)
    per_lead = fiducials_from_labels(labels, x, r, model_fs, t_wave=t_wave) * fs / model_fs
    return per_lead, {"pacing_spikes": np.zeros(0, dtype=np.int64), "model": model_meta(model_path)}
