"""``interpret`` on real records: measurement statements with their evidence, the network's agreement, the rhythm
first, the summary line, urgency, English and Russian."""

from __future__ import annotations

import re
from collections.abc import Callable
from functools import cache
from pathlib import Path

import pytest

from cardioscreen.interpret import Interpretation, interpret
from cardioscreen.interpret.compose import summary_line
from cardioscreen.io import read_ecg
from cardioscreen.result import Prediction
from cardioscreen.rhythm import ecg_rhythm
from cardioscreen.signal.measure import RecordMeasurements, measure_record

LUDB_1AVB = ("13", "15", "77", "107", "131")
"""LUDB's first-degree AV blocks with a PR the intervals measure over 200 ms (61's is measured 193 ms)."""


Locate = Callable[[int | str], Path]


@pytest.fixture(scope="module")
def ptbxl(shared_data: Path) -> Locate:
    """The header of a PTB-XL record (500 Hz) by its ecg_id."""
    return lambda i: shared_data / "ptbxl" / "records500" / f"{int(i) // 1000 * 1000:05d}" / f"{int(i):05d}_hr.hea"


@pytest.fixture(scope="module")
def ludb(shared_data: Path) -> Locate:
    """The header of a LUDB record by its ID."""
    return lambda i: shared_data / "ludb" / f"{i}.hea"


@cache
def measured(path: Path) -> tuple[RecordMeasurements, dict]:
    record = read_ecg(path, standard12=True)
    return measure_record(record), record.meta


def interpreted(path: Path, predictions: tuple[Prediction, ...] = (), *, rhythm: bool = False, lang: str = "en",
                sex: str | None = None, age: float | None = None) -> Interpretation:
    m, meta = measured(path)
    rh = ecg_rhythm(m.clean, m.fs, m.leads, r_peaks=m.r_peaks, delineation=m.intervals.delineation) if rhythm \
        else None
    return interpret(rh, m.intervals, m.morphology, predictions, sex=sex or meta.get("sex"),
                     age=age or meta.get("age"), lang=lang)


def by_code(it: Interpretation) -> dict:
    return {s.code: s for s in it.statements}


def net(code: str, probability: float, flagged: bool) -> Prediction:
    return Prediction(code=code, name=code, task="seed17", probability=probability, threshold=0.5, flagged=flagged)


@pytest.mark.parametrize("record", LUDB_1AVB)
def test_first_degree_av_block_with_its_pr(record: str, ludb: Locate) -> None:
    it = interpreted(ludb(record))
    pr = measured(ludb(record))[0].intervals.pr_ms
    statement = by_code(it)["1AVB"]
    assert statement.text == "First-degree AV block" and statement.source == "measurement"
    assert statement.evidence == f"PR {pr:.0f} ms" and pr > 200


@pytest.mark.parametrize(("record", "code"), [
    ("ludb 23", "CRBBB"), ("ptbxl 3244", "CRBBB"), ("ptbxl 269", "CRBBB"),
    ("ludb 83", "CLBBB"), ("ptbxl 18278", "CLBBB"), ("ptbxl 20545", "CLBBB"),
])
def test_bundle_branch_blocks(record: str, code: str, ludb: Locate, ptbxl: Locate) -> None:
    """LUDB's and PTB-XL's complete RBBB / LBBB records get the statement (and not the other block) with the global
    QRS and the V1 shape as evidence."""
    dataset, name = record.split()
    found = by_code(interpreted((ludb if dataset == "ludb" else ptbxl)(name)))
    assert code in found and not {"CRBBB", "CLBBB", "IVCD"} - {code} & set(found)
    qrs = float(re.search(r"QRS (\d+) ms over the leads", found[code].evidence).group(1))
    assert qrs >= 120 and "V1 " in found[code].evidence


def test_lvh_by_voltage(ptbxl: Locate) -> None:
    """PTB-XL 137 (LVH 100 %): Sokolow-Lyon 5.4 mV on the record's millivolts."""
    found = by_code(interpreted(ptbxl(137), sex="M"))
    sokolow = float(re.search(r"Sokolow-Lyon (\d\.\d\d) mV", found["LVH"].evidence).group(1))
    assert sokolow == pytest.approx(measured(ptbxl(137))[0].morphology.sokolow_lyon_mv, abs=0.005)
    assert sokolow >= 3.5


@pytest.mark.parametrize(("ecg_id", "code", "leads"), [
    (11940, "STEMI_ANT", {"V2", "V3"}),  # subacute anterior MI, report: "ST-Hebung in V1-4"
    (3047, "STEMI_INF", {"II", "III", "aVF"}),  # IMI, report: "q waves, st segment elevation"
])
def test_stemi_pattern_in_contiguous_leads_is_urgent(ecg_id: int, code: str, leads: set[str], ptbxl: Locate) -> None:
    it = interpreted(ptbxl(ecg_id), sex="M", age=74)
    statement = by_code(it)[code]
    assert statement.severity == "urgent" and it.urgent
    assert leads <= set(re.findall(r"in (\w+) \(limit", statement.evidence))
    assert it.statements[0].code == code  # urgent statements come first


