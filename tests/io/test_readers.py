"""Readers on real records: WFDB (PTB-XL, challenge .mat, MIT-BIH, LUDB), EDF, CSV, NumPy, HL7 aECG."""

from __future__ import annotations

import logging
import re
import shutil
from pathlib import Path

import numpy as np
import pyedflib
import pytest
import wfdb

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import read_ecg, write_ecg
from cardioscreen.leads import STANDARD_LEADS

PTBXL_500 = ("ptbxl", "records500", "00000", "00001_hr")
PTBXL_100 = ("ptbxl", "records100", "00000", "00001_lr")
CHALLENGE_FOLDERS = ("georgia", "chapman-ningbo", "cpsc", "ptb-diagnostic", "ptbxl")
AECG = ("formats", "hl7-aecg", "hl7_example_aecg.xml")


def _wfdb_reference(record: Path) -> np.ndarray:
    """The record's samples in mV as the wfdb library computes them, ``(leads, samples)``."""
    return wfdb.rdrecord(str(record)).p_signal.T


def _copy_record(record: Path, folder: Path) -> Path:
    for part in record.parent.glob(record.name + ".*"):
        shutil.copy(part, folder / part.name)
    return folder / record.name


class TestWFDB:
    @pytest.mark.parametrize("parts,fs,n_samples", [(PTBXL_500, 500, 5000), (PTBXL_100, 100, 1000)])
    def test_ptbxl(self, shared_data, parts, fs, n_samples):
        record = shared_data.joinpath(*parts)
        rec = read_ecg(record.with_suffix(".hea"))
        assert (rec.fs, rec.n_samples, rec.leads) == (fs, n_samples, STANDARD_LEADS)
        assert rec.meta["format"] == "wfdb" and rec.meta["record_id"] == record.name
        np.testing.assert_allclose(rec.signal, _wfdb_reference(record), atol=1e-6)

    @pytest.mark.parametrize("name", ["{r}.hea", "{r}.dat", "{r}"])
    def test_header_signal_file_or_record_name(self, shared_data, name):
        record = shared_data.joinpath(*PTBXL_500)
        rec = read_ecg(record.parent / name.format(r=record.name))
        np.testing.assert_allclose(rec.signal, _wfdb_reference(record), atol=1e-6)

    @pytest.mark.parametrize("folder", CHALLENGE_FOLDERS)
    def test_challenge_mat_and_header_comments(self, shared_data, folder):
        header = sorted((shared_data / "challenge" / folder).glob("*.hea"))[0]
        text = header.read_text()
        for path in (header, header.with_suffix(".mat")):
            rec = read_ecg(path)
            assert rec.leads == STANDARD_LEADS
            np.testing.assert_allclose(rec.signal, _wfdb_reference(header.with_suffix("")), atol=1e-5)
        dx = re.search(r"#\s*Dx:\s*(\S+)", text).group(1).split(",")
        assert rec.meta["dx"] == list(dict.fromkeys(dx))
        age = re.search(r"#\s*Age:\s*(\S+)", text).group(1)
        assert rec.meta.get("age") == (None if age == "NaN" else float(age))
        assert rec.meta["sex"] == re.search(r"#\s*Sex:\s*(\w)", text).group(1)

    def test_georgia_gain_4880_is_trusted(self, shared_data):
        header = shared_data / "challenge" / "georgia" / "E00015.hea"
        assert "4880/mV" in header.read_text()
        raw = np.fromfile(header.with_suffix(".mat"), dtype="<i2", offset=24).reshape(-1, 12).T
        baseline = np.array([int(line.split()[4]) for line in header.read_text().splitlines()[1:13]])
        np.testing.assert_allclose(read_ecg(header).signal, (raw - baseline[:, None]) / 4880.0, atol=1e-6)

    def test_ptb_diagnostic_long_1000hz_lowercase_units(self, shared_data):
        header = shared_data / "challenge" / "ptb-diagnostic" / "S0002.hea"
        assert "/mv" in header.read_text()
        rec = read_ecg(header)
        assert (rec.fs, rec.n_samples, rec.n_leads) == (1000, 115200, 12)
        assert 0.3 < np.abs(rec.signal).max() < 20

    def test_mitdb_two_leads(self, shared_data):
        rec = read_ecg(shared_data / "mitdb" / "100")
        assert (rec.fs, rec.leads, rec.n_samples) == (360, ("MLII", "V5"), 650000)
        with pytest.raises(ECGFormatError, match="lacks leads"):
            rec.to_standard12()

    def test_ludb_lowercase_names_age_sex(self, shared_data):
        rec = read_ecg(shared_data / "ludb" / "1.hea")
        assert rec.leads == STANDARD_LEADS
        assert (rec.meta["age"], rec.meta["sex"]) == (51.0, "F")

    @pytest.mark.parametrize("unit,gain", [("uV", 1.0), ("V", 1e6), ("mV", 1000.0)])
    def test_units_converted_to_mv(self, shared_data, tmp_path, unit, gain):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        header = record.with_suffix(".hea")
        header.write_text(re.sub(r" 1000(\.0)?(\(0\))?/mV ", f" {gain:g}(0)/{unit} ", header.read_text()))
        np.testing.assert_allclose(
            read_ecg(header).signal, _wfdb_reference(shared_data.joinpath(*PTBXL_500)), atol=1e-6
        )

    def test_non_voltage_channel_dropped(self, shared_data, tmp_path):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        header = record.with_suffix(".hea")
        lines = header.read_text().splitlines()
        lines[1] = lines[1].replace("/mV", "/mmHg")
        header.write_text("\n".join(lines) + "\n")
        rec = read_ecg(header)
        assert rec.leads == STANDARD_LEADS[1:]

    def test_extra_leads_stay(self, shared_data, tmp_path):
        rec = read_ecg(shared_data.joinpath(*PTBXL_500).with_suffix(".hea"))
        frank = rec.signal[[0, 5, 6]]
        extended = rec.with_signal(np.vstack([rec.signal, frank]), leads=(*rec.leads, "vx", "vy", "vz"))
        back = read_ecg(write_ecg(extended, tmp_path / "ext.hea"))
        assert back.leads == (*STANDARD_LEADS, "vx", "vy", "vz")
        assert back.to_standard12().leads == STANDARD_LEADS

    def test_missing_signal_file(self, shared_data, tmp_path):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        record.with_suffix(".dat").unlink()
        with pytest.raises(ECGFormatError, match="missing"):
            read_ecg(record.with_suffix(".hea"))

    def test_truncated_signal_file(self, shared_data, tmp_path):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        data = record.with_suffix(".dat")
        data.write_bytes(data.read_bytes()[:1000])
        with pytest.raises(ECGFormatError, match="truncated"):
            read_ecg(record.with_suffix(".hea"))

    def test_signal_file_without_header(self, shared_data, tmp_path):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        record.with_suffix(".hea").unlink()
        with pytest.raises(ECGFormatError, match="without its header"):
            read_ecg(record.with_suffix(".dat"), fmt="wfdb")

    @pytest.mark.parametrize("fs", ["5", "90000"])
    def test_absurd_rate(self, shared_data, tmp_path, fs):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        header = record.with_suffix(".hea")
        header.write_text(header.read_text().replace(" 500 5000", f" {fs} 5000", 1))
        with pytest.raises(ECGFormatError, match="sampling rate"):
            read_ecg(header)

    def test_too_many_samples(self, shared_data, tmp_path):
        record = _copy_record(shared_data.joinpath(*PTBXL_500), tmp_path)
        header = record.with_suffix(".hea")
        header.write_text(header.read_text().replace(" 500 5000", " 500 9000000", 1))
        with pytest.raises(ECGFormatError, match="the limit is"):
            read_ecg(header)

    def test_unknown_option(self, shared_data):
        with pytest.raises(ECGFormatError, match="no options"):
            read_ecg(shared_data.joinpath(*PTBXL_500), fs=500)


