"""Shared fixtures: the real data in ../shared/data (override with CARDIOSCREEN_SHARED_DATA)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CARDIOSCREEN_SHARED_DATA", REPO_ROOT.parent / "shared" / "data"))
EXAMPLE_RECORD = REPO_ROOT / "src" / "cardioscreen" / "data" / "example" / "00001_hr.hea"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Root of the shared real data; the tests need it (CI lays it beside the clone)."""
    if not SHARED_DATA.is_dir():
        raise FileNotFoundError(f"shared data not found at {SHARED_DATA}; set CARDIOSCREEN_SHARED_DATA")
    return SHARED_DATA


@pytest.fixture(scope="session")
def ptbxl_dir(shared_data: Path) -> Path:
    return shared_data / "ptbxl"


@pytest.fixture(scope="session")
def example_record_path() -> Path:
    return EXAMPLE_RECORD
