"""Data access: every query of the web app lives here (routes never build queries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from sqlalchemy import and_, delete, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from cardioscreen.errors import CardioScreenError
from cardioscreen.web.models import (
    LANGUAGES,
    PENDING,
    ApiToken,
    AuditEvent,
    ClassVerdict,
    Conclusion,
    LoginAttempt,
    Role,
    StatementVerdict,
    Study,
    User,
)
from cardioscreen.web.security import (
    hash_password,
    new_api_token,
    normalize_username,
    password_problem,
    token_digest,
    username_problem,
    verify_password,
)
from cardioscreen.web.triage import triage

MAX_USERNAME_LENGTH = 150


class UserExistsError(CardioScreenError):
    """The user name is taken."""


class StudyPendingError(CardioScreenError):
    """A study whose analysis a job queue worker has not finished cannot be concluded yet."""


class AlreadyConcludedError(CardioScreenError):
    """The study already has a conclusion."""


def _now() -> datetime:
    return datetime.now(timezone.utc)


def validate_new_user(username: str, password: str, role: str, language: str) -> str:
    """The normalised user name; raises :class:`CardioScreenError` naming the first invalid field."""
    name = normalize_username(username)
    if not name or len(name) > MAX_USERNAME_LENGTH:
        raise CardioScreenError(f"user name must be 1 to {MAX_USERNAME_LENGTH} characters")
    problem = username_problem(name) or password_problem(password, name)
    if problem:
        raise CardioScreenError(problem)
    if role not in {r.value for r in Role}:
        raise CardioScreenError(f"unknown role {role!r}; one of {[r.value for r in Role]}")
    if language not in LANGUAGES:
        raise CardioScreenError(f"unknown language {language!r}; one of {list(LANGUAGES)}")
    return name


def create_user(
    db: Session, username: str, password: str, *, role: str = Role.PATIENT.value, full_name: str = "",
    language: str = "en",
) -> User:
    """Add a user with an argon2-hashed password; raises :class:`UserExistsError` when the name is taken."""
    name = validate_new_user(username, password, role, language)
    user = User(username=name, full_name=full_name.strip()[:200], password_hash=hash_password(password), role=role,
                language=language)
    db.add(user)
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise UserExistsError(f"user name {name!r} is already taken") from exc
    return user


def get_user(db: Session, user_id: int) -> User | None:
    return db.get(User, user_id)


def count_users(db: Session) -> int:
    return db.scalar(select(func.count()).select_from(User)) or 0


def list_users(db: Session) -> Sequence[User]:
    return db.scalars(select(User).order_by(User.role, User.username)).all()


def update_user(db: Session, user: User, *, role: str | None = None, is_active: bool | None = None,
                language: str | None = None, password: str | None = None) -> User:
    """Change a user's role, active flag, language or password (each only when given); a new password, role or
    active flag ends the user's sessions and API tokens (:func:`end_sessions`)."""
    ends_sessions = (password is not None or role not in (None, user.role)
                     or is_active not in (None, user.is_active))
    if password is not None:
        problem = password_problem(password, user.username)
        if problem:
            raise CardioScreenError(problem)
        user.password_hash = hash_password(password)
    if role is not None:
        if role not in {r.value for r in Role}:
            raise CardioScreenError(f"unknown role {role!r}; one of {[r.value for r in Role]}")
        user.role = role
    if language is not None:
        if language not in LANGUAGES:
            raise CardioScreenError(f"unknown language {language!r}; one of {list(LANGUAGES)}")
        user.language = language
    if is_active is not None:
        user.is_active = is_active
    if ends_sessions:
        end_sessions(db, user)
    db.flush()
    return user


def end_sessions(db: Session, user: User) -> None:
    """End every session of ``user`` (their cookies name an older epoch) and delete the user's API tokens."""
    user.session_epoch = User.session_epoch + 1
    db.execute(delete(ApiToken).where(ApiToken.user_id == user.id))
    db.flush()


def authenticate(db: Session, username: str, password: str) -> User | None:
    """The active user with these credentials, or None (in the same time whether or not the name exists)."""
    user = db.scalar(select(User).where(User.username == normalize_username(username)))
    if not verify_password(password, user.password_hash if user else None) or user is None or not user.is_active:
        return None
    return user


