"""The ECG printout: layout, true scale, markers and overlays, on real records."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import wfdb
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.image import imread

from cardioscreen.errors import ECGFormatError
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.record import ECGRecord
from cardioscreen.report.paper import MM_PER_INCH
from cardioscreen.report.plot import GRID_LAYOUT, plot_ecg


@pytest.fixture(scope="module")
def ptbxl_record(example_record_path: Path) -> ECGRecord:
    signal, info = wfdb.rdsamp(str(example_record_path.with_suffix("")))
    return ECGRecord(signal.T, info["fs"], tuple(info["sig_name"]), {"record_id": "00001_hr"})


@pytest.fixture(scope="module")
def mitdb_record(shared_data: Path) -> ECGRecord:
    signal, info = wfdb.rdsamp(str(shared_data / "mitdb" / "100"), sampto=360 * 12)
    return ECGRecord(signal.T, info["fs"], tuple(info["sig_name"]))


def _axes(fig: Figure) -> Axes:
    (ax,) = fig.axes
    return ax


def _line(ax: Axes, gid: str) -> np.ndarray:
    matches = [line for line in ax.lines if line.get_gid() == gid]
    assert len(matches) == 1, gid
    return np.column_stack([matches[0].get_xdata(), matches[0].get_ydata()]).astype(float)


def _png(fig: Figure) -> np.ndarray:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=60)
    buffer.seek(0)
    return np.asarray(imread(buffer))


class TestTwelveLeadLayout:
    def test_grid_segments_and_rhythm_strip(self, ptbxl_record: ECGRecord) -> None:
        ax = _axes(plot_ecg(ptbxl_record))
        traces = [line.get_gid() for line in ax.lines if "@" in str(line.get_gid())]
        expected = [f"{lead}@{col * 1250}" for row in GRID_LAYOUT for col, lead in enumerate(row)] + ["rhythm II@0"]
        assert sorted(traces) == sorted(expected)
        assert len([line for line in ax.lines if line.get_gid() == "calibration"]) == 4

    def test_true_scale(self, ptbxl_record: ECGRecord) -> None:
        fig = plot_ecg(ptbxl_record)
        ax = _axes(fig)
        width_mm, height_mm = (v * MM_PER_INCH for v in fig.get_size_inches())
        assert ax.get_xlim() == pytest.approx((0, width_mm)) and ax.get_ylim() == pytest.approx((0, height_mm))
        rhythm = _line(ax, "rhythm II@0")
        # 25 mm per second: 10 s of lead II span 250 mm.
        assert rhythm[-1, 0] - rhythm[0, 0] == pytest.approx(25.0 * (5000 - 1) / 500)
        # 10 mm per mV: the trace is the signal scaled, shifted by its median.
        lead_ii = ptbxl_record.lead("II").astype(float)
        mv = rhythm[:, 1] / 10.0
        np.testing.assert_allclose(mv - np.median(mv), lead_ii - np.median(lead_ii), atol=1e-5)
        v1 = _line(ax, "V1@2500")
        np.testing.assert_allclose(np.ptp(v1[:, 1]), 10.0 * np.ptp(ptbxl_record.lead("V1")[2500:3750]), rtol=1e-5)
        calibration = next(line for line in ax.lines if line.get_gid() == "calibration")
        assert np.ptp(calibration.get_ydata()) == pytest.approx(10.0)

    def test_eight_lead_record_gets_derived_limb_leads(self, ptbxl_record: ECGRecord) -> None:
        keep = [STANDARD_LEADS.index(n) for n in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
        eight = ECGRecord(ptbxl_record.signal[keep], ptbxl_record.fs, tuple(STANDARD_LEADS[i] for i in keep))
        ax = _axes(plot_ecg(eight))
        assert {"III@0", "aVR@1250", "aVF@1250"} <= {str(line.get_gid()) for line in ax.lines}

    def test_rendered_image_shows_trace_and_grid(self, ptbxl_record: ECGRecord) -> None:
        pixels = _png(plot_ecg(ptbxl_record, title="PTB-XL 00001"))[..., :3]
        dark = (pixels.max(axis=-1) < 0.3).mean()
        reddish = ((pixels[..., 0] > 0.8) & (pixels[..., 1] < 0.85)).mean()
        assert 0.002 < dark < 0.2
        assert reddish > 0.05


class TestOverlays:
    def test_r_peaks_fiducials_and_shading(self, ptbxl_record: ECGRecord) -> None:
        peaks = np.array([-10, 100, 520, 1000, 4990, 6000])
        shading = np.zeros(ptbxl_record.signal.shape)
        shading[STANDARD_LEADS.index("V2"), 2500:3000] = 1.0
        fiducials = {"qrs_on": np.array([80.0, np.nan, 980.0]), "t_off": np.array([300.0])}
        ax = _axes(plot_ecg(ptbxl_record, r_peaks=peaks, shading=shading, fiducials=fiducials, lang="ru"))
        marks = _line(ax, "r_peaks@II")
        np.testing.assert_allclose(marks[:, 0], 10.0 + np.array([100, 520, 1000, 4990]) / 500 * 25.0)
        assert _line(ax, "qrs_on@II").shape == (2, 2) and _line(ax, "t_off@II").shape == (1, 2)
        images = {str(image.get_gid()): image for image in ax.images}
        assert len(images) == 13
        v2 = np.asarray(images["saliency V2@2500"].get_array())
        assert v2[0, :500, 3].min() > 0.5 and v2[0, 500:, 3].max() == 0.0

    def test_bad_overlays_are_refused(self, ptbxl_record: ECGRecord) -> None:
        with pytest.raises(ECGFormatError, match="shading must be shaped"):
            plot_ecg(ptbxl_record, shading=np.zeros((12, 10)))
        with pytest.raises(ECGFormatError, match="unknown fiducials"):
            plot_ecg(ptbxl_record, fiducials={"u_wave": np.array([1.0])})
        with pytest.raises(ECGFormatError, match="cannot plot"):
            plot_ecg(ptbxl_record, start_s=11.0)


class TestStripLayout:
    def test_two_lead_record_as_strips(self, mitdb_record: ECGRecord) -> None:
        fig = plot_ecg(mitdb_record, r_peaks=np.array([77, 370, 662]))
        ax = _axes(fig)
        traces = sorted(str(line.get_gid()) for line in ax.lines if str(line.get_gid()).startswith("rhythm"))
        assert traces == ["rhythm MLII@0", "rhythm V5@0"]
        assert _line(ax, "rhythm MLII@0").shape[0] == 3600  # the 10 s window at 360 Hz
        assert fig.get_size_inches()[1] * MM_PER_INCH == pytest.approx(10 + 2 * 40 + 10)
        assert len([line for line in ax.lines if str(line.get_gid()).startswith("r_peaks")]) == 2

    def test_window_start(self, mitdb_record: ECGRecord) -> None:
        ax = _axes(plot_ecg(mitdb_record, start_s=1.0, window_s=5.0))
        assert _line(ax, "rhythm V5@360").shape[0] == 1800

    def test_draws_into_given_axes(self, mitdb_record: ECGRecord) -> None:
        fig = Figure()
        ax = fig.add_subplot()
        assert plot_ecg(mitdb_record, ax=ax) is fig
        assert any(line.get_gid() == "rhythm MLII@0" for line in ax.lines)
