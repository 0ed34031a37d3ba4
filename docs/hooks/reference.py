"""MkDocs hook: the pages made from the code at build time, so that they can never fall behind it.

- ``reference/cli.md``: every subcommand of ``cardioscreen`` with its usage and arguments, read from the argparse
  parser that ``cardioscreen.cli.build_parser`` builds (the one the console script runs).
- ``reference/api/<package>.md``: one page per subpackage of ``cardioscreen`` (and one for its top-level modules)
  with a mkdocstrings block per public module, found by walking ``src/cardioscreen`` (a module or package whose
  name starts with ``_`` is private; Alembic's migration scripts are not a module). The nav's "API reference"
  section is filled with these pages.
- the table of statements in ``guide/interpretation.md`` (the marker ``<!-- generated: statements -->``): every
  rhythm and statement code with its English and Russian wording, from ``cardioscreen.rhythm.texts`` and
  ``cardioscreen.interpret.texts``.
- ``models/model-card.md`` and ``contributing.md``: ``MODEL_CARD.md`` and ``CONTRIBUTING.md`` of the repository,
  which stay at its top level.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from mkdocs.config.defaults import MkDocsConfig
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = ROOT / "src" / "cardioscreen"
PACKAGE = "cardioscreen"
NOT_MODULES = {"migrations"}  # web/migrations: Alembic's env.py and revision scripts
API_SECTION = "API reference"
GUIDE_SECTION = "User guide"
# written with `cardioscreen batch`; listed once it exists
BATCH_PAGE = {"Batch analysis of archives": "guide/batch.md"}
TOP_LEVEL_PAGE = "core"
STATEMENTS_MARKER = "<!-- generated: statements -->"
INCLUDED = {"models/model-card.md": "MODEL_CARD.md", "contributing.md": "CONTRIBUTING.md"}


def public_modules() -> dict[str, list[str]]:
    """Public modules of the package, grouped by API page.

    Returns
    -------
    dict
        Page name (``core`` for the package's top-level modules, else the subpackage's name) -> dotted module names
        in path order, each package before its modules.
    """
    pages: dict[str, list[str]] = {TOP_LEVEL_PAGE: [PACKAGE]}
    for path in sorted(PACKAGE_DIR.rglob("*.py")):
        parts = path.relative_to(PACKAGE_DIR).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        if not parts or any(part.startswith("_") or part in NOT_MODULES for part in parts):
            continue
        page = TOP_LEVEL_PAGE if len(parts) == 1 and path.name != "__init__.py" else parts[0]
        pages.setdefault(page, []).append(".".join((PACKAGE, *parts)))
    return pages


def api_page(page: str, modules: list[str]) -> str:
    """Markdown of one API page: a heading and a mkdocstrings block per module."""
    title = f"`{PACKAGE}` top-level modules" if page == TOP_LEVEL_PAGE else f"`{PACKAGE}.{page}`"
    blocks = [f"::: {module}\n    options:\n      members_order: source\n" for module in modules]
    return f"# {title}\n\n" + "\n".join(blocks)


def api_index(pages: dict[str, list[str]]) -> str:
    """Markdown of the API reference's index: every page with the modules it documents."""
    lines = ["# API reference", "",
             "Generated from the numpydoc docstrings of every public module at build time (`make docs`).", "",
             "| page | modules |", "|---|---|"]
    for page, modules in pages.items():
        names = ", ".join(f"`{module.removeprefix(PACKAGE + '.')}`" for module in modules)
        lines.append(f"| [{page}]({page}.md) | {names} |")
    return "\n".join(lines) + "\n"


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The subparsers of ``parser`` by command name, in the order they were registered."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def _argument_row(action: argparse.Action) -> str:
    names = ", ".join(f"`{name}`" for name in action.option_strings) or f"`{action.metavar or action.dest}`"
    default = action.default
    shown = "" if default in (None, False, argparse.SUPPRESS) or action.option_strings == [] else f"`{default}`"
    text = (action.help or "").replace("|", "\\|").replace("\n", " ")
    if action.choices is not None and not isinstance(action, argparse._SubParsersAction):
        text += " (one of " + ", ".join(f"`{choice}`" for choice in action.choices) + ")"
    return f"| {names} | {text} | {shown} |"


def cli_page() -> str:
    """Markdown of the CLI reference: the usage and the arguments of every subcommand."""
    from cardioscreen.cli import build_parser

    parser = build_parser()
    lines = ["# CLI reference", "",
             "Generated at build time from the argparse parser of the `cardioscreen` command "
             "(`cardioscreen.cli.build_parser`); `cardioscreen COMMAND --help` prints the same.", "",
             "```text", parser.format_usage().strip(), "```", ""]
    for name, sub in subcommands(parser).items():
        lines += [f"## `{name}`", "", (sub.description or "").strip(), "",
                  "```text", sub.format_usage().strip(), "```", "",
                  "| argument | meaning | default |", "|---|---|---|"]
        lines += [_argument_row(action) for action in sub._actions if action.help != argparse.SUPPRESS
                  and not isinstance(action, argparse._HelpAction)]
        lines.append("")
    return "\n".join(lines)


def statements_table() -> str:
    """Markdown table of every rhythm and interpretation statement code with its wording in each language."""
    from cardioscreen.interpret.texts import STATEMENTS
    from cardioscreen.rhythm.texts import NAMES

    lines = ["| code | kind | English | Русский |", "|---|---|---|---|"]
    for kind, table in (("rhythm", NAMES), ("statement", STATEMENTS)):
        lines += [f"| `{code}` | {kind} | {texts['en']} | {texts['ru']} |" for code, texts in table.items()]
    return "\n".join(lines)


def on_page_markdown(markdown: str, **_: Any) -> str:
    """Fill in the generated statement table where a page asks for it."""
    return markdown.replace(STATEMENTS_MARKER, statements_table()) if STATEMENTS_MARKER in markdown else markdown


def on_config(config: MkDocsConfig) -> MkDocsConfig:
    """Point the nav's API section at the generated pages (the package's layout decides them); list the batch page
    in the user guide when it exists."""
    pages = public_modules()
    section = [{"Index": "reference/api/index.md"}] + [
        {(f"{PACKAGE} (top level)" if page == TOP_LEVEL_PAGE else page): f"reference/api/{page}.md"}
        for page in pages]
    for entry in config.nav or []:
        if isinstance(entry, dict) and API_SECTION in entry:
            entry[API_SECTION] = section
        has_batch = (Path(config.docs_dir) / "guide" / "batch.md").is_file()
        if isinstance(entry, dict) and GUIDE_SECTION in entry and has_batch:
            entry[GUIDE_SECTION].append(BATCH_PAGE)
    return config


def on_files(files: Files, config: MkDocsConfig, **_: Any) -> Files:
    """Add the generated pages and the top-level documents to the site."""
    pages = public_modules()
    generated = {"reference/cli.md": cli_page(), "reference/api/index.md": api_index(pages)}
    generated.update({f"reference/api/{page}.md": api_page(page, modules) for page, modules in pages.items()})
    generated.update({uri: (ROOT / source).read_text(encoding="utf-8") for uri, source in INCLUDED.items()})
    for uri, content in generated.items():
        files.append(File.generated(config, uri, content=content))
    return files
