"""Clinical/vendor formats on the real files of ../shared/data/formats: DICOM, SCP-ECG, HL7 aECG, Sierra, MUSE.

Expected values come from formats/README.md and from looking at the signals: the beat counts were counted by
hand on plots of leads II and V5 of every file (12 beats in the Mortara recording, 10 paced beats in the
MUSE file, 7 in each Sierra file).
"""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.errors import ECGFormatError
from cardioscreen.io import read_ecg
from cardioscreen.io.quirks import find_end_artifacts, trim_record, trim_strip, unfilled_length
from cardioscreen.io.registry import detect_format
from cardioscreen.io.scp_ecg import add_reference_beats
from cardioscreen.io.scp_ecg.huffman import DEFAULT_TABLE, decode, undo_differences
from cardioscreen.io.scp_ecg.sections import Qrs
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.record import ECGRecord
from cardioscreen.signal.peaks import ecg_peaks


@dataclass(frozen=True)
class Expected:
    fmt: str
    stored_s: float
    beats: int
    sex: str
    acquired: str


# Sex and acquisition time as the files store them: HL7 administrativeGenderCode M and the Mortara cart's
# 2002-11-22 09:10 (DICOM PatientSex M, AcquisitionDateTime 20021122091000), Sierra <sex>Male / <sex>Female with
# <dataacquisition date time>, MUSE <Gender>MALE with AcquisitionDate 05-10-2021 13:15:18.
FILES: dict[str, Expected] = {
    "dicom/ecgtoolkit_example.dcm": Expected("dicom", 10.0, 12, "M", "2002-11-22T09:10:00"),
    "scp-ecg/ecgtoolkit_example.scp": Expected("scp-ecg", 10.0, 12, "M", "2002-11-22T09:10:00"),
    "hl7-aecg/hl7_example_aecg.xml": Expected("hl7-aecg", 10.0, 12, "M", "2002-11-22T09:10:00"),
    "philips-sierra/sierra_1.03_129DYPRG.xml": Expected("sierra", 11.0, 7, "M", "2011-12-01T07:27:34"),
    "philips-sierra/sierra_1.04_ad4d3d80-d165.xml": Expected("sierra", 11.0, 7, "F", "2008-12-23T19:44:46"),
    "ge-muse/musephi_muse_ecg1.xml": Expected("muse", 10.0, 10, "M", "2021-05-10T13:15:18"),
}
SAME_RECORDING = ("hl7-aecg/hl7_example_aecg.xml", "scp-ecg/ecgtoolkit_example.scp", "dicom/ecgtoolkit_example.dcm")
QUANTUM_MV = 0.0025
"""One quantisation step of the Mortara recording (2.5 uV, SCP AVM 2500 nV, DICOM sensitivity 2.5 uV)."""
PERSONAL = ("Clark", "SBJ-123", "19530508", "1953-05-08", "TEST 05", "JAX01234", "Masoudi", "Doe, John",
            "1976-01-01", "1112010721168bdc", "EKG16296")
"""Names, IDs and birth dates in the shared files; none of them may reach a record's metadata."""


@pytest.fixture(scope="module")
def formats_dir(shared_data: Path) -> Path:
    return shared_data / "formats"


@pytest.fixture(scope="module")
def records(formats_dir: Path) -> dict[str, ECGRecord]:
    return {name: read_ecg(formats_dir / name) for name in FILES}


@pytest.fixture(scope="module")
def peaks(records: dict[str, ECGRecord]) -> dict[str, np.ndarray]:
    return {name: ecg_peaks(record.signal, record.fs)[0] for name, record in records.items()}


