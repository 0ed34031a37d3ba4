"""``cardioscreen analyze FILE|DIR ...``: the main job — calibrated, explained results for ECG files."""

from __future__ import annotations

import argparse
import json
import sys
from functools import partial
from pathlib import Path

from cardioscreen.batch import expand_inputs, map_files
from cardioscreen.errors import CardioScreenError
from cardioscreen.pipeline import Analyzer, AnalyzerConfig, FileJob
from cardioscreen.result import AnalysisResult

REPORT_SUFFIXES = (".html", ".pdf")


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze",
        help="analyse ECG files: per-class probabilities, quality, intervals, optional report",
        description="Analyse ECG files (any supported format) or folders of them. Research use only.",
    )
    parser.add_argument("inputs", nargs="+", metavar="FILE|DIR", help="ECG files or folders (searched recursively)")
    parser.add_argument("--json", action="store_true", help="print one JSON object per record (one line each)")
    parser.add_argument(
        "--report",
        type=Path,
        metavar="OUT",
        help="write a report: OUT.html or OUT.pdf for one record; for several, a folder (one report per record)",
    )
    parser.add_argument(
        "--report-format", choices=("html", "pdf"), default="html", help="format of reports in a folder"
    )
    parser.add_argument("--lang", choices=("en", "ru"), default="en", help="language of names and reports")
    parser.add_argument("--model", type=Path, metavar="BUNDLE", help="model bundle folder (default: the shipped model)")
    parser.add_argument("--backend", choices=("onnx", "torch"), default="onnx", help="inference engine")
    parser.add_argument("--powerline", type=float, choices=(50.0, 60.0), default=50.0, help="mains frequency, Hz")
    parser.add_argument("--jobs", type=int, default=None, help="worker processes (default: all cores)")
    parser.set_defaults(func=run)


def _report_target(report: Path | None, path: Path, several: bool, fmt: str) -> Path | None:
    if report is None:
        return None
    if not several:
        if report.suffix.lower() not in REPORT_SUFFIXES:
            raise CardioScreenError(f"report must end in .html or .pdf, got {report.name}")
        return report
    return report / f"{path.stem}.{fmt}"


def _interpretation_lines(result: AnalysisResult) -> list[str]:
    """The rhythm, the summary line and the numbered statements (source in brackets, then the evidence)."""
    lines = []
    if result.rhythm:
        rate = result.rhythm.get("heart_rate_bpm")
        lines.append(f"  rhythm: {result.rhythm['code']} ({result.rhythm['name']})"
                     + ("" if rate is None else f", {rate:.0f}/min"))
    if result.interpretation:
        lines.append(f"  summary: {result.interpretation['summary']}")
        for i, statement in enumerate(result.interpretation.get("statements") or (), start=1):
            mark = " DISAGREEMENT" if statement.get("disagreement") else ""
            evidence = f": {statement['evidence']}" if statement.get("evidence") else ""
            lines.append(f"    {i}. {statement['text']} [{statement['source']}{mark}]{evidence}")
    return lines


def format_table(result: AnalysisResult) -> str:
    """A plain-text summary: quality, the interpretation (rhythm, summary line, statements), intervals and the
    predictions sorted by probability, each with its caveat; a class the model does not assess comes last, with
    a dash for its probability. A refused record shows why (its interpretation says the same)."""
    lines = [f"{result.record}: quality {result.quality.get('verdict', '?')}"]
    if result.refused:
        lines.append(f"  REFUSED: {result.refusal}")
        return "\n".join(lines)
    lines += _interpretation_lines(result)
    intervals = result.intervals or {}
    shown = [
        f"{key}={value:.0f}" if isinstance(value, float) else f"{key}={value}"
        for key, value in intervals.items()
        if key.endswith(("_ms", "_bpm", "_deg")) and value is not None
    ]
    if shown:
        lines.append("  " + "  ".join(shown))
    lines.append(f"  {'code':<8} {'task':<16} {'name':<48} {'prob':>6}  flag")
    for p in sorted(result.predictions, key=lambda p: (not p.assessed, -p.probability)):
        probability = f"{p.probability:6.3f}" if p.assessed else f"{'-':>6}"
        flag = " ".join(part for part in ("YES" if p.flagged else "", p.note) if part)
        lines.append(f"  {p.code:<8} {p.task:<16} {p.name[:48]:<48} {probability}  {flag}".rstrip())
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    inputs = expand_inputs(args.inputs)
    paths = inputs.files
    if inputs.skipped:
        names = ", ".join(p.name for p in inputs.skipped[:3]) + (", ..." if len(inputs.skipped) > 3 else "")
        print(f"skipped {len(inputs.skipped)} files that are not ECG records ({names})", file=sys.stderr, flush=True)
    several = len(paths) > 1
    if args.report is not None and several:
        args.report.mkdir(parents=True, exist_ok=True)
    config = AnalyzerConfig(
        backend=args.backend, explain=args.report is not None, lang=args.lang, powerline_hz=args.powerline
    )
    Analyzer.check_bundle(args.model)
    make_job = partial(
        FileJob,
        bundle=args.model,
        config=config,
        report_for=partial(_report_target, args.report, several=several, fmt=args.report_format),
    )
    failures = 0
    for outcome in map_files(make_job, paths, jobs=args.jobs):
        if not outcome.ok or outcome.value is None:
            failures += 1
            print(f"{outcome.path}: error: {outcome.error}", file=sys.stderr, flush=True)
            continue
        result = outcome.value
        print(json.dumps(result.to_dict()) if args.json else format_table(result), flush=True)
    if failures:
        print(f"{failures} of {len(paths)} files failed", file=sys.stderr)
    return 1 if failures else 0
