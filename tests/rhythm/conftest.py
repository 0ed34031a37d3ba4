"""Records for the rhythm tests: PTB-XL raw 500 Hz records, cleaned as the Analyzer cleans them."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.rhythm import RhythmResult, ecg_rhythm
from cardioscreen.signal.clean import ecg_clean

PTBXL_FS = 500


@pytest.fixture(scope="session")
def ptbxl(ptbxl_dir: Path) -> PTBXL:
    return PTBXL.load(ptbxl_dir)


@pytest.fixture(scope="session")
def ptbxl_raw(ptbxl: PTBXL) -> Callable[[int], np.ndarray]:
    """Raw 12-lead signal ``(12, 5000)`` mV of a PTB-XL record."""

    def read(ecg_id: int) -> np.ndarray:
        return ptbxl.read_signal(ecg_id, PTBXL_FS).astype(np.float64)

    return read


@pytest.fixture(scope="session")
def ptbxl_rhythm(ptbxl_raw: Callable[[int], np.ndarray]) -> Callable[..., RhythmResult]:
    """``ecg_rhythm`` of a PTB-XL record (cleaned signal, raw one for pacing spikes), optionally on some leads."""

    def analyse(ecg_id: int, leads: tuple[str, ...] = STANDARD_LEADS, lang: str = "en") -> RhythmResult:
        raw = ptbxl_raw(ecg_id)[[STANDARD_LEADS.index(lead) for lead in leads]]
        return ecg_rhythm(ecg_clean(raw, PTBXL_FS), PTBXL_FS, leads, raw=raw, lang=lang)

    return analyse
