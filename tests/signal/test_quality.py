"""Signal quality on real PTB-XL records and on synthetic corruptions of them."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.record import ECGRecord
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.peaks import ecg_peaks
from cardioscreen.signal.quality import ISSUES, QualityThresholds, ecg_quality

LEADS = list(STANDARD_LEADS)


@pytest.fixture(scope="module")
def records(ptbxl_dir: Path) -> list[ECGRecord]:
    paths = sorted((ptbxl_dir / "records500").glob("*/*.hea"))[::5]
    return [read_ecg(path) for path in paths]


@pytest.fixture(scope="module")
def record(records: list[ECGRecord]) -> ECGRecord:
    return records[0]


def _lead(name: str) -> int:
    return LEADS.index(name)


def _reversed_arms(sig: np.ndarray) -> np.ndarray:
    """The record as it would be recorded with the right- and left-arm electrodes swapped."""
    out = sig.copy()
    out[0] = -sig[0]
    out[1], out[2] = sig[2], sig[1]
    out[3], out[4] = sig[4], sig[3]
    return out


class TestRealRecords:
    def test_most_records_usable(self, records: list[ECGRecord]) -> None:
        verdicts = [ecg_quality(r.signal, r.fs, r.leads).verdict for r in records]
        assert len(verdicts) >= 80
        assert verdicts.count("unusable") == 0
        assert verdicts.count("usable") >= 0.85 * len(verdicts)

    def test_report_is_json_ready(self, record: ECGRecord) -> None:
        report = ecg_quality(record.signal, record.fs, record.leads)
        data = json.loads(json.dumps(report.to_dict(), allow_nan=False))
        assert data["verdict"] == "usable" and data["reasons"] == []
        assert data["usable_leads"] == LEADS and set(data["per_lead"]) == set(LEADS)
        assert 40 <= data["heart_rate_bpm"] <= 120

    def test_reuses_given_peaks(self, record: ECGRecord) -> None:
        peaks = ecg_peaks(record.signal, record.fs)
        assert ecg_quality(record.signal, record.fs, record.leads, peaks=peaks) == ecg_quality(
            record.signal, record.fs, record.leads)


class TestTachycardia:
    def test_ventricular_tachycardia_is_not_noise(self, shared_data: Path) -> None:
        """Chapman-Ningbo JS45545 (Dx 425856008, paroxysmal VT): wide smooth complexes at ~185 bpm."""
        record = read_ecg(shared_data / "challenge" / "chapman-ningbo" / "JS45545.hea")
        report = ecg_quality(record.signal, record.fs, record.leads)
        assert report.verdict == "usable" and report.heart_rate_bpm is not None
        assert 170 <= report.heart_rate_bpm <= 200


class TestUnusable:
    def test_flat_record(self, record: ECGRecord) -> None:
        report = ecg_quality(np.zeros_like(record.signal), record.fs, record.leads)
        assert report.verdict == "unusable" and report.usable_leads == ()
        assert any("flat" in reason for reason in report.reasons)

    def test_pure_noise(self, record: ECGRecord) -> None:
        noise = np.random.default_rng(0).normal(0, 0.3, record.signal.shape)
        report = ecg_quality(noise, record.fs, record.leads)
        assert report.verdict == "unusable" and report.reasons
        assert all("noise" in codes for codes in report.per_lead.values())

    def test_most_leads_lost(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        sig[:8] = 0.0
        report = ecg_quality(sig, record.fs, record.leads)
        assert report.verdict == "unusable" and "only 4 of 12 leads" in report.reasons[0]


class TestLeadIssues:
    @staticmethod
    def _issues(sig: np.ndarray, record: ECGRecord, lead: str) -> tuple[str, ...]:
        report = ecg_quality(sig, record.fs, record.leads)
        assert report.verdict == "warn"
        return report.per_lead[lead]

    def test_zeroed_lead(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        sig[_lead("V3")] = 0.0
        assert self._issues(sig, record, "V3") == ("flat",)
        assert "V3" not in ecg_quality(sig, record.fs, record.leads).usable_leads

    def test_unusable_leads_are_named(self, record: ECGRecord) -> None:
        """Three leads zeroed, one lost for two seconds, one with hum: the first four are unusable, in record
        order, and the warning names them; the hum only warns."""
        sig = record.signal.copy()
        sig[[_lead("V1"), _lead("V2"), _lead("aVL")]] = 0.0
        sig[_lead("V5"), 1000:2000] = sig[_lead("V5"), 1000]
        sig[_lead("II")] += 0.2 * np.sin(2 * np.pi * 50 * np.arange(sig.shape[1]) / record.fs)
        report = ecg_quality(sig, record.fs, record.leads)
        assert report.verdict == "warn"
        assert report.unusable_leads == ("aVL", "V1", "V2", "V5")
        assert "flat line: aVL, V1, V2" in report.reasons
        assert report.per_lead["II"] == ("powerline",)
        assert ecg_quality(record.signal, record.fs, record.leads).unusable_leads == ()

    def test_lead_off_for_two_seconds(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        sig[_lead("V1"), 1000:2000] = sig[_lead("V1"), 1000]
        assert self._issues(sig, record, "V1") == ("lead_off",)

    def test_powerline(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        sig[_lead("II")] += 0.15 * np.sin(2 * np.pi * 50 * np.arange(record.n_samples) / record.fs)
        assert self._issues(sig, record, "II") == ("powerline",)

    def test_clipping(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        lead = sig[_lead("V4")]
        low, high = np.percentile(lead, [2, 98])
        sig[_lead("V4")] = np.clip(lead, low, high)
        assert self._issues(sig, record, "V4") == ("clipping",)

    def test_baseline_wander(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        sig[_lead("aVL")] += 1.5 * np.sin(2 * np.pi * 0.2 * np.arange(record.n_samples) / record.fs)
        assert self._issues(sig, record, "aVL") == ("baseline_wander",)

    def test_noisy_lead(self, record: ECGRecord) -> None:
        sig = record.signal.copy()
        sig[_lead("V6")] = np.random.default_rng(3).normal(0, 0.3, record.n_samples)
        assert "noise" in self._issues(sig, record, "V6")


class TestLimbReversal:
    def test_swapped_arm_electrodes(self, records: list[ECGRecord]) -> None:
        flagged = ["limb_reversal" in ecg_quality(_reversed_arms(r.signal), r.fs, r.leads).per_lead["I"]
                   for r in records[:30]]
        original = ["limb_reversal" in ecg_quality(r.signal, r.fs, r.leads).per_lead["I"] for r in records[:30]]
        assert sum(flagged) >= 21 and sum(original) <= 1

    def test_given_cleaned_signal_gives_the_same_verdicts(self, records: list[ECGRecord]) -> None:
        """The analyzer hands in its cleaned signal instead of having lead I cleaned again."""
        for r in records[:10]:
            for sig in (r.signal, _reversed_arms(r.signal)):
                assert ecg_quality(sig, r.fs, r.leads, cleaned=ecg_clean(sig, r.fs)) == ecg_quality(sig, r.fs, r.leads)

    def test_given_cleaned_signal_is_the_one_checked(self, records: list[ECGRecord]) -> None:
        """The reversal check reads the cleaned signal it is given, not a cleaning of its own."""
        flagged = ["limb_reversal" in ecg_quality(r.signal, r.fs, r.leads,
                                                  cleaned=ecg_clean(_reversed_arms(r.signal), r.fs)).per_lead["I"]
                   for r in records[:10]]
        assert sum(flagged) >= 7


class TestInterface:
    @settings(max_examples=30, deadline=None)
    @given(leads=st.integers(1, 12), seconds=st.floats(0.5, 6.0), fs=st.sampled_from([50.0, 100.0, 360.0, 500.0]),
           scale=st.floats(0.0, 10.0), seed=st.integers(0, 2**16))
    def test_any_finite_signal(self, leads: int, seconds: float, fs: float, scale: float, seed: int) -> None:
        sig = scale * np.random.default_rng(seed).standard_normal((leads, int(seconds * fs)))
        report = ecg_quality(sig, fs, LEADS[:leads])
        assert report.verdict in ("usable", "warn", "unusable")
        assert set(report.usable_leads) <= set(LEADS[:leads])
        json.dumps(report.to_dict(), allow_nan=False)

    def test_issue_codes_are_known(self, records: list[ECGRecord]) -> None:
        for r in records[:20]:
            for codes in ecg_quality(r.signal, r.fs, r.leads).per_lead.values():
                assert set(codes) <= set(ISSUES)

    def test_lead_names_must_match(self, record: ECGRecord) -> None:
        with pytest.raises(CardioScreenError, match="lead names"):
            ecg_quality(record.signal, record.fs, LEADS[:6])

    def test_thresholds_validated(self) -> None:
        with pytest.raises(CardioScreenError, match="clip_fraction"):
            QualityThresholds(clip_fraction=0.0)