class TestEDF:
    @staticmethod
    def _write(path: Path, channels: list[tuple[str, str, float, np.ndarray]]) -> Path:
        """EDF+ with (label, dimension, fs, samples) channels, via pyedflib directly (not our writer).

        Physical limits are +/- a power of ten above the peak, exact in EDF's 8-character header fields.
        """
        writer = pyedflib.EdfWriter(str(path), len(channels), file_type=pyedflib.FILETYPE_EDFPLUS)
        limits = [10.0 ** np.ceil(np.log10(np.abs(x).max())) for *_, x in channels]
        writer.setSignalHeaders(
            [
                {
                    "label": label,
                    "dimension": dim,
                    "sample_frequency": fs,
                    "physical_min": -limit,
                    "physical_max": limit,
                    "digital_min": -32768,
                    "digital_max": 32767,
                }
                for (label, dim, fs, _), limit in zip(channels, limits, strict=True)
            ]
        )
        writer.writeSamples([np.ascontiguousarray(x, dtype=np.float64) for *_, x in channels])
        writer.close()
        return path

    def test_units_rates_and_non_ecg_channels(self, shared_data, tmp_path):
        rec = read_ecg(shared_data.joinpath(*PTBXL_500))
        lead_i, lead_ii = rec.signal[0].astype(np.float64), rec.signal[1].astype(np.float64)
        respiration = np.sin(np.arange(5000) / 500.0)
        path = self._write(
            tmp_path / "mixed.edf",
            [
                ("I", "uV", 500, lead_i * 1000),
                ("II", "V", 500, lead_ii / 1000),
                ("Resp", "%", 500, respiration),
                ("V1", "mV", 250, rec.signal[6, ::2].astype(np.float64)),
            ],
        )
        back = read_ecg(path)
        assert back.meta["format"] == "edf"
        assert (back.leads, back.fs) == (("I", "II"), 500)
        for row, lead in zip(back.signal, (lead_i, lead_ii), strict=True):
            step_mv = 2 * 10.0 ** np.ceil(np.log10(np.abs(lead).max())) / 65535
            np.testing.assert_allclose(row, lead, atol=2 * step_mv)

    def test_no_voltage_channel(self, tmp_path):
        path = self._write(tmp_path / "resp.edf", [("Resp", "%", 100, np.sin(np.arange(1000) / 10.0))])
        with pytest.raises(ECGFormatError, match="voltage"):
            read_ecg(path)

    def test_truncated(self, shared_data, tmp_path):
        path = write_ecg(read_ecg(shared_data.joinpath(*PTBXL_500)), tmp_path / "r.edf")
        path.write_bytes(path.read_bytes()[:-5000])
        with pytest.raises(ECGFormatError, match="r.edf"):
            read_ecg(path)