class TestEveryFile:
    @pytest.mark.parametrize("name", list(FILES))
    def test_format_leads_rate_and_duration(self, name, records, formats_dir):
        record, expected = records[name], FILES[name]
        assert detect_format(formats_dir / name) == expected.fmt
        assert record.meta["format"] == expected.fmt
        assert record.leads == STANDARD_LEADS
        assert record.fs == 500.0
        trimmed_s = sum(span["stop_s"] - span["start_s"] for span in record.meta.get("trimmed", []))
        assert record.duration_s + trimmed_s == pytest.approx(expected.stored_s)
        assert record.duration_s >= 10.0

    @pytest.mark.parametrize("name", list(FILES))
    def test_amplitudes_are_millivolts(self, name, records):
        signal = records[name].signal
        assert np.isfinite(signal).all()
        span = np.percentile(signal, 99.5, axis=1) - np.percentile(signal, 0.5, axis=1)
        assert (span > 0.05).all() and (span < 25).all(), span
        lead_ii = records[name].lead("II")
        assert 0.3 < np.ptp(lead_ii - np.median(lead_ii)) < 5.0

    @pytest.mark.parametrize("name", list(FILES))
    def test_r_peaks_match_hand_count(self, name, peaks):
        assert len(peaks[name]) == FILES[name].beats

    @pytest.mark.parametrize("name", [n for n in FILES if "sierra" in n or "muse" in n])
    def test_device_heart_rate_agrees_with_our_peaks(self, name, records, peaks):
        measured = records[name].meta["device_measurements"]
        ours = 60.0 * records[name].fs / np.median(np.diff(peaks[name]))
        assert ours == pytest.approx(measured["heart_rate_bpm"], abs=2.0)

    @pytest.mark.parametrize("name", list(FILES))
    def test_metadata_without_personal_data(self, name, records):
        meta = records[name].meta
        assert (meta["sex"], meta["acquired"]) == (FILES[name].sex, FILES[name].acquired)
        assert isinstance(meta["statements"], list) and all(isinstance(s, str) for s in meta["statements"])
        text = json.dumps({k: v for k, v in meta.items() if not isinstance(v, np.ndarray)}, default=str)
        assert not [word for word in PERSONAL if word in text]

    @pytest.mark.parametrize("name", [n for n in FILES if "sierra_1.03" not in n])
    def test_median_beats_align_with_leads(self, name, records):
        meta = records[name].meta
        beats = meta["median_beats"]
        assert beats.shape[0] == records[name].n_leads and 0.5 <= beats.shape[1] / meta["median_beats_fs"] <= 2.5
        assert np.isfinite(beats).all() and np.abs(beats).max() < 10
        assert np.argmax(np.abs(beats[STANDARD_LEADS.index("II")])) > 0

    @pytest.mark.parametrize("name", list(FILES))
    def test_found_by_content_not_extension(self, name, formats_dir, tmp_path):
        renamed = tmp_path / "upload.bin"
        shutil.copyfile(formats_dir / name, renamed)
        assert detect_format(renamed) == FILES[name].fmt


class TestSameRecording:
    def test_hl7_scp_dicom_decode_to_the_same_samples(self, records):
        reference = records[SAME_RECORDING[0]]
        for name in SAME_RECORDING[1:]:
            assert records[name].leads == reference.leads
            assert np.abs(records[name].signal - reference.signal).max() <= QUANTUM_MV + 1e-6

    def test_real_zero_samples_stay_zero(self, records):
        dicom = records["dicom/ecgtoolkit_example.dcm"]
        zeros = dicom.signal == 0
        assert zeros.mean() > 0.01
        assert np.array_equal(zeros, records["scp-ecg/ecgtoolkit_example.scp"].signal == 0)

    def test_median_beats_and_measurements_agree(self, records):
        reference = records[SAME_RECORDING[0]].meta
        for name in SAME_RECORDING[1:]:
            meta = records[name].meta
            assert np.abs(meta["median_beats"] - reference["median_beats"]).max() <= QUANTUM_MV + 1e-6
            for key in ("pr_ms", "qrs_ms", "qt_ms", "qtc_ms", "qrs_axis_deg"):
                assert meta["device_measurements"][key] == reference["device_measurements"][key]


class TestMuse:
    NAME = "ge-muse/musephi_muse_ecg1.xml"

    def test_derived_limb_leads(self, records):
        record = records[self.NAME]
        i, ii = record.lead("I"), record.lead("II")
        assert record.meta["derived_leads"] == ["III", "aVR", "aVL", "aVF"]
        np.testing.assert_allclose(record.lead("III"), ii - i, atol=1e-6)
        np.testing.assert_allclose(record.lead("aVR"), -(i + ii) / 2, atol=1e-6)
        np.testing.assert_allclose(record.lead("aVL"), i - ii / 2, atol=1e-6)
        np.testing.assert_allclose(record.lead("aVF"), ii - i / 2, atol=1e-6)

    def test_peaks_match_the_carts_qrs_times(self, formats_dir, records, peaks):
        from defusedxml.ElementTree import parse

        root = parse(formats_dir / self.NAME).getroot()
        cart_s = np.array([float(node.text) for node in root.iter("Time")]) / 1000.0
        ours_s = peaks[self.NAME] / records[self.NAME].fs
        assert len(cart_s) == len(ours_s)
        assert np.abs(ours_s - cart_s).max() < 0.15

    def test_statements_and_measurements(self, records):
        meta = records[self.NAME].meta
        assert meta["statements"][0] == "Ventricular-paced rhythm"
        assert not any("Confirmed by" in line for line in meta["statements"])
        assert meta["device_measurements"]["qrs_ms"] == 78.0 and meta["age"] == 60.0

    def test_damaged_lead_fails_its_crc(self, formats_dir, tmp_path):
        text = (formats_dir / self.NAME).read_bytes()
        start = text.index(b"<WaveFormData>", text.index(b"<WaveformType>Rhythm")) + len(b"<WaveFormData>") + 20
        damaged = text[:start] + (b"B" if text[start:start + 1] != b"B" else b"C") + text[start + 1:]
        (tmp_path / "muse.xml").write_bytes(damaged)
        with pytest.raises(ECGFormatError, match="CRC"):
            read_ecg(tmp_path / "muse.xml")


