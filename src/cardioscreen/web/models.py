"""Database tables (SQLAlchemy 2 declarative): users, API tokens, studies, conclusions, audit log, login attempts,
shadow results, the job queue."""

from __future__ import annotations

import enum
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Float, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class Role(str, enum.Enum):
    PATIENT = "patient"
    DOCTOR = "doctor"
    ADMIN = "admin"


class StudyStatus(str, enum.Enum):
    DONE = "done"
    REFUSED = "refused"
    FAILED = "failed"
    QUEUED = "queued"
    ANALYSING = "analysing"


PENDING = (StudyStatus.QUEUED.value, StudyStatus.ANALYSING.value)
"""The statuses of a study whose analysis a job queue worker has still to finish (see :mod:`cardioscreen.web.jobs`)."""


LANGUAGES = ("en", "ru")


class Base(DeclarativeBase):
    pass


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(150), unique=True, index=True)
    full_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16), default=Role.PATIENT.value)
    language: Mapped[str] = mapped_column(String(8), default="en")
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # A session cookie names the epoch it was issued in; raising it (sign-out, a new password, a role change,
    # deactivation) ends every session of the user at once.
    session_epoch: Mapped[int] = mapped_column(Integer, default=0)

    studies: Mapped[list[Study]] = relationship(back_populates="owner", foreign_keys="Study.owner_id")


class ApiToken(Base):
    """A bearer token for the JSON API; only its SHA-256 digest is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    user: Mapped[User] = relationship()


class Study(Base):
    """One uploaded ECG: its stored files (``storage_key`` names the folder), status and analysis result.

    ``urgent`` (with ``urgent_reasons``, see :mod:`cardioscreen.web.triage`) puts it at the top of the queue;
    ``device_statements`` are the recording cart's own interpretation read from the file (None for studies stored
    before they were kept); ``patient_age`` (years) and ``patient_sex`` are the file's, ``quality`` the quality
    verdict of the analysis ("" without one), kept as columns for the queue's rows and filters.
    """

    __tablename__ = "studies"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    original_filename: Mapped[str] = mapped_column(String(255))
    status: Mapped[str] = mapped_column(String(16))
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    urgency: Mapped[float] = mapped_column(Float, default=0.0, index=True)
    flagged_codes: Mapped[str] = mapped_column(String(255), default="")
    urgent: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    urgent_reasons: Mapped[list[dict[str, str]] | None] = mapped_column(JSON, nullable=True)
    device_statements: Mapped[list[str] | None] = mapped_column(JSON, nullable=True)
    reviewed: Mapped[bool] = mapped_column(Boolean, default=False, index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    patient_age: Mapped[float | None] = mapped_column(Float, nullable=True)
    patient_sex: Mapped[str | None] = mapped_column(String(8), nullable=True)
    quality: Mapped[str] = mapped_column(String(16), default="", index=True)
    # The content hash of the model bundle that produced ``result`` (None: no result, or stored before it was kept).
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)

    owner: Mapped[User] = relationship(back_populates="studies", foreign_keys=[owner_id])
    conclusion: Mapped[Conclusion | None] = relationship(back_populates="study", uselist=False)
    shadow_results: Mapped[list[ShadowResult]] = relationship(back_populates="study", cascade="all, delete-orphan")


class Conclusion(Base):
    """A doctor's conclusion on a study, with agree/disagree per flagged class."""

    __tablename__ = "conclusions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), unique=True)
    doctor_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    # The model version of the result the doctor reviewed (the study's at the time; a later re-analysis keeps it).
    model_version: Mapped[str | None] = mapped_column(String(64), nullable=True)

    study: Mapped[Study] = relationship(back_populates="conclusion")
    doctor: Mapped[User] = relationship()
    verdicts: Mapped[list[ClassVerdict]] = relationship(back_populates="conclusion", cascade="all, delete-orphan")
    statements: Mapped[list[StatementVerdict]] = relationship(back_populates="conclusion",
                                                              cascade="all, delete-orphan")


