"""Settings of the web app, read from ``CARDIOSCREEN_*`` environment variables (pydantic-settings).

The session secret is never a built-in default: when ``CARDIOSCREEN_SESSION_SECRET`` is not given, a random
secret is generated on first start and stored (mode 0600) in the data directory, so that every worker process
and every restart signs cookies with the same key.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from cardioscreen.errors import CardioScreenError

SECRET_FILE = "session_secret"
MIN_SECRET_LENGTH = 32


def default_data_dir() -> Path:
    """``$XDG_DATA_HOME/cardioscreen`` (``~/.local/share/cardioscreen`` by default)."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cardioscreen"


def built_docs() -> Path | None:
    """``site/`` of the source checkout this package runs from, where ``make docs`` builds the site; None when the
    site is not built there (an installed package)."""
    site = Path(__file__).resolve().parents[3] / "site"
    return site if (site / "index.html").is_file() else None


class WebSettings(BaseSettings):
    """Configuration of one deployment of the web app.

    Attributes
    ----------
    data_dir : Path
        Holds the SQLite database (unless ``database_url`` is given), the stored studies and the session secret.
    database_url : str, optional
        SQLAlchemy URL, e.g. ``postgresql+psycopg://user:pw@host/db``; default SQLite in ``data_dir``.
    session_secret : SecretStr, optional
        Key that signs session cookies (at least 32 characters); generated and stored when absent.
    secure_cookies : bool
        Send the session cookie with the ``Secure`` flag (set this behind HTTPS).
    max_upload_mb : float
        Largest request body accepted by the upload endpoints, in MB (10**6 bytes).
    login_max_failures : int
        Sign-in attempts for one user name from one client address that may fail within the window; further ones
        from that address are refused (429) without checking the password, while the same user signs in from any
        other address.
    login_max_failures_per_address : int
        Failed sign-ins from one client address, for any user names, within the window before that address is
        refused (guessing across many names; high, since a clinic's computers may share one address).
    login_backoff_after : int
        Failures of one user name, from any addresses within the window, before its attempts back off
        exponentially; an address that has not failed for that name is never held back (see
        :mod:`cardioscreen.web.throttle`).
    login_backoff_base_s : float
        The first backoff delay, in seconds; it doubles with each further failure, up to the window.
    login_window_s : int
        The window of the limits, in seconds.
    proxy_headers : bool
        Take the client address from ``X-Forwarded-For`` when the request comes from a trusted proxy (set this
        behind a reverse proxy, or every user shares the proxy's address); off, the header is ignored.
    forwarded_allow_ips : str
        The trusted proxies: comma-separated addresses or networks (``127.0.0.1``, ``10.0.0.0/8``), ``*`` for any.
    session_max_age_s : int
        Absolute lifetime of a session, in seconds from sign-in, however active it is.
    session_idle_s : int
        A session ends after this many seconds without a request.
    api_token_ttl_s : int
        Lifetime of an API token, in seconds.
    default_language : {"en", "ru"}
        Language of pages for visitors who have not chosen one.
    model_bundle : Path, optional
        Model bundle the analysis loads; default the one shipped with the package.
    analysis_workers : int
        Worker processes that read, analyse and explain uploads (see :mod:`cardioscreen.web.sandbox`): at most this
        many such jobs run at once per server process.
    worker_memory_mb : int
        Address space of each worker, in MiB (the model and a saliency computation take about 1.5 GiB).
    analysis_timeout_s : float
        Wall-clock (and CPU) seconds one read, analysis or saliency job may take before its worker is killed.
    job_queue : bool
        Analyse uploads and compute saliency in ``cardioscreen worker`` processes, through a job queue in the
        PostgreSQL database (see :mod:`cardioscreen.web.jobs`); off (the default, and the only choice on SQLite), the
        web process analyses each upload in its own sandbox while the request waits.
    job_lease_s : float
        Seconds a worker holds a job without a heartbeat; a job whose worker died is claimed again after this.
    job_attempts : int
        Claims of one job before it is given up (its study then shows the analysis failed).
    docs_dir : Path, optional
        The built documentation site (``make docs`` writes it to ``site/`` of a source checkout, the default when it
        is there), served under ``/guide/`` with a "User guide" link in every page's footer; None: neither.
    """

    model_config = SettingsConfigDict(env_prefix="CARDIOSCREEN_", extra="ignore")

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None
    session_secret: SecretStr | None = None
    secure_cookies: bool = False
    max_upload_mb: float = Field(default=20.0, gt=0)
    login_max_failures: int = Field(default=5, ge=1)
    login_max_failures_per_address: int = Field(default=50, ge=1)
    login_backoff_after: int = Field(default=5, ge=1)
    login_backoff_base_s: float = Field(default=1.0, ge=0)
    login_window_s: int = Field(default=900, ge=1)
    proxy_headers: bool = False
    forwarded_allow_ips: str = "127.0.0.1"
    session_max_age_s: int = Field(default=8 * 3600, ge=60)
    session_idle_s: int = Field(default=2 * 3600, ge=60)
    api_token_ttl_s: int = Field(default=24 * 3600, ge=60)
    default_language: Literal["en", "ru"] = "en"
    model_bundle: Path | None = None
    analysis_workers: int = Field(default=2, ge=1)
    worker_memory_mb: int = Field(default=3072, ge=512)
    analysis_timeout_s: float = Field(default=120.0, gt=0)
    job_queue: bool = False
    job_lease_s: float = Field(default=30.0, gt=0)
    job_attempts: int = Field(default=3, ge=1)
    docs_dir: Path | None = Field(default_factory=built_docs)

    @field_validator("session_secret")
    @classmethod
    def _strong_secret(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < MIN_SECRET_LENGTH:
            raise ValueError(f"CARDIOSCREEN_SESSION_SECRET must be at least {MIN_SECRET_LENGTH} characters")
        return value

    @property
    def max_upload_bytes(self) -> int:
        return int(self.max_upload_mb * 1_000_000)

    @property
    def studies_dir(self) -> Path:
        return self.data_dir / "studies"

    @property
    def staging_dir(self) -> Path:
        return self.data_dir / "staging"

    def resolved_database_url(self) -> str:
        """``database_url``, or a SQLite file in the data directory."""
        return self.database_url or f"sqlite:///{(self.data_dir / 'cardioscreen.sqlite3').resolve()}"

    def uses_sqlite(self) -> bool:
        return self.resolved_database_url().startswith("sqlite")

    def resolved_session_secret(self) -> str:
        """The configured secret, or the one stored in the data directory (created on first call)."""
        if self.session_secret is not None:
            return self.session_secret.get_secret_value()
        path = self.data_dir / SECRET_FILE
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            staged = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
            fd = os.open(staged, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
            try:
                os.link(staged, path)  # atomic: the first worker process wins, the others read its secret
            except FileExistsError:
                pass
            finally:
                staged.unlink()
        secret = path.read_text().strip()
        if len(secret) < MIN_SECRET_LENGTH:
            raise CardioScreenError(f"the session secret in {path} is shorter than {MIN_SECRET_LENGTH} characters")
        return secret
