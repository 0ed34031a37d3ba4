"""Labelled PhysioNet/CinC Challenge 2020/2021 folders (``.hea`` + ``.mat``; SNOMED-CT codes on ``# Dx:``).

A folder holds records of one hospital, or one subfolder per hospital (``challenge/georgia``, ...); each record's
*source* is the subfolder it lies in. Its ``# Dx:`` codes are mapped to the model's classes by the tables below:
a class is positive when any of its codes is on the record, negative otherwise (a hospital that never uses a code
has no positives of that class, so the class is simply not evaluable there). Seed classes without a SNOMED-CT
code of their own (IMI, ASMI, ILMI, ISCAL: the challenges code any myocardial infarction as 164865005 and any
ischaemia as 164861001, whatever the wall) are *unknown* (masked). ``NORM`` (normal ECG) has no code either: it
is a record whose codes are all sinus rhythms (:data:`SINUS_RHYTHMS`), i.e. sinus rhythm with no other finding.
The correspondences follow the challenges' own conversion of PTB-XL (``dx_mapping_scored.csv`` and
``dx_mapping_unscored.csv`` of physionetchallenges/evaluation-2021, whose PTB-XL column counts match the PTB-XL
statement counts: e.g. AnMI 354 = AMI, NSIVCB 789 = IVCD, LAE 427 = LAO/LAE, STC 770 = NST_).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from cardioscreen.datasets.labels import LabelSet, check_task
from cardioscreen.errors import CardioScreenError
from cardioscreen.io import read_ecg
from cardioscreen.io.common import parse_codes
from cardioscreen.record import ECGRecord

SINUS_RHYTHMS: frozenset[str] = frozenset({"426783006", "426177001", "427084000", "427393009"})
"""Sinus rhythm, sinus bradycardia, sinus tachycardia, sinus arrhythmia: a record with only these is ``NORM``."""
NORMAL = "NORM"

SEED17_SNOMED: dict[str, tuple[str, ...]] = {
    "NDT": ("164934002",),  # T wave abnormal
    "NST_": ("55930002", "428750005"),  # ST changes; nonspecific ST-T abnormality
    "LVH": ("164873001",),  # left ventricular hypertrophy (not 55827005, voltage criteria only)
    "LAFB": ("445118002",),  # left anterior fascicular block
    "IRBBB": ("713426002",),  # incomplete right bundle branch block
    "IVCD": ("698252002",),  # nonspecific intraventricular conduction disorder
    "AMI": ("54329005",),  # anterior myocardial infarction
    "1AVB": ("270492004",),  # 1st degree AV block
    "ISC_": ("164861001",),  # myocardial ischaemia
    "CRBBB": ("713427006", "59118001"),  # complete RBBB; RBBB (scored as one by the challenge)
    "CLBBB": ("733534002", "164909002"),  # complete LBBB; LBBB (scored as one by the challenge)
    "LAO/LAE": ("67741000119109", "446813000", "253352002"),  # left atrial enlargement / hypertrophy / abnormality
}
"""SNOMED-CT codes of each seed class; NORM is :data:`SINUS_RHYTHMS` only; IMI, ASMI, ILMI, ISCAL have none."""

SUPERCLASS_SNOMED: dict[str, tuple[str, ...]] = {
    "MI": ("164865005", "164867002", "54329005", "57054005"),  # MI; old MI; anterior MI; acute MI
    "STTC": ("164861001", "413444003", "413844008", "426434006", "425419005", "425623009",  # ischaemia
             "55930002", "428750005", "164934002", "59931005", "429622005", "164931005", "164930006",  # ST/T
             "111975006"),  # prolonged QT
    "CD": ("270492004", "713426002", "713427006", "59118001", "733534002", "164909002", "251120003", "6374002",
           "445118002", "445211001", "698252002", "195042002", "54016002", "426183003", "27885002", "233917008",
           "74390002"),  # AV blocks, bundle branch and fascicular blocks, IVCD, WPW
    "HYP": ("164873001", "89792004", "67741000119109", "446813000", "253352002", "446358003", "67751000119106",
            "253339007", "266249003", "195126007"),  # ventricular and atrial hypertrophy / enlargement
}
"""SNOMED-CT codes of each superdiagnostic class (NORM as in :data:`SEED17_SNOMED`'s note)."""

TASK_SNOMED: dict[str, Mapping[str, tuple[str, ...]]] = {"seed17": SEED17_SNOMED,
                                                         "superdiagnostic": SUPERCLASS_SNOMED}
_DX_LINE = re.compile(r"^#\s*Dx:\s*(.*)$", re.MULTILINE)


def header_codes(header: Path) -> frozenset[str]:
    """The SNOMED-CT codes on the ``# Dx:`` line of a challenge header (empty when there is none)."""
    found = _DX_LINE.search(header.read_text(errors="replace"))
    return frozenset(parse_codes(found.group(1))) if found else frozenset()


def class_positive(task: str, code: str, dx: frozenset[str]) -> bool | None:
    """Whether class ``code`` of ``task`` is present on a record with SNOMED codes ``dx``; None when the class
    has no SNOMED-CT code (unknown)."""
    if code == NORMAL:
        return bool(dx) and dx <= SINUS_RHYTHMS
    codes = TASK_SNOMED[task].get(code)
    return None if codes is None else bool(dx.intersection(codes))


@dataclass(frozen=True)
class CinC:
    """A challenge folder: headers, their codes and sources.

    Attributes
    ----------
    root : Path
        The folder.
    headers : tuple of Path
        One ``.hea`` per record, sorted.
    dx : tuple of frozenset of str
        SNOMED-CT codes per record.
    sources : np.ndarray
        Per record, the subfolder of ``root`` it lies in (the hospital), or ``root``'s name.
    """

    root: Path
    headers: tuple[Path, ...]
    dx: tuple[frozenset[str], ...]
    sources: np.ndarray

    @staticmethod
    def is_cinc(root: str | Path) -> bool:
        """Whether ``root`` holds challenge records (a ``.hea`` with a ``.mat`` beside it), itself or one level down."""
        root = Path(root)
        return any(h.with_suffix(".mat").is_file() for pattern in ("*.hea", "*/*.hea") for h in root.glob(pattern))

    @classmethod
    def load(cls, root: str | Path) -> CinC:
        """Index the challenge records of ``root`` and of its subfolders."""
        root = Path(root)
        headers = tuple(sorted(h for pattern in ("*.hea", "*/*.hea") for h in root.glob(pattern)
                               if h.with_suffix(".mat").is_file()))
        if not headers:
            raise CardioScreenError(f"{root} holds no challenge records (.hea with .mat)")
        sources = np.array([h.parent.name if h.parent != root else root.name for h in headers])
        return cls(root, headers, tuple(header_codes(h) for h in headers), sources)

    def __len__(self) -> int:
        return len(self.headers)

    @property
    def record_ids(self) -> np.ndarray:
        """``<source>/<record name>`` per record."""
        return np.array([f"{s}/{h.stem}" for s, h in zip(self.sources, self.headers, strict=True)])

    def labels(self, task: str, classes: Sequence[str]) -> LabelSet:
        """Labels of ``classes`` of ``task`` (``seed17`` or ``superdiagnostic``) from the records' codes; classes
        without a SNOMED-CT code are masked."""
        if check_task(task) not in TASK_SNOMED:
            raise CardioScreenError(f"challenge codes map to seed17 and superdiagnostic only, not {task!r}")
        y = np.zeros((len(self), len(classes)), dtype=np.float32)
        mask = np.zeros_like(y, dtype=bool)
        for i, dx in enumerate(self.dx):
            for j, code in enumerate(classes):
                positive = class_positive(task, code, dx)
                if positive is not None:
                    y[i, j], mask[i, j] = float(positive), True
        return LabelSet(y=y, classes=tuple(classes), task=task, mask=mask)

    def read(self, i: int) -> ECGRecord:
        """Record ``i`` (mV, its own rate, length and leads)."""
        return read_ecg(self.headers[i])
