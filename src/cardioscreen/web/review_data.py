"""Data access for learning from reviews: the reviewed studies an export reads, shadow results and their agreement
with the active model and with the doctors' verdicts (beside :mod:`~.crud`, which holds the app's other queries)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from cardioscreen.web.models import Conclusion, ShadowResult, Study, StudyStatus


def reviewed_studies(db: Session, since: datetime | None = None) -> Sequence[Study]:
    """Analysed studies with a conclusion (concluded at or after ``since``), oldest conclusion first, with their
    verdicts and owners loaded."""
    query = (select(Study).join(Conclusion, Conclusion.study_id == Study.id)
             .where(Study.status == StudyStatus.DONE.value)
             .options(selectinload(Study.conclusion).selectinload(Conclusion.verdicts),
                      selectinload(Study.conclusion).selectinload(Conclusion.statements), selectinload(Study.owner))
             .order_by(Conclusion.created_at, Study.id))
    if since is not None:
        query = query.where(Conclusion.created_at >= since)
    return db.scalars(query).all()


def add_shadow_result(db: Session, study: Study, shadow: Mapping[str, Any]) -> ShadowResult:
    """Keep the shadow candidate's findings ``{"model_version", "predictions"}`` on ``study``."""
    row = ShadowResult(study_id=study.id, model_version=str(shadow["model_version"])[:64],
                       predictions=list(shadow["predictions"]))
    db.add(row)
    db.flush()
    return row


@dataclass(frozen=True)
class ShadowAgreement:
    """How a shadow candidate's flags compare, on the studies it ran on.

    Attributes
    ----------
    version : str
        The candidate's model version.
    studies : int
        Studies it ran on.
    same_flags : int
        Of those, studies where it flags exactly the classes the active model flagged.
    class_agreement : float
        Share of (study, class) pairs where its flag equals the active model's (NaN without studies).
    verdicts : int
        Doctors' verdicts on those studies (each a class found present or absent).
    candidate_right, active_right : int
        Of those verdicts, how many the candidate's and the active model's flags agree with.
    """

    version: str
    studies: int
    same_flags: int
    class_agreement: float
    verdicts: int
    candidate_right: int
    active_right: int


def shadow_agreement(db: Session) -> list[ShadowAgreement]:
    """Per shadow candidate (newest first): agreement with the active model's flags of the same studies and with
    the doctors' verdicts so far."""
    rows = db.scalars(select(ShadowResult).options(
        selectinload(ShadowResult.study).selectinload(Study.conclusion).selectinload(Conclusion.verdicts))
        .order_by(ShadowResult.id.desc())).all()
    by_version: dict[str, list[ShadowResult]] = {}
    for row in rows:
        by_version.setdefault(row.model_version, []).append(row)
    return [_agreement(version, results) for version, results in by_version.items()]


def _agreement(version: str, results: Sequence[ShadowResult]) -> ShadowAgreement:
    same = pairs = equal = verdicts = candidate_right = active_right = 0
    for row in results:
        shadow = {str(p["code"]): bool(p["flagged"]) for p in row.predictions}
        active = {str(p["code"]): bool(p["flagged"]) for p in (row.study.result or {}).get("predictions") or ()}
        common = shadow.keys() & active.keys()
        same += all(shadow[c] == active[c] for c in common)
        pairs += len(common)
        equal += sum(shadow[c] == active[c] for c in common)
        for verdict in row.study.conclusion.verdicts if row.study.conclusion else ():
            if verdict.code not in common:
                continue
            verdicts += 1
            candidate_right += shadow[verdict.code] == verdict.agree
            active_right += active[verdict.code] == verdict.agree
    return ShadowAgreement(version=version, studies=len(results), same_flags=same,
                           class_agreement=equal / pairs if pairs else float("nan"), verdicts=verdicts,
                           candidate_right=candidate_right, active_right=active_right)


def studies_per_version(db: Session) -> dict[str, int]:
    """How many studies each model version's result is stored for."""
    query = (select(Study.model_version, func.count()).where(Study.model_version.is_not(None))
             .group_by(Study.model_version))
    return {str(version): int(n) for version, n in db.execute(query).all()}