def record_event(db: Session, action: str, *, user: User | None = None, subject: str = "", client: str = "",
                 detail: Mapping[str, Any] | None = None) -> None:
    """Append to the audit log."""
    db.add(AuditEvent(action=action, user_id=user.id if user else None, subject=subject[:255], client=client[:64],
                      detail=dict(detail) if detail else None))
    db.flush()


def add_login_attempt(db: Session, username: str, client: str) -> LoginAttempt:
    """Count a sign-in attempt for ``username`` from ``client`` (a failure until :func:`forgive_login_failures`)."""
    attempt = LoginAttempt(username=normalize_username(username)[:255], client=client[:64])
    db.add(attempt)
    db.flush()
    return attempt


def login_failures(db: Session, username: str, client: str, window_s: int) -> tuple[int, int]:
    """Attempts not known to have succeeded within the last ``window_s`` seconds: for this user name from this
    client address, and from this address for any name."""
    since = _now() - timedelta(seconds=window_s)
    recent = select(func.count()).select_from(LoginAttempt).where(LoginAttempt.created_at >= since,
                                                                 LoginAttempt.client == client[:64])
    pair = recent.where(LoginAttempt.username == normalize_username(username)[:255])
    return db.scalar(pair) or 0, db.scalar(recent) or 0


def forgive_login_failures(db: Session, username: str, client: str, window_s: int) -> None:
    """The right password: forget this user name's attempts from this address, and everyone's expired ones."""
    since = _now() - timedelta(seconds=window_s)
    db.execute(delete(LoginAttempt).where(or_(
        and_(LoginAttempt.username == normalize_username(username)[:255], LoginAttempt.client == client[:64]),
        LoginAttempt.created_at < since)))


def audit_events(db: Session, *, username: str = "", action: str = "", since: datetime | None = None,
                 until: datetime | None = None, offset: int = 0, limit: int | None = 50,
                 ) -> tuple[Sequence[AuditEvent], int]:
    """A page of the audit log, newest first, and the number of events matching.

    ``username``: events by that user or about that user name; ``action``: that action; ``since``/``until``: created
    at or after / before those times (UTC); ``limit=None``: every matching event from ``offset`` on.
    """
    conditions = []
    if username:
        name = normalize_username(username)
        conditions.append(or_(AuditEvent.actor.has(User.username == name), AuditEvent.subject == name))
    if action:
        conditions.append(AuditEvent.action == action)
    if since is not None:
        conditions.append(AuditEvent.created_at >= since)
    if until is not None:
        conditions.append(AuditEvent.created_at < until)
    total = db.scalar(select(func.count()).select_from(AuditEvent).where(*conditions)) or 0
    query = (select(AuditEvent).where(*conditions).options(selectinload(AuditEvent.actor))
             .order_by(AuditEvent.id.desc()).offset(offset).limit(limit))
    return db.scalars(query).all(), total


def audit_actions(db: Session) -> Sequence[str]:
    """The actions the audit log holds, alphabetically (for the filter)."""
    return db.scalars(select(AuditEvent.action).distinct().order_by(AuditEvent.action)).all()


def create_api_token(db: Session, user: User, ttl_s: int) -> str:
    """Issue an API token for ``user``; only its digest is stored."""
    token, digest = new_api_token()
    db.add(ApiToken(user_id=user.id, token_hash=digest, expires_at=_now() + timedelta(seconds=ttl_s)))
    db.flush()
    return token


def user_for_token(db: Session, token: str) -> User | None:
    """The active user owning an unexpired ``token``."""
    query = (select(User).join(ApiToken, ApiToken.user_id == User.id)
             .where(ApiToken.token_hash == token_digest(token), ApiToken.expires_at > _now(), User.is_active))
    return db.scalar(query)


def add_study(db: Session, owner: User, *, storage_key: str, original_filename: str, status: str,
              result: Mapping[str, Any] | None, error: str | None, device_statements: Sequence[str] = (),
              age: float | None = None, sex: str | None = None) -> Study:
    """Record a stored study.

    Urgency and flagged codes are taken from ``result["predictions"]``; the urgent flag and its reasons from the
    result's interpretation and the device's statements (``record.meta["statements"]``), see :func:`triage`;
    the quality verdict from ``result["quality"]`` and the model version from ``result["model"]``. ``age`` (years)
    and ``sex`` are the file's (``record.meta``).
    """
    study = Study(owner_id=owner.id, storage_key=storage_key, original_filename=original_filename[:255],
                  status=status, error=error)
    set_patient(study, device_statements, age, sex)
    set_result(study, result)
    db.add(study)
    db.flush()
    return study


