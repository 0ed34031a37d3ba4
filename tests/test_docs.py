"""The documentation site: the strict offline build, the generated CLI and API references, and its pages in a browser.

One strict build (``mkdocs build --strict`` as ``make docs`` runs it) into a temporary folder serves every test.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = ROOT / "test-artifacts"


def _hook():  # the hook module that generates the reference pages (docs/hooks/ is not a package)
    spec = importlib.util.spec_from_file_location("docs_reference_hook", ROOT / "docs" / "hooks" / "reference.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("site")
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1"}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)], cwd=ROOT,
                          capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-4000:]
    return out


class TestBuild:
    def test_strict_build_has_every_nav_page(self, site: Path) -> None:
        for page in ("index.html", "getting-started.html", "guide/formats.html", "guide/deployment.html",
                     "models/model-card.html", "benchmarks/accuracy.html", "reference/cli.html", "ru/doctors.html",
                     "contributing.html", "changelog.html"):
            assert (site / page).is_file(), page

    def test_no_asset_from_another_origin(self, site: Path) -> None:
        for page in site.rglob("*.html"):
            text = page.read_text(encoding="utf-8")
            assert 'src="http' not in text and "<link rel=\"stylesheet\" href=\"http" not in text, page

    def test_benchmark_plots_are_on_their_pages(self, site: Path) -> None:
        for page, image in (("accuracy", "accuracy"), ("peaks-intervals", "peaks"), ("peaks-intervals", "intervals"),
                            ("speed", "speed")):
            assert f'src="img/{image}.png"' in (site / "benchmarks" / f"{page}.html").read_text(encoding="utf-8")
            assert (site / "benchmarks" / "img" / f"{image}.png").stat().st_size > 1000


class TestReferences:
    def test_cli_reference_lists_every_subcommand(self, site: Path) -> None:
        from cardioscreen.cli import build_parser

        commands = list(_hook().subcommands(build_parser()))
        assert "analyze" in commands and "serve" in commands
        html = (site / "reference" / "cli.html").read_text(encoding="utf-8")
        for command in commands:
            assert f'id="{command}"' in html, command
            assert f"usage: cardioscreen {command}" in html, command

    def test_api_reference_covers_every_public_module(self, site: Path) -> None:
        modules = [module for names in _hook().public_modules().values() for module in names]
        assert {"cardioscreen.pipeline", "cardioscreen.io.registry", "cardioscreen.web.main"} <= set(modules)
        html = "".join(page.read_text(encoding="utf-8") for page in (site / "reference" / "api").glob("*.html"))
        missing = [module for module in modules if f'id="{module}"' not in html]
        assert not missing
        assert 'id="cardioscreen.io.read_ecg"' in html  # a public function, with its docstring

    def test_statement_table_is_read_from_the_code(self, site: Path) -> None:
        from cardioscreen.interpret.texts import STATEMENTS

        html = (site / "guide" / "interpretation.html").read_text(encoding="utf-8")
        for code, texts in STATEMENTS.items():
            assert f"<code>{code}</code>" in html and texts["ru"].split("{")[0].strip() in html, code


@pytest.fixture(scope="module")
def served(site: Path) -> Iterator[str]:
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()


class TestBrowser:
    def test_pages_render_and_fetch_nothing_from_elsewhere(self, served: str) -> None:
        if not Path(CHROMIUM).exists():
            pytest.fail(f"{CHROMIUM} not found; install Debian's chromium (make system-deps)")
        from playwright.sync_api import sync_playwright

        ARTIFACTS.mkdir(exist_ok=True)
        requested: list[str] = []
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"], headless=True)
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("request", lambda request: requested.append(request.url))
            for path, heading in (("index.html", "CardioScreen"), ("benchmarks/peaks-intervals.html", "R-peaks"),
                                  ("ru/doctors.html", "Врачам")):
                page.goto(f"{served}/{path}")
                page.wait_for_load_state("networkidle")
                assert heading in page.locator("h1").first.inner_text()
                page.screenshot(path=str(ARTIFACTS / f"docs-{path.replace('/', '-').removesuffix('.html')}.png"))
            browser.close()
        assert requested and all(url.startswith(served) for url in requested), [
            url for url in requested if not url.startswith(served)]
