"""Memory-mapped array stores built once, so training epochs do not re-parse WFDB files.

A store is ``<dir>/<name>.npy`` (an ``.npy`` file opened with ``mmap_mode="r"``) plus ``<dir>/<name>.ids.npy``
(the record ids of its rows). It is written to a temporary name and renamed when complete, so an interrupted
build never leaves a store that looks valid.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

from cardioscreen.errors import CardioScreenError

logger = logging.getLogger(__name__)

CACHE_ENV = "CARDIOSCREEN_CACHE"
"""Environment variable naming the cache folder (overrides the defaults)."""


def default_cache_dir(data_dir: Path) -> Path:
    """Where stores for the dataset in ``data_dir`` go: ``$CARDIOSCREEN_CACHE/<tag>`` when set, else
    ``$XDG_CACHE_HOME/cardioscreen/<tag>`` (``~/.cache/cardioscreen/<tag>``).

    ``<tag>`` names the dataset folder uniquely. The dataset folder itself is never written to (shared data
    folders are read-only, and a root process would write into them all the same).
    """
    data_dir = Path(data_dir).resolve()
    tag = f"{data_dir.name}-{hashlib.sha1(str(data_dir).encode()).hexdigest()[:10]}"
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]) / tag
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "cardioscreen" / tag


def open_store(path: Path) -> tuple[np.ndarray, np.ndarray] | None:
    """The store at ``path`` (``.npy``) as ``(memmap array, ids)``, or None if it is absent or incomplete."""
    ids_path = path.with_suffix(".ids.npy")
    if not (path.is_file() and ids_path.is_file()):
        return None
    array = np.load(path, mmap_mode="r")
    ids = np.load(ids_path)
    if len(ids) != array.shape[0]:
        logger.warning("store %s has %d rows for %d ids; ignoring it", path, array.shape[0], len(ids))
        return None
    return array, ids


def build_store(
    path: Path,
    ids: Sequence[int],
    shape: tuple[int, ...],
    read_row: Callable[[int], np.ndarray],
    *,
    dtype: str = "float32",
    desc: str = "caching",
) -> tuple[np.ndarray, np.ndarray]:
    """Write one row per id (``read_row(id)`` of shape ``shape``) into a new store at ``path`` and open it."""
    from numpy.lib.format import open_memmap

    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    out = open_memmap(tmp, mode="w+", dtype=np.dtype(dtype), shape=(len(ids), *shape))
    try:
        for row, record_id in enumerate(tqdm(ids, desc=desc, unit="rec")):
            value = read_row(int(record_id))
            if value.shape != shape:
                raise CardioScreenError(f"record {record_id} has shape {value.shape}; the store expects {shape}")
            out[row] = value
        out.flush()
        del out
        np.save(path.with_suffix(".ids.npy"), np.asarray(ids, dtype=np.int64))
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()
    logger.info("built %s (%d rows)", path, len(ids))
    stored = open_store(path)
    assert stored is not None
    return stored


def rows_for(ids_stored: np.ndarray, wanted: Sequence[int] | np.ndarray) -> np.ndarray | None:
    """Row indices of ``wanted`` in ``ids_stored``, or None if some are missing."""
    order = np.argsort(ids_stored)
    wanted_arr = np.asarray(wanted, dtype=np.int64)
    pos = np.searchsorted(ids_stored, wanted_arr, sorter=order)
    pos = np.clip(pos, 0, len(order) - 1) if len(order) else pos
    if len(order) == 0 or not np.array_equal(ids_stored[order[pos]], wanted_arr):
        return None
    return np.asarray(order[pos])
