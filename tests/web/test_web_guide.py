"""The user guide: the built documentation site served under /guide/ and linked from every page's footer."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from cardioscreen.errors import CardioScreenError

from .conftest import AppFactory
from .support import Browser


@pytest.fixture
def site(tmp_path: Path) -> Path:
    """A built site's shape: index.html at the top and the Russian guide under ru/ (as mkdocs writes them)."""
    (tmp_path / "ru").mkdir()
    (tmp_path / "index.html").write_text("<h1>CardioScreen documentation</h1>", encoding="utf-8")
    (tmp_path / "ru" / "index.html").write_text("<h1>Руководство CardioScreen</h1>", encoding="utf-8")
    return tmp_path


def test_the_guide_is_served_and_linked_in_the_page_language(make_app: AppFactory, site: Path) -> None:
    client = TestClient(make_app(docs_dir=site))
    login = client.get("/login")
    assert '<a href="/guide/">User guide</a>' in login.text
    guide = client.get("/guide/")
    assert guide.status_code == 200 and "CardioScreen documentation" in guide.text
    assert guide.headers["x-content-type-options"] == "nosniff"  # the app's security headers on the site too
    browser = Browser(client)
    browser.register("olga")
    browser.post_form("/language", {"lang": "ru"}, page="/account")
    page = client.get("/account")
    assert '<a href="/guide/ru/">Руководство</a>' in page.text
    assert "Руководство CardioScreen" in client.get("/guide/ru/").text


def test_without_a_built_site_there_is_no_link_and_no_guide(make_app: AppFactory) -> None:
    client = TestClient(make_app(docs_dir=None))
    assert "/guide/" not in client.get("/login").text
    assert client.get("/guide/").status_code == 404


def test_a_folder_without_a_site_is_refused_at_start(make_app: AppFactory, tmp_path: Path) -> None:
    with pytest.raises(CardioScreenError, match="holds no built site"):
        make_app(docs_dir=tmp_path)
