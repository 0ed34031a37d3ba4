"""Patients' pages: the list of their studies, the upload, the study page, its files, plot and report."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, HTTPException, Query, Request, UploadFile, status
from fastapi.responses import FileResponse, RedirectResponse
from starlette.responses import Response

from cardioscreen.errors import ECGFormatError
from cardioscreen.report.caveats import caveat, not_assessed_codes
from cardioscreen.report.content import quality_notes, validation_tasks, with_ci
from cardioscreen.report.descriptions import describe, ui_strings
from cardioscreen.report.refusal import with_refusal_worded
from cardioscreen.result import worded
from cardioscreen.reviews.labels import SCP_STATEMENTS, result_statements
from cardioscreen.rhythm.texts import NAMES as RHYTHM_NAMES
from cardioscreen.rhythm.texts import rhythm_name
from cardioscreen.web import crud
from cardioscreen.web.deps import (
    CurrentDoctor,
    CurrentUser,
    DbSession,
    Settings,
    Store,
    client_address,
    csrf_protect,
    record_view,
    visible_study,
)
from cardioscreen.web.models import Role, Study, User
from cardioscreen.web.paging import page_count, with_query
from cardioscreen.web.rendering import plot_png, report_pdf
from cardioscreen.web.templating import page_language, render
from cardioscreen.web.triage import device_alerts

router = APIRouter(dependencies=[Depends(csrf_protect)], include_in_schema=False)

EARLIER_PAGE_SIZE = 10
INTERVAL_FIELDS = ("hr_bpm", "pr_ms", "qrs_ms", "qt_ms", "qtc_bazett_ms", "qtc_fridericia_ms", "p_ms", "rr_sdnn_ms",
                   "qrs_axis_deg", "p_axis_deg", "t_axis_deg")


def _require_patient(user: User) -> None:
    if user.role != Role.PATIENT.value:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "only patients upload and list their own studies")


def studies_page(request: Request, db: DbSession, user: User, settings: Settings, error: str | None = None,
                 status_code: int = 200) -> Response:
    return render(request, "studies.html", {"studies": crud.studies_of(db, user.id), "error_text": error,
                                            "limit_mb": settings.max_upload_mb}, status_code=status_code)


@router.get("/studies")
def list_studies(request: Request, db: DbSession, user: CurrentUser, settings: Settings) -> Response:
    _require_patient(user)
    return studies_page(request, db, user, settings)


@router.post("/studies")
def upload(request: Request, db: DbSession, user: CurrentUser, settings: Settings,
           files: Annotated[list[UploadFile], File()]) -> Response:
    """Store and analyse (or queue) the upload (this sync route runs in the thread pool, off the event loop)."""
    _require_patient(user)
    try:
        study = request.app.state.intake(db, user, [(f.filename or "upload", f.file) for f in files],
                                         client=client_address(request))
    except ECGFormatError as exc:
        return studies_page(request, db, user, settings, error=str(exc), status_code=status.HTTP_400_BAD_REQUEST)
    return RedirectResponse(f"/studies/{study.id}", status_code=status.HTTP_303_SEE_OTHER)


def study_context(db: DbSession, store: Store, study: Study, user: User, lang: str, earlier_page: int = 1,
                  ) -> dict[str, object]:
    """What the study page shows: the interpretation, the device's own statements (those that make the study urgent
    marked), the result with class names, caveats ("not assessed by this model", leads left out) and descriptions
    in ``lang``, the model's validation macro-AUC per task, the conclusion, and for doctors the patient's earlier
    studies."""
    result = study.result or {}
    quality, result_lang = result.get("quality") or {}, result.get("lang", "en")
    predictions = sorted(({**p, "name": describe(p["code"], lang)[0], "assessed": p.get("assessed", True),
                           "caveat": caveat(p.get("assessed", True), p.get("note", ""), quality, lang, result_lang)}
                          for p in result.get("predictions") or []),
                         key=lambda p: (not p["flagged"], not p["assessed"], -p["probability"]))
    flagged = list(dict.fromkeys(p["code"] for p in predictions if p["flagged"]))
    names = {str(p["code"]): str(p["name"]) for p in predictions}
    intervals = result.get("intervals") or {}
    is_doctor = user.role == Role.DOCTOR.value
    device_statements = list(study.device_statements or [])
    rhythm, interpretation = worded(result, lang)
    interpretation = with_refusal_worded(interpretation, result.get("refusal"), lang)
    report_text = ui_strings(lang)  # the report's words for measurement flags, rhythm labels, quality issues
    return {
        "study": study,
        "result": result,
        "interpretation": interpretation,
        "device_statements": device_statements,
        "device_alerts": [alert["text"] for alert in device_alerts(device_statements)],
        "predictions": predictions,
        "measures": [(key, float(intervals[key])) for key in INTERVAL_FIELDS
                     if isinstance(intervals.get(key), int | float) and not isinstance(intervals.get(key), bool)],
        "interval_flags": [report_text.get(str(f), str(f)) for f in intervals.get("flags") or []],
        "rhythm": rhythm["name"] if rhythm else report_text.get(f"rhythm_{intervals.get('rhythm')}",
                                                               intervals.get("rhythm")),
        "quality_notes": quality_notes(result.get("quality") or {}, lang),
        "flagged": flagged,
        "files": [p.name for p in store.upload_files(study.storage_key)],
        "descriptions": [(code, *describe(code, lang)) for code in flagged if describe(code, lang)[1]],
        "not_assessed": [(code, describe(code, lang)[0]) for code in not_assessed_codes(predictions)],
        "validation": [(task, with_ci(figures, "macro_auc"), figures.get("n_records"))
                       for task, figures in validation_tasks(result.get("model") or {}).items()],
        "is_doctor": is_doctor,
        "class_names": names,
        "flagged_named": [(code, names[code]) for code in flagged],
        "addable": sorted((code, name) for code, name in names.items() if code not in flagged),
        **statement_choices(result, lang),
        **_patient_findings(flagged, lang),
        **(_earlier(db, study, earlier_page) if is_doctor else {"earlier": []}),
    }


ADDABLE_STATEMENTS = tuple(code for code in RHYTHM_NAMES if code in SCP_STATEMENTS)
"""SCP statements a doctor may add to an interpretation on the conclusion form: the rhythm and ectopy statements."""


def statement_choices(result: dict[str, Any], lang: str) -> dict[str, list[tuple[str, str]]]:
    """What the conclusion form asks of the rhythm and the interpretation, each as (SCP code, text in ``lang``):
    ``stated``, the statements of the result that the doctor accepts or rejects (its rhythm and the interpretation's
    SCP statements, less the model's classes, which get a class verdict), and ``statements_addable``, the rhythm and
    ectopy statements the doctor may add (to change the rhythm: reject it and add the right one)."""
    rhythm, interpretation = worded(result, lang)
    texts = {str(s["code"]): str(s["text"]) for s in (interpretation or {}).get("statements") or ()}
    if rhythm:
        texts.setdefault(str(rhythm["code"]), str(rhythm["name"]))
    classes = {str(p["code"]) for p in result.get("predictions") or ()}
    stated = [code for code in texts if code in result_statements(result) - classes]
    return {"stated": [(code, texts[code]) for code in stated],
            "statements_addable": [(code, rhythm_name(code, lang)) for code in ADDABLE_STATEMENTS
                                   if code not in stated]}


def _patient_findings(flagged: list[str], lang: str) -> dict[str, object]:
    """The patient's findings in plain words: each flagged class but NORM once, with its name and description;
    ``normal_flagged`` when NORM is the model's only finding."""
    findings = [(code, *describe(code, lang)) for code in flagged if code != "NORM"]
    return {"findings": findings, "normal_flagged": not findings and "NORM" in flagged}


def _earlier(db: DbSession, study: Study, page: int) -> dict[str, object]:
    """One page of the patient's studies uploaded before ``study``, newest first, with links to the pages beside."""
    total = crud.count_studies_of(db, study.owner_id, before=study)
    pages = page_count(total, EARLIER_PAGE_SIZE)
    path = f"/studies/{study.id}"
    return {"earlier": crud.studies_of(db, study.owner_id, before=study, offset=(page - 1) * EARLIER_PAGE_SIZE,
                                       limit=EARLIER_PAGE_SIZE),
            "earlier_total": total,
            "earlier_newer_url": with_query(path, {"earlier_page": page - 1}) if page > 1 else None,
            "earlier_older_url": with_query(path, {"earlier_page": page + 1}) if page < pages else None}


@router.get("/studies/{study_id}")
def show_study(request: Request, study_id: int, db: DbSession, user: CurrentUser, store: Store,
               earlier_page: Annotated[int, Query(ge=1, le=1_000_000)] = 1) -> Response:
    study = visible_study(db, study_id, user)
    record_view(request, db, user, "study_viewed", study)
    return render(request, "study.html", study_context(db, store, study, user, page_language(request), earlier_page))


@router.get("/studies/{study_id}/compare")
def compare_study(request: Request, study_id: int, db: DbSession, doctor: CurrentDoctor, store: Store) -> Response:
    """This study beside the patient's previous one (doctors): both printouts, summaries, measurements, flags."""
    study = visible_study(db, study_id, doctor)
    previous = next(iter(crud.studies_of(db, study.owner_id, before=study, limit=1)), None)
    if previous is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this patient has no earlier study")
    record_view(request, db, doctor, "study_viewed", previous, compared_with=str(study.id))
    lang = page_language(request)
    return render(request, "compare.html", {"pair": [study_context(db, store, s, doctor, lang)
                                                     for s in (study, previous)]})


@router.get("/studies/{study_id}/plot.png")
def study_plot(request: Request, study_id: int, db: DbSession, user: CurrentUser, store: Store) -> Response:
    study = visible_study(db, study_id, user)
    record_view(request, db, user, "plot_viewed", study)
    return FileResponse(plot_png(store, study, request.app.state.saliency, page_language(request)),
                        media_type="image/png")


@router.get("/studies/{study_id}/report.pdf")
def study_report(request: Request, study_id: int, db: DbSession, user: CurrentUser, store: Store) -> Response:
    study = visible_study(db, study_id, user)
    if study.result is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, "this study has no analysis result")
    lang = page_language(request)
    record_view(request, db, user, "report_viewed", study, language=lang)
    path = report_pdf(store, study, lang, request.app.state.saliency)
    return FileResponse(path, media_type="application/pdf",
                        filename=f"cardioscreen-study-{study.id}-{lang}.pdf")


@router.get("/studies/{study_id}/files/{name}")
def study_file(request: Request, study_id: int, name: str, db: DbSession, user: CurrentUser, store: Store,
               ) -> Response:
    study = visible_study(db, study_id, user)
    for path in store.upload_files(study.storage_key):
        if path.name == name:
            record_view(request, db, user, "file_downloaded", study, file=name)
            return FileResponse(path, media_type="application/octet-stream", filename=path.name)
    raise HTTPException(status.HTTP_404_NOT_FOUND, "no such file in this study")
