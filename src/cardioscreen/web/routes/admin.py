"""Administrators' pages: users and roles, and the audit log (paged, filtered, exported as CSV)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, HTTPException, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from cardioscreen.errors import CardioScreenError
from cardioscreen.web import crud
from cardioscreen.web.deps import CurrentAdmin, DbSession, client_address, csrf_protect
from cardioscreen.web.i18n import translator
from cardioscreen.web.models import Role
from cardioscreen.web.paging import DayError, day_bounds, page_count, with_query
from cardioscreen.web.templating import flash, page_language, render

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)], include_in_schema=False)

AUDIT_PAGE_SIZE = 50
FORMULA_STARTS = frozenset("=+-@\t\r")


def _users_page(request: Request, db: DbSession, **context: object) -> Response:
    status_code = status.HTTP_400_BAD_REQUEST if context.get("error_text") else status.HTTP_200_OK
    return render(request, "admin_users.html", {"users": crud.list_users(db), "roles": [r.value for r in Role],
                                                "form": {}, **context}, status_code=status_code)


@router.get("/users")
def users(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    return _users_page(request, db)


@router.post("/users")
def create_user(request: Request, db: DbSession, admin: CurrentAdmin, username: Annotated[str, Form(max_length=200)],
                password: Annotated[str, Form(max_length=1000)], role: Annotated[str, Form()],
                full_name: Annotated[str, Form(max_length=200)] = "", language: Annotated[str, Form()] = "en",
                ) -> Response:
    try:
        user = crud.create_user(db, username, password, role=role, full_name=full_name, language=language)
    except CardioScreenError as exc:
        return _users_page(request, db, error_text=str(exc),
                           form={"username": username, "full_name": full_name, "role": role})
    crud.record_event(db, "user_created", user=admin, subject=user.username, client=client_address(request),
                      detail={"role": role})
    db.commit()
    flash(request, "user_created", username=user.username)
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)


@router.post("/users/{user_id}")
def update_user(request: Request, user_id: int, db: DbSession, admin: CurrentAdmin, role: Annotated[str, Form()],
                active: Annotated[str, Form()] = "", password: Annotated[str, Form(max_length=1000)] = "",
                ) -> Response:
    user = crud.get_user(db, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    is_active = active == "on"
    if user.id == admin.id and (role != Role.ADMIN.value or not is_active):
        return _users_page(request, db, error_text=translator(page_language(request))("own_admin_access"))
    try:
        crud.update_user(db, user, role=role, is_active=is_active, password=password or None)
    except CardioScreenError as exc:
        return _users_page(request, db, error_text=str(exc))
    crud.record_event(db, "user_updated", user=admin, subject=user.username, client=client_address(request),
                      detail={"role": role, "active": is_active, "password_reset": bool(password)})
    db.commit()
    flash(request, "user_updated", username=user.username)
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)


@dataclass(frozen=True)
class AuditFilter:
    """The audit page's query: events by or about ``user``, of ``action``, on the days ``since`` to ``until``
    (inclusive, UTC, ``YYYY-MM-DD``); empty fields match everything."""

    user: str = ""
    action: str = ""
    since: str = ""
    until: str = ""

    def query(self) -> dict[str, Any]:
        """Keyword arguments of :func:`crud.audit_events`; raises HTTP 400 for a date that is not ``YYYY-MM-DD``."""
        since, until = day_bounds(self.since, self.until)
        return {"username": self.user, "action": self.action, "since": since, "until": until}

    def url(self, path: str, **extra: object) -> str:
        """``path`` with this filter (and ``extra``) as its query string."""
        return with_query(path, asdict(self) | extra)


def _filter(user: Annotated[str, Query(max_length=200)] = "", action: Annotated[str, Query(max_length=32)] = "",
            since: Annotated[str, Query(max_length=10)] = "", until: Annotated[str, Query(max_length=10)] = "",
            ) -> AuditFilter:
    return AuditFilter(user.strip(), action.strip(), since.strip(), until.strip())


def detail_text(detail: dict[str, Any] | None, t: Callable[..., str]) -> str:
    """An event's detail as words (``text: …; verdicts: AFIB yes, NORM no``), not JSON."""
    def words(value: object) -> str:
        if isinstance(value, bool):
            return t("yes") if value else t("no")
        if isinstance(value, dict):
            return ", ".join(f"{key} {words(item)}" for key, item in value.items()) or "—"
        if isinstance(value, list):
            return ", ".join(words(item) for item in value) or "—"
        return str(value)

    return "; ".join(f"{key}: {words(value)}" for key, value in (detail or {}).items())


@router.get("/audit")
def audit(request: Request, db: DbSession, admin: CurrentAdmin, where: Annotated[AuditFilter, Depends(_filter)],
          page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    """The audit log, newest first, :data:`AUDIT_PAGE_SIZE` events a page, filtered by user, action and dates."""
    try:
        events, total = crud.audit_events(db, **where.query(), offset=(page - 1) * AUDIT_PAGE_SIZE,
                                          limit=AUDIT_PAGE_SIZE)
    except DayError:
        return render(request, "error.html", {"message_key": "bad_dates"}, status_code=status.HTTP_400_BAD_REQUEST)
    t = translator(page_language(request))
    pages = page_count(total, AUDIT_PAGE_SIZE)
    return render(request, "audit.html", {
        "rows": [(event, detail_text(event.detail, t)) for event in events], "where": where,
        "actions": crud.audit_actions(db), "page": page, "pages": pages, "total": total,
        "newer_url": where.url("/admin/audit", page=page - 1) if page > 1 else None,
        "older_url": where.url("/admin/audit", page=page + 1) if page < pages else None,
        "csv_url": where.url("/admin/audit.csv")})


@router.get("/audit.csv")
def audit_csv(db: DbSession, admin: CurrentAdmin, where: Annotated[AuditFilter, Depends(_filter)]) -> Response:
    """Every event matching the filter, newest first, as CSV (cells that a spreadsheet would run as a formula are
    prefixed with ``'``)."""
    events, _ = crud.audit_events(db, **where.query(), limit=None)
    t = translator("en")
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["time_utc", "user", "action", "subject", "client", "detail"])
    for event in events:
        cells = [event.created_at.isoformat(), event.actor.username if event.actor else "", event.action,
                 event.subject, event.client, detail_text(event.detail, t)]
        writer.writerow(["'" + cell if cell[:1] in FORMULA_STARTS else cell for cell in cells])
    return Response(out.getvalue(), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="cardioscreen-audit.csv"'})
