"""``cardioscreen info`` on real files, and its error path."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from cardioscreen.cli import main
from cardioscreen.io import read_ecg
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.signal.quality import ecg_quality


def _info_json(capsys, *argv: str) -> dict:
    assert main(["info", *argv, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


class TestInfo:
    def test_wfdb_record_text(self, capsys, example_record_path):
        assert main(["info", str(example_record_path)]) == 0
        out = capsys.readouterr().out
        for expected in ("wfdb", "500 Hz", "10.00 s", "5000 samples", " ".join(STANDARD_LEADS)):
            assert expected in out
        # PTB-XL record 1 is a clean sinus recording at 64 bpm.
        assert re.search(r"^quality\s+usable \(heart rate 64 bpm\)$", out, re.M), out

    def test_challenge_json_has_labels_and_quality(self, capsys, shared_data):
        path = shared_data / "challenge" / "georgia" / "E00004"
        info = _info_json(capsys, str(path))
        assert (info["format"], info["fs"], info["n_leads"], info["samples"]) == ("wfdb", 500, 12, 5000)
        assert info["metadata"]["dx"] == ["426177001", "425623009", "164934002", "164873001"]
        assert (info["metadata"]["age"], info["metadata"]["sex"]) == (75, "M")
        # the quality of the record itself: a clean recording at 58 bpm
        record = read_ecg(path)
        expected = ecg_quality(record.signal, record.fs, record.leads).to_dict()
        assert info["quality"] == json.loads(json.dumps(expected))
        assert (info["quality"]["verdict"], info["quality"]["reasons"]) == ("usable", [])
        assert info["quality"]["heart_rate_bpm"] == pytest.approx(58, abs=2)
        assert "record_id" not in info["metadata"]

    def test_aecg_without_personal_data(self, capsys, shared_data):
        path = shared_data / "formats" / "hl7-aecg" / "hl7_example_aecg.xml"
        info = _info_json(capsys, str(path))
        assert (info["format"], info["duration_s"]) == ("hl7-aecg", 10.0)
        assert info["metadata"]["median_beats"] == {"array_shape": [12, 599]}
        text = json.dumps(info)
        assert not any(personal in text for personal in ("Clark", "19530508", "SBJ-123", "John Smith"))

    def test_numpy_with_fs_option(self, capsys, shared_data, tmp_path):
        np.save(tmp_path / "x.npy", read_ecg(shared_data / "mitdb" / "100").signal[:, :3600])
        info = _info_json(capsys, str(tmp_path / "x.npy"), "--fs", "360")
        assert (info["fs"], info["leads"], info["duration_s"]) == (360, ["lead1", "lead2"], 10.0)

    def test_flat_record_is_unusable(self, capsys, tmp_path):
        np.save(tmp_path / "flat.npy", np.zeros((12, 5000), dtype=np.float32))
        info = _info_json(capsys, str(tmp_path / "flat.npy"), "--fs", "500")
        assert info["quality"]["verdict"] == "unusable"
        assert info["quality"]["reasons"]


class TestInfoErrors:
    @pytest.mark.parametrize("content", [b"", b"\x00\x01garbage" * 50])
    def test_bad_file_one_line_exit_2(self, capsys, tmp_path, content):
        path = tmp_path / "bad.bin"
        path.write_bytes(content)
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "bad.bin" in err

    def test_no_traceback_from_the_console_script(self, tmp_path):
        path = tmp_path / "truncated.npy"
        np.save(path, np.zeros((12, 5000)))
        path.write_bytes(path.read_bytes()[:1000])
        result = subprocess.run([sys.executable, "-m", "cardioscreen.cli", "info", str(path)],
                                capture_output=True, text=True, timeout=120)
        assert result.returncode != 0
        assert "Traceback" not in result.stderr
        assert result.stderr.strip().count("\n") == 0 and "truncated" in result.stderr
