"""Administrators' pages: users and roles, and the audit log."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from cardioscreen.errors import CardioScreenError
from cardioscreen.web import crud
from cardioscreen.web.deps import CurrentAdmin, DbSession, client_address, csrf_protect
from cardioscreen.web.models import Role
from cardioscreen.web.templating import flash, render

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)], include_in_schema=False)


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
        return _users_page(request, db, error_text="you cannot remove your own administrator access")
    try:
        crud.update_user(db, user, role=role, is_active=is_active, password=password or None)
    except CardioScreenError as exc:
        return _users_page(request, db, error_text=str(exc))
    crud.record_event(db, "user_updated", user=admin, subject=user.username, client=client_address(request),
                      detail={"role": role, "active": is_active, "password_reset": bool(password)})
    db.commit()
    flash(request, "user_updated", username=user.username)
    return RedirectResponse("/admin/users", status_code=status.HTTP_303_SEE_OTHER)


@router.get("/audit")
def audit(request: Request, db: DbSession, admin: CurrentAdmin) -> Response:
    return render(request, "audit.html", {"events": crud.audit_events(db)})
