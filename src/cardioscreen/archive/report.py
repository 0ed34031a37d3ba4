"""``cardioscreen batch-report``: a results folder's summary as CSV tables, two plots and one HTML page."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
from jinja2 import Environment, select_autoescape
from markupsafe import Markup
from matplotlib.figure import Figure

from cardioscreen.archive.store import FAILED, RECORDS, ResultStore
from cardioscreen.archive.summary import AGE_LABELS, Summary, summarise
from cardioscreen.errors import CardioScreenError

logger = logging.getLogger(__name__)

TABLES = ("findings", "prevalence", "af", "long_qtc", "stemi", "refused", "failures")
"""Tables written as ``<name>.csv``."""
_LISTS = {"af": "Atrial fibrillation or flutter", "long_qtc": "Long QTc", "stemi": "STEMI pattern",
          "refused": "Refused records (signal quality), by reason", "failures": "Records without a result"}

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>CardioScreen archive summary</title>
<style>body{font-family:sans-serif;margin:2em;max-width:80em}table{border-collapse:collapse;font-size:90%}
td,th{border:1px solid #ccc;padding:2px 6px;text-align:left}img{max-width:100%}</style></head><body>
<h1>Archive summary</h1>
<p>Model version {{ version }}: {{ s.n_records }} records analysed, {{ s.n_refused }} refused for signal quality,
{{ s.n_failed }} without a result. Research use only: screening findings to be read by a doctor.</p>
<h2>Findings</h2><img src="findings.png" alt="records per finding">{{ findings }}
<h2>Prevalence by age and sex</h2><img src="prevalence.png" alt="prevalence by age band and sex">
<p>Per age band, sex and finding: <a href="prevalence.csv">prevalence.csv</a>.</p>
{% for name, title, table, n in lists %}<h2>{{ title }} ({{ n }})</h2>
<p><a href="{{ name }}.csv">{{ name }}.csv</a></p>{{ table }}{% endfor %}
</body></html>
"""


def load_results(results: Path, model_version: str | None = None) -> tuple[str, pd.DataFrame, pd.DataFrame]:
    """One model version's rows and failures from the results folder ``results`` (the only version there unless
    ``model_version`` names one)."""
    store = ResultStore(results)
    versions = store.model_versions()
    if not versions:
        raise CardioScreenError(f"{results} holds no batch results")
    if model_version is None:
        if len(versions) > 1:
            raise CardioScreenError(f"{results} holds results of several models ({', '.join(versions)}): "
                                    "choose one with --model-version")
        model_version = versions[0]
    elif model_version not in versions:
        raise CardioScreenError(f"{results} holds no results of model {model_version} (it has {', '.join(versions)})")
    rows = store.read(RECORDS, model_version).to_pandas()
    return model_version, rows, store.read(FAILED, model_version).to_pandas()


def _findings_plot(summary: Summary, path: Path) -> None:
    shown = summary.findings[summary.findings["kind"].isin(("model flag", "rhythm"))
                             & (summary.findings["records"] > 0)].sort_values("records")
    figure = Figure(figsize=(8, max(2.5, 0.25 * len(shown) + 1)))
    axes = figure.subplots()
    axes.barh([f"{k}: {f}" for k, f in zip(shown["kind"], shown["finding"], strict=True)], shown["records"])
    axes.set_xlabel("records")
    axes.set_title("Model flags and rhythms")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _prevalence_plot(summary: Summary, path: Path) -> None:
    table = summary.prevalence[summary.prevalence["finding"].isin(("AF or flutter", "long QTc", "STEMI pattern"))]
    pivot = table.pivot_table(index=["age_band", "sex"], columns="finding", values="percent")
    pivot = pivot.iloc[sorted(range(len(pivot)), key=lambda i: (_band_order(pivot.index[i][0]), pivot.index[i][1]))]
    figure = Figure(figsize=(8, 4))
    axes = figure.subplots()
    if not pivot.empty:
        pivot.plot.bar(ax=axes)
        axes.set_xticklabels([f"{band} {sex}" for band, sex in pivot.index], rotation=45, ha="right")
    axes.set_ylabel("% of analysed records")
    axes.set_xlabel("age band, sex")
    axes.set_title("AF or flutter, long QTc and STEMI pattern by age and sex")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _band_order(band: str) -> int:
    """Youngest band first, ``unknown`` last."""
    return AGE_LABELS.index(band) if band in AGE_LABELS else len(AGE_LABELS)


def write_report(results: Path, out: Path, model_version: str | None = None) -> Summary:
    """Write ``index.html``, the CSV tables (:data:`TABLES`), ``findings.png`` and ``prevalence.png`` to ``out``."""
    version, rows, failures = load_results(results, model_version)
    summary = summarise(rows, failures)
    out.mkdir(parents=True, exist_ok=True)
    for name in TABLES:
        getattr(summary, name).to_csv(out / f"{name}.csv", index=False)
    _findings_plot(summary, out / "findings.png")
    _prevalence_plot(summary, out / "prevalence.png")
    lists = [(name, title, getattr(summary, name).to_html(index=False, na_rep=""), len(getattr(summary, name)))
             for name, title in _LISTS.items()]
    page = Environment(autoescape=select_autoescape(default=True)).from_string(_PAGE)
    html = page.render(version=version, s=summary, findings=Markup(summary.findings.to_html(index=False)),
                       lists=[(n, t, Markup(table), k) for n, t, table, k in lists])
    (out / "index.html").write_text(html, encoding="utf-8")
    logger.info("summary of %d records written to %s", summary.n_records, out)
    return summary
