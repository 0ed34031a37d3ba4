"""Forward-backward filtering with a cached steady state equals SciPy's filtfilt bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from cardioscreen.io import read_ecg
from cardioscreen.signal.zerophase import ba_filtfilt


@pytest.fixture(scope="module")
def signal_mv(ptbxl_dir: Path) -> np.ndarray:
    return read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea").signal.astype(np.float64)


class TestZeroPhase:
    @pytest.mark.parametrize("shape", ["leads", "one lead", "batch"])
    def test_ba_is_scipys(self, signal_mv: np.ndarray, shape: str) -> None:
        x = {"leads": signal_mv, "one lead": signal_mv[1], "batch": np.stack([signal_mv, 2 * signal_mv])}[shape]
        b, a = sps.butter(4, [0.5, 40.0], btype="band", fs=500.0)
        expected = sps.filtfilt(b, a, x, axis=-1)
        got = ba_filtfilt(x, b, a, sps.lfilter_zi(b, a))
        np.testing.assert_array_equal(got, expected)
        # later reductions along time sum in the order the strides give: the same as on SciPy's result
        np.testing.assert_array_equal(got.mean(axis=-1), expected.mean(axis=-1))

    def test_ba_too_short_is_scipys_error(self) -> None:
        b, a = sps.butter(4, [0.5, 40.0], btype="band", fs=500.0)
        with pytest.raises(ValueError, match="padlen"):
            ba_filtfilt(np.ones((2, 20)), b, a, sps.lfilter_zi(b, a))
