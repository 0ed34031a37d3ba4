"""The registry folder: ``<data dir>/models/<version>/`` bundles and ``registry.json`` (entries, active, history,
shadow).

A version is the bundle's content hash (:func:`cardioscreen.models.bundle.content_hash`). No active version means
the configured fallback bundle (the shipped model unless the deployment names another). Every change is a
read-modify-write of ``registry.json`` under an exclusive file lock, written to a temporary name and renamed, so the
web's worker processes, which re-read it when it changes (:meth:`ModelRegistry.state_stamp`), never see half of it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import content_hash, default_bundle_path, read_manifest

REGISTRY_DIR = "models"
STATE_FILE = "registry.json"
LOCK_FILE = ".lock"


def registry_dir(data_dir: Path) -> Path:
    """The registry folder of the app whose data folder is ``data_dir``."""
    return Path(data_dir) / REGISTRY_DIR


@dataclass(frozen=True)
class ModelEntry:
    """One registered bundle.

    Attributes
    ----------
    version : str
        Content hash of the bundle.
    path : str
        The bundle folder (inside the registry, or the fallback bundle's own folder).
    added_at : str
        ISO time (UTC) it was registered; "" for the fallback bundle.
    source : str
        Where it was registered from.
    training : dict
        Summary of its training data (folders, records per split, recipe, epochs, the bundle it started from).
    validation : dict
        Its recorded validation macro-AUC per task, with the 90 % interval and record count.
    note : str
        Free text given when it was added.
    """

    version: str
    path: str
    added_at: str = ""
    source: str = ""
    training: dict[str, Any] = field(default_factory=dict)
    validation: dict[str, Any] = field(default_factory=dict)
    note: str = ""


def describe_bundle(path: Path) -> tuple[dict[str, Any], dict[str, Any]]:
    """The training-data summary and the validation figures recorded in the bundle at ``path``'s manifest."""
    manifest = read_manifest(path)
    training = manifest.get("training", {})
    config = training.get("config", {})
    summary = {key: training[key] for key in ("recipe", "tasks", "data", "n_records", "init_from") if key in training}
    summary.update({"model": manifest["model"]["name"], **({"epochs": config["epochs"]} if "epochs" in config else {})})
    validation = {task: {key: figures.get(key) for key in ("macro_auc", "macro_auc_ci", "n_records")}
                  for task, figures in manifest.get("metrics", {}).get("validation", {}).items()
                  if isinstance(figures, dict)}
    return summary, validation


def _with_onnx(path: Path) -> None:
    """Store the bundle's ONNX graph (if it has none made from its weights), so that every worker starts on it
    without exporting it again."""
    from cardioscreen.models.bundle import load_bundle
    from cardioscreen.runtime import export_onnx, stored_onnx

    bundle = load_bundle(path, lazy_model=True)
    if stored_onnx(bundle) is None:
        export_onnx(bundle, save=True)


class ModelRegistry:
    """The registry in folder ``root`` (created on first change).

    Parameters
    ----------
    root : Path
        The registry folder (:func:`registry_dir` of the app's data folder).
    fallback : Path, optional
        The bundle in use while no version is active (default: the shipped model).
    """

    def __init__(self, root: Path, fallback: Path | None = None) -> None:
        self.root = Path(root)
        self.fallback = Path(fallback) if fallback is not None else default_bundle_path()

    # -- state -------------------------------------------------------------------------------------------------
    def _read(self) -> dict[str, Any]:
        path = self.root / STATE_FILE
        if not path.is_file():
            return {"models": {}, "active": None, "history": [], "shadow": None}
        state: dict[str, Any] = json.loads(path.read_text())
        return state

    def _write(self, state: dict[str, Any]) -> None:
        tmp = self.root / f".{STATE_FILE}.{os.getpid()}"
        tmp.write_text(json.dumps(state, indent=1) + "\n")
        os.replace(tmp, self.root / STATE_FILE)

    @contextlib.contextmanager
    def _changing(self) -> Iterator[dict[str, Any]]:
        """The state to change, written back when the block ends without an error (under the registry's lock)."""
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / LOCK_FILE).open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            state = self._read()
            yield state
            self._write(state)

    def state_stamp(self) -> float | None:
        """When ``registry.json`` last changed (None: never written); cheap, for workers polling for a promotion."""
        try:
            return (self.root / STATE_FILE).stat().st_mtime_ns / 1e9
        except FileNotFoundError:
            return None

    # -- reading -----------------------------------------------------------------------------------------------
    def fallback_entry(self) -> ModelEntry:
        training, validation = describe_bundle(self.fallback)
        return ModelEntry(version=content_hash(self.fallback), path=str(self.fallback), source="fallback",
                          training=training, validation=validation)

    def entries(self) -> list[ModelEntry]:
        """The fallback bundle, then every registered version in the order they were added."""
        registered = [ModelEntry(**entry) for entry in self._read()["models"].values()]
        fallback = self.fallback_entry()
        return [fallback, *(e for e in registered if e.version != fallback.version)]

    def get(self, version: str) -> ModelEntry:
        """The entry of ``version`` (a unique prefix will do); a clear error naming the versions otherwise."""
        entries = self.entries()
        matches = [e for e in entries if e.version.startswith(version)] if version else []
        if len(matches) != 1:
            known = ", ".join(e.version for e in entries)
            what = "is ambiguous" if matches else "is not registered"
            raise CardioScreenError(f"model version {version!r} {what}; registered: {known}")
        return matches[0]

    @property
    def active_version(self) -> str:
        return self._read()["active"] or self.fallback_entry().version

    @property
    def shadow_version(self) -> str | None:
        shadow: str | None = self._read()["shadow"]
        return shadow

    def active_path(self) -> Path:
        """The bundle new studies are analysed with."""
        active = self._read()["active"]
        return Path(self.get(active).path) if active else self.fallback

    def shadow_path(self) -> Path | None:
        """The shadow candidate's bundle, or None."""
        shadow = self.shadow_version
        return Path(self.get(shadow).path) if shadow else None

    def history(self) -> list[str]:
        """Versions active before the current one, most recent last."""
        fallback = self.fallback_entry().version
        return [version or fallback for version in self._read()["history"]]

    # -- changes -----------------------------------------------------------------------------------------------
    def add(self, bundle: Path, note: str = "") -> ModelEntry:
        """Copy the bundle at ``bundle`` into the registry (the same content twice is one version)."""
        bundle = Path(bundle)
        version = content_hash(bundle)
        training, validation = describe_bundle(bundle)
        with self._changing() as state:
            if version in state["models"]:
                return ModelEntry(**state["models"][version])
            target = self.root / version
            if not target.exists():
                shutil.copytree(bundle, target)
                _with_onnx(target)
            entry = ModelEntry(version=version, path=str(target), added_at=datetime.now(timezone.utc).isoformat(),
                               source=str(bundle.resolve()), training=training, validation=validation, note=note)
            state["models"][version] = asdict(entry)
        return entry

    def promote(self, version: str) -> tuple[str, str]:
        """Make ``version`` the active model; returns ``(previous, new)`` versions."""
        entry = self.get(version)
        fallback = self.fallback_entry().version
        with self._changing() as state:
            previous = state["active"] or fallback
            if entry.version == previous:
                raise CardioScreenError(f"model {entry.version} is already the active one")
            state["history"].append(state["active"])
            state["active"] = None if entry.version == fallback else entry.version
            if state["shadow"] == entry.version:
                state["shadow"] = None
        return previous, entry.version

    def rollback(self) -> tuple[str, str]:
        """Make the previously active version active again; returns ``(rolled back, restored)`` versions."""
        fallback = self.fallback_entry().version
        with self._changing() as state:
            if not state["history"]:
                raise CardioScreenError("no earlier active model to roll back to")
            current = state["active"] or fallback
            state["active"] = state["history"].pop()
            restored = state["active"] or fallback
        return current, restored

    def set_shadow(self, version: str | None) -> str | None:
        """Run ``version`` in shadow mode beside the active model (None: stop shadowing); returns it."""
        chosen = self.get(version).version if version else None
        if chosen is not None and chosen == self.active_version:
            raise CardioScreenError(f"model {chosen} is the active one; a shadow must be another")
        with self._changing() as state:
            state["shadow"] = chosen
        return chosen