class TestCSV:
    @pytest.fixture()
    def record(self, shared_data):
        return read_ecg(shared_data.joinpath(*PTBXL_500))

    def test_time_column_gives_rate(self, record, tmp_path):
        path = write_ecg(record, tmp_path / "r.csv", fmt="csv")
        back = read_ecg(path)
        assert (back.fs, back.leads) == (500, STANDARD_LEADS)
        np.testing.assert_allclose(back.signal, record.signal, atol=1e-6)

    def test_time_in_milliseconds_uneven_rate(self, record, tmp_path):
        signal = record.resample(360).signal
        ms = np.round(np.arange(signal.shape[1]) / 0.36)
        path = tmp_path / "ms.csv"
        np.savetxt(
            path,
            np.column_stack([ms, signal.T]),
            fmt="%.6f",
            delimiter=";",
            header=";".join(["Time (ms)", *record.leads]),
            comments="",
        )
        assert read_ecg(path).fs == 360

    def test_fs_option_semicolons_pandas_index(self, record, tmp_path):
        import pandas as pd

        path = tmp_path / "leads.csv"
        pd.DataFrame(record.signal.T, columns=[name.lower() for name in record.leads]).to_csv(path)
        with pytest.raises(ECGFormatError, match="fs"):
            read_ecg(path)
        back = read_ecg(path, fs=500)
        assert back.leads == STANDARD_LEADS
        np.testing.assert_allclose(back.signal, record.signal, atol=1e-6)

    @pytest.mark.parametrize(
        "text,message",
        [
            ("", "empty"),
            ("0.1,0.2\n0.3,0.4\n", "first row must name the leads"),
            ("time,I\n0,0.1\n0.002,0.2\n0.010,0.1\n", "evenly spaced"),
            ("I,II\n0.1,abc\n" + "0.1,0.2\n" * 2000, "not numeric"),
            ("I,II\n" + "0.1,\n" * 2000, "NaN"),
            ("I,II\n" + "0.1,0.2\n" * 20, "at least 2 s"),
        ],
    )
    def test_bad_csv(self, tmp_path, text, message):
        path = tmp_path / "bad.csv"
        path.write_text(text)
        with pytest.raises(ECGFormatError, match=message):
            read_ecg(path, **({} if "time" in text else {"fs": 500}))