class TestSierra:
    @pytest.mark.parametrize("name", [n for n in FILES if "sierra" in n])
    def test_same_samples_as_sierraecg(self, name, formats_dir, records):
        import sierraecg

        theirs = sierraecg.read_file(str(formats_dir / name))
        record = records[name]
        for lead in theirs.leads:
            expected = lead.samples[: record.n_samples].astype(np.float64) * 0.005
            np.testing.assert_allclose(record.lead(lead.label), expected, atol=1e-5)

    @pytest.mark.parametrize("name", [n for n in FILES if "sierra" in n])
    def test_rebuilt_limb_leads_are_consistent(self, name, records):
        record = records[name]
        i, ii = record.lead("I").astype(np.float64), record.lead("II").astype(np.float64)
        two_steps = 2 * 0.005 + 1e-6
        assert np.abs(record.lead("III") - (ii - i)).max() <= two_steps
        assert np.abs(record.lead("aVF") - (ii - i / 2)).max() <= two_steps

    @pytest.mark.parametrize("name", [n for n in FILES if "sierra" in n])
    def test_calibration_pulse_is_cut_off(self, name, records):
        spans = records[name].meta["trimmed"]
        assert [span["kind"] for span in spans] == ["flat_filler", "calibration_pulse", "flat_filler"]
        assert spans[1]["start_s"] == pytest.approx(10.7) and spans[1]["stop_s"] == pytest.approx(10.9)
        assert find_end_artifacts(records[name].signal, records[name].fs) == []

    @pytest.mark.parametrize("name", [n for n in FILES if "sierra" in n])
    def test_untrimmed_pulse_would_fool_the_peak_detector(self, name, formats_dir, peaks):
        import sierraecg

        full = np.stack([lead.samples for lead in sierraecg.read_file(str(formats_dir / name)).leads]) * 0.005
        untrimmed, _ = ecg_peaks(full.astype(np.float64), 500.0)
        assert len(untrimmed) > FILES[name].beats == len(peaks[name])
        assert untrimmed.max() / 500.0 > 10.7


@pytest.mark.parametrize("root", ["RestingECG", "restingecgdata"])
class TestHostileXml:
    def test_entity_expansion_bomb_is_refused(self, root, tmp_path):
        lol = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 8))
        path = tmp_path / "bomb.xml"
        path.write_text(f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY lol0 "lol">{lol}]><{root}>&lol7;</{root}>')
        with pytest.raises(ECGFormatError, match="entities"):
            read_ecg(path)

    def test_external_entity_is_refused(self, root, tmp_path):
        path = tmp_path / "xxe.xml"
        path.write_text(f'<?xml version="1.0"?><!DOCTYPE {root} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
                        f"<{root}>&xxe;</{root}>")
        with pytest.raises(ECGFormatError, match="entities"):
            read_ecg(path)


