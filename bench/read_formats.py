"""Read time per clinical format (median of repeated reads) beside wfdb.rdrecord of a PTB-XL 500 Hz record.

Every figure comes from the same run, on one core; ratios are against ``wfdb.rdrecord``. For Sierra files the
``sierraecg.read_file`` time is printed too (this reader parses the XML once and decodes XLI with
sierraecg's LZW and delta decoders, checking every chunk).
"""

from __future__ import annotations

from pathlib import Path

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
