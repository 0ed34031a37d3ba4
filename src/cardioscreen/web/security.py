"""Passwords (argon2), CSRF tokens and API tokens."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import MutableMapping
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_HASHER = PasswordHasher()
CSRF_SESSION_KEY = "csrf"
CSRF_FORM_FIELD = "csrf_token"
CSRF_HEADER = "X-CSRF-Token"
MIN_PASSWORD_LENGTH = 10
MIN_DISTINCT_CHARACTERS = 5
_COMMON_PASSWORDS = frozenset(
    line.strip() for line in (Path(__file__).parent / "data" / "common_passwords.txt").read_text("utf-8").splitlines()
    if line.strip() and not line.startswith("#"))
# What may follow a common password and still leave it common: "password123!", "qwerty2024".
_COMMON_SUFFIX = re.compile(r"[\d\W_]+$")
# Characters that do not show, or show as something else: controls, format characters (bidi overrides, zero-width
# joiners), line and paragraph separators, surrogates, private use, unassigned.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"})
# Verified against when the user name is unknown, so that a failed login takes as long either way.
_DUMMY_HASH = _HASHER.hash(secrets.token_urlsafe(16))


def hash_password(password: str) -> str:
    """Argon2id hash of ``password`` (salted; the encoded string holds the parameters)."""
    return _HASHER.hash(password)


def verify_password(password: str, encoded: str | None) -> bool:
    """Whether ``password`` matches ``encoded``; ``encoded=None`` (unknown user) costs the same and fails."""
    try:
        return _HASHER.verify(encoded or _DUMMY_HASH, password) and encoded is not None
    except (VerificationError, InvalidHashError):
        return False


def normalize_username(username: str) -> str:
    """The form a user name is stored and looked up in: NFKC (full-width and other compatibility forms folded),
    stripped, lower case."""
    return unicodedata.normalize("NFKC", username).strip().lower()


def _script(char: str) -> str:
    """The Unicode script of a letter, from its character name (``CYRILLIC SMALL LETTER A`` -> ``CYRILLIC``)."""
    return unicodedata.name(char, "UNKNOWN").split(" ")[0]


def username_problem(name: str) -> str | None:
    """Why the normalised user name ``name`` may not be registered (None when it may): it holds characters that do
    not show, or letters of more than one script, such as ``аdmin`` with a Cyrillic ``а``, which looks like
    ``admin``."""
    if any(unicodedata.category(c) in _INVISIBLE_CATEGORIES for c in name):
        return "user name holds invisible or control characters"
    scripts = sorted({_script(c) for c in name if c.isalpha()})
    if len(scripts) > 1:
        return f"user name mixes letters of several scripts ({', '.join(s.title() for s in scripts)})"
    return None


def password_problem(password: str, username: str = "") -> str | None:
    """Why ``password`` is too weak (None when it is not): shorter than :data:`MIN_PASSWORD_LENGTH`, fewer than
    :data:`MIN_DISTINCT_CHARACTERS` different characters, the user name in it, or a common password (the list
    shipped in ``web/data/common_passwords.txt``), alone or followed by digits and symbols."""
    folded = password.casefold()
    stem = _COMMON_SUFFIX.sub("", folded)
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(set(folded)) < MIN_DISTINCT_CHARACTERS:
        return f"password must have at least {MIN_DISTINCT_CHARACTERS} different characters"
    if len(username) >= 3 and username.casefold() in folded:
        return "password must not contain the user name"
    if folded in _COMMON_PASSWORDS or stem in _COMMON_PASSWORDS:
        return "password is one of the most common passwords; choose another"
    return None


def random_password() -> str:
    return secrets.token_urlsafe(12)


def csrf_token(session: MutableMapping[str, Any]) -> str:
    """The session's CSRF token, created on first use."""
    token = session.get(CSRF_SESSION_KEY)
    if not isinstance(token, str):
        token = secrets.token_urlsafe(32)
        session[CSRF_SESSION_KEY] = token
    return token


def csrf_valid(session: MutableMapping[str, Any], submitted: object) -> bool:
    """Whether ``submitted`` equals the session's token (constant-time); a session without one never matches."""
    expected = session.get(CSRF_SESSION_KEY)
    return isinstance(expected, str) and isinstance(submitted, str) and hmac.compare_digest(expected, submitted)


def new_api_token() -> tuple[str, str]:
    """A fresh API token and the SHA-256 digest to store in its place."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()
