"""The work a worker does for one record: the pipeline's Analyzer, loaded once per worker, then one row per file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from cardioscreen.archive.rows import result_row
from cardioscreen.pipeline import Analyzer, AnalyzerConfig


class RowJob:
    """Picklable per-worker job: load the Analyzer once (``Analyzer.load``), then turn a file into its row.

    Parameters
    ----------
    bundle : Path or None
        Model bundle folder as the worker sees it (None: the model shipped with the worker's installation).
    config : AnalyzerConfig
        The same settings ``cardioscreen analyze`` runs with (no explanations: a batch stores no saliency).
    """

    def __init__(self, bundle: Path | None, config: AnalyzerConfig) -> None:
        self.analyzer = Analyzer.load(bundle, config)

    def __call__(self, path: Path) -> dict[str, Any]:
        record, result = self.analyzer.analyze_file(path)
        return result_row(path, result.to_dict(), record.meta, self.analyzer.model_version)
