"""The Analyzer on real records with the shipped model: schema, refusals, engines, saliency."""

from __future__ import annotations

import numpy as np
import pytest

from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.ensemble.inputs import peaks_at
from cardioscreen.ensemble.measurements import measure_ptbxl_record, measurement_vector
from cardioscreen.io import read_ecg
from cardioscreen.pipeline import Analyzer, AnalyzerConfig
from cardioscreen.record import ECGRecord
from cardioscreen.signal.intervals import ecg_intervals
from cardioscreen.signal.measure import measure_record
from cardioscreen.signal.peaks import ecg_peaks

SEED17 = ["NORM", "IMI", "NDT", "NST_", "LVH", "LAFB", "IRBBB", "IVCD", "ASMI", "AMI", "ISCAL", "1AVB", "ILMI",
          "ISC_", "CRBBB", "CLBBB", "LAO/LAE"]
SUPERDIAGNOSTIC = ["NORM", "MI", "STTC", "CD", "HYP"]
INTERVAL_KEYS = {"hr_bpm", "p_ms", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "qrs_axis_deg",
                 "n_beats"}


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load(config=AnalyzerConfig(explain=True))


@pytest.fixture(scope="module")
def ptbxl_record(ptbxl_dir) -> ECGRecord:
    return read_ecg(next(iter(sorted((ptbxl_dir / "records500").rglob("*.hea")))))


class TestAnalyzer:
    def test_result_covers_every_class(self, analyzer, ptbxl_record):
        result = analyzer.analyze(ptbxl_record, record_id="r")
        by_task = {}
        for p in result.predictions:
            by_task.setdefault(p.task, []).append(p.code)
            assert 0.0 <= p.probability <= 1.0
            assert p.flagged == (p.probability >= p.threshold)
        assert sorted(by_task["seed17"]) == sorted(SEED17)
        assert sorted(by_task["superdiagnostic"]) == sorted(SUPERDIAGNOSTIC)
        assert not result.refused
        assert set(result.intervals) >= INTERVAL_KEYS
        assert result.n_beats == len(result.r_peaks) > 5
        # PTB-XL record 1 is a normal ECG ({'NORM': 100, 'LVOLT': 0, 'SR': 0}): NORM in both tasks, nothing else
        assert sorted((p.task, p.code) for p in result.flagged) == [("seed17", "NORM"), ("superdiagnostic", "NORM")]

    def test_intervals_and_peaks_are_the_records_own(self, analyzer, ptbxl_record):
        """R-peaks of the record, and the intervals measured on its own millivolts (as ``cardioscreen intervals``)."""
        result = analyzer.analyze(ptbxl_record)
        raw_peaks, _ = ecg_peaks(ptbxl_record.signal, ptbxl_record.fs)
        assert len(result.r_peaks) == len(raw_peaks) == 11 and np.all(np.abs(result.r_peaks - raw_peaks) <= 2)
        rate = 60.0 * ptbxl_record.fs / np.median(np.diff(raw_peaks))
        assert result.intervals["hr_bpm"] == pytest.approx(rate, abs=1.0)
        assert result.intervals["n_beats"] == 11
        expected = ecg_intervals(ptbxl_record.signal, ptbxl_record.fs, result.r_peaks, ptbxl_record.leads,
                                 sex=ptbxl_record.meta.get("sex"))
        assert result.intervals == expected.to_dict()

    def test_json_schema(self, analyzer, ptbxl_record):
        data = analyzer.analyze(ptbxl_record).to_dict()
        assert {"record", "quality", "intervals", "predictions", "model"} <= set(data)
        assert set(data["predictions"][0]) >= {"code", "name", "task", "probability", "flagged"}
        assert data["model"]["name"] and data["model"]["version"]
        assert "verdict" in data["quality"]

    def test_saliency_for_flagged_classes(self, analyzer, ptbxl_record):
        result = analyzer.analyze(ptbxl_record)
        assert set(result.saliency) == {p.code for p in result.flagged}
        near_qrs = np.zeros(ptbxl_record.n_samples, dtype=bool)
        for r in result.r_peaks:
            near_qrs[max(r - 50, 0) : r + 50] = True  # 100 ms around each R-peak
        for code, saliency in result.saliency.items():
            assert saliency.shape == ptbxl_record.to_standard12().signal.shape, code
            assert saliency.min() >= 0.0 and saliency.max() == pytest.approx(1.0)
            # the attributions follow the heartbeats (measured: twice as high around the QRS complexes as elsewhere)
            assert saliency[:, near_qrs].mean() > 1.5 * saliency[:, ~near_qrs].mean(), code

    def test_resampled_record_gives_close_probabilities(self, analyzer, ptbxl_record):
        """The same ECG at 250 Hz must give nearly the same answer as at 500 Hz."""
        original = [p.probability for p in analyzer.analyze(ptbxl_record).predictions]
        resampled = [p.probability for p in analyzer.analyze(ptbxl_record.resample(250)).predictions]
        np.testing.assert_allclose(resampled, original, atol=0.05)

    @pytest.mark.parametrize("kind", ["flat", "noise"])
    def test_unusable_records_are_refused_with_reasons(self, analyzer, ptbxl_record, kind):
        rng = np.random.default_rng(0)
        signal = (np.zeros_like(ptbxl_record.signal) if kind == "flat"
                  else rng.normal(0, 1.0, ptbxl_record.signal.shape))
        result = analyzer.analyze(ptbxl_record.with_signal(signal))
        assert result.refused and result.predictions == ()
        assert result.quality["verdict"] == "unusable"
        assert result.quality["reasons"]

    def test_a_single_heartbeat_is_refused(self, analyzer, ptbxl_dir):
        """2.1 s of a bradycardic PTB-XL record (RR over 1.8 s) around one beat: no rate, no probabilities."""
        record = read_ecg(ptbxl_dir / "records500" / "00000" / "00191_hr.hea")
        beat = int(ecg_peaks(record.signal, record.fs)[0][2])
        result = analyzer.analyze(record.crop((beat - 500) / record.fs, (beat + 550) / record.fs))
        assert result.refused and result.predictions == () and result.n_beats == 1
        assert "only one heartbeat found" in result.refusal



