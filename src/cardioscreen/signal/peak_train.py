"""Training and honest evaluation of the R-peak candidate verifier (:mod:`cardioscreen.signal.peak_verify`).

The training data are real annotated records: MIT-BIH Arrhythmia (100-series, reference beat annotations), CPSC
2019 (reference R-peaks) and LUDB (cardiologists' lead II QRS marks, within the annotated span only). Every
plausible candidate of the fused-envelope detector (one above the local background) is labelled a beat when it is
the candidate nearest a reference beat and lies within ``tolerance_s`` of it. A scikit-learn
``HistGradientBoostingClassifier`` is fitted on the candidates of all records (each dataset weighted by
``VerifierConfig.dataset_weights``) and exported to a NumPy :class:`~cardioscreen.signal.peak_verify.TreeEnsemble`.
:func:`cross_validated_peaks` scores it honestly: records are split into folds within each dataset (a record's
candidates never straddle folds) and every record's R-peaks come from the model fitted without its fold.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.peak_candidates import Candidates, find_candidates, to_peaks
from cardioscreen.signal.peak_features import FEATURE_NAMES, candidate_features
from cardioscreen.signal.peak_verify import TreeEnsemble
from cardioscreen.signal.peaks import DEFAULT_CONFIG, PeakConfig, PeakScore, match_peaks

logger = logging.getLogger(__name__)

__all__ = ["BEAT_SYMBOLS", "LabelledCandidates", "PeakRecord", "VerifierConfig", "chosen_peaks",
           "cross_validated_peaks", "fit_verifier", "label_candidates", "load_peak_records", "record_folds",
           "score_peaks", "to_tree_ensemble"]

BEAT_SYMBOLS = frozenset("NLRBAaJSVrFejnE/fQ?")
"""Beat annotation symbols of the MIT-BIH databases (wfdb's ``ann_label_table``, beats only)."""


@dataclass(frozen=True)
class PeakRecord:
    """One annotated record: ``signal`` ``(leads, samples)`` in mV at ``fs`` Hz and its reference R-peaks
    (samples). With ``span_only`` the reference covers only its first to last beat (LUDB), so candidates outside
    that span are neither labelled nor scored. Candidates within ``unsure_edge_s`` of either end are not used for
    training (CPSC 2019 leaves beats near the ends unannotated; its own scoring ignores the first and last 0.5 s).
    """

    dataset: str
    name: str
    signal: np.ndarray
    fs: float
    reference: np.ndarray
    span_only: bool = False
    unsure_edge_s: float = 0.0


def _load_mitdb(folder: Path) -> list[PeakRecord]:
    import wfdb

    out = []
    for hea in sorted(folder.glob("*.hea")):
        rec = wfdb.rdrecord(str(hea.with_suffix("")))
        ann = wfdb.rdann(str(hea.with_suffix("")), "atr")
        beats = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym in BEAT_SYMBOLS],
                         dtype=np.int64)
        out.append(PeakRecord("mitdb", hea.stem, rec.p_signal.T.astype(np.float32), float(rec.fs), beats))
    return out


def _load_cpsc2019(folder: Path) -> list[PeakRecord]:
    from scipy.io import loadmat

    out = []
    for path in sorted((folder / "data").glob("data_*.mat")):
        number = path.stem.split("_")[1]
        sig = loadmat(path)["ecg"].ravel().astype(np.float32)[None, :]
        ref = loadmat(folder / "ref" / f"R_{number}.mat")["R_peak"].ravel().astype(np.int64)
        out.append(PeakRecord("cpsc2019", number, sig, 500.0, ref, unsure_edge_s=0.5))
    return out


def _load_ludb(folder: Path) -> list[PeakRecord]:
    import wfdb

    out = []
    for hea in sorted(folder.glob("*.hea"), key=lambda path: int(path.stem)):
        rec = wfdb.rdrecord(str(hea.with_suffix("")))
        ann = wfdb.rdann(str(hea.with_suffix("")), "ii")
        ref = np.array([s for s, sym in zip(ann.sample, ann.symbol, strict=True) if sym == "N"], dtype=np.int64)
        out.append(PeakRecord("ludb", hea.stem, rec.p_signal.T.astype(np.float32), float(rec.fs), ref, True))
    return out


_LOADERS: dict[str, Callable[[Path], list[PeakRecord]]] = {
    "mitdb": _load_mitdb,
    "cpsc2019": _load_cpsc2019,
    "ludb": _load_ludb,
}


