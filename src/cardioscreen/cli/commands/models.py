"""``cardioscreen models``: the web app's model registry — list, add, compare, promote, rollback, shadow."""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cardioscreen.cli.arguments import fold_list
from cardioscreen.errors import CardioScreenError
from cardioscreen.models.bundle import MANIFEST
from cardioscreen.registry import ModelRegistry, registry_dir


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "models", help="the web app's model registry",
        description="Versioned model bundles (content hash, training data, validation figures) in the app's data "
        "folder; new studies are analysed with the active one (workers pick a promotion up at their next job). "
        "Promotion, rollback and shadow changes are written to the app's audit log.")
    actions = parser.add_subparsers(dest="action", required=True, metavar="ACTION")

    def action(name: str, help_text: str) -> argparse.ArgumentParser:
        sub = actions.add_parser(name, help=help_text, description=help_text)
        sub.add_argument("--data-dir", type=Path, required=True, help="the web app's data folder")
        return sub

    action("list", "the registered versions, the active one and the shadow").set_defaults(func=run_list)
    add = action("add", "register a bundle (copied into the registry)")
    add.add_argument("bundle", type=Path)
    add.add_argument("--note", default="", help="free text kept with the version")
    add.set_defaults(func=run_add)
    for name, help_text, func in (
        ("compare", "per-class and macro AUC of A and B on the same records, with the paired-bootstrap interval "
                    "of the difference B - A", run_compare),
        ("promote", "make VERSION active, unless its macro-AUC on the reference records is below the active "
                    "model's by more than the margin", run_promote),
    ):
        sub = action(name, help_text)
        if name == "compare":
            sub.add_argument("a", help="version or bundle folder")
            sub.add_argument("b", help="version or bundle folder")
        else:
            sub.add_argument("version")
            sub.add_argument("--margin", type=float, default=0.01, help="macro-AUC the candidate may lose")
        sub.add_argument("--data" if name == "compare" else "--reference", dest="data", type=Path, required=True,
                         help="labelled records (PTB-XL layout, ptbxl-z100, a review export); the reference set is "
                         "the shipped model's fold 9 (validation)")
        sub.add_argument("--folds", type=fold_list, default=(9,), help="strat_fold values (default 9)")
        sub.add_argument("--task", action="append", default=None, help="a task (default: all of the bundle's)")
        sub.add_argument("--n-boot", type=int, default=1000, help="bootstrap resamples")
        sub.add_argument("--cache", type=Path, default=None, help="signal cache folder")
        sub.set_defaults(func=func)
    action("rollback", "make the previously active version active again").set_defaults(func=run_rollback)
    shadow = action("shadow", "run VERSION beside the active model on new uploads, not shown (--off: stop)")
    shadow.add_argument("version", nargs="?", default=None)
    shadow.add_argument("--off", action="store_true")
    shadow.set_defaults(func=run_shadow)


def _registry(args: argparse.Namespace) -> ModelRegistry:
    from cardioscreen.web.settings import WebSettings

    return ModelRegistry(registry_dir(args.data_dir), WebSettings(data_dir=args.data_dir).model_bundle)


def _audit(args: argparse.Namespace, action: str, subject: str, detail: Mapping[str, Any]) -> None:
    """Write ``action`` to the app's audit log (by the command line, no user)."""
    from cardioscreen.web import crud
    from cardioscreen.web.db import create_db_engine, make_session_factory, migrate
    from cardioscreen.web.settings import WebSettings

    engine = create_db_engine(WebSettings(data_dir=args.data_dir).resolved_database_url())
    migrate(engine)
    with make_session_factory(engine)() as db:
        crud.record_event(db, action, subject=subject, client="cli", detail=detail)
        db.commit()


def _fmt(value: float) -> str:
    return "n/a" if not math.isfinite(value) else f"{value:.3f}"


