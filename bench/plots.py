"""Draw the benchmark pages' plots (``docs/benchmarks/img/*.png``) from ``docs/benchmarks/figures.json``.

Each entry of that file holds figures printed by one bench run, with the bench command that printed them; the plot
names that command under its title. When a bench is re-run, update its entry and run ``python -m bench plots``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks"
FIGURES = DOCS / "figures.json"
OUT = DOCS / "img"


def _finish(fig: Figure, entry: dict[str, Any], name: str) -> Path:
    fig.suptitle(entry["title"], fontsize=10)
    fig.text(0.01, 0.01, f"from: {entry['command']}", fontsize=7, color="0.35")
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    path = OUT / f"{name}.png"
    fig.savefig(path, dpi=110, metadata={"Software": None})
    plt.close(fig)
    return path


def plot_accuracy(entry: dict[str, Any]) -> Path:
    """Macro-AUC with its interval, per task and model."""
    fig, axes = plt.subplots(1, len(entry["tasks"]), figsize=(8, 2.6), sharex=True)
    labels = [row["label"] for row in entry["rows"]]
    for ax, task in zip(axes, entry["tasks"], strict=True):
        for y, row in enumerate(entry["rows"]):
            point, low, high = row[task]
            ax.errorbar(point, y, xerr=[[point - low], [high - point]], fmt="o", capsize=4)
        ax.set_yticks(range(len(labels)), labels if ax is axes[0] else [""] * len(labels), fontsize=8)
        ax.set_title(task, fontsize=9)
        ax.set_xlabel("macro-AUC")
        ax.invert_yaxis()
    return _finish(fig, entry, "accuracy")


def plot_peaks(entry: dict[str, Any]) -> Path:
    """F1 per data set, one bar per detector."""
    fig, ax = plt.subplots(figsize=(8, 3))
    width = 0.8 / len(entry["detectors"])
    for i, (name, scores) in enumerate(entry["detectors"].items()):
        ax.bar([x + i * width for x in range(len(scores))], scores, width, label=name)
    ax.set_xticks([x + 0.4 - width / 2 for x in range(len(entry["datasets"]))], entry["datasets"])
    ax.set_ylim(90, 100.5)
    ax.set_ylabel("F1 (%)")
    ax.legend(fontsize=8, loc="lower right")
    return _finish(fig, entry, "peaks")


def plot_intervals(entry: dict[str, Any]) -> Path:
    """Mean error +- SD per measure and method, with the IEC 60601-2-25 limits shaded."""
    fig, axes = plt.subplots(1, len(entry["measures"]), figsize=(9, 2.8), sharey=True)
    labels = [row["label"] for row in entry["rows"]]
    for ax, measure in zip(axes, entry["measures"], strict=True):
        mean_limit, _ = entry["limits"][measure]
        ax.axvspan(-mean_limit, mean_limit, color="0.9", label="IEC mean limit")
        for y, row in enumerate(entry["rows"]):
            mean, sd = row[measure]
            ax.errorbar(mean, y, xerr=sd, fmt="o", capsize=4)
        ax.axvline(0, color="0.5", linewidth=0.8)
        ax.set_title(f"{measure} (ms)", fontsize=9)
        ax.set_yticks(range(len(labels)), labels, fontsize=8)
        ax.invert_yaxis()
    return _finish(fig, entry, "intervals")


def plot_speed(entry: dict[str, Any]) -> Path:
    """Where the time of one record goes, beside the whole analysis and the prototype's way."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(9, 2.8), gridspec_kw={"width_ratios": [3, 2]})
    stages = entry["stages_ms"]
    left.barh(list(stages), list(stages.values()))
    left.invert_yaxis()
    left.set_xlabel("CPU ms (bench stages)")
    totals = {"Analyzer.analyze_file": entry["analyze_file_ms"], "prototype pipeline": entry["prototype_ms"]}
    right.barh(list(totals), list(totals.values()))
    right.set_xscale("log")
    right.invert_yaxis()
    right.set_xlabel("ms per record, log scale (bench analyze_speed)")
    return _finish(fig, entry, "speed")


PLOTS = {"accuracy": plot_accuracy, "peaks": plot_peaks, "intervals": plot_intervals, "speed": plot_speed}


def main() -> None:
    figures = json.loads(FIGURES.read_text(encoding="utf-8"))
    OUT.mkdir(parents=True, exist_ok=True)
    for name, draw in PLOTS.items():
        print(f"{name}: {draw(figures[name]).relative_to(DOCS.parents[1])}")


if __name__ == "__main__":
    main()
