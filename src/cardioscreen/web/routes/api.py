"""The JSON API for hospital integration: tokens, studies, the queue, conclusions, users (OpenAPI at /api/docs)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile, status
from fastapi.security import OAuth2PasswordRequestForm

from cardioscreen.errors import CardioScreenError, ECGFormatError
from cardioscreen.reviews.labels import SCP_STATEMENTS, result_statements
from cardioscreen.web import crud
from cardioscreen.web.crud import AlreadyConcludedError, StudyPendingError, UserExistsError
from cardioscreen.web.deps import (
    ApiAdmin,
    ApiDoctor,
    ApiUser,
    DbSession,
    Settings,
    client_address,
    record_view,
    visible_study,
)
from cardioscreen.web.models import Role, Study
from cardioscreen.web.paging import page_count, with_query
from cardioscreen.web.routes.queue import QUEUE_PAGE_SIZE, QueueQuery
from cardioscreen.web.routes.queue import _query as queue_query
from cardioscreen.web.schemas import (
    ConclusionIn,
    ConclusionOut,
    QueuePage,
    StudyOut,
    StudySummary,
    Token,
    UserCreate,
    UserOut,
    UserUpdate,
)
from cardioscreen.web.throttle import TooManyAttemptsError, WrongCredentialsError, sign_in

router = APIRouter(prefix="/api", tags=["api"])

MAX_PER_PAGE = 200
"""Most studies one page of ``/api/queue`` holds."""


def summary(study: Study) -> StudySummary:
    return StudySummary(id=study.id, owner_id=study.owner_id, original_filename=study.original_filename,
                        status=study.status, error=study.error, urgency=study.urgency, urgent=study.urgent,
                        urgent_reasons=study.urgent_reasons or [],
                        flagged_codes=[c for c in study.flagged_codes.split(",") if c], reviewed=study.reviewed,
                        created_at=study.created_at)


def detail(study: Study) -> StudyOut:
    conclusion = study.conclusion
    return StudyOut(
        **summary(study).model_dump(), result=study.result, device_statements=study.device_statements,
        model_version=study.model_version,
        conclusion=None if conclusion is None else ConclusionOut(
            text=conclusion.text, doctor=conclusion.doctor.username, created_at=conclusion.created_at,
            verdicts={v.code: v.agree for v in conclusion.verdicts},
            added=[v.code for v in conclusion.verdicts if v.added], model_version=conclusion.model_version,
            statements={v.code: v.agree for v in conclusion.statements}),
    )


@router.post("/token", response_model=Token)
def issue_token(request: Request, db: DbSession, settings: Settings,
                form: Annotated[OAuth2PasswordRequestForm, Depends()]) -> Token:
    """Exchange a user name and password for a bearer token (OAuth2 password flow; rate-limited like sign-in)."""
    client = client_address(request)
    try:
        user = sign_in(db, settings, form.username, form.password, client)
    except TooManyAttemptsError as exc:
        raise HTTPException(status.HTTP_429_TOO_MANY_REQUESTS, "too many failed attempts; try again later") from exc
    except WrongCredentialsError as exc:
        raise HTTPException(status.HTTP_401_UNAUTHORIZED, "wrong user name or password",
                            headers={"WWW-Authenticate": "Bearer"}) from exc
    token = crud.create_api_token(db, user, settings.api_token_ttl_s)
    crud.record_event(db, "api_token", user=user, subject=user.username, client=client)
    db.commit()
    return Token(access_token=token, expires_in=settings.api_token_ttl_s)


@router.get("/me", response_model=UserOut)
def me(user: ApiUser) -> UserOut:
    return UserOut.model_validate(user)


@router.get("/studies", response_model=list[StudySummary])
def my_studies(db: DbSession, user: ApiUser) -> list[StudySummary]:
    """The caller's own studies, newest first."""
    return [summary(s) for s in crud.studies_of(db, user.id)]


@router.post("/studies", response_model=StudyOut, status_code=status.HTTP_201_CREATED)
def upload_study(request: Request, db: DbSession, user: ApiUser,
                 files: Annotated[list[UploadFile], File(description="one ECG file, or a WFDB .hea with its .dat")],
                 ) -> StudyOut:
    """Upload and analyse an ECG (patients). A file that is not a readable ECG gets 400 and stores nothing. With a
    job queue (``CARDIOSCREEN_JOB_QUEUE``) the answer comes at once with status ``queued``: a worker analyses the
    study (``GET /api/studies/{id}/status`` says when it is done), and a file that is no ECG becomes a failed study."""
    if user.role != Role.PATIENT.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only patients upload studies")
    try:
        study = request.app.state.intake(db, user, [(f.filename or "upload", f.file) for f in files],
                                         client=client_address(request))
    except ECGFormatError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    return detail(visible_study(db, study.id, user))


@router.get("/studies/{study_id}", response_model=StudyOut)
def get_study(request: Request, study_id: int, db: DbSession, user: ApiUser) -> StudyOut:
    """One study with its result and conclusion (its patient, or a doctor)."""
    study = visible_study(db, study_id, user)
    record_view(request, db, user, "study_viewed", study)
    return detail(study)


