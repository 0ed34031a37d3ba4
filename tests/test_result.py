import json

import numpy as np

from cardioscreen.result import AnalysisResult, Prediction


class TestAnalysisResult:
    def test_json_round_trip(self):
        result = AnalysisResult(
            record="r1", fs=500.0, quality={"verdict": "usable", "reasons": []}, intervals={"hr_bpm": 61.0},
            predictions=(Prediction("CLBBB", "Complete LBBB", "seed17", 0.91, 0.5, True),
                         Prediction("NORM", "Normal ECG", "superdiagnostic", 0.02, 0.6, False)),
            model={"name": "m"}, r_peaks=np.array([10, 510]), n_beats=2,
            fiducials={"qrs_on": np.array([5.0, np.nan])},
        )
        back = AnalysisResult.from_dict(json.loads(json.dumps(result.to_dict())))
        assert back.predictions == result.predictions
        assert back.flagged[0].code == "CLBBB" and back.urgency == 0.91
        np.testing.assert_array_equal(back.r_peaks, result.r_peaks)
        np.testing.assert_array_equal(back.fiducials["qrs_on"], result.fiducials["qrs_on"])
        assert back.to_dict() == result.to_dict()

    def test_refused_result_has_no_urgency(self):
        result = AnalysisResult(record="r", fs=500.0, quality={"verdict": "unusable"}, intervals=None,
                                predictions=(), model={}, r_peaks=np.zeros(0, np.int64), n_beats=0,
                                refusal="signal quality too poor: flat")
        assert result.refused and result.urgency == 0.0 and result.to_dict()["refused"] is True
