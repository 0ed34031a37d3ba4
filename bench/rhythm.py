"""Rhythm analysis (``ecg_rhythm``) on dev data, beside neurokit2's HRV-based AF rule.

Printed:
- per rhythm class, sensitivity / specificity against the labels of PTB-XL fold 9 (validation: the classifier's
  class weights and the rule/classifier combination were chosen on it), LUDB's 100 shared records (the U-Net
  that gives the 12-lead P waves was trained on them) and the challenge records with a rhythm SNOMED code; for
  the combined call, the rules alone and the classifier alone; 12 leads and lead II alone;
- AF/AFL detection (AFIB or AFLT against the rest) beside the peer rule: neurokit2 ``hrv_time`` on its own
  R-peaks (``ecg_peaks``, lead II / MLII), AF where the normalised RMSSD (``HRV_CVSD`` = RMSSD / mean NN) is at
  least 0.1, the RMSSD criterion of Dash et al. (Ann. Biomed. Eng. 37:1701, 2009);
- AF/AFL episode time sensitivity and PPV on MIT-BIH 201 and 202 (reference: the rhythm aux notes ``(AFIB``,
  ``(AFL`` of the ``.atr`` files), ours from the episodes, the peer's from the same 10 s windows every 5 s.

Reproduce: ``python -m bench rhythm`` (about a minute of one core).
"""

from __future__ import annotations

import logging
import re
import warnings
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import wfdb

from bench.common import SHARED_DATA, single_core
from cardioscreen.datasets.ptbxl import PTBXL
from cardioscreen.io import read_ecg
from cardioscreen.leads import STANDARD_LEADS
from cardioscreen.rhythm import ecg_rhythm
from cardioscreen.rhythm.episodes import merge_episodes, windows
from cardioscreen.rhythm.training import CLASSES, rhythm_label
from cardioscreen.signal.clean import ecg_clean

AF_CODES = frozenset({"AFIB", "AFLT"})
SNOMED_RHYTHM = {
    "164890007": "AFLT", "164889003": "AFIB", "426761007": "SVTAC", "427084000": "STACH", "426177001": "SBRAD",
    "427393009": "SARRH", "426783006": "SR", "10370003": "PACE",
}
"""Challenge SNOMED-CT codes of rhythms, in the priority order of a record's label."""
LUDB_RHYTHM = {
    "Atrial flutter": "AFLT", "Atrial fibrillation": "AFIB", "Sinus tachycardia": "STACH",
    "Sinus bradycardia": "SBRAD", "Sinus arrhythmia": "SARRH", "Sinus rhythm": "SR",
}
MITDB_AF = ("(AFIB", "(AFL")
PEER_CVSD = 0.1
Record = tuple[str, np.ndarray, float, tuple[str, ...]]


def _ptbxl_fold9() -> Iterator[tuple[Record, str]]:
    ds = PTBXL.load(SHARED_DATA / "ptbxl").in_folds([9])
    for ecg_id, codes in zip(ds.ecg_ids, ds.meta["scp_codes"], strict=True):
        label = rhythm_label(codes)
        if label is not None:
            yield (f"ptbxl/{ecg_id}", ds.read_signal(int(ecg_id), 500), 500.0, STANDARD_LEADS), label


def _ludb() -> Iterator[tuple[Record, str]]:
    table = pd.read_csv(SHARED_DATA / "ludb" / "ludb.csv")
    for _, row in table.iterrows():
        rhythm, pacing = str(row["Rhythms"]).strip(), row["Cardiac pacing"]
        label = "PACE" if isinstance(pacing, str) and "pacing" in pacing.lower() else next(
            (code for name, code in LUDB_RHYTHM.items() if rhythm.startswith(name)), None)
        if label is not None:
            rec = read_ecg(SHARED_DATA / "ludb" / f"{row['ID']}.hea", standard12=True)
            yield (f"ludb/{row['ID']}", rec.signal, rec.fs, rec.leads), label


def _challenge() -> Iterator[tuple[Record, str]]:
    for header in sorted((SHARED_DATA / "challenge").glob("*/*.hea")):
        dx = re.search(r"#\s*Dx:\s*([\d,]+)", header.read_text())
        codes = set(dx.group(1).split(",")) if dx else set()
        label = next((SNOMED_RHYTHM[c] for c in SNOMED_RHYTHM if c in codes), None)
        if label is None:
            continue
        try:
            rec = read_ecg(header, standard12=True)
        except Exception:  # noqa: BLE001 - a record the reader refuses is left out and counted
            logging.getLogger(__name__).warning("challenge record %s not read", header.name)
            continue
        yield (f"challenge/{header.parent.name}/{header.stem}", rec.signal, rec.fs, rec.leads), label


def _peer_af(lead: np.ndarray, fs: float, bounds: Sequence[tuple[int, int]] | None = None) -> list[bool]:
    """neurokit2's AF call per window (whole signal when ``bounds`` is None): HRV_CVSD >= PEER_CVSD."""
    import neurokit2 as nk

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        cleaned = nk.ecg_clean(lead, sampling_rate=int(fs))
        peaks = np.asarray(nk.ecg_peaks(cleaned, sampling_rate=int(fs))[1]["ECG_R_Peaks"])
        out = []
        for a, b in bounds or [(0, lead.size)]:
            inside = peaks[(peaks >= a) & (peaks < b)]
            if inside.size < 4:
                out.append(False)
                continue
            cvsd = float(nk.hrv_time(inside, sampling_rate=int(fs))["HRV_CVSD"].iloc[0])
            out.append(bool(cvsd >= PEER_CVSD))
    return out


