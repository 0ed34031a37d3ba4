"""``cardioscreen export-onnx``: store a bundle's network as ONNX for the fast inference path."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parser(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "export-onnx",
        help="save a bundle's network as model.onnx (the fast path analyze uses)",
        description="Export the network of a model bundle to ONNX and check it against PyTorch on random inputs.",
    )
    parser.add_argument("--model", type=Path, metavar="BUNDLE", help="bundle folder (default: the shipped model)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import numpy as np

    from cardioscreen.models.bundle import default_bundle_path, load_bundle
    from cardioscreen.runtime import ONNX_FILE, export_onnx, make_runner

    bundle = load_bundle(args.model or default_bundle_path())
    export_onnx(bundle, save=True)
    spec = bundle.input_spec
    x = np.random.default_rng(0).normal(size=(4, len(spec.leads), spec.samples)).astype(np.float32)
    difference = float(np.abs(make_runner(bundle, "onnx")(x)[0] - make_runner(bundle, "torch")(x)[0]).max())
    print(f"wrote {bundle.path / ONNX_FILE}; max |onnx - torch| probability difference {difference:.2e}")
    return 0