@router.get("/queue", response_model=QueuePage)
def review_queue(db: DbSession, doctor: ApiDoctor, where: Annotated[QueueQuery, Depends(queue_query)],
                 page: Annotated[int, Query(ge=1, le=1_000_000)] = 1,
                 per_page: Annotated[int, Query(ge=1, le=MAX_PER_PAGE)] = QUEUE_PAGE_SIZE) -> QueuePage:
    """One page of the review queue (doctors), with the filters and search of the queue page ``/queue``.

    ``view``: "" (default) lists the studies awaiting a conclusion, urgent first, then by the highest flagged
    probability, then oldest first; ``concluded`` the concluded ones, newest conclusion first. Filters: ``status``
    (``done``, ``refused``, ``failed``), ``code`` (a flagged class code), ``quality`` (``usable``, ``warn``,
    ``unusable``), ``patient`` (part of the patient's user or full name), ``q`` (part of the file or patient name,
    or the study id, ``17`` or ``#17``), ``since``/``until`` (upload days ``YYYY-MM-DD``, inclusive; 400 for another
    form). ``page`` counts from 1, ``per_page`` studies a page (at most :data:`MAX_PER_PAGE`). The answer carries
    the page's ``items``, the ``total`` matching studies, ``pages``, and the ``next``/``previous`` page URLs with the
    same filters (null past either end).
    """
    studies, total = crud.queue_page(db, where.filter(), offset=(page - 1) * per_page, limit=per_page)
    pages = page_count(total, per_page)

    def link(number: int) -> str:
        return with_query("/api/queue", asdict(where) | {"page": number, "per_page": per_page})

    return QueuePage(items=[summary(s) for s in studies], total=total, page=page, per_page=per_page, pages=pages,
                     next=link(page + 1) if page < pages else None, previous=link(page - 1) if page > 1 else None)


@router.post("/studies/{study_id}/conclusion", response_model=StudyOut, status_code=status.HTTP_201_CREATED)
def conclude(request: Request, study_id: int, body: ConclusionIn, db: DbSession, doctor: ApiDoctor) -> StudyOut:
    """Write the conclusion of a study (doctors); 409 when it already has one, 422 for a verdict (or an added
    finding) on a class the model does not report, or an added finding the model flagged."""
    study = visible_study(db, study_id, doctor)
    predictions = (study.result or {}).get("predictions") or ()
    unknown = sorted((set(body.verdicts) | set(body.added)) - {str(p["code"]) for p in predictions})
    if unknown:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY, f"no such class of the model: {', '.join(unknown)}")
    flagged = sorted(set(body.added) & {str(p["code"]) for p in predictions if p["flagged"]})
    if flagged:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"the model flagged {', '.join(flagged)}: give a verdict, not an added finding")
    stated = result_statements(study.result or {})
    wrong = sorted(set(body.statements) - stated) + sorted(set(body.added_statements) - SCP_STATEMENTS)
    if wrong:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_ENTITY,
                            f"not a statement of this result or an SCP statement: {', '.join(wrong)}")
    try:
        crud.add_conclusion(db, study, doctor, body.text, body.verdicts, client=client_address(request),
                            added=body.added, statements=body.statements, added_statements=body.added_statements)
    except (AlreadyConcludedError, StudyPendingError) as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except CardioScreenError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    db.commit()
    db.expire_all()
    return detail(visible_study(db, study_id, doctor))


@router.get("/users", response_model=list[UserOut])
def users(db: DbSession, admin: ApiAdmin) -> list[UserOut]:
    return [UserOut.model_validate(u) for u in crud.list_users(db)]


@router.post("/users", response_model=UserOut, status_code=status.HTTP_201_CREATED)
def create_user(request: Request, body: UserCreate, db: DbSession, admin: ApiAdmin) -> UserOut:
    """Create a user of any role (administrators)."""
    try:
        user = crud.create_user(db, body.username, body.password, role=body.role, full_name=body.full_name,
                                language=body.language)
    except UserExistsError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from exc
    except CardioScreenError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    crud.record_event(db, "user_created", user=admin, subject=user.username, client=client_address(request),
                      detail={"role": body.role})
    db.commit()
    return UserOut.model_validate(user)


@router.patch("/users/{user_id}", response_model=UserOut)
def update_user(request: Request, user_id: int, body: UserUpdate, db: DbSession, admin: ApiAdmin) -> UserOut:
    user = crud.get_user(db, user_id)
    if user is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "no such user")
    if user.id == admin.id and (body.role not in (None, Role.ADMIN.value) or body.is_active is False):
        raise HTTPException(status.HTTP_400_BAD_REQUEST, "you cannot remove your own administrator access")
    try:
        crud.update_user(db, user, role=body.role, is_active=body.is_active, language=body.language,
                         password=body.password)
    except CardioScreenError as exc:
        raise HTTPException(status.HTTP_400_BAD_REQUEST, str(exc)) from exc
    crud.record_event(db, "user_updated", user=admin, subject=user.username, client=client_address(request),
                      detail=body.model_dump(exclude_none=True, exclude={"password"})
                      | {"password_reset": body.password is not None})
    db.commit()
    return UserOut.model_validate(user)