def _analyse(record: Record, leads: Sequence[str]) -> dict[str, str]:
    _, signal, fs, names = record
    rows = [list(names).index(lead) for lead in leads]
    raw = np.asarray(signal, dtype=np.float64)[rows]
    result = ecg_rhythm(ecg_clean(raw, fs), fs, tuple(leads), raw=raw)
    return {"combined": result.code, "rules": result.measurement_code or "UNDET", "model": result.model_code or ""}


def _scores(truth: np.ndarray, predicted: np.ndarray, classes: Sequence[str]) -> list[str]:
    cells = []
    for c in classes:
        pos = truth == c
        if pos.any():
            cells.append(f"{c} {np.mean(predicted[pos] == c):.2f}/{np.mean(predicted[~pos] != c):.2f} (n={pos.sum()})")
    return cells


def _class_table(name: str, data: Callable[[], Iterator[tuple[Record, str]]]) -> None:
    lead_sets = {"12 leads": STANDARD_LEADS, "lead II": ("II",)}
    calls: dict[str, dict[str, list[str]]] = {s: {"combined": [], "rules": [], "model": []} for s in lead_sets}
    peer, truth = [], []
    for record, label in data():
        truth.append(label)
        lead_ii = np.asarray(record[1][list(record[3]).index("II")], dtype=np.float64)
        peer.append("AF" if _peer_af(lead_ii, record[2])[0] else "-")
        for set_name, leads in lead_sets.items():
            for how, code in _analyse(record, leads).items():
                calls[set_name][how].append(code)
    y = np.array(truth)
    print(f"\n{name}: {y.size} records with a rhythm label; sensitivity/specificity per class")
    for set_name in lead_sets:
        for how, codes in calls[set_name].items():
            print(f"  {set_name:9s} {how:9s} " + "; ".join(_scores(y, np.array(codes), CLASSES)))
    y_af = np.where(np.isin(y, list(AF_CODES)), "AF", "-")
    for set_name in lead_sets:
        ours = np.where(np.isin(calls[set_name]["combined"], list(AF_CODES)), "AF", "-")
        print(f"  AF/AFL    cardioscreen {set_name:9s} " + "; ".join(_scores(y_af, ours, ["AF"])))
    print("  AF/AFL    neurokit2 HRV_CVSD>=0.1 (II) " + "; ".join(_scores(y_af, np.array(peer), ["AF"])))


def _mitdb_reference(path: Path, n: int) -> np.ndarray:
    """Per-sample AF/AFL mask from the rhythm aux notes."""
    ann = wfdb.rdann(str(path), "atr")
    mask = np.zeros(n, dtype=bool)
    changes = [(int(s), note.strip("\x00")) for s, note, sym in zip(ann.sample, ann.aux_note, ann.symbol, strict=True)
               if sym == "+"]
    for (start, note), (stop, _) in zip(changes, changes[1:] + [(n, "")], strict=True):
        mask[start:stop] = note in MITDB_AF
    return mask


def _time_scores(ref: np.ndarray, det: np.ndarray) -> str:
    overlap = float(np.sum(ref & det))
    sens = overlap / ref.sum() if ref.any() else float("nan")
    ppv = overlap / det.sum() if det.any() else float("nan")
    return f"sensitivity {sens:.3f}, PPV {ppv:.3f} (reference {ref.sum() / 360 / 60:.1f} min)"


def _mitdb() -> None:
    print("\nMIT-BIH 201 and 202: AF/AFL episode time (2 leads, 360 Hz, 30 min)")
    refs, ours_all, peers_all = [], [], []
    for name in ("201", "202"):
        path = SHARED_DATA / "mitdb" / name
        rec = read_ecg(path.with_suffix(".hea"))
        raw = rec.signal.astype(np.float64)
        n, fs = raw.shape[-1], rec.fs
        result = ecg_rhythm(ecg_clean(raw, fs), fs, rec.leads, raw=raw)
        ours = np.zeros(n, dtype=bool)
        for e in result.episodes:
            if e.code in AF_CODES:
                ours[round(e.start_s * fs): round(e.end_s * fs)] = True
        bounds = windows(n, fs)
        peer_labels = ["AF" if af else "-" for af in _peer_af(raw[0], fs, bounds)]
        peer = np.zeros(n, dtype=bool)
        for e in merge_episodes(peer_labels, bounds, fs, n):
            if e.code == "AF":
                peer[round(e.start_s * fs): round(e.end_s * fs)] = True
        ref = _mitdb_reference(path, n)
        print(f"  {name} cardioscreen: {_time_scores(ref, ours)}; {len(result.episodes)} episodes")
        print(f"  {name} neurokit2 HRV_CVSD>=0.1 (MLII): {_time_scores(ref, peer)}")
        refs.append(ref)
        ours_all.append(ours)
        peers_all.append(peer)
    print(f"  both cardioscreen: {_time_scores(np.concatenate(refs), np.concatenate(ours_all))}")
    print(f"  both neurokit2:    {_time_scores(np.concatenate(refs), np.concatenate(peers_all))}")


def main() -> None:
    single_core()
    logging.getLogger("cardioscreen").setLevel(logging.ERROR)
    _class_table("PTB-XL fold 9 (validation)", _ptbxl_fold9)
    _class_table("LUDB (shared half)", _ludb)
    _class_table("Challenge records (SNOMED rhythm codes)", _challenge)
    _mitdb()


if __name__ == "__main__":
    main()