def load_peak_records(data_root: str | Path, datasets: Iterable[str] = tuple(_LOADERS)) -> list[PeakRecord]:
    """Annotated records of ``datasets`` (folder names under ``data_root``: ``mitdb``, ``cpsc2019``, ``ludb``)."""
    records = []
    for name in datasets:
        if name not in _LOADERS:
            raise CardioScreenError(f"unknown R-peak dataset {name!r}; known datasets: {', '.join(_LOADERS)}")
        folder = Path(data_root) / name
        if not folder.is_dir():
            raise CardioScreenError(f"R-peak dataset folder not found: {folder}")
        records += _LOADERS[name](folder)
    return records


@dataclass(frozen=True)
class VerifierConfig:
    """How the verifier is trained.

    Attributes
    ----------
    max_iter, max_depth, learning_rate, l2_regularization, min_samples_leaf : boosting parameters
        (scikit-learn ``HistGradientBoostingClassifier``; no early stopping, so training is deterministic).
    dataset_weights : sample weight of every candidate of a dataset (others weigh 1): CPSC 2019's few short
        records would otherwise count for little beside MIT-BIH's 30-minute ones.
    tolerance_s : a candidate within this of a reference beat (and the nearest to it) is a beat.
    folds : record folds of :func:`cross_validated_peaks`.
    """

    max_iter: int = 40
    max_depth: int = 3
    learning_rate: float = 0.3
    l2_regularization: float = 1.0
    min_samples_leaf: int = 20
    dataset_weights: tuple[tuple[str, float], ...] = (("cpsc2019", 20.0),)
    tolerance_s: float = 0.15
    folds: int = 5
    random_state: int = 0
    peak_config: PeakConfig = field(default=DEFAULT_CONFIG)

    def __post_init__(self) -> None:
        if self.max_iter < 1 or self.max_depth < 1 or self.min_samples_leaf < 1:
            raise CardioScreenError("max_iter, max_depth and min_samples_leaf must be positive")
        if not self.learning_rate > 0 or self.l2_regularization < 0:
            raise CardioScreenError("learning_rate must be positive and l2_regularization not negative")
        if not self.tolerance_s > 0 or self.folds < 2:
            raise CardioScreenError("tolerance_s must be positive and folds at least 2")
        if any(not weight > 0 for _, weight in self.dataset_weights):
            raise CardioScreenError(f"dataset weights must be positive, got {self.dataset_weights}")


@dataclass(frozen=True)
class LabelledCandidates:
    """A record's candidates, their feature rows ``X`` ``(k, n_features)``, beat labels ``y`` ``(k,)`` and the
    mask ``keep`` ``(k,)`` of those that take part in training (inside the annotated span)."""

    record: PeakRecord
    candidates: Candidates
    X: np.ndarray
    y: np.ndarray
    keep: np.ndarray


def label_candidates(record: PeakRecord, cfg: VerifierConfig) -> LabelledCandidates:
    """Plausible candidates of ``record`` with features, labels and the training mask (see the module docstring
    and :class:`PeakRecord`)."""
    cands = find_candidates(record.signal, record.fs, cfg.peak_config).select_plausible()
    pos = cands.index * cands.q + cands.q // 2
    tolerance = cfg.tolerance_s * record.fs
    y = np.zeros(len(pos), dtype=bool)
    keep = np.ones(len(pos), dtype=bool)
    if len(pos) and len(record.reference):
        after = np.searchsorted(pos, record.reference)
        below, above = np.clip(after - 1, 0, len(pos) - 1), np.clip(after, 0, len(pos) - 1)
        pick = np.where(np.abs(pos[below] - record.reference) <= np.abs(pos[above] - record.reference),
                        below, above)
        y[pick[np.abs(pos[pick] - record.reference) <= tolerance]] = True
        if record.span_only:
            keep = (pos >= record.reference[0] - tolerance) & (pos <= record.reference[-1] + tolerance)
    edge = record.unsure_edge_s * record.fs
    keep &= (pos >= edge) & (pos < record.signal.shape[-1] - edge)
    return LabelledCandidates(record, cands, candidate_features(cands, cands.rule), y, keep)


