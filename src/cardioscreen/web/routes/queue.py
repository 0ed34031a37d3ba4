"""Doctors' pages: the review queue, most urgent first, and the conclusion of a study."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.datastructures import FormData
from starlette.responses import Response

from cardioscreen.errors import CardioScreenError
from cardioscreen.result import worded
from cardioscreen.web import crud
from cardioscreen.web.deps import CurrentDoctor, DbSession, Store, client_address, csrf_protect, visible_study
from cardioscreen.web.i18n import translator
from cardioscreen.web.models import Study, StudyStatus
from cardioscreen.web.paging import DayError, day_bounds, page_count, with_query
from cardioscreen.web.routes.studies import statement_choices, study_context
from cardioscreen.web.templating import flash, page_language, render

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

VERDICT_PREFIX = "verdict_"
ADDED_FIELD = "added"
STATEMENT_PREFIX = "statement_"
ADDED_STATEMENT_FIELD = "added_statement"
MAX_CONCLUSION_CHARS = 20_000


QUEUE_PAGE_SIZE = 50
QUALITY_VERDICTS = ("usable", "warn", "unusable")  # signal.quality verdicts


@dataclass(frozen=True)
class QueueQuery:
    """The queue page's query string: which list (``view``: "" awaiting, ``concluded``), the filters (see
    :class:`crud.QueueFilter`; ``since``/``until`` are ``YYYY-MM-DD`` days, inclusive) and the search text."""

    view: str = ""
    status: str = ""
    code: str = ""
    quality: str = ""
    patient: str = ""
    q: str = ""
    since: str = ""
    until: str = ""

    def filter(self) -> crud.QueueFilter:
        since, until = day_bounds(self.since, self.until)
        return crud.QueueFilter(concluded=self.view == "concluded", status=self.status, code=self.code,
                                quality=self.quality, patient=self.patient, search=self.q, since=since, until=until)

    def url(self, **extra: object) -> str:
        return with_query("/queue", asdict(self) | extra)


def _query(view: Annotated[Literal["", "concluded"], Query()] = "",
           status: Annotated[str, Query(max_length=16)] = "", code: Annotated[str, Query(max_length=32)] = "",
           quality: Annotated[str, Query(max_length=16)] = "", patient: Annotated[str, Query(max_length=200)] = "",
           q: Annotated[str, Query(max_length=200)] = "", since: Annotated[str, Query(max_length=10)] = "",
           until: Annotated[str, Query(max_length=10)] = "") -> QueueQuery:
    return QueueQuery(view, status.strip(), code.strip(), quality.strip(), patient.strip(), q.strip(),
                      since.strip(), until.strip())


@router.get("/queue")
def queue(request: Request, db: DbSession, doctor: CurrentDoctor, where: Annotated[QueueQuery, Depends(_query)],
          page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    """Studies awaiting a conclusion (urgent first) or the concluded ones (newest first), :data:`QUEUE_PAGE_SIZE`
    a page, filtered and searched; each row with the patient's age and sex, the quality, the summary line and
    urgent reasons in the reader's language."""
    try:
        studies, total = crud.queue_page(db, where.filter(), offset=(page - 1) * QUEUE_PAGE_SIZE,
                                         limit=QUEUE_PAGE_SIZE)
    except DayError:
        return render(request, "error.html", {"message_key": "bad_dates"}, status_code=status.HTTP_400_BAD_REQUEST)
    lang = page_language(request)
    interpretations = {s.id: worded(s.result or {}, lang)[1] or {} for s in studies}
    pages = page_count(total, QUEUE_PAGE_SIZE)
    return render(request, "queue.html", {
        "studies": studies,
        "summaries": {i: interpretation.get("summary") for i, interpretation in interpretations.items()},
        "reasons": {s.id: _reasons(s, interpretations[s.id]) for s in studies},
        "where": where, "total": total, "page": page, "pages": pages,
        "codes": crud.flagged_code_choices(db), "qualities": QUALITY_VERDICTS,
        "statuses": [s.value for s in StudyStatus],
        "tab_urls": {"": QueueQuery().url(), "concluded": QueueQuery(view="concluded").url()},
        "newer_url": where.url(page=page - 1) if page > 1 else None,
        "older_url": where.url(page=page + 1) if page < pages else None,
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
    """Save the conclusion: a ``verdict_<CODE>`` field (``agree``/``disagree``) is required for every flagged class;
    ``added`` fields name classes the model did not flag that the doctor finds; a ``statement_<CODE>`` field
    (``accept``/``reject``) may judge each statement of the rhythm and interpretation the form asks about, and
    ``added_statement`` fields name rhythm statements the doctor adds (:func:`statement_choices`; any other code is
    ignored)."""
    text = str(form.get("text", ""))[:MAX_CONCLUSION_CHARS]
    study = visible_study(db, study_id, doctor)
    lang = page_language(request)
    predictions = (study.result or {}).get("predictions") or []
    flagged = sorted({str(p["code"]) for p in predictions if p["flagged"]})
    answers = {code: form.get(VERDICT_PREFIX + code) for code in flagged}
    verdicts = {code: answer == "agree" for code, answer in answers.items() if answer in ("agree", "disagree")}
    unflagged = {str(p["code"]) for p in predictions} - set(flagged)
    added = sorted({str(code) for code in form.getlist(ADDED_FIELD)} & unflagged)
    choices = statement_choices(study.result or {}, lang)
    statement_answers = {code: form.get(STATEMENT_PREFIX + code) for code, _ in choices["stated"]}
    statements = {code: answer == "accept" for code, answer in statement_answers.items()
                  if answer in ("accept", "reject")}
    added_statements = sorted({str(code) for code in form.getlist(ADDED_STATEMENT_FIELD)}
                              & {code for code, _ in choices["statements_addable"]})
    try:
        missing = [code for code in flagged if code not in verdicts]
        if missing:
            raise CardioScreenError(translator(lang)("verdicts_missing", codes=", ".join(missing)))
        crud.add_conclusion(db, study, doctor, text, verdicts, client=client_address(request), added=added,
                            statements=statements, added_statements=added_statements)
    except CardioScreenError as exc:
        context = study_context(db, store, study, doctor, lang)
        context |= {"error_text": str(exc), "draft": text, "answers": answers, "added_draft": added,
                    "statement_answers": statement_answers, "added_statements_draft": added_statements}
        return render(request, "study.html", context, status_code=status.HTTP_400_BAD_REQUEST)
    db.commit()
    flash(request, "conclusion_saved")
    return RedirectResponse("/queue", status_code=status.HTTP_303_SEE_OTHER)
