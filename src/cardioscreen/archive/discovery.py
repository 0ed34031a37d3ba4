"""The records of an archive: files found as ``cardioscreen analyze`` finds them, filtered, and their content hash."""

from __future__ import annotations

import fnmatch
import hashlib
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from cardioscreen.batch import WFDB_DATA_SUFFIXES, expand_inputs
from cardioscreen.errors import CardioScreenError
from cardioscreen.io.wfdb_format import header_path, signal_file_names

_BLOCK = 1 << 20


@dataclass(frozen=True)
class ArchiveFiles:
    """Records to analyse (absolute paths, sorted within each source) and the files skipped as not ECG records."""

    files: list[Path]
    skipped: list[Path]


def find_records(sources: Iterable[str | Path], *, glob: str | None = None, limit: int | None = None) -> ArchiveFiles:
    """The ECG records under ``sources`` (folders searched recursively, non-ECG files skipped and counted).

    Parameters
    ----------
    sources : iterable of str or Path
        Files and folders.
    glob : str, optional
        Keep only records whose path relative to its folder (or, for a file named directly, whose name) matches
        this shell pattern, e.g. ``"**/*_hr.hea"`` or ``"*.xml"``.
    limit : int, optional
        Keep the first ``limit`` records (after ``glob``), in the order found.
    """
    if limit is not None and limit < 1:
        raise CardioScreenError(f"--limit must be at least 1, got {limit}")
    files: list[Path] = []
    skipped: list[Path] = []
    for source in sources:
        root = Path(source)
        if not root.exists():
            raise CardioScreenError(f"{root}: no such file or folder")
        found = expand_inputs([root])
        skipped.extend(found.skipped)
        for path in found.files:
            relative = path.relative_to(root).as_posix() if root.is_dir() else path.name
            if glob is None or fnmatch.fnmatch(relative, glob) or fnmatch.fnmatch(path.name, glob):
                files.append(path.resolve())
    unique = list(dict.fromkeys(files))
    if glob is not None and not unique:
        raise CardioScreenError(f"no ECG record matches --glob {glob!r}")
    return ArchiveFiles(unique[:limit], skipped)


def record_files(path: Path) -> list[Path]:
    """The files that make up the record at ``path``: a WFDB record is its header and the signal files it names;
    any other format is the one file."""
    if path.suffix.lower() not in (".hea", *WFDB_DATA_SUFFIXES):
        return [path]
    try:
        header = header_path(path)
    except CardioScreenError:
        return [path]
    return [header] + [header.parent / name for name in signal_file_names(header.read_bytes())]


def content_sha256(path: Path) -> str:
    """SHA-256 (hex) over the record's files (:func:`record_files`: each file's name and bytes, in order).

    A missing or unreadable file gives a :class:`~cardioscreen.errors.CardioScreenError` naming it.
    """
    digest = hashlib.sha256()
    for file in record_files(path):
        digest.update(file.name.encode() + b"\0")
        try:
            with file.open("rb") as handle:
                while block := handle.read(_BLOCK):
                    digest.update(block)
        except OSError as exc:
            raise CardioScreenError(f"{path.name}: cannot read {file.name}: {exc.strerror or exc}") from exc
        digest.update(b"\0")
    return digest.hexdigest()


def hash_records(paths: Sequence[Path], *, threads: int = 4, progress: bool = True) -> list[str | CardioScreenError]:
    """:func:`content_sha256` of each path, in order, on ``threads`` threads (hashing releases the GIL; reading is
    what takes the time); a record that cannot be read gives its error instead of a hash."""

    def one(path: Path) -> str | CardioScreenError:
        try:
            return content_sha256(path)
        except CardioScreenError as exc:
            return exc

    with ThreadPoolExecutor(max(1, threads)) as pool:
        return list(tqdm(pool.map(one, paths), total=len(paths), unit="rec", desc="hashing", leave=False,
                         disable=not progress or len(paths) < 2))
