"""``GET /api/studies/{id}/status``: whether a study's analysis is still queued or running (the study page polls it
while it is, then shows the result without a reload)."""

from __future__ import annotations

from fastapi import APIRouter

from cardioscreen.web.deps import ApiUser, DbSession, visible_study
from cardioscreen.web.models import PENDING
from cardioscreen.web.schemas import StudyProgress

router = APIRouter(prefix="/api", tags=["api"])


@router.get("/studies/{study_id}/status", response_model=StudyProgress)
def study_status(study_id: int, db: DbSession, user: ApiUser) -> StudyProgress:
    """The study's status alone (its patient, or a doctor); not written to the audit log, as it shows no finding."""
    study = visible_study(db, study_id, user)
    return StudyProgress(id=study.id, status=study.status, pending=study.status in PENDING)
