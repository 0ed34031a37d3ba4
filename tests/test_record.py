import numpy as np
import pytest

from cardioscreen.errors import ECGFormatError
from cardioscreen.leads import STANDARD_LEADS, normalize_lead_name
from cardioscreen.record import ECGRecord


def _record(leads=STANDARD_LEADS, fs=500.0, seconds=10.0, seed=0):
    rng = np.random.default_rng(seed)
    return ECGRecord(rng.normal(size=(len(leads), int(fs * seconds))), fs, tuple(leads))


class TestLeadNames:
    @pytest.mark.parametrize(
        "raw,expected",
        [("avr", "aVR"), ("AVL", "aVL"), ("Lead_II", "II"), ("lead III", "III"), ("v5", "V5"), ("DI", "I"),
         ("MLII", "MLII"), (" V1 ", "V1"), ("-aVR", "-aVR")],
    )
    def test_normalise(self, raw, expected):
        assert normalize_lead_name(raw) == expected


class TestECGRecord:
    def test_float32_and_names(self):
        rec = ECGRecord(np.zeros((2, 1000), dtype=np.int16), 250, ("MLII", "v5"))
        assert rec.signal.dtype == np.float32
        assert rec.leads == ("MLII", "V5")
        assert rec.duration_s == 4.0

    @pytest.mark.parametrize(
        "signal,fs,leads,message",
        [
            (np.zeros(1000), 500, ("I",), "2-D"),
            (np.zeros((0, 1000)), 500, (), "empty"),
            (np.zeros((1, 500)), 500, ("I",), "at least 2 s"),
            (np.zeros((1, 5000)), 5, ("I",), "sampling rate"),
            (np.zeros((1, 5000)), float("nan"), ("I",), "sampling rate"),
            (np.full((1, 5000), np.nan), 500, ("I",), "NaN"),
            (np.zeros((5000, 12)), 500, tuple(f"x{i}" for i in range(5000)), "transposed"),
            (np.zeros((2, 5000)), 500, ("I",), "lead names"),
            (np.zeros((2, 5000)), 500, ("I", "i"), "duplicate"),
        ],
    )
    def test_rejects_bad_input(self, signal, fs, leads, message):
        with pytest.raises(ECGFormatError, match=message):
            ECGRecord(signal, fs, leads)

    def test_eight_leads_get_derived_limb_leads(self):
        rec = _record(leads=("I", "II", "V1", "V2", "V3", "V4", "V5", "V6"))
        std = rec.to_standard12()
        assert std.leads == STANDARD_LEADS
        i, ii = rec.lead("I"), rec.lead("II")
        np.testing.assert_allclose(std.lead("III"), ii - i, atol=1e-6)
        np.testing.assert_allclose(std.lead("aVR"), -(i + ii) / 2, atol=1e-6)
        np.testing.assert_allclose(std.lead("aVL"), i - ii / 2, atol=1e-6)
        np.testing.assert_allclose(std.lead("aVF"), ii - i / 2, atol=1e-6)

    def test_standard_order(self):
        shuffled = tuple(reversed(STANDARD_LEADS))
        rec = _record(leads=shuffled)
        std = rec.to_standard12()
        np.testing.assert_array_equal(std.lead("V6"), rec.lead("V6"))
        assert std.signal[0].tolist() == rec.lead("I").tolist()

    def test_missing_leads_named(self):
        with pytest.raises(ECGFormatError, match="V6"):
            _record(leads=("I", "II", "V1", "V2", "V3", "V4", "V5")).to_standard12()

    def test_resample_keeps_sine(self):
        fs = 500.0
        t = np.arange(5000) / fs
        rec = ECGRecord(np.sin(2 * np.pi * 5 * t)[None], fs, ("II",))
        down = rec.resample(100)
        assert down.fs == 100 and down.n_samples == 1000
        np.testing.assert_allclose(down.signal[0, 50:-50], np.sin(2 * np.pi * 5 * np.arange(1000) / 100)[50:-50],
                                   atol=1e-2)

    def test_crop_takes_the_given_stretch(self, example_record_path):
        from cardioscreen.io import read_ecg

        rec = read_ecg(example_record_path)
        part = rec.crop(2.0, 5.5)
        assert (part.fs, part.leads, part.n_samples) == (rec.fs, rec.leads, 1750)
        np.testing.assert_array_equal(part.signal, rec.signal[:, 1000:2750])
        assert part.meta["record_id"] == rec.meta["record_id"]
        np.testing.assert_array_equal(rec.crop(7.0, 20.0).signal, rec.signal[:, 3500:])