def _strip(seconds: float, fs: float, seed: int) -> np.ndarray:
    """A noisy 12-lead 'ECG' in mV: spikes once a second plus quantised noise (no two columns alike)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * fs)) / fs
    beat = np.exp(-(((t % 1.0) - 0.5) ** 2) / (2 * 0.01**2))
    return np.round((beat + rng.normal(0, 0.02, (12, t.size))) / 0.005) * 0.005


class TestQuirks:
    FS = 500.0

    def test_sierra_like_tail_is_found_and_cut(self):
        strip = _strip(10.0, self.FS, 0)
        tail = np.concatenate([np.zeros((12, 50)), np.ones((12, 100)), np.zeros((12, 50))], axis=1)
        trimmed, spans = trim_strip(np.concatenate([strip, tail], axis=1), self.FS)
        assert np.array_equal(trimmed, strip)
        assert [s["kind"] for s in spans] == ["flat_filler", "calibration_pulse", "flat_filler"]
        assert spans[1]["start_s"] == pytest.approx(10.1) and spans[1]["stop_s"] == pytest.approx(10.3)

    def test_leading_padding_and_held_last_value(self):
        strip = _strip(8.0, self.FS, 1)
        padded = np.concatenate([np.full((12, 100), -5.0), strip, np.repeat(strip[:, -1:], 200, axis=1)], axis=1)
        trimmed, spans = trim_strip(padded, self.FS, padding=-5.0)
        assert np.array_equal(trimmed, strip[:, :-1]), "the held value starts at the last real sample"
        assert [s["kind"] for s in spans] == ["padding", "flat_filler"]

    def test_real_strip_and_inner_flat_span_are_left_alone(self):
        strip = _strip(10.0, self.FS, 2)
        strip[:, 2000:2100] = 0.0
        assert find_end_artifacts(strip, self.FS) == []

    def test_never_cuts_below_the_shortest_record(self):
        strip = np.concatenate([_strip(1.0, self.FS, 3), np.zeros((12, 2000))], axis=1)
        assert find_end_artifacts(strip, self.FS) == []

    def test_trim_record_records_spans(self):
        strip = np.concatenate([_strip(5.0, self.FS, 4), np.zeros((12, 100))], axis=1)
        record = trim_record(ECGRecord(signal=strip, fs=self.FS, leads=STANDARD_LEADS))
        assert record.n_samples == 2500 and record.meta["trimmed"][0]["kind"] == "flat_filler"

    def test_unfilled_length(self):
        counts = np.array([[1, 2, 32767, 32767], [3, -32768, 32767, 32767]])
        assert unfilled_length(counts) == 2


def _encode_default(values: list[int]) -> bytes:
    """SCP-ECG default Huffman coding of ``values`` (the inverse of the decoder, written from the standard)."""
    bits = []
    for value in values:
        if value == 0:
            bits.append("0")
        elif abs(value) <= 8:
            bits.append("1" * abs(value) + "0" + ("1" if value < 0 else "0"))
        elif -128 <= value <= 127:
            bits.append("1111111110" + format(value & 0xFF, "08b"))
        else:
            bits.append("1111111111" + format(value & 0xFFFF, "016b"))
    stream = "".join(bits)
    stream += "0" * (-len(stream) % 8)
    return int(stream, 2).to_bytes(len(stream) // 8, "big") if stream else b""


class TestScpDecoding:
    def test_default_huffman_round_trip(self):
        rng = np.random.default_rng(5)
        values = [int(v) for v in np.concatenate([rng.integers(-9, 10, 400), rng.integers(-3000, 3000, 50)])]
        assert decode(_encode_default(values), len(values), [DEFAULT_TABLE]).tolist() == values

    def test_truncated_huffman_stream_raises(self):
        data = _encode_default([300] * 10)
        with pytest.raises(ECGFormatError):
            decode(data[:-3], 10, [DEFAULT_TABLE])

    @pytest.mark.parametrize("order", [1, 2])
    def test_differences_round_trip(self, order):
        samples = np.random.default_rng(6).integers(-2000, 2000, 300)
        coded = samples.copy()
        coded[order:] = np.diff(samples, n=order)
        np.testing.assert_array_equal(undo_differences(coded, order), samples)

    def test_reference_beat_subtraction_round_trip(self):
        rng = np.random.default_rng(7)
        beat = rng.normal(0, 1, (2, 60))
        rhythm = rng.normal(0, 0.1, (2, 1000))
        fiducial = 21
        complexes = [Qrs(0, 101, 120, 150), Qrs(1, 400, 420, 450), Qrs(0, 701, 720, 759)]
        residual = rhythm.copy()
        for qrs in complexes:
            if qrs.beat_type == 0:
                for sample in range(qrs.start, qrs.end + 1):
                    residual[:, sample - 1] -= beat[:, fiducial - 1 + sample - qrs.fiducial]
        np.testing.assert_allclose(add_reference_beats(residual, beat, fiducial, complexes), rhythm)


class TestLeadOrder:
    def test_eight_leads_become_twelve_and_minus_avr_is_flipped(self):
        from cardioscreen.io.clinical import standard_order

        rng = np.random.default_rng(8)
        rows = {name: rng.normal(0, 1, 50) for name in ("V1", "V2", "V3", "V4", "V5", "V6", "II", "I")}
        rows["-aVR"] = (rows["I"] + rows["II"]) / 2
        leads, signal = standard_order(rows)
        assert leads == STANDARD_LEADS
        np.testing.assert_allclose(signal[3], -rows["-aVR"])
        np.testing.assert_allclose(signal[2], rows["II"] - rows["I"])

    def test_dicom_channel_names(self):
        from cardioscreen.io.dicom import _lead_name

        names = ["Lead I (Einthoven)", "Lead aVR, augmented voltage, redirected", "Lead V6", "Lead -aVR", ""]
        assert [_lead_name(name, 7) for name in names] == ["I", "aVR", "V6", "-aVR", "channel 7"]
