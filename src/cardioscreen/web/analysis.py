"""The analysis step of an upload: the pipeline's :class:`~cardioscreen.pipeline.Analyzer`, loaded once per process.

The app takes any ``Callable[[ECGRecord], AnalysisResult]`` (see :func:`cardioscreen.web.main.create_app`), so a
deployment can pass an analyzer loaded from another model bundle. With a model registry
(:class:`~cardioscreen.registry.ModelRegistry`), every job first checks whether the registry changed (one ``stat``),
so a worker analyses with a newly promoted (or rolled back) version from its next job on, without a restart; the
shadow candidate, when one is set, is run by :meth:`PipelineAnalysis.shadow`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from cardioscreen.record import ECGRecord
from cardioscreen.result import AnalysisResult
from cardioscreen.web.models import LANGUAGES

logger = logging.getLogger(__name__)

AnalyzeFn = Callable[[ECGRecord], AnalysisResult]


class PipelineAnalysis:
    """Analyse records with the pipeline's Analyzer, loaded from ``bundle_path`` on first use.

    Parameters
    ----------
    bundle_path : Path, optional
        Model bundle; None loads the default bundle shipped with the package. With ``registry_dir``, the bundle in
        use while the registry has no active version.
    explain : bool
        Add per-class saliency for the flagged classes (integrated gradients: about a second per flagged class
        on one core, so the app computes it when a plot or report is first asked for, not at upload).
    registry_dir : Path, optional
        A model registry folder: analyse with its active version, and its shadow candidate in :meth:`shadow`.
    """

    def __init__(self, bundle_path: Path | None = None, explain: bool = False,
                 registry_dir: Path | None = None) -> None:
        self.bundle_path = bundle_path
        self.explain = explain
        self.registry_dir = registry_dir
        self._analyzers: dict[Path | None, Any] = {}
        self._stamp: float | None = None
        self._paths: tuple[Path | None, Path | None] = (bundle_path, None)
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """What a worker process receives: the settings; it loads its own model (see :mod:`~.sandbox`)."""
        return {"bundle_path": self.bundle_path, "explain": self.explain, "registry_dir": self.registry_dir}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def warm_up(self) -> None:
        """Load the model now (servers call this at start so the first upload does not wait for it)."""
        self._load(self._current()[0])

    def _current(self) -> tuple[Path | None, Path | None]:
        """The active and the shadow bundle paths, re-read from the registry when it changed."""
        if self.registry_dir is None:
            return self._paths
        from cardioscreen.registry import ModelRegistry

        registry = ModelRegistry(self.registry_dir, self.bundle_path)
        stamp = registry.state_stamp()
        with self._lock:
            if stamp != self._stamp:
                self._paths = (registry.active_path(), registry.shadow_path())
                self._stamp = stamp
                self._analyzers = {path: a for path, a in self._analyzers.items() if path in self._paths}
                logger.info("model registry: active %s, shadow %s", *self._paths)
            return self._paths

    def _load(self, path: Path | None) -> Any:
        with self._lock:
            if path not in self._analyzers:
                from cardioscreen.pipeline import Analyzer, AnalyzerConfig

                # English results, worded in every other page language too (the pages follow the reader's)
                others = tuple(lang for lang in LANGUAGES if lang != "en")
                config = AnalyzerConfig(explain=self.explain, translations=others)
                self._analyzers[path] = Analyzer.load(bundle_path=path, config=config)
                logger.info("analysis model loaded from %s", path or "the package")
            return self._analyzers[path]

    def __call__(self, record: ECGRecord) -> AnalysisResult:
        result: AnalysisResult = self._load(self._current()[0]).analyze(record)
        return result

    def shadow(self, record: ECGRecord) -> dict[str, Any] | None:
        """The shadow candidate's findings on ``record`` (``{"model_version", "predictions": [{code, probability,
        flagged}]}``), or None without a candidate or for a record it refuses."""
        path = self._current()[1]
        if path is None:
            return None
        analyzer = self._load(path)
        result: AnalysisResult = analyzer.analyze(record)
        if result.refused:
            return None
        return {"model_version": analyzer.model_version,
                "predictions": [{"code": p.code, "probability": p.probability, "flagged": p.flagged}
                                for p in result.predictions]}

