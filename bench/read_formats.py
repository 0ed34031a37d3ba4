"""Read time per clinical format (median of repeated reads) beside wfdb.rdrecord of a PTB-XL 500 Hz record.

Every figure comes from the same run, on one core; ratios are against ``wfdb.rdrecord``. For Sierra files the
``sierraecg.read_file`` time is printed too (this reader parses the XML once and decodes XLI with
sierraecg's LZW decoder, checking every chunk). When ``ecgdatakit`` is importable (it is not a dependency: its wheel
carries a 64 MB weights file; ``pip install ecgdatakit`` into a scratch environment), its read time, NaN count,
missing leads and largest difference from our samples are printed too.
"""

from __future__ import annotations

import importlib.util
import warnings
from pathlib import Path

import numpy as np

from bench.common import SHARED_DATA, median_seconds, single_core

FILES = {
    "hl7-aecg": "hl7-aecg/hl7_example_aecg.xml",
    "dicom": "dicom/ecgtoolkit_example.dcm",
    "scp-ecg": "scp-ecg/ecgtoolkit_example.scp",
    "sierra 1.03": "philips-sierra/sierra_1.03_129DYPRG.xml",
    "sierra 1.04": "philips-sierra/sierra_1.04_ad4d3d80-d165.xml",
    "muse": "ge-muse/musephi_muse_ecg1.xml",
}
PTBXL_RECORD = SHARED_DATA / "ptbxl" / "records500" / "00000" / "00001_hr"
REPEATS = 30


def _row(label: str, seconds: float, reference: float) -> None:
    print(f"{label:<34} {seconds * 1e3:9.2f} ms   {seconds / reference:6.2f} x wfdb")


def main() -> None:
    import sierraecg
    import wfdb

    from cardioscreen.io import read_ecg

    single_core()
    formats = SHARED_DATA / "formats"
    reference = median_seconds(lambda: wfdb.rdrecord(str(PTBXL_RECORD)), repeats=REPEATS)
    print(f"median of {REPEATS} reads, one core; files from {formats}")
    print(f"{'reader':<34} {'time':>12}   {'ratio':>6}")
    _row("wfdb.rdrecord PTB-XL 00001_hr", reference, reference)
    _row("read_ecg PTB-XL 00001_hr (wfdb)", median_seconds(lambda: read_ecg(PTBXL_RECORD), repeats=REPEATS),
         reference)
    for label, name in FILES.items():
        path = Path(formats / name)
        record = read_ecg(path)
        seconds = median_seconds(lambda path=path: read_ecg(path), repeats=REPEATS)
        _row(f"read_ecg {label} ({record.n_leads}x{record.n_samples})", seconds, reference)
        if label.startswith("sierra"):
            _row(f"  sierraecg.read_file {label}", median_seconds(
                lambda path=path: sierraecg.read_file(str(path), include_repbeats=True), repeats=REPEATS
            ), reference)
    if importlib.util.find_spec("ecgdatakit") is None:
        print("\necgdatakit not installed: comparison skipped")
    else:
        _ecgdatakit_rows(formats, reference)


def _ecgdatakit_rows(formats: Path, reference: float) -> None:
    """ecgdatakit on the same files: time, NaN samples, leads it lacks, max |difference| from ours (mV)."""
    from ecgdatakit import FileParser

    from cardioscreen.io import read_ecg
    from cardioscreen.leads import normalize_lead_name

    parser = FileParser()
    print("\necgdatakit (same run): NaN samples, leads it lacks, max |ecgdatakit - ours| over its non-NaN samples")
    for label, name in FILES.items():
        path = formats / name
        ours = read_ecg(path)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            seconds = median_seconds(lambda path=path: parser.parse(path), repeats=REPEATS)
            parsed = parser.parse(path)
        theirs = {}
        for lead in parsed.leads:
            physical = lead.to_physical() if lead.is_raw else lead
            to_mv = {"uV": 1e-3, "mV": 1.0, "nV": 1e-6}[physical.units]
            theirs[normalize_lead_name(physical.label)] = np.asarray(physical.samples, dtype=float) * to_mv
        nan = sum(int(np.isnan(values).sum()) for values in theirs.values())
        lacking = [lead for lead in ours.leads if lead not in theirs]
        diff = max(float(np.nanmax(np.abs(theirs[lead][: ours.n_samples] - ours.lead(lead))))
                   for lead in ours.leads if lead in theirs)
        _row(f"ecgdatakit {label}", seconds, reference)
        print(f"{'':<34} NaN {nan}, lacks {lacking or 'none'}, {len(next(iter(theirs.values())))} samples/lead "
              f"(ours {ours.n_samples}), max diff {diff:.4f} mV")
