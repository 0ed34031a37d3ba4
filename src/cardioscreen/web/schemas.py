"""Pydantic models of the JSON API (``/api``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field


class Token(BaseModel):
    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int = Field(description="seconds")


class UserOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    username: str
    full_name: str
    role: str
    language: str
    is_active: bool


class UserCreate(BaseModel):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=10, max_length=1000)
    role: Literal["patient", "doctor", "admin"] = "patient"
    full_name: str = Field(default="", max_length=200)
    language: Literal["en", "ru"] = "en"


class UserUpdate(BaseModel):
    role: Literal["patient", "doctor", "admin"] | None = None
    password: str | None = Field(default=None, min_length=10, max_length=1000)
    is_active: bool | None = None
    language: Literal["en", "ru"] | None = None


class ConclusionIn(BaseModel):
    text: str = Field(min_length=1, max_length=20_000)
    verdicts: dict[str, bool] = Field(default_factory=dict, description="flagged class code -> the doctor agrees")
    added: list[str] = Field(default_factory=list, max_length=64,
                             description="codes of classes the model did not flag that the doctor finds present")
    statements: dict[str, bool] = Field(
        default_factory=dict, description="statement of the interpretation or the rhythm (SCP code) -> the doctor "
        "accepts it")
    added_statements: list[str] = Field(default_factory=list, max_length=64,
                                        description="SCP statements the doctor adds to the interpretation")


class ConclusionOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    text: str
    doctor: str
    created_at: datetime
    verdicts: dict[str, bool]
    added: list[str] = Field(default_factory=list, description="the classes among verdicts the doctor added")
    statements: dict[str, bool] = Field(default_factory=dict,
                                        description="statement (SCP code) -> accepted (or added) by the doctor")
    model_version: str | None = Field(default=None, description="the model version of the result reviewed")


class StudySummary(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    owner_id: int
    original_filename: str
    status: str
    error: str | None
    urgency: float
    urgent: bool = Field(description="listed first in the queue: an urgent finding of ours or of the device")
    urgent_reasons: list[dict[str, str]] = Field(
        description='why it is urgent: {"source": "analysis"|"device", "code", "text"} each')
    flagged_codes: list[str]
    reviewed: bool
    created_at: datetime


class StudyOut(StudySummary):
    result: dict[str, Any] | None = Field(description="the analysis result (schema of `cardioscreen analyze --json`)")
    device_statements: list[str] | None = Field(
        description="the recording device's own interpretation read from the file (null: not kept for this study)")
    conclusion: ConclusionOut | None
    model_version: str | None = Field(default=None, description="content hash of the model bundle of the result")


class QueuePage(BaseModel):
    """One page of the review queue (``GET /api/queue``)."""

    items: list[StudySummary]
    total: int = Field(description="studies matching the filters, on all pages")
    page: int = Field(description="this page's number, from 1")
    per_page: int
    pages: int = Field(description="how many pages the matching studies fill (at least 1)")
    next: str | None = Field(description="URL of the next page with the same filters (null on the last)")
    previous: str | None = Field(description="URL of the previous page with the same filters (null on the first)")


class StudyProgress(BaseModel):
    """Where a study's analysis stands (``GET /api/studies/{id}/status``, polled by the study page)."""

    id: int
    status: str = Field(description="queued, analysing (a job queue worker has it), done, refused or failed")
    pending: bool = Field(description="true while queued or analysing")