class ClassVerdict(Base):
    """The doctor agrees (or not) with one flagged class of a study, or (``added``) finds a class the model did not
    flag (then ``agree`` is True: the finding is present)."""

    __tablename__ = "class_verdicts"
    __table_args__ = (UniqueConstraint("conclusion_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conclusion_id: Mapped[int] = mapped_column(ForeignKey("conclusions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    agree: Mapped[bool] = mapped_column(Boolean)
    added: Mapped[bool] = mapped_column(Boolean, default=False)

    conclusion: Mapped[Conclusion] = relationship(back_populates="verdicts")


class StatementVerdict(Base):
    """The doctor accepts (or not) one statement of the written interpretation or the rhythm (an SCP code, e.g.
    ``SR``, ``AFIB``), or (``added``) states one it lacked (then ``agree`` is True: the statement holds)."""

    __tablename__ = "statement_verdicts"
    __table_args__ = (UniqueConstraint("conclusion_id", "code"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    conclusion_id: Mapped[int] = mapped_column(ForeignKey("conclusions.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(32))
    agree: Mapped[bool] = mapped_column(Boolean)
    added: Mapped[bool] = mapped_column(Boolean, default=False)

    conclusion: Mapped[Conclusion] = relationship(back_populates="statements")


class AuditEvent(Base):
    """Who did what, when: logins (and failed logins, used for rate limiting), uploads, conclusions, admin acts."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    action: Mapped[str] = mapped_column(String(32), index=True)
    subject: Mapped[str] = mapped_column(String(255), default="", index=True)
    client: Mapped[str] = mapped_column(String(64), default="")
    detail: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)

    actor: Mapped[User | None] = relationship()


class LoginAttempt(Base):
    """A sign-in attempt not known to have succeeded, counted by :mod:`cardioscreen.web.throttle`: written (and
    committed) before the password is checked, so that concurrent attempts all count; removed, with the earlier
    failures of the same user name from the same address, once the password proves right."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow, index=True)
    username: Mapped[str] = mapped_column(String(255), index=True)
    client: Mapped[str] = mapped_column(String(64), index=True)


class ShadowResult(Base):
    """What a candidate model (shadow mode, see :mod:`cardioscreen.registry`) found on a study, never shown:
    ``predictions`` is ``[{"code", "probability", "flagged"}, ...]``."""

    __tablename__ = "shadow_results"
    __table_args__ = (UniqueConstraint("study_id", "model_version"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    model_version: Mapped[str] = mapped_column(String(64), index=True)
    predictions: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)

    study: Mapped[Study] = relationship(back_populates="shadow_results")


class Job(Base):
    """One job of the queue that the ``cardioscreen worker`` processes serve (:mod:`cardioscreen.web.jobs`).

    ``kind`` is ``analyse`` (read and analyse an upload), ``explain`` (the saliency of its flagged classes) or
    ``reanalyse`` (an administrator's re-analysis with the active model, asked for by ``requested_by`` from
    ``client``, who the audit log names); ``priority`` orders the claims (lower first: a page waits on ``explain``).
    A worker that claims a job holds it under ``lease_token`` until ``lease_until`` (database time, extended by the
    worker's heartbeat); a job whose lease ran out is claimed again, at most ``attempts`` times in all.
    """

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_claim", "state", "priority", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    study_id: Mapped[int] = mapped_column(ForeignKey("studies.id", ondelete="CASCADE"), index=True)
    state: Mapped[str] = mapped_column(String(16), default="queued")
    priority: Mapped[int] = mapped_column(Integer, default=0)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    lease_token: Mapped[str | None] = mapped_column(String(32), nullable=True)
    lease_until: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    worker: Mapped[str] = mapped_column(String(120), default="")
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"), nullable=True)
    client: Mapped[str] = mapped_column(String(64), default="")