class TestCalibratedOutput:
    """The Analyzer's probabilities are the bundle ensemble's calibrated output, whichever output it names."""

    @pytest.mark.parametrize("output", ["network", "ensemble"])
    def test_matches_the_ensembles_own_prediction(self, ptbxl_record, output):
        from cardioscreen.training.inference import record_input

        analyzer = Analyzer.load()
        assert analyzer.ensemble is not None and analyzer.model_info["calibrated"]
        analyzer.ensemble.defaults = dict.fromkeys(analyzer.ensemble.defaults, output)
        result = analyzer.analyze(ptbxl_record)
        spec = analyzer.bundle.input_spec
        x = record_input(ptbxl_record, spec)
        measured = measure_record(ptbxl_record)
        r_peaks = peaks_at(measured.r_peaks, measured.fs, spec.fs, x.shape[-1])
        expected = analyzer.ensemble.predict_records(analyzer.bundle, x[None], r_peaks=[r_peaks],
                                                     measurements=measurement_vector(measured)[None])[0]
        np.testing.assert_allclose([p.probability for p in result.predictions], expected, atol=1e-4)
        np.testing.assert_allclose([p.threshold for p in result.predictions], analyzer.ensemble.thresholds_for())
        assert result.model["output"] == output

    def test_validation_figures_are_the_reported_outputs(self, ptbxl_record):
        """Where the stack is a task's default, its cross-fitted validation figure is shown, not the network's."""
        analyzer = Analyzer.load()
        assert analyzer.ensemble is not None
        report = analyzer.ensemble.report["tasks"]
        shown = analyzer.analyze(ptbxl_record).model["validation"]
        for task, default in analyzer.ensemble.defaults.items():
            assert shown[task]["macro_auc"] == report[task][default]["macro_auc"]
            assert shown[task]["n_records"] == report[task]["n_records"]
        assert set(analyzer.ensemble.defaults.values()) == {"ensemble"}  # the shipped bundle: both tasks stacked
        assert shown["seed17"]["macro_auc"] != analyzer.bundle.metrics["validation"]["seed17"]["macro_auc"]

    def test_measures_a_record_as_training_did(self, ptbxl_dir, ptbxl_record):
        """The stack's measurement row for a file equals the row training measured for the same PTB-XL record."""
        ecg_id = int(next(iter(sorted((ptbxl_dir / "records500").rglob("*.hea")))).name.split("_")[0])
        served = measurement_vector(measure_record(ptbxl_record))
        trained = measure_ptbxl_record(PTBXL.load(ptbxl_dir), ecg_id)
        assert np.isfinite(served).sum() > 100
        np.testing.assert_allclose(served, trained, rtol=1e-5, atol=1e-6, equal_nan=True)