def test_normal_st_rise_into_the_t_wave_is_no_stemi(ptbxl: Locate) -> None:
    """PTB-XL 454 (NORM 100 %, a man of 50): ST +0.26 mV at J+60 ms in V2 and V3 (the segment rising into the T
    wave) but +0.12 mV at the J point, where the definition reads it: no STEMI pattern."""
    m, _ = measured(ptbxl(454))
    assert min(m.morphology[lead].st60_mv for lead in ("V2", "V3")) >= 0.2
    it = interpreted(ptbxl(454), sex="M", age=50)
    assert not [s for s in it.statements if s.code.startswith("STEMI")] and not it.urgent


def test_normal_record(ptbxl: Locate) -> None:
    """PTB-XL 1 (NORM 100 %, sinus rhythm): "Sinus rhythm 64/min. Normal ECG." and nothing abnormal."""
    it = interpreted(ptbxl(1), rhythm=True)
    assert it.summary == "Sinus rhythm 64/min. Normal ECG."
    assert [s.code for s in it.statements] == ["SR"] and not it.urgent
    assert interpreted(ptbxl(3)).summary == "Normal ECG."


def test_atrial_fibrillation_first_and_urgent(ptbxl: Locate) -> None:
    """PTB-XL 351 (AFIB 100 %): the rhythm statement leads the statements and the summary, and is urgent."""
    it = interpreted(ptbxl(351), rhythm=True)
    assert it.statements[0].code == "AFIB" and it.urgent
    assert it.summary.startswith("Atrial fibrillation ") and it.summary.endswith("Abnormal ECG.")


def test_minor_findings_close_with_otherwise_normal(ludb: Locate) -> None:
    """LUDB 131's first-degree AV block is a minor finding (its low precordial voltage, from LUDB's small
    amplitudes, is not): "Otherwise normal ECG" once the low voltage is left out; from the intervals alone (no
    amplitudes) no overall verdict, and nothing at all measured is never called normal."""
    m, _ = measured(ludb("131"))
    full = interpret(None, m.intervals, m.morphology, [])
    assert "LVOLT" in by_code(full) and full.summary.endswith("Abnormal ECG.")
    statements = [s for s in full.statements if s.code != "LVOLT"]
    assert [s.code for s in statements] == ["1AVB"]
    assert summary_line([], statements, True, "en") == "First-degree AV block. Otherwise normal ECG."
    assert interpret(None, m.intervals, None, []).summary == \
        "First-degree AV block. Measurements incomplete: no overall verdict."
    assert interpret(None, None, None, []).summary == "Measurements incomplete: no overall verdict."


def test_russian_texts(ludb: Locate, ptbxl: Locate) -> None:
    it = interpreted(ludb("23"), lang="ru")
    found = by_code(it)
    assert found["CRBBB"].text == "Полная блокада правой ножки пучка Гиса"
    assert found["1AVB"].evidence.endswith(" мс") and "QRS" in found["CRBBB"].evidence
    assert "мс по всем отведениям" in found["CRBBB"].evidence
    assert it.summary.endswith("ЭКГ с отклонениями от нормы.")
    assert interpreted(ptbxl(1), rhythm=True, lang="ru").summary == "Синусовый ритм 64/мин. Нормальная ЭКГ."


def test_network_agreement_and_disagreement(ludb: Locate, ptbxl: Locate) -> None:
    """LUDB 13's measured first-degree AV block: "both" when the network flags it, a disagreement when it does
    not; a class the network flags that the criteria judged and did not find is the network's, marked as a
    disagreement; one the criteria do not cover is the network's alone."""
    agree = by_code(interpreted(ludb("13"), (net("1AVB", 0.9, True),)))["1AVB"]
    assert agree.source == "both" and not agree.disagreement and "network 90 %" in agree.evidence
    disagree = by_code(interpreted(ludb("13"), (net("1AVB", 0.2, False),)))["1AVB"]
    assert disagree.source == "measurement" and disagree.disagreement
    assert "network does not flag it (20 %" in disagree.evidence
    it = interpreted(ptbxl(1), (net("CLBBB", 0.8, True), net("ISC_", 0.7, True), net("NORM", 0.9, True)))
    found = by_code(it)
    assert found["CLBBB"].source == "model" and found["CLBBB"].disagreement
    assert found["ISC_"].source == "model" and not found["ISC_"].disagreement
    assert "NORM" not in found and it.summary.endswith("Abnormal ECG.")


def test_to_dict_contract(ptbxl: Locate) -> None:
    data = interpreted(ptbxl(351), rhythm=True).to_dict()
    assert set(data) >= {"summary", "statements", "urgent"}
    assert set(data["statements"][0]) == {"code", "text", "source", "evidence", "severity", "disagreement"}
    assert data["urgent"] is True and data["statements"][0]["source"] in ("measurement", "model", "both")
