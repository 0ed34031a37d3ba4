"""Forward-backward filtering with cached steady states equals SciPy's sosfiltfilt / filtfilt bit for bit."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from scipy import signal as sps

from cardioscreen.io import read_ecg
from cardioscreen.signal.zerophase import ba_filtfilt, sos_filtfilt


@pytest.fixture(scope="module")
def signal_mv(ptbxl_dir: Path) -> np.ndarray:
    return read_ecg(ptbxl_dir / "records500" / "00000" / "00001_hr.hea").signal.astype(np.float64)


class TestZeroPhase:
    @pytest.mark.parametrize("shape", ["leads", "one lead", "batch"])
    @pytest.mark.parametrize("padlen", [0, 27, 500, 4999])
    def test_sos_is_scipys(self, signal_mv: np.ndarray, shape: str, padlen: int) -> None:
        x = {"leads": signal_mv, "one lead": signal_mv[1], "batch": np.stack([signal_mv, -signal_mv[::-1]])}[shape]
        sos = sps.butter(2, [0.5, 40.0], btype="band", fs=500.0, output="sos")
        got = sos_filtfilt(x, sos, sps.sosfilt_zi(sos), padlen)
        np.testing.assert_array_equal(got, sps.sosfiltfilt(sos, x, axis=-1, padlen=padlen))

    def test_sos_on_complex_rows_filters_each_part_alone(self, signal_mv: np.ndarray) -> None:
        sos = sps.butter(2, [5.0, 20.0], btype="band", fs=500.0, output="sos")
        zi = sps.sosfilt_zi(sos)
        got = sos_filtfilt(signal_mv[0::2] + 1j * signal_mv[1::2], sos, zi, 500)
        np.testing.assert_array_equal(got.real, sps.sosfiltfilt(sos, signal_mv[0::2], axis=-1, padlen=500))
        np.testing.assert_array_equal(got.imag, sps.sosfiltfilt(sos, signal_mv[1::2], axis=-1, padlen=500))

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