def fit_verifier(tables: Sequence[LabelledCandidates], cfg: VerifierConfig, meta: dict[str, Any] | None = None
                 ) -> TreeEnsemble:
    """Fit the boosted trees on the kept candidates of ``tables`` and export them to a :class:`TreeEnsemble`."""
    from sklearn.ensemble import HistGradientBoostingClassifier

    weights = dict(cfg.dataset_weights)
    X = np.concatenate([t.X[t.keep] for t in tables])
    y = np.concatenate([t.y[t.keep] for t in tables])
    w = np.concatenate([np.full(int(t.keep.sum()), weights.get(t.record.dataset, 1.0)) for t in tables])
    if len(np.unique(y)) < 2:
        raise CardioScreenError("the verifier needs both beats and non-beats among the training candidates")
    model = HistGradientBoostingClassifier(
        max_iter=cfg.max_iter, max_depth=cfg.max_depth, learning_rate=cfg.learning_rate,
        l2_regularization=cfg.l2_regularization, min_samples_leaf=cfg.min_samples_leaf, early_stopping=False,
        random_state=cfg.random_state)
    model.fit(X, y, sample_weight=w)
    logger.info("verifier fitted on %d candidates (%d beats) of %d records", len(y), int(y.sum()), len(tables))
    return to_tree_ensemble(model, meta or {})


def to_tree_ensemble(model: Any, meta: dict[str, Any]) -> TreeEnsemble:
    """A fitted binary ``HistGradientBoostingClassifier`` as flat node arrays (leaves point to themselves)."""
    trees = [predictor[0].nodes for predictor in model._predictors]
    width = max(len(nodes) for nodes in trees)
    shape = (len(trees), width)
    feature = np.zeros(shape, dtype=np.int64)
    threshold = np.zeros(shape)
    left = np.tile(np.arange(width, dtype=np.int64), (len(trees), 1))
    right = left.copy()
    value = np.zeros(shape)
    for t, nodes in enumerate(trees):
        n = len(nodes)
        split = ~nodes["is_leaf"].astype(bool)
        feature[t, :n] = np.where(split, nodes["feature_idx"], 0)
        threshold[t, :n] = nodes["num_threshold"]
        left[t, :n] = np.where(split, nodes["left"], np.arange(n))
        right[t, :n] = np.where(split, nodes["right"], np.arange(n))
        value[t, :n] = np.where(split, 0.0, nodes["value"])
    depth = int(max(int(nodes["depth"].max()) for nodes in trees))
    return TreeEnsemble(feature=feature, threshold=threshold, left=left, right=right,
                        value=value, baseline=float(np.ravel(model._baseline_prediction)[0]), depth=depth,
                        feature_names=FEATURE_NAMES, meta=meta)


def record_folds(records: Sequence[PeakRecord], folds: int) -> np.ndarray:
    """Fold of every record: within each dataset, records in name order are dealt to the folds in turn."""
    out = np.zeros(len(records), dtype=np.int64)
    for dataset in {r.dataset for r in records}:
        members = sorted((r.name, i) for i, r in enumerate(records) if r.dataset == dataset)
        for rank, (_, i) in enumerate(members):
            out[i] = rank % folds
    return out


def chosen_peaks(table: LabelledCandidates, model: TreeEnsemble, peak_config: PeakConfig) -> np.ndarray:
    """R-peaks (input-rate samples) that ``model`` picks among a labelled record's candidates."""
    chosen = model.is_beat(table.X)
    return to_peaks(table.record.signal, table.record.fs, table.candidates, chosen, peak_config)[0]


def cross_validated_peaks(tables: Sequence[LabelledCandidates], cfg: VerifierConfig) -> list[np.ndarray]:
    """Every record's R-peaks from a verifier fitted on the other folds' records (:func:`record_folds`)."""
    fold = record_folds([t.record for t in tables], cfg.folds)
    out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(tables)
    for k in range(cfg.folds):
        model = fit_verifier([t for t, f in zip(tables, fold, strict=True) if f != k], cfg)
        for i in np.flatnonzero(fold == k).tolist():
            out[i] = chosen_peaks(tables[i], model, cfg.peak_config)
        logger.info("cross-validation fold %d of %d done", k + 1, cfg.folds)
    return out


def score_peaks(record: PeakRecord, peaks: np.ndarray, tolerance_s: float, edge_s: float = 0.0) -> PeakScore:
    """Match ``peaks`` to the record's reference within ``tolerance_s``, ignoring beats within ``edge_s`` of either
    end and, for a span-only reference, detections more than one tolerance outside its first to last beat."""
    tolerance = int(round(tolerance_s * record.fs))
    start, stop = int(round(edge_s * record.fs)), record.signal.shape[-1] - int(round(edge_s * record.fs))
    ref = record.reference
    if record.span_only and len(ref):
        start, stop = max(start, int(ref[0]) - tolerance), min(stop, int(ref[-1]) + tolerance + 1)

    def within(x: np.ndarray) -> np.ndarray:
        return x[(x >= start) & (x < stop)]

    return match_peaks(within(ref), within(np.asarray(peaks)), tolerance)
