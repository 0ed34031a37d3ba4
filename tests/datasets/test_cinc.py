"""Challenge folders: SNOMED-CT `# Dx` codes of real headers mapped to the model's classes, sources per hospital."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from cardioscreen.datasets.cinc import CinC, header_codes
from cardioscreen.datasets.labels import SEED17, SUPERCLASSES
from cardioscreen.errors import CardioScreenError


@pytest.fixture(scope="module")
def challenge(shared_data: Path) -> CinC:
    return CinC.load(shared_data / "challenge")


def _row(data: CinC, record: str) -> int:
    return int(np.flatnonzero(data.record_ids == record)[0])


class TestCinC:
    def test_index_and_sources(self, challenge: CinC, shared_data: Path) -> None:
        counts = dict(zip(*np.unique(challenge.sources, return_counts=True), strict=True))
        assert counts == {"chapman-ningbo": 20, "cpsc": 39, "georgia": 13, "ptb-diagnostic": 10, "ptbxl": 2}
        one = CinC.load(shared_data / "challenge" / "georgia")
        assert set(one.sources) == {"georgia"} and len(one) == 13
        assert header_codes(shared_data / "challenge" / "georgia" / "E00005.hea") == {"59118001", "164889003"}

    def test_seed_classes_from_codes(self, challenge: CinC) -> None:
        labels = challenge.labels("seed17", SEED17)
        col = {c: j for j, c in enumerate(SEED17)}
        normal, rbbb_af = _row(challenge, "georgia/E00001"), _row(challenge, "georgia/E00005")
        # E00001: sinus rhythm only -> a normal ECG; E00005: RBBB + atrial fibrillation -> CRBBB, not normal
        assert labels.y[normal, col["NORM"]] == 1 and labels.y[normal].sum() == 1
        assert labels.y[rbbb_af, col["CRBBB"]] == 1 and labels.y[rbbb_af, col["NORM"]] == 0
        # T wave abnormal (164934002) on Chapman's JS00001 is NDT
        assert labels.y[_row(challenge, "chapman-ningbo/JS00001"), col["NDT"]] == 1
        # location-specific infarcts and ISCAL have no SNOMED code: unknown everywhere, never negative
        for code in ("IMI", "ASMI", "ILMI", "ISCAL"):
            assert not labels.mask[:, col[code]].any()
        assert labels.mask[:, col["CRBBB"]].all()
        assert int(labels.y[:, col["CRBBB"]].sum()) == 8

    def test_superclasses_from_codes(self, challenge: CinC) -> None:
        labels = challenge.labels("superdiagnostic", SUPERCLASSES)
        col = {c: j for j, c in enumerate(SUPERCLASSES)}
        mi = _row(challenge, "ptb-diagnostic/S0003")  # myocardial infarction, 164865005
        assert labels.y[mi, col["MI"]] == 1 and labels.y[mi].sum() == 1
        assert labels.y[_row(challenge, "cpsc/A0001"), col["CD"]] == 1  # RBBB
        assert labels.mask.all()
        assert dict(zip(SUPERCLASSES, labels.y.sum(axis=0).astype(int), strict=True)) == {
            "CD": 18, "HYP": 7, "MI": 22, "NORM": 10, "STTC": 34}

    def test_reads_records_in_millivolts(self, challenge: CinC) -> None:
        record = challenge.read(_row(challenge, "ptb-diagnostic/S0003"))
        assert record.fs == 1000 and record.meta["dx"] == ["164865005"]

    def test_not_a_challenge_folder(self, tmp_path: Path, shared_data: Path) -> None:
        assert not CinC.is_cinc(shared_data / "ptbxl-z100")
        with pytest.raises(CardioScreenError, match=r"\.hea"):
            CinC.load(tmp_path)

    def test_other_tasks_refused(self, challenge: CinC) -> None:
        with pytest.raises(CardioScreenError, match="seed17"):
            challenge.labels("rhythm", ("AFIB",))
