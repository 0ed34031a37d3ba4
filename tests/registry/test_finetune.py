"""``train --init-from``: a run that cannot start from the bundle is refused with the reason, before training."""

from __future__ import annotations

from pathlib import Path

import pytest

from cardioscreen.cli import main
from cardioscreen.models.bundle import default_bundle_path


def test_init_from_needs_the_same_classes(shared_data: Path, tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    argv = ["train", "--data", str(shared_data / "ptbxl-z100"), "--out", str(tmp_path / "out"), "--epochs", "1",
            "--max-records", "4", "--init-from", str(default_bundle_path())]
    assert main([*argv, "--task", "seed17"]) == 2
    assert "this run trains other classes" in capsys.readouterr().err
    assert main([*argv, "--recipe", "seed"]) == 2
    assert "the seed recipe trains from scratch" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
