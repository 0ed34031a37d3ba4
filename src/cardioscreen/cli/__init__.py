"""The ``cardioscreen`` command line: one module per subcommand in :mod:`cardioscreen.cli.commands`.

Each command module defines ``add_parser(subparsers)``, which registers its subparser and sets
``func=run`` where ``run(args) -> int`` returns the exit status. Errors meant for the user
(:class:`~cardioscreen.errors.CardioScreenError`) become one line on stderr and exit status 2.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import pkgutil
import sys
from collections.abc import Sequence

from cardioscreen import __version__
from cardioscreen.cli import commands
from cardioscreen.errors import CardioScreenError

EXIT_USER_ERROR = 2


def _command_modules(argv: Sequence[str]) -> list[str]:
    """Modules to import: only the one named on the command line (start-up stays fast), else all of them.

    A command's name is its module's name with ``-`` for ``_`` (``ptbxl-cache`` is ``ptbxl_cache.py``).
    """
    names = sorted(m.name for m in pkgutil.iter_modules(commands.__path__))
    first = next((arg for arg in argv if not arg.startswith("-")), None)
    chosen = first.replace("-", "_") if first else None
    return [chosen] if chosen in names else names


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The argument parser, with the subcommands ``argv`` needs (all of them when ``argv`` names none)."""
    parser = argparse.ArgumentParser(prog="cardioscreen", description="12-lead ECG screening")
    parser.add_argument("--version", action="version", version=f"cardioscreen {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and details")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in _command_modules(argv):
        importlib.import_module(f"{commands.__name__}.{name}").add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``cardioscreen`` console script."""
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser(argv).parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    try:
        status: int = args.func(args)
    except CardioScreenError as exc:
        print(f"cardioscreen {args.command}: error: {exc}", file=sys.stderr)
        return EXIT_USER_ERROR
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output (``| head``) went away: stop quietly, as Unix tools do.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141
    return status


def cli_entry() -> None:
    """Console-script wrapper: exit with :func:`main`'s status."""
    sys.exit(main())
