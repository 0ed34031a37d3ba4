"""Every clinical format gives the same analysis schema as WFDB; one recording in three formats, one answer."""

from __future__ import annotations

import json

import numpy as np
import pytest

from cardioscreen.pipeline import Analyzer

FORMAT_FILES = [
    "hl7-aecg/hl7_example_aecg.xml",
    "dicom/ecgtoolkit_example.dcm",
    "scp-ecg/ecgtoolkit_example.scp",
    "philips-sierra/sierra_1.03_129DYPRG.xml",
    "philips-sierra/sierra_1.04_ad4d3d80-d165.xml",
    "ge-muse/musephi_muse_ecg1.xml",
]


def _schema(value):
    """The shape of a JSON value: keys and types, not the numbers."""
    if isinstance(value, dict):
        return {key: _schema(item) for key, item in value.items() if key not in {"per_lead", "measures", "beats_used",
                                                                                  "reasons"}}
    if isinstance(value, list):
        return [_schema(value[0])] if value else []
    return "number" if isinstance(value, int | float) and not isinstance(value, bool) else type(value).__name__


@pytest.fixture(scope="module")
def analyzer() -> Analyzer:
    return Analyzer.load()


@pytest.fixture(scope="module")
def wfdb_schema(analyzer, example_record_path):
    return _schema(json.loads(json.dumps(analyzer.analyze_file(example_record_path)[1].to_dict())))


class TestClinicalFormats:
    @pytest.mark.parametrize("name", FORMAT_FILES)
    def test_same_schema_as_wfdb(self, analyzer, shared_data, wfdb_schema, name):
        _, result = analyzer.analyze_file(shared_data / "formats" / name)
        assert not result.refused, result.refusal
        data = json.loads(json.dumps(result.to_dict()))
        assert set(data) == set(wfdb_schema)
        assert _schema(data["predictions"]) == wfdb_schema["predictions"]
        assert _schema(data["intervals"]).keys() == wfdb_schema["intervals"].keys()
        assert _schema(data["quality"]).keys() == wfdb_schema["quality"].keys()

    def test_one_recording_in_three_formats_gives_one_answer(self, analyzer, shared_data):
        copies = ["hl7-aecg/hl7_example_aecg.xml", "dicom/ecgtoolkit_example.dcm", "scp-ecg/ecgtoolkit_example.scp"]
        probabilities = [
            [p.probability for p in analyzer.analyze_file(shared_data / "formats" / name)[1].predictions]
            for name in copies
        ]
        np.testing.assert_allclose(probabilities[1], probabilities[0], atol=1e-3)
        np.testing.assert_allclose(probabilities[2], probabilities[0], atol=1e-3)
