"""MATLAB ``.mat`` files: the real CPSC 2019 records, the CPSC 2018 struct layout, round trips and refusals, and the
structure check passing every valid file (its refusals: ``test_bombs.TestMatlab``, ``test_fuzz.TestFindings``)."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
from scipy.io import loadmat, savemat

from cardioscreen.cli import main
from cardioscreen.errors import ECGFormatError
from cardioscreen.io import read_ecg, write_ecg
from cardioscreen.io.matlab_check import check_structure, mat_level
from cardioscreen.io.registry import detect_format
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.signal.peaks import ecg_peaks, match_peaks

PTBXL_500 = ("ptbxl", "records500", "00000", "00001_hr.hea")


@pytest.fixture()
def cpsc_file(shared_data: Path) -> Path:
    return shared_data / "cpsc2019" / "data" / "data_00014.mat"


@pytest.fixture()
def ptbxl_signal(shared_data: Path) -> np.ndarray:
    return read_ecg(shared_data.joinpath(*PTBXL_500)).signal


class TestCPSC2019Files:
    def test_read_as_one_lead_at_the_default_rate(self, cpsc_file: Path, caplog: pytest.LogCaptureFixture) -> None:
        with caplog.at_level(logging.WARNING):
            rec = read_ecg(cpsc_file)
        assert detect_format(cpsc_file) == "matlab"
        assert (rec.fs, rec.leads, rec.signal.shape) == (500, ("lead1",), (1, 5000))
        np.testing.assert_array_equal(rec.signal[0], loadmat(cpsc_file)["ecg"].ravel().astype(np.float32))
        assert "assuming 500 Hz" in caplog.text
        assert read_ecg(cpsc_file, fs=250).fs == 250

    def test_cli_peaks_match_the_reference(self, cpsc_file: Path, shared_data: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
        assert main(["peaks", str(cpsc_file), "--json"]) == 0
        out = json.loads(capsys.readouterr().out)
        reference = loadmat(shared_data / "cpsc2019" / "ref" / "R_00014.mat")["R_peak"].ravel()
        score = match_peaks(reference, np.array(out["r_peaks"]), 75)
        assert out["fs"] == 500 and score.fn == 0 and score.fp <= 1, score
        assert out["r_peaks"] == ecg_peaks(read_ecg(cpsc_file).signal, 500)[0].tolist()

    def test_challenge_mat_with_its_header_stays_wfdb(self, shared_data: Path) -> None:
        signal_file = next((shared_data / "challenge" / "georgia").glob("*.mat"))
        assert detect_format(signal_file) == "wfdb"


class TestLayouts:
    def test_round_trip_keeps_signal_rate_and_leads(self, shared_data: Path, tmp_path: Path) -> None:
        rec = read_ecg(shared_data.joinpath(*PTBXL_500))
        back = read_ecg(write_ecg(rec, tmp_path / "copy.mat"))
        np.testing.assert_array_equal(back.signal, rec.signal)
        assert (back.fs, back.leads) == (rec.fs, rec.leads)

    def test_cpsc2018_struct_with_age_and_sex(self, ptbxl_signal: np.ndarray, tmp_path: Path) -> None:
        path = tmp_path / "A0001.mat"
        savemat(path, {"ECG": {"sex": "Female", "age": 61.0, "data": ptbxl_signal.astype(np.float64)}})
        rec = read_ecg(path, fs=500)
        np.testing.assert_allclose(rec.signal, ptbxl_signal, atol=1e-6)
        assert (rec.leads, rec.meta["age"], rec.meta["sex"]) == (STANDARD_LEADS, 61.0, "F")

    def test_samples_by_leads_and_a_stored_rate(self, ptbxl_signal: np.ndarray, tmp_path: Path) -> None:
        path = tmp_path / "t.mat"
        savemat(path, {"Fs": 500.0, "recording": ptbxl_signal[:2].T.astype(np.float64)})
        rec = read_ecg(path)
        assert (rec.fs, rec.leads) == (500, ("lead1", "lead2"))
        np.testing.assert_allclose(rec.signal, ptbxl_signal[:2], atol=1e-6)


class TestRefusals:
    @pytest.mark.parametrize(
        "variables,message",
        [
            ({"val": np.zeros((12, 5000), dtype=np.int16)}, "integer ADC counts"),
            ({"a": np.zeros((12, 5000)), "b": np.zeros((12, 5000))}, "no ECG signal found"),
            ({"name": "no numbers here"}, "no ECG signal found"),
            ({"ecg": np.zeros((100, 5000))}, "no axis"),
            ({"ecg": np.full((12, 5000), np.nan)}, "NaN"),
        ],
    )
    def test_bad_contents(self, variables: dict[str, object], message: str, tmp_path: Path) -> None:
        path = tmp_path / "bad.mat"
        savemat(path, variables)
        with pytest.raises(ECGFormatError, match=message):
            read_ecg(path, fs=500)

    def test_hdf5_level_is_named(self, tmp_path: Path) -> None:
        path = tmp_path / "v73.mat"
        path.write_bytes(b"MATLAB 7.3 MAT-file, Platform: GLNXA64, Created on: Mon Jan  1 00:00:00 2024 HDF5 schema"
                         .ljust(128, b" ") + b"\x89HDF\r\n\x1a\n" + bytes(64))
        with pytest.raises(ECGFormatError, match="7.3"):
            read_ecg(path)

    def test_cli_names_the_problem(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "counts.mat"
        savemat(path, {"val": np.zeros((12, 5000), dtype=np.int16)})
        assert main(["info", str(path)]) == 2
        err = capsys.readouterr().err
        assert "integer ADC counts" in err and "Traceback" not in err


class TestStructureCheck:
    def test_every_mat_file_in_the_shared_data_passes(self, shared_data: Path) -> None:
        files = sorted(shared_data.rglob("*.mat"))
        levels = [mat_level(path.read_bytes()[:128]) for path in files]
        assert len(files) >= 180 and {4, 5} <= set(levels)
        for path in files:
            check_structure(path)

    def test_the_cpsc2019_records_read_as_scipy_reads_them(self, shared_data: Path) -> None:
        files = sorted((shared_data / "cpsc2019" / "data").glob("*.mat"))
        assert len(files) == 50
        for path in files:
            np.testing.assert_array_equal(read_ecg(path, fs=500).signal[0],
                                          loadmat(path)["ecg"].ravel().astype(np.float32))

    def test_level_4_files_go_to_scipy_unchecked(self, shared_data: Path, ptbxl_signal: np.ndarray,
                                                 tmp_path: Path) -> None:
        """A level-4 file has no element structure (the old size check misread the challenge's as level 5)."""
        challenge = next((shared_data / "challenge" / "georgia").glob("*.mat"))
        with pytest.raises(ECGFormatError, match="integer ADC counts"):
            read_ecg(challenge, fmt="matlab")
        path = tmp_path / "v4.mat"
        savemat(path, {"ecg": ptbxl_signal.astype(np.float64)}, format="4")
        np.testing.assert_allclose(read_ecg(path, fmt="matlab", fs=500).signal, ptbxl_signal, atol=1e-6)

    @pytest.mark.parametrize("compressed", [False, True])
    def test_every_layout_scipy_writes_passes(self, compressed: bool, ptbxl_signal: np.ndarray,
                                              tmp_path: Path) -> None:
        path = tmp_path / "layouts.mat"
        cells = np.empty((1, 3), dtype=object)
        cells[0, :] = ["I", np.arange(3, dtype=np.int8), np.zeros((0, 2))]
        savemat(path, {
            "ECG": {"data": ptbxl_signal, "age": 61.0, "sex": "Female", "notes": cells,
                    "nested": {"when": "2024-01-01", "flags": np.array([True, False])}},
            "z": np.array([1 + 2j, 3 - 4j]), "u": np.arange(4, dtype=np.uint64), "h": np.arange(6, dtype=np.int16),
            "empty": np.zeros((0, 0)), "text": np.array(["ab", "cd"]), "fs": 500.0,
        }, do_compression=compressed, long_field_names=True)
        check_structure(path)
        rec = read_ecg(path)
        np.testing.assert_array_equal(rec.signal, ptbxl_signal)
        assert (rec.fs, rec.meta["age"], rec.meta["sex"]) == (500, 61.0, "F")
