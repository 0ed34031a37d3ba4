"""The analysis step of an upload: the pipeline's :class:`~cardioscreen.pipeline.Analyzer`, loaded once per process.

The app takes any ``Callable[[ECGRecord], AnalysisResult]`` (see :func:`cardioscreen.web.main.create_app`), so a
deployment can pass an analyzer loaded from another model bundle.
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
        Model bundle; None loads the default bundle shipped with the package.
    explain : bool
        Add per-class saliency for the flagged classes (integrated gradients: about a second per flagged class
        on one core, so the app computes it when a plot or report is first asked for, not at upload).
    """

    def __init__(self, bundle_path: Path | None = None, explain: bool = False) -> None:
        self.bundle_path = bundle_path
        self.explain = explain
        self._analyzer: Any = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        """What a worker process receives: the settings; it loads its own model (see :mod:`~.sandbox`)."""
        return {"bundle_path": self.bundle_path, "explain": self.explain}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(**state)  # type: ignore[misc]

    def warm_up(self) -> None:
        """Load the model now (servers call this at start so the first upload does not wait for it)."""
        self._load()

    def _load(self) -> Any:
        with self._lock:
            if self._analyzer is None:
                from cardioscreen.pipeline import Analyzer, AnalyzerConfig

                # English results, worded in every other page language too (the pages follow the reader's)
                others = tuple(lang for lang in LANGUAGES if lang != "en")
                config = AnalyzerConfig(explain=self.explain, translations=others)
                self._analyzer = Analyzer.load(bundle_path=self.bundle_path, config=config)
                logger.info("analysis model loaded")
            return self._analyzer

    def __call__(self, record: ECGRecord) -> AnalysisResult:
        result: AnalysisResult = self._load().analyze(record)
        return result
