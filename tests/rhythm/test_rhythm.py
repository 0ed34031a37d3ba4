"""``ecg_rhythm`` on real PTB-XL and LUDB records: AF, sinus with premature atrial beats, paced, lead subsets,
texts and the JSON contract."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.rhythm import RhythmResult, ecg_rhythm
from cardioscreen.rhythm.learned import default_model, load_model
from cardioscreen.signal.clean import ecg_clean
from cardioscreen.signal.intervals import ecg_intervals
from cardioscreen.signal.peaks import ecg_peaks

AF_RECORD = 482  # PTB-XL: AFIB
FLUTTER_RECORD = 17  # PTB-XL: AFLT (and AFIB at likelihood 0)
PAC_RECORD = 6557  # PTB-XL: SR + PAC (its PR was withheld as AF/flutter before)
PACED_RECORD = 143  # PTB-XL: PACE, ventricular pacing spikes
SINUS_STEEP_R = (50, 296)  # PTB-XL: SR whose steep R upstrokes were taken for pacing spikes
Rhythm = Callable[..., RhythmResult]


class TestRecords:
    def test_atrial_fibrillation(self, ptbxl_rhythm: Rhythm) -> None:
        result = ptbxl_rhythm(AF_RECORD)
        assert result.code == "AFIB"
        assert result.measurement_code == "AFIB" and result.source == "both"
        assert [(e.code, e.start_s, e.end_s) for e in result.episodes] == [("AFIB", 0.0, 10.0)]
        assert result.ectopy.pac == 0  # premature-looking beats in AF are not PACs
        assert "RR irregular" in result.evidence and "no consistent P wave" in result.evidence

    def test_atrial_flutter(self, ptbxl_rhythm: Rhythm) -> None:
        result = ptbxl_rhythm(FLUTTER_RECORD)
        assert result.code == "AFLT" and result.source == "model"
        assert result.measurement_code == "SVTAC"  # a regular narrow tachycardia without P waves to the rules
        assert "RR regular" in result.evidence

    @pytest.mark.parametrize("leads", [("II",), ("II", "V1"), ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")])
    def test_atrial_fibrillation_on_fewer_leads(self, ptbxl_rhythm: Rhythm, leads: tuple[str, ...]) -> None:
        assert ptbxl_rhythm(AF_RECORD, leads).code == "AFIB"

    def test_sinus_with_premature_atrial_beats_keeps_pr(
        self, ptbxl_rhythm: Rhythm, ptbxl_raw: Callable[[int], np.ndarray]
    ) -> None:
        result = ptbxl_rhythm(PAC_RECORD)
        assert result.code in {"SR", "SBRAD", "SARRH"}
        assert result.ectopy.pac >= 1 and result.ectopy.pvc == 0
        clean = ecg_clean(ptbxl_raw(PAC_RECORD), 500)
        iv = ecg_intervals(clean, 500, ecg_peaks(clean, 500)[0], STANDARD_LEADS)
        assert iv.rhythm == "irregular" and iv.pr_ms is not None and 100 < iv.pr_ms < 220

    def test_paced(self, ptbxl_rhythm: Rhythm) -> None:
        result = ptbxl_rhythm(PACED_RECORD)
        assert result.code == "PACE" and result.pacing == "ventricular"
        assert result.name == "Paced rhythm (ventricular)"
        assert "pacing spikes before" in result.evidence

    @pytest.mark.parametrize("ecg_id", SINUS_STEEP_R)
    def test_steep_sinus_upstroke_is_not_pacing(
        self, ptbxl_rhythm: Rhythm, ptbxl_raw: Callable[[int], np.ndarray], ecg_id: int
    ) -> None:
        assert ptbxl_rhythm(ecg_id).code != "PACE"
        raw = ptbxl_raw(ecg_id)
        assert not ecg_intervals(raw, 500, ecg_peaks(ecg_clean(raw, 500), 500)[0], STANDARD_LEADS).paced

    def test_ludb_paced_record(self, shared_data: Path) -> None:
        rec = read_ecg(shared_data / "ludb" / "111.hea", standard12=True)  # bipolar ventricular pacing
        raw = rec.signal.astype(np.float64)
        result = ecg_rhythm(ecg_clean(raw, rec.fs), rec.fs, rec.leads, raw=raw)
        assert result.code == "PACE"

    def test_sinus_bradycardia_by_rate(self, shared_data: Path) -> None:
        rec = read_ecg(shared_data / "ludb" / "1.hea", standard12=True)  # LUDB: sinus bradycardia
        result = ecg_rhythm(ecg_clean(rec.signal, rec.fs), rec.fs, rec.leads)
        assert result.code == "SBRAD" and result.heart_rate_bpm is not None and result.heart_rate_bpm < 60


class TestTexts:
    def test_russian(self, ptbxl_rhythm: Rhythm) -> None:
        result = ptbxl_rhythm(AF_RECORD, lang="ru")
        assert result.name == "Фибрилляция предсердий"
        assert "RR нерегулярны" in result.evidence and "нет постоянного зубца P" in result.evidence
        assert result.to_dict()["name"] == "Фибрилляция предсердий"

    def test_statements(self, ptbxl_rhythm: Rhythm) -> None:
        result = ptbxl_rhythm(PAC_RECORD)
        statements = result.statements("ru")
        assert result.heart_rate_bpm is not None
        assert statements[0].code == result.code == "SR" and statements[0].severity == "normal"
        assert statements[0].text == f"Синусовый ритм {result.heart_rate_bpm:.0f}/мин"
        assert f"rate {result.heart_rate_bpm:.0f}/min" in statements[0].evidence
        assert [s.code for s in statements[1:]] == ["PAC"]
        assert statements[1].text == f"Предсердные (наджелудочковые) экстрасистолы: {result.ectopy.pac}"
        af = ptbxl_rhythm(AF_RECORD).statements()
        assert af[0].text.startswith("Atrial fibrillation ") and af[0].severity == "urgent"

    def test_unknown_language(self, ptbxl_rhythm: Rhythm) -> None:
        with pytest.raises(CardioScreenError, match="unknown language 'de'"):
            ptbxl_rhythm(AF_RECORD, lang="de")


class TestContract:
    def test_to_dict_shape(self, ptbxl_rhythm: Rhythm) -> None:
        out = ptbxl_rhythm(PAC_RECORD).to_dict()
        assert {"code", "name", "heart_rate_bpm", "episodes", "ectopy", "evidence", "source"} <= set(out)
        assert out["source"] in {"measurement", "model", "both"}
        assert set(out["ectopy"]) == {"pvc", "pac", "pattern"}
        assert all(set(e) == {"code", "start_s", "end_s"} for e in out["episodes"])
        assert out["episodes"][0]["start_s"] == 0.0 and out["episodes"][-1]["end_s"] == 10.0
        assert isinstance(out["heart_rate_bpm"], float) and 40 < out["heart_rate_bpm"] < 110
        assert abs(sum(out["probabilities"].values()) - 1.0) < 0.01

    def test_wrong_lead_names(self, ptbxl_raw: Callable[[int], np.ndarray]) -> None:
        with pytest.raises(CardioScreenError, match="2 lead names for a signal of shape"):
            ecg_rhythm(ptbxl_raw(AF_RECORD), 500, ("I", "II"))


class TestModel:
    def test_shipped_model(self) -> None:
        model = default_model()
        assert {"SR", "AFIB", "PACE"} <= set(model.classes)
        assert model.meta["train_folds"] == list(range(1, 9))
        assert model.meta["validation"]["AFIB"]["sensitivity"] > 0.8

    def test_unreadable_model_file(self, tmp_path: Path) -> None:
        bad = tmp_path / "model.npz"
        bad.write_bytes(b"not a model")
        with pytest.raises(CardioScreenError, match="cannot read rhythm model"):
            load_model(bad)