def run_list(args: argparse.Namespace) -> int:
    registry = _registry(args)
    active, shadow = registry.active_version, registry.shadow_version
    for entry in registry.entries():
        marks = [m for m, on in (("active", entry.version == active), ("shadow", entry.version == shadow),
                                 ("fallback", entry.source == "fallback")) if on]
        figures = ", ".join(f"{task} {_fmt(fig.get('macro_auc') or math.nan)}"
                            for task, fig in entry.validation.items())
        records = entry.training.get("n_records", {})
        start = (entry.training.get("init_from") or {}).get("model_version")
        print(f"{entry.version}  {' '.join(marks) or '-':<16} {entry.training.get('model', '?')}, "
              f"{records.get('train', '?')} train / {records.get('val', '?')} val records"
              f"{f', fine-tuned from {start}' if start else ''}; validation macro-AUC {figures or 'n/a'}"
              f"{f'  ({entry.note})' if entry.note else ''}")
    return 0


def run_add(args: argparse.Namespace) -> int:
    entry = _registry(args).add(args.bundle, note=args.note)
    print(f"registered {entry.version} from {args.bundle}")
    return 0


def _bundle(registry: ModelRegistry, name: str) -> Path:
    path = Path(name)
    return path if (path / MANIFEST).is_file() else Path(registry.get(name).path)


def _print_comparison(comparison: dict[str, dict[str, Any]], a: str, b: str) -> None:
    for task, fig in comparison.items():
        low, high = fig["difference_ci"]
        print(f"{task}: {fig['n_records']} records; macro-AUC A {_fmt(fig['macro_auc_a'])} "
              f"[{_fmt(fig['macro_auc_a_ci'][0])}, {_fmt(fig['macro_auc_a_ci'][1])}], B {_fmt(fig['macro_auc_b'])} "
              f"[{_fmt(fig['macro_auc_b_ci'][0])}, {_fmt(fig['macro_auc_b_ci'][1])}]; B - A "
              f"{fig['difference']:+.3f} [{low:+.3f}, {high:+.3f}] (paired bootstrap, 90%)")
        print(f"  {'class':<9}{'pos':>5}  {'A':>7}{'B':>7}")
        for code, per in fig["per_class"].items():
            print(f"  {code:<9}{per['positives']:>5}  {_fmt(per['auc_a']):>7}{_fmt(per['auc_b']):>7}")
    print(f"A = {a}\nB = {b}")


def _compare(args: argparse.Namespace, a: Path, b: Path) -> dict[str, dict[str, Any]]:
    from cardioscreen.registry.compare import compare_bundles

    return compare_bundles(a, b, args.data, tasks=args.task, folds=args.folds, n_boot=args.n_boot,
                           cache_dir=args.cache)


def run_compare(args: argparse.Namespace) -> int:
    registry = _registry(args)
    a, b = _bundle(registry, args.a), _bundle(registry, args.b)
    _print_comparison(_compare(args, a, b), str(a), str(b))
    return 0


def run_promote(args: argparse.Namespace) -> int:
    from cardioscreen.registry.compare import worse_tasks

    registry = _registry(args)
    candidate = registry.get(args.version)
    comparison = _compare(args, registry.active_path(), Path(candidate.path))
    _print_comparison(comparison, f"active {registry.active_version}", f"candidate {candidate.version}")
    worse = worse_tasks(comparison, args.margin)
    if worse:
        raise CardioScreenError(f"not promoted: {candidate.version} is worse than the active model on "
                                f"{', '.join(worse)} by more than {args.margin:g} macro-AUC on {args.data}")
    previous, new = registry.promote(candidate.version)
    _audit(args, "model_promoted", new, {"previous": previous, "reference": str(args.data),
                                         "folds": list(args.folds), "margin": args.margin,
                                         "difference": {t: f["difference"] for t, f in comparison.items()}})
    print(f"promoted {new} (was {previous}); new studies use it from the workers' next job")
    return 0


def run_rollback(args: argparse.Namespace) -> int:
    current, restored = _registry(args).rollback()
    _audit(args, "model_rolled_back", restored, {"rolled_back": current})
    print(f"rolled back {current}; active again: {restored}")
    return 0


def run_shadow(args: argparse.Namespace) -> int:
    if args.off == (args.version is not None):
        raise CardioScreenError("give a VERSION to shadow, or --off")
    chosen = _registry(args).set_shadow(None if args.off else args.version)
    _audit(args, "model_shadow", chosen or "", {"shadow": chosen})
    print(f"shadow model: {chosen}" if chosen else "shadow mode off")
    return 0