def set_patient(study: Study, device_statements: Sequence[str], age: float | None, sex: str | None) -> None:
    """Store what the file says of the recording on ``study``: the device's statements, the patient's age and sex
    (set before :func:`set_result`, whose triage reads the statements)."""
    study.device_statements = [str(s) for s in device_statements]
    study.patient_age, study.patient_sex = age, str(sex)[:8] if sex else None


def set_result(study: Study, result: Mapping[str, Any] | None) -> None:
    """Store ``result`` on ``study`` with the columns taken from it (see :func:`add_study`)."""
    predictions = (result or {}).get("predictions") or []
    flagged = sorted((p for p in predictions if p.get("flagged")), key=lambda p: -float(p["probability"]))
    codes = list(dict.fromkeys(str(p["code"]) for p in flagged))
    verdict = triage(result, list(study.device_statements or ()))
    study.result = dict(result) if result is not None else None
    study.urgency = max((float(p["probability"]) for p in flagged if p["code"] != "NORM"), default=0.0)
    study.flagged_codes = ",".join(codes)[:255]
    study.urgent, study.urgent_reasons = verdict.urgent, verdict.reasons
    study.quality = str(((result or {}).get("quality") or {}).get("verdict", ""))[:16]
    study.model_version = ((result or {}).get("model") or {}).get("model_version")


def get_study(db: Session, study_id: int) -> Study | None:
    query = select(Study).where(Study.id == study_id).options(
        selectinload(Study.owner), selectinload(Study.conclusion).selectinload(Conclusion.verdicts),
        selectinload(Study.conclusion).selectinload(Conclusion.doctor))
    return db.scalar(query)


def studies_of(db: Session, owner_id: int, *, before: Study | None = None, offset: int = 0,
               limit: int | None = None) -> Sequence[Study]:
    """A patient's studies, newest first (``before``: only those uploaded before that study; ``offset``/``limit``:
    one page of them)."""
    query = (select(Study).where(Study.owner_id == owner_id).options(selectinload(Study.conclusion))
             .order_by(Study.created_at.desc(), Study.id.desc()).offset(offset).limit(limit))
    if before is not None:
        query = query.where(or_(Study.created_at < before.created_at,
                                and_(Study.created_at == before.created_at, Study.id < before.id)))
    return db.scalars(query).all()


def count_studies_of(db: Session, owner_id: int, *, before: Study | None = None) -> int:
    """How many studies :func:`studies_of` lists (all pages)."""
    query = select(func.count()).select_from(Study).where(Study.owner_id == owner_id)
    if before is not None:
        query = query.where(or_(Study.created_at < before.created_at,
                                and_(Study.created_at == before.created_at, Study.id < before.id)))
    return db.scalar(query) or 0


@dataclass(frozen=True)
class QueueFilter:
    """What the doctor's queue shows.

    Attributes
    ----------
    concluded : bool
        The concluded list (newest conclusion first) instead of the studies awaiting one (urgent first).
    status : str
        Only studies of this status (``done``, ``refused``, ``failed``); "" for all.
    code : str
        Only studies that flag this class code.
    quality : str
        Only studies of this quality verdict.
    patient : str
        Only studies of patients whose user name or full name contains this text (case-insensitive).
    search : str
        Studies whose file name or patient contains this text, or whose id it is (``17`` or ``#17``).
    since, until : datetime or None
        Uploaded at or after / before these times (UTC).
    """

    concluded: bool = False
    status: str = ""
    code: str = ""
    quality: str = ""
    patient: str = ""
    search: str = ""
    since: datetime | None = None
    until: datetime | None = None


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere (``%``, ``_`` and ``\\`` taken literally, escape ``\\``)."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def _patient_is(text: str) -> Any:
    """The study's patient has ``text`` in their user name or full name (case-insensitive)."""
    pattern = _like(text.lower())
    return Study.owner.has(or_(func.lower(User.username).like(pattern, escape="\\"),
                               func.lower(User.full_name).like(pattern, escape="\\")))


