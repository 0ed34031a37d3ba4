"""Server-rendered pages: Jinja2 with autoescaping, the UI language and the CSRF token in every template."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from starlette.responses import Response

from cardioscreen.web.i18n import LANGUAGE_NAMES, STRINGS, pick_language, translator
from cardioscreen.web.messages import message_translator
from cardioscreen.web.security import CSRF_FORM_FIELD, csrf_token

TEMPLATES = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))
TEMPLATES.env.autoescape = True


def page_language(request: Request) -> str:
    """The signed-in user's language, else the one chosen in this session, else the browser's."""
    user = getattr(request.state, "user", None)
    if user is not None:
        return str(user.language)
    chosen = request.session.get("lang")
    if isinstance(chosen, str) and chosen in LANGUAGE_NAMES:
        return chosen
    return pick_language(request.headers.get("accept-language", ""), request.app.state.settings.default_language)


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200) -> Response:
    """Render template ``name`` with the page context (user, language, ``t``, ``word`` for the English messages of
    readers, sandbox and analysis, CSRF token) added."""
    lang = page_language(request)
    full = {
        "user": getattr(request.state, "user", None),
        "lang": lang,
        "languages": LANGUAGE_NAMES,
        "t": translator(lang),
        "word": message_translator(lang),
        "labels": STRINGS[lang],
        "csrf_field": CSRF_FORM_FIELD,
        "csrf_token": csrf_token(request.session),
        "flash": request.session.pop("flash", None),
        **(context or {}),
    }
    return TEMPLATES.TemplateResponse(request, name, full, status_code=status_code)


def flash(request: Request, key: str, **values: object) -> None:
    """A one-time message (an i18n key and its values) shown on the next page."""
    request.session["flash"] = {"key": key, "values": {k: str(v) for k, v in values.items()}}
