"""Start-up: migrations, the first administrator, the stored session secret, settings, the CLI commands."""

from __future__ import annotations

import argparse
import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from alembic.config import Config
from alembic.script import ScriptDirectory
from fastapi.testclient import TestClient
from pydantic import ValidationError
from sqlalchemy import text

from cardioscreen.cli.commands import create_user, serve
from cardioscreen.errors import CardioScreenError
from cardioscreen.web.db import MIGRATIONS_DIR, create_db_engine, migrate
from cardioscreen.web.main import create_app, init_database
from cardioscreen.web.settings import SECRET_FILE, WebSettings

from .support import Browser


def _head_revision() -> str:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(config).get_current_head()
    assert head is not None
    return head


class TestDatabase:
    def test_migrations_reach_head_and_are_idempotent(self, tmp_path: Path) -> None:
        engine = create_db_engine(f"sqlite:///{tmp_path / 'db.sqlite3'}")
        migrate(engine)
        migrate(engine)
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).scalar_one() == _head_revision()
            tables = {r[0] for r in conn.execute(text("SELECT name FROM sqlite_master WHERE type='table'"))}
        assert {"users", "studies", "conclusions", "class_verdicts", "audit_log", "api_tokens"} <= tables

    def test_first_start_creates_one_admin_with_a_random_password(self, tmp_path: Path) -> None:
        settings = WebSettings(data_dir=tmp_path)
        _, password = init_database(settings)
        _, again = init_database(settings)
        assert password and again is None
        _, other = init_database(WebSettings(data_dir=tmp_path / "other"))
        assert other and other != password
        browser = Browser(TestClient(create_app(settings)))
        response = browser.login("admin", password=password)
        assert response.status_code == 200 and str(response.url).endswith("/admin/users")


class TestSettings:
    def test_session_secret_is_generated_once_and_private(self, tmp_path: Path) -> None:
        first = WebSettings(data_dir=tmp_path).resolved_session_secret()
        second = WebSettings(data_dir=tmp_path).resolved_session_secret()
        assert first == second and len(first) >= 32
        assert stat.S_IMODE((tmp_path / SECRET_FILE).stat().st_mode) == 0o600
        assert WebSettings(data_dir=tmp_path / "b").resolved_session_secret() != first

    def test_weak_secret_and_environment(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
        with pytest.raises(ValidationError, match="at least 32"):
            WebSettings(data_dir=tmp_path, session_secret="changeme")
        monkeypatch.setenv("CARDIOSCREEN_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("CARDIOSCREEN_MAX_UPLOAD_MB", "5")
        settings = WebSettings()
        assert settings.data_dir == tmp_path and settings.max_upload_bytes == 5_000_000
        assert settings.resolved_database_url() == f"sqlite:///{tmp_path.resolve() / 'cardioscreen.sqlite3'}"


def _parse(module: object, argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    module.add_parser(parser.add_subparsers())  # type: ignore[attr-defined]
    return parser.parse_args(argv)


class TestCommands:
    def test_create_user(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                         capsys: pytest.CaptureFixture[str]) -> None:
        monkeypatch.setenv("CARDIOSCREEN_NEW_PASSWORD", "a long password")
        monkeypatch.setenv("CARDIOSCREEN_DATA_DIR", str(tmp_path))  # the command sets it; restored after the test
        args = _parse(create_user, ["create-user", "House", "--role", "doctor", "--data-dir", str(tmp_path)])
        assert args.func(args) == 0
        out = capsys.readouterr().out
        assert "created doctor 'house'" in out and "administrator 'admin'" in out
        with pytest.raises(CardioScreenError, match="already taken"):
            args.func(args)
        browser = Browser(TestClient(create_app(WebSettings(data_dir=tmp_path))))
        assert str(browser.login("house", password="a long password").url).endswith("/queue")

    def test_serve_needs_postgresql_for_several_workers(self, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("CARDIOSCREEN_DATABASE_URL", raising=False)
        monkeypatch.setenv("CARDIOSCREEN_DATA_DIR", str(tmp_path))
        args = _parse(serve, ["serve", "--workers", "2", "--data-dir", str(tmp_path)])
        with pytest.raises(CardioScreenError, match="PostgreSQL"):
            args.func(args)


def _answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


def test_serve_starts_on_sqlite_and_prints_the_admin_password_once(tmp_path: Path) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("CARDIOSCREEN_")}
    command = [sys.executable, "-m", "cardioscreen.cli", "serve", "--port", str(port), "--data-dir", str(tmp_path)]
    server = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        assert server.stdout is not None
        lines = [server.stdout.readline() for _ in range(3)]
        match = re.search(r"administrator 'admin' with password: (\S+)", lines[0])
        assert match, lines
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while not _answers(f"{base}/login"):
            assert time.monotonic() < deadline and server.poll() is None, "serve did not answer"
            time.sleep(0.3)
        token = httpx.post(f"{base}/api/token", data={"username": "admin", "password": match.group(1)}, timeout=10)
        assert token.status_code == 200
        assert (tmp_path / "cardioscreen.sqlite3").exists() and (tmp_path / SECRET_FILE).exists()
    finally:
        server.terminate()
        server.wait(timeout=30)