class TestNumpy:
    @pytest.fixture()
    def signal(self, shared_data):
        return read_ecg(shared_data.joinpath(*PTBXL_500)).signal

    def test_default_rate_warns(self, signal, tmp_path, caplog):
        np.save(tmp_path / "x.npy", signal)
        with caplog.at_level(logging.WARNING):
            rec = read_ecg(tmp_path / "x.npy")
        assert (rec.fs, rec.leads) == (500, STANDARD_LEADS)
        assert "assuming 500 Hz" in caplog.text

    def test_samples_by_leads_transposed(self, signal, tmp_path):
        np.save(tmp_path / "t.npy", signal.T.astype(np.float64))
        rec = read_ecg(tmp_path / "t.npy", fs=500)
        np.testing.assert_array_equal(rec.signal, signal)

    def test_npz_keeps_rate_and_names(self, signal, tmp_path):
        np.savez(tmp_path / "r.npz", signal=signal[:2], fs=250.0, leads=np.array(["MLII", "V5"]))
        rec = read_ecg(tmp_path / "r.npz")
        assert (rec.fs, rec.leads) == (250, ("MLII", "V5"))
        assert read_ecg(tmp_path / "r.npz", fs=500).fs == 500

    def test_other_row_counts_get_numbered_names_or_given_ones(self, signal, tmp_path):
        np.save(tmp_path / "three.npy", signal[:3])
        assert read_ecg(tmp_path / "three.npy", fs=500).leads == ("lead1", "lead2", "lead3")
        assert read_ecg(tmp_path / "three.npy", fs=500, leads=["i", "ii", "iii"]).leads == ("I", "II", "III")
        with pytest.raises(ECGFormatError, match="lead names"):
            read_ecg(tmp_path / "three.npy", fs=500, leads=["I", "II"])

    @pytest.mark.parametrize(
        "array,message",
        [
            (np.array([{"a": 1}, None], dtype=object), "pickled"),
            (np.zeros((0, 5000)), "empty"),
            (np.zeros(5000), "2-D"),
            (np.zeros((100, 5000)), "no axis"),
            (np.full((12, 5000), np.nan), "NaN"),
            (np.zeros((12, 5000), dtype=complex), "not numeric"),
            (np.zeros((12, 500)), "at least 2 s"),
        ],
    )
    def test_bad_arrays(self, tmp_path, array, message):
        path = tmp_path / "bad.npy"
        np.save(path, array, allow_pickle=True)
        with pytest.raises(ECGFormatError, match=message):
            read_ecg(path)

    def test_huge_declared_shape_refused_before_allocation(self, tmp_path):
        path = tmp_path / "huge.npy"
        with open(path, "wb") as handle:
            np.lib.format.write_array_header_1_0(
                handle, {"descr": "<f8", "fortran_order": False, "shape": (12, 10**10)})
        with pytest.raises(ECGFormatError, match="larger than any accepted record"):
            read_ecg(path)

    def test_truncated(self, signal, tmp_path):
        path = tmp_path / "cut.npy"
        np.save(path, signal)
        path.write_bytes(path.read_bytes()[:50_000])
        with pytest.raises(ECGFormatError, match="truncated"):
            read_ecg(path)

    def test_absurd_rate(self, signal, tmp_path):
        np.save(tmp_path / "x.npy", signal)
        with pytest.raises(ECGFormatError, match="sampling rate"):
            read_ecg(tmp_path / "x.npy", fs=1e6)


