"""``cardioscreen plot`` on real files of several formats."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from matplotlib.image import imread

from cardioscreen.cli import main


class TestPlotCli:
    def test_twelve_lead_png(self, example_record_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
        out = tmp_path / "ecg.png"
        assert main(["plot", str(example_record_path), "--out", str(out), "--dpi", "80"]) == 0
        image = imread(out)
        # 265 x 180 mm printed at 80 dpi.
        expected = np.array([180, 265]) / 25.4 * 80
        assert np.abs(np.array(image.shape[:2]) - expected).max() <= 1
        assert (image[..., :3].max(axis=-1) < 0.3).mean() > 0.002
        assert "R-peaks" in capsys.readouterr().out

    def test_two_lead_record_and_pdf(self, shared_data: Path, tmp_path: Path) -> None:
        out = tmp_path / "sub" / "mitdb.pdf"
        assert main(["plot", str(shared_data / "mitdb" / "100.hea"), "--out", str(out), "--start", "5"]) == 0
        assert out.read_bytes().startswith(b"%PDF")

    def test_numpy_file_needs_fs(self, tmp_path: Path, example_record_path: Path) -> None:
        import wfdb

        signal, _ = wfdb.rdsamp(str(example_record_path.with_suffix("")))
        path = tmp_path / "ecg.npy"
        np.save(path, signal.T.astype(np.float32))
        assert main(["plot", str(path), "--fs", "500", "--out", str(tmp_path / "npy.svg")]) == 0
        assert (tmp_path / "npy.svg").read_text().lstrip().startswith("<?xml")

    def test_errors_are_one_line(self, tmp_path: Path, example_record_path: Path,
                                 capsys: pytest.CaptureFixture) -> None:
        assert main(["plot", str(example_record_path), "--out", str(tmp_path / "x.bmp")]) == 2
        assert main(["plot", str(tmp_path / "missing.hea"), "--out", str(tmp_path / "x.png")]) == 2
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 2 and all(line.startswith("cardioscreen plot: error:") for line in err)
