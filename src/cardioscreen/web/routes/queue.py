"""Doctors' pages: the review queue, most urgent first, and the conclusion of a study."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, status
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from cardioscreen.errors import CardioScreenError
from cardioscreen.result import worded
from cardioscreen.web import crud
from cardioscreen.web.deps import CurrentDoctor, DbSession, Store, client_address, csrf_protect, visible_study
from cardioscreen.web.models import Study
from cardioscreen.web.routes.studies import study_context
from cardioscreen.web.templating import flash, page_language, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

VERDICT_PREFIX = "verdict_"
MAX_CONCLUSION_CHARS = 20_000


@router.get("/queue")
def queue(request: Request, db: DbSession, doctor: CurrentDoctor) -> Response:
    """Studies awaiting a conclusion, urgent ones first, each with its summary line and urgent reasons in the
    reader's language."""
    studies = crud.review_queue(db)
    lang = page_language(request)
    interpretations = {s.id: worded(s.result or {}, lang)[1] or {} for s in studies}
    return render(request, "queue.html", {
        "studies": studies,
        "summaries": {i: interpretation.get("summary") for i, interpretation in interpretations.items()},
        "reasons": {s.id: _reasons(s, interpretations[s.id]) for s in studies},
    })


def _reasons(study: Study, interpretation: dict[str, Any]) -> list[dict[str, str]]:
    """The study's urgent reasons; ours worded as the reader's interpretation words the statement of that code."""
    texts = {str(s["code"]): str(s["text"]) for s in interpretation.get("statements") or ()}
    return [{**reason, "text": texts.get(reason["code"], reason["text"])} if reason["source"] == "analysis" else reason
            for reason in study.urgent_reasons or ()]


async def form_data(request: Request) -> FormData:
    return await request.form()


@router.post("/studies/{study_id}/conclusion")
def conclude(request: Request, study_id: int, db: DbSession, doctor: CurrentDoctor, store: Store,
             form: Annotated[FormData, Depends(form_data)]) -> Response:
    """Save the conclusion; ``verdict_<CODE>`` fields (``agree``/``disagree``) are read for the flagged classes."""
    text = str(form.get("text", ""))[:MAX_CONCLUSION_CHARS]
    study = visible_study(db, study_id, doctor)
    flagged = {p["code"] for p in (study.result or {}).get("predictions") or [] if p["flagged"]}
    verdicts = {code: form.get(VERDICT_PREFIX + code) == "agree" for code in sorted(flagged)
                if form.get(VERDICT_PREFIX + code) in ("agree", "disagree")}
    try:
        crud.add_conclusion(db, study, doctor, text, verdicts, client=client_address(request))
    except CardioScreenError as exc:
        context = study_context(db, store, study, doctor, page_language(request))
        context |= {"error_text": str(exc), "draft": text}
        return render(request, "study.html", context, status_code=status.HTTP_400_BAD_REQUEST)
    db.commit()
    flash(request, "conclusion_saved")
    return RedirectResponse("/queue", status_code=status.HTTP_303_SEE_OTHER)