@pytest.fixture(scope="module")
def aecg_path(shared_data: Path) -> Path:
    return shared_data.joinpath(*AECG)


class TestHL7aECG:
    def test_rhythm_leads_in_mv(self, aecg_path):
        rec = read_ecg(aecg_path)
        assert rec.meta["format"] == "hl7-aecg"
        assert (rec.fs, rec.n_samples, rec.leads) == (500, 5000, STANDARD_LEADS)
        text = aecg_path.read_text()
        lead_i = re.search(
            r'code="MDC_ECG_LEAD_I".*?<scale value="([\d.]+)" unit="uV"/>.*?<digits>(.*?)</digits>', text, re.S
        )
        expected = float(lead_i.group(1)) / 1000 * np.array(lead_i.group(2).split(), dtype=float)
        np.testing.assert_allclose(rec.lead("I"), expected, atol=1e-6)
        assert 0.5 < np.ptp(rec.lead("II")) < 5

    def test_median_beats_and_metadata(self, aecg_path):
        meta = read_ecg(aecg_path).meta
        assert meta["median_beats"].shape == (12, 599) and meta["median_beats_fs"] == 500
        assert (meta["age"], meta["sex"]) == (46.0, "M")
        assert "ELI250" in meta["device"] and meta["acquired"] == "2002-11-22T09:10:00"
        assert meta["statements"] == ["Sinus Rhythm"]
        assert meta["device_measurements"]["qrs_ms"] == 120
        text = repr(meta)
        assert not any(personal in text for personal in ("Clark", "19530508", "SBJ-123", "John Smith"))

    @pytest.mark.parametrize(
        "doctype",
        [
            '<!DOCTYPE AnnotatedECG [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>',
            '<!DOCTYPE AnnotatedECG [<!ENTITY x SYSTEM "file:///etc/passwd">]>',
        ],
    )
    def test_entities_refused(self, aecg_path, tmp_path, doctype):
        text = aecg_path.read_text()
        start = text.index("<AnnotatedECG")
        evil = text[:start] + doctype + "\n" + text[start:].replace("<text>Subject felt", "<text>&b;&x; felt", 1)
        (tmp_path / "evil.xml").write_text(evil)
        with pytest.raises(ECGFormatError, match="entities"):
            read_ecg(tmp_path / "evil.xml")

    def test_truncated(self, aecg_path, tmp_path):
        (tmp_path / "cut.xml").write_bytes(aecg_path.read_bytes()[:200_000])
        with pytest.raises(ECGFormatError, match="well-formed"):
            read_ecg(tmp_path / "cut.xml")

    def test_unequal_leads(self, aecg_path, tmp_path):
        text = aecg_path.read_text().replace("-13 </digits>", "</digits>", 1)
        (tmp_path / "short.xml").write_text(text)
        with pytest.raises(ECGFormatError, match="different lengths"):
            read_ecg(tmp_path / "short.xml")


class TestDetection:
    def test_unknown_format(self, tmp_path):
        (tmp_path / "x.bin").write_bytes(bytes(range(256)) * 20)
        with pytest.raises(ECGFormatError, match="unknown ECG format"):
            read_ecg(tmp_path / "x.bin")

    def test_empty_file(self, tmp_path):
        (tmp_path / "empty.csv").write_bytes(b"")
        with pytest.raises(ECGFormatError, match="empty"):
            read_ecg(tmp_path / "empty.csv")

    def test_format_from_content_not_extension(self, shared_data, tmp_path):
        rec = read_ecg(shared_data.joinpath(*PTBXL_500))
        for name, fmt in (("a.edf", "edf"), ("b.npy", "numpy"), ("c.npz", "numpy")):
            renamed = write_ecg(rec, tmp_path / name).rename(tmp_path / f"{name}.upload")
            assert read_ecg(renamed).meta["format"] == fmt
