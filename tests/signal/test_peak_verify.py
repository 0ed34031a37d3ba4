"""The learned R-peak verifier: candidates, features, the exported tree ensemble, training and held-out scoring."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.ensemble import HistGradientBoostingClassifier

from cardioscreen.cli import main
from cardioscreen.errors import CardioScreenError
from cardioscreen.signal.peak_candidates import find_candidates
from cardioscreen.signal.peak_features import FEATURE_NAMES, MISSING, candidate_features
from cardioscreen.signal.peak_train import (
    PeakRecord,
    VerifierConfig,
    chosen_peaks,
    fit_verifier,
    label_candidates,
    load_peak_records,
    record_folds,
    score_peaks,
    to_tree_ensemble,
)
from cardioscreen.signal.peak_verify import TreeEnsemble, default_verifier, load_verifier, verified_peaks
from cardioscreen.signal.peaks import DEFAULT_CONFIG, PeakScore, ecg_peaks, match_peaks


@pytest.fixture(scope="module")
def cpsc(shared_data: Path) -> list[PeakRecord]:
    return load_peak_records(shared_data, ["cpsc2019"])


@pytest.fixture(scope="module")
def ludb(shared_data: Path) -> list[PeakRecord]:
    return load_peak_records(shared_data, ["ludb"])


def _random_ensemble(seed: int, n_features: int = len(FEATURE_NAMES)) -> tuple[HistGradientBoostingClassifier,
                                                                                 np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(2000, n_features))
    X[rng.random(X.shape) < 0.1] = MISSING
    y = X[:, 0] + X[:, 1] ** 2 - 0.5 * X[:, 2] > 0.5
    model = HistGradientBoostingClassifier(max_iter=25, max_depth=4, early_stopping=False, random_state=seed)
    return model.fit(X, y), X


class TestCandidates:
    def test_nearly_every_cpsc_beat_is_a_candidate(self, cpsc: list[PeakRecord]) -> None:
        total = PeakScore(0, 0, 0)
        for record in cpsc:
            cands = find_candidates(record.signal, record.fs, DEFAULT_CONFIG)
            total += match_peaks(record.reference, cands.index * cands.q + cands.q // 2, int(0.15 * record.fs))
        assert total.tp + total.fn > 700 and total.sensitivity >= 0.995, total

    def test_features_are_finite_and_named(self, cpsc: list[PeakRecord]) -> None:
        cands = find_candidates(cpsc[0].signal, cpsc[0].fs, DEFAULT_CONFIG)
        X = candidate_features(cands, cands.rule)
        assert X.shape == (len(cands.index), len(FEATURE_NAMES)) and np.isfinite(X).all()
        correlations = X[:, [FEATURE_NAMES.index("template_corr"), FEATURE_NAMES.index("prev_corr")]]
        assert np.all((correlations == MISSING) | (np.abs(correlations) <= 1 + 1e-9))

    def test_labels_are_one_per_reference_beat(self, ludb: list[PeakRecord]) -> None:
        cfg = VerifierConfig()
        for record in ludb[:10]:
            table = label_candidates(record, cfg)
            # every annotated beat of these records is a candidate (measured): exactly one positive per beat,
            # each within the matching tolerance of a reference beat
            assert table.y.sum() == len(record.reference), (table.y.sum(), len(record.reference))
            positives = table.candidates.index[table.y] * table.candidates.q + table.candidates.q // 2
            assert match_peaks(record.reference, positives, int(cfg.tolerance_s * record.fs)).tp == len(positives)
            assert np.all(table.y <= table.keep)


class TestTreeEnsemble:
    @settings(max_examples=5, deadline=None)
    @given(seed=st.integers(0, 2**16))
    def test_export_matches_sklearn(self, seed: int) -> None:
        model, X = _random_ensemble(seed)
        exported = to_tree_ensemble(model, {})
        np.testing.assert_allclose(exported.decision_function(X), model.decision_function(X), atol=1e-10)
        np.testing.assert_allclose(exported.predict_proba(X), model.predict_proba(X)[:, 1], atol=1e-10)

    def test_save_load_round_trip(self, tmp_path: Path) -> None:
        model, X = _random_ensemble(3)
        exported = to_tree_ensemble(model, {"note": "test"})
        loaded = load_verifier(exported.save(tmp_path / "v.npz"))
        assert loaded.meta == {"note": "test"}
        np.testing.assert_array_equal(loaded.decision_function(X), exported.decision_function(X))

    def test_rejects_other_features_and_bad_trees(self, tmp_path: Path) -> None:
        shipped = default_verifier()
        fields = {name: getattr(shipped, name) for name in ("feature", "threshold", "left", "right", "value")}
        other = TreeEnsemble(**fields, baseline=0.0, depth=shipped.depth, feature_names=FEATURE_NAMES + ("extra",))
        with pytest.raises(CardioScreenError, match="other features"):
            load_verifier(other.save(tmp_path / "other.npz"))
        with pytest.raises(CardioScreenError, match="children"):
            TreeEnsemble(**{**fields, "left": fields["left"] + fields["left"].shape[1]}, baseline=0.0,
                         depth=shipped.depth, feature_names=FEATURE_NAMES)
        with pytest.raises(CardioScreenError, match="cannot read"):
            load_verifier(tmp_path / "missing.npz")

    def test_shipped_verifier_records_its_cross_validation(self) -> None:
        meta = default_verifier().meta
        assert set(meta["trained_on"]) == {"mitdb", "cpsc2019", "ludb"}
        assert meta["cross_validation"]["scores"]["cpsc2019"]["f1"] > 0.9


class TestHeldOut:
    def test_held_out_cpsc_records(self, cpsc: list[PeakRecord], ludb: list[PeakRecord]) -> None:
        """Fitted on LUDB and four fifths of CPSC 2019, five times over, the verifier decides the held-out fifth
        better than the rule detector does (record-wise cross-validation, without MIT-BIH to keep it quick)."""
        cfg = VerifierConfig()
        tables = [label_candidates(r, cfg) for r in cpsc + ludb]
        fold = np.r_[record_folds(cpsc, cfg.folds), np.full(len(ludb), -1)]
        learned = rules = PeakScore(0, 0, 0)
        for k in range(cfg.folds):
            model = fit_verifier([t for t, f in zip(tables, fold, strict=True) if f != k], cfg)
            for table in (t for t, f in zip(tables, fold, strict=True) if f == k):
                learned += score_peaks(table.record, chosen_peaks(table, model, DEFAULT_CONFIG), 0.15)
                found = ecg_peaks(table.record.signal, table.record.fs, "rules")[0]
                rules += score_peaks(table.record, found, 0.15)
        assert learned.tp + learned.fn > 700
        assert learned.f1 > rules.f1 and learned.f1 >= 0.97, (learned, rules)

    def test_folds_split_every_dataset(self, cpsc: list[PeakRecord], ludb: list[PeakRecord]) -> None:
        records = cpsc + ludb
        fold = record_folds(records, 5)
        for dataset, count in (("cpsc2019", len(cpsc)), ("ludb", len(ludb))):
            mine = fold[[r.dataset == dataset for r in records]]
            assert np.bincount(mine, minlength=5).min() >= count // 5


class TestProperties:
    @pytest.mark.parametrize("scale", [0.01, 100.0])
    def test_amplitude_scale_does_not_matter(self, cpsc: list[PeakRecord], scale: float) -> None:
        for record in cpsc[:5]:
            peaks, _ = ecg_peaks(record.signal, record.fs)
            assert np.array_equal(ecg_peaks(record.signal * scale, record.fs)[0], peaks)

    def test_config_is_validated(self) -> None:
        with pytest.raises(CardioScreenError):
            VerifierConfig(folds=1)
        with pytest.raises(CardioScreenError):
            VerifierConfig(dataset_weights=(("cpsc2019", 0.0),))
        with pytest.raises(CardioScreenError, match="known datasets"):
            load_peak_records(".", ["nope"])


class TestTrainCommand:
    def test_trains_and_saves(self, shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        out = tmp_path / "verifier.npz"
        assert main(["train-peaks", "--data", str(shared_data), "--datasets", "ludb", "--out", str(out)]) == 0
        assert str(out) in capsys.readouterr().out
        model = load_verifier(out)
        assert model.meta["trained_on"] == {"ludb": 100} and "cross_validation" not in model.meta
        record = load_peak_records(shared_data, ["ludb"])[0]
        peaks, _ = verified_peaks(record.signal, record.fs, DEFAULT_CONFIG, model)
        assert score_peaks(record, peaks, 0.15).f1 >= 0.99

    def test_missing_data_is_one_clear_error(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["train-peaks", "--data", str(tmp_path)]) == 2
        assert "R-peak dataset folder not found" in capsys.readouterr().err