def _queue_conditions(f: QueueFilter) -> list[Any]:
    conditions: list[Any] = [Study.reviewed.is_(f.concluded)]
    if f.status:
        conditions.append(Study.status == f.status)
    if f.code:
        conditions.append(("," + Study.flagged_codes + ",").like(_like("," + f.code + ","), escape="\\"))
    if f.quality:
        conditions.append(Study.quality == f.quality)
    if f.patient:
        conditions.append(_patient_is(f.patient))
    if f.search:
        number = f.search.lstrip("#")
        matches = [func.lower(Study.original_filename).like(_like(f.search.lower()), escape="\\"),
                   _patient_is(f.search)]
        if number.isdigit() and len(number) < 19:
            matches.append(Study.id == int(number))
        conditions.append(or_(*matches))
    if f.since is not None:
        conditions.append(Study.created_at >= f.since)
    if f.until is not None:
        conditions.append(Study.created_at < f.until)
    return conditions


def queue_page(db: Session, f: QueueFilter, *, offset: int = 0, limit: int | None = 50,
               ) -> tuple[Sequence[Study], int]:
    """One page of the doctor's queue and how many studies match ``f`` in all.

    Awaiting a conclusion: urgent first, then by the highest flagged probability, then oldest first. Concluded:
    the newest conclusion first. ``limit=None``: every matching study from ``offset`` on.
    """
    conditions = _queue_conditions(f)
    total = db.scalar(select(func.count()).select_from(Study).where(*conditions)) or 0
    query = select(Study).where(*conditions).options(selectinload(Study.owner))
    if f.concluded:
        query = (query.join(Conclusion, Conclusion.study_id == Study.id)
                 .options(selectinload(Study.conclusion).selectinload(Conclusion.doctor))
                 .order_by(Conclusion.created_at.desc(), Study.id.desc()))
    else:
        query = query.order_by(Study.urgent.desc(), Study.urgency.desc(), Study.created_at, Study.id)
    return db.scalars(query.offset(offset).limit(limit)).all(), total


def flagged_code_choices(db: Session) -> list[str]:
    """Every class code some study flags, alphabetically (for the queue's filter)."""
    codes = db.scalars(select(Study.flagged_codes).distinct()).all()
    return sorted({code for codes_of in codes for code in codes_of.split(",") if code})


def add_conclusion(db: Session, study: Study, doctor: User, text: str, verdicts: Mapping[str, bool],
                   client: str = "", added: Sequence[str] = (), statements: Mapping[str, bool] | None = None,
                   added_statements: Sequence[str] = ()) -> Conclusion:
    """Conclude ``study``: it leaves the queue and the audit log records who concluded what, from which address.

    ``verdicts``: class code -> the doctor agrees with the model's flag; ``added``: codes of findings the doctor
    adds that the model did not flag (stored as verdicts with ``added`` set). ``statements`` and
    ``added_statements`` do the same for the statements of the interpretation and the rhythm (SCP codes).
    """
    statements = dict(statements or {})
    if study.reviewed or study.conclusion is not None:
        raise AlreadyConcludedError(f"study {study.id} already has a conclusion")
    if study.status in PENDING:
        raise StudyPendingError(f"study {study.id} is still being analysed; conclude it once its result is shown")
    if not text.strip():
        raise CardioScreenError("the conclusion is empty")
    conclusion = Conclusion(study_id=study.id, doctor_id=doctor.id, text=text.strip(),
                            model_version=study.model_version,
                            verdicts=[ClassVerdict(code=code, agree=agree) for code, agree in verdicts.items()]
                            + [ClassVerdict(code=code, agree=True, added=True) for code in added
                               if code not in verdicts],
                            statements=[StatementVerdict(code=code, agree=agree) for code, agree in statements.items()]
                            + [StatementVerdict(code=code, agree=True, added=True) for code in added_statements
                               if code not in statements])
    db.add(conclusion)
    study.reviewed = True
    try:
        db.flush()
    except IntegrityError as exc:
        db.rollback()
        raise AlreadyConcludedError(f"study {study.id} already has a conclusion") from exc
    record_event(db, "conclusion", user=doctor, subject=f"study:{study.id}", client=client,
                 detail={"text": conclusion.text, "verdicts": dict(verdicts),
                         **({"added": [v.code for v in conclusion.verdicts if v.added]} if added else {}),
                         **({"statements": {v.code: v.agree for v in conclusion.statements}}
                            if conclusion.statements else {})})
    return conclusion
