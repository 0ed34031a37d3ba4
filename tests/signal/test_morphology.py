"""Per-lead amplitudes on real records: voltage indices, QRS shapes, ST and T levels, in the record's own mV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.io import read_ecg
from cardioscreen.record import ECGRecord
from cardioscreen.signal.measure import measure_record
from cardioscreen.signal.morphology import FEATURE_FIELDS, Morphology, ecg_morphology


def _record(shared_data: Path, relative: str) -> ECGRecord:
    return read_ecg(shared_data / relative, standard12=True)


@pytest.fixture(scope="module")
def lvh(shared_data: Path) -> ECGRecord:
    """PTB-XL 137: left ventricular hypertrophy (100 %), sinus rhythm."""
    return _record(shared_data, "ptbxl/records500/00000/00137_hr.hea")


def test_voltage_indices_are_their_definitions(lvh: ECGRecord) -> None:
    mo = measure_record(lvh).morphology
    assert mo.sokolow_lyon_mv == pytest.approx(mo["V1"].s_mv + max(mo["V5"].r_mv, mo["V6"].r_mv))
    assert mo.cornell_mv == pytest.approx(mo["aVL"].r_mv + mo["V3"].s_mv)
    assert mo.sokolow_lyon_mv >= 3.5  # the voltage criterion of LVH
    assert (mo["V1"].shape, mo["V5"].shape, mo["V6"].shape, mo["I"].shape) == ("rS", "qRs", "qRs", "R")
    # the median beat's R in V5 is the record's own: within 10 % of the R-peak heights over the baseline
    v5 = lvh.signal[lvh.leads.index("V5")]
    r = measure_record(lvh).r_peaks
    assert mo["V5"].r_mv == pytest.approx(np.median(v5[r] - v5[r - 20]), rel=0.1)


def test_amplitudes_are_millivolts_not_normalised(lvh: ECGRecord) -> None:
    """Doubling the signal doubles every amplitude (a z-scored input would not change them)."""
    m = measure_record(lvh)
    twice = ecg_morphology(2 * lvh.signal, lvh.fs, lvh.leads, m.intervals.delineation, beats=m.intervals.normal_beats)
    for lead in ("V1", "V5", "aVL", "II"):
        assert twice[lead].r_mv == pytest.approx(2 * m.morphology[lead].r_mv, rel=0.02)
        assert twice[lead].t_mv == pytest.approx(2 * m.morphology[lead].t_mv, rel=0.02)
    assert twice.sokolow_lyon_mv == pytest.approx(2 * m.morphology.sokolow_lyon_mv, rel=0.02)


def test_right_bundle_branch_block_shapes(shared_data: Path) -> None:
    """LUDB 23 (complete RBBB): V1 a broad notched R with a positive end, a slow S in I and V6, and a global QRS
    beyond 120 ms."""
    mo = measure_record(_record(shared_data, "ludb/23.hea")).morphology
    v1 = mo["V1"]
    assert v1.shape == "R" and v1.notched and v1.terminal_mv > 0.05 and v1.r_peak_time_ms > 50
    for lead in ("I", "V6"):
        assert mo[lead].s_ms > 40 and mo[lead].terminal_mv < 0
    assert mo.qrs_global_ms is not None and mo.qrs_global_ms >= 120


def test_left_bundle_branch_block_shapes(shared_data: Path) -> None:
    """PTB-XL 18278 (complete LBBB): V1 rS with a deep, wide S; V5/V6 a broad R with a late peak and no S of note."""
    mo = measure_record(_record(shared_data, "ptbxl/records500/18000/18278_hr.hea")).morphology
    assert mo["V1"].s_mv > 1.0 and mo["V1"].s_ms > 80 and mo["V1"].r_mv < 0.3
    for lead in ("V5", "V6"):
        assert mo[lead].r_mv > 1.0 and mo[lead].r_ms > 100 and mo[lead].r_peak_time_ms > 60
    assert mo.qrs_global_ms is not None and mo.qrs_global_ms >= 120


def test_st_elevation_at_the_j_point(shared_data: Path) -> None:
    """PTB-XL 3047 (inferior MI, report "st segment elevation"): ST raised at the J point in II, III, aVF, depressed
    in aVL (reciprocal)."""
    mo = measure_record(_record(shared_data, "ptbxl/records500/03000/03047_hr.hea")).morphology
    assert min(mo[lead].st_j_mv for lead in ("II", "III", "aVF")) >= 0.1
    assert mo["aVL"].st_j_mv < -0.05


def test_feature_vector_and_round_trip(lvh: ECGRecord) -> None:
    mo = measure_record(lvh).morphology
    names, values = mo.feature_vector()
    assert len(names) == values.size == 12 * len(FEATURE_FIELDS) + 3 and len(set(names)) == len(names)
    assert np.all(np.isfinite(values))
    assert values[names.index("V1_s_mv")] == pytest.approx(mo["V1"].s_mv)
    assert values[names.index("sokolow_lyon_mv")] == pytest.approx(mo.sokolow_lyon_mv)
    again = Morphology.from_dict(mo.to_dict())
    assert np.allclose(again.feature_vector()[1], values, atol=1e-3)
    empty_names, empty = Morphology().feature_vector()
    assert empty_names == names and np.all(np.isnan(empty))
