"""The tables of an archive's summary, computed from its rows: counts per finding, prevalence by age band and sex,
and the records to look at (atrial fibrillation or flutter, long QTc, a STEMI pattern, refusals, failures)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from cardioscreen.interpret.criteria.repolarization import TERRITORIES
from cardioscreen.rhythm.analysis import DISORGANISED

LONG_QT = "LNGQT"
"""Interpretation statement of a prolonged QTc (sex-specific limits, :mod:`~cardioscreen.interpret`)."""
STEMI = tuple(TERRITORIES)
"""Interpretation statements of an acute STEMI pattern, one per territory."""
AGE_BANDS = (0, 40, 60, 80, 200)
"""Age band edges (years): <40, 40-59, 60-79, 80+."""
AGE_LABELS = (f"<{AGE_BANDS[1]}", *(f"{lo}-{hi - 1}" for lo, hi in zip(AGE_BANDS[1:-2], AGE_BANDS[2:-1], strict=True)),
              f"{AGE_BANDS[-2]}+")
"""Their names, youngest first."""
LISTED = ["record", "path", "age", "sex", "rhythm", "hr_bpm", "qtc_bazett_ms", "qtc_framingham_ms", "summary"]
"""Columns of the lists of records."""


@dataclass(frozen=True)
class Summary:
    """Every table of the summary (pandas DataFrames, one row per count or per record)."""

    n_records: int
    n_refused: int
    n_failed: int
    findings: pd.DataFrame
    prevalence: pd.DataFrame
    af: pd.DataFrame
    long_qtc: pd.DataFrame
    stemi: pd.DataFrame
    refused: pd.DataFrame
    failures: pd.DataFrame


def _flag_columns(rows: pd.DataFrame) -> list[str]:
    return [c for c in rows.columns if c.startswith("flag_")]


def findings(rows: pd.DataFrame) -> pd.DataFrame:
    """Counts and share of analysed (not refused) records per finding: each model class flagged, each rhythm, each
    interpretation statement and each quality verdict (``kind``, ``finding``, ``records``, ``percent``)."""
    analysed = rows[~rows["refused"]]
    n = max(len(analysed), 1)
    parts = [pd.DataFrame({"kind": "model flag", "finding": [c.removeprefix("flag_") for c in _flag_columns(rows)],
                           "records": [int(analysed[c].fillna(False).astype(bool).sum())
                                       for c in _flag_columns(rows)]}),
             _counts("rhythm", analysed["rhythm"].dropna()),
             _counts("statement", analysed["statements"].explode().dropna()),
             _counts("quality", rows["quality"].dropna())]
    table = pd.concat(parts, ignore_index=True)
    table["percent"] = (100.0 * table["records"] / [len(rows) if k == "quality" else n for k in table["kind"]]).round(2)
    return table


def _counts(kind: str, values: pd.Series) -> pd.DataFrame:
    counts = values.value_counts()
    return pd.DataFrame({"kind": kind, "finding": counts.index.astype(str), "records": counts.to_numpy(dtype=int)})


def age_band(age: pd.Series) -> pd.Series:
    """``"<40"``, ``"40-59"``, ``"60-79"``, ``"80+"`` or ``"unknown"`` per age (years)."""
    bands = pd.cut(age, bins=list(AGE_BANDS), right=False, labels=list(AGE_LABELS))
    return bands.astype(str).where(age.notna(), "unknown")


def prevalence(rows: pd.DataFrame) -> pd.DataFrame:
    """Share of analysed records with each model flag, AF/flutter, long QTc and a STEMI pattern, per age band and
    sex (``age_band``, ``sex``, ``finding``, ``records``, ``with_finding``, ``percent``)."""
    analysed = rows[~rows["refused"]].copy()
    analysed["age_band"] = age_band(analysed["age"])
    analysed["sex"] = analysed["sex"].fillna("unknown")
    marks = {c.removeprefix("flag_"): analysed[c].fillna(False).astype(bool) for c in _flag_columns(analysed)}
    marks |= {"AF or flutter": analysed["rhythm"].isin(DISORGANISED),
              "long QTc": analysed["statements"].apply(lambda s: LONG_QT in list(s)),
              "STEMI pattern": analysed["statements"].apply(lambda s: bool(set(s) & set(STEMI)))}
    out = []
    for (band, sex), group in analysed.groupby(["age_band", "sex"]):
        for finding, mark in marks.items():
            with_finding = int(mark.loc[group.index].sum())
            out.append({"age_band": band, "sex": sex, "finding": finding, "records": len(group),
                        "with_finding": with_finding, "percent": round(100.0 * with_finding / len(group), 2)})
    return pd.DataFrame(out, columns=["age_band", "sex", "finding", "records", "with_finding", "percent"])


def summarise(rows: pd.DataFrame, failures: pd.DataFrame) -> Summary:
    """The summary of one model version's ``rows`` and ``failures``."""
    analysed = rows[~rows["refused"]]
    statements = analysed["statements"].apply(set)
    refused = rows[rows["refused"]]
    return Summary(
        n_records=len(rows),
        n_refused=len(refused),
        n_failed=len(failures),
        findings=findings(rows),
        prevalence=prevalence(rows),
        af=analysed.loc[analysed["rhythm"].isin(DISORGANISED), LISTED],
        long_qtc=analysed.loc[statements.apply(lambda s: LONG_QT in s), LISTED],
        stemi=analysed.loc[statements.apply(lambda s: bool(s & set(STEMI))), LISTED].assign(
            pattern=statements[statements.apply(lambda s: bool(s & set(STEMI)))].apply(
                lambda s: ", ".join(sorted(s & set(STEMI))))),
        refused=refused[["record", "path", "quality", "refusal"]].sort_values(["refusal", "path"]),
        failures=failures[["path", "stage", "error"]].sort_values(["stage", "error", "path"]),
    )
