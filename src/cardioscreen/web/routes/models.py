"""The administrators' model page: the registry's versions, the active and shadow models, the shadow candidates'
agreement with the active model and the doctors, and the re-analysis of a study on request."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Form, Query, Request, status
from fastapi.responses import RedirectResponse
from starlette.responses import Response

from cardioscreen.registry import ModelRegistry, registry_dir
from cardioscreen.web import crud, review_data
from cardioscreen.web.deps import CurrentAdmin, DbSession, Settings, client_address, csrf_protect
from cardioscreen.web.i18n import translator
from cardioscreen.web.intake import Intake
from cardioscreen.web.templating import page_language, render

router = APIRouter(prefix="/admin", dependencies=[Depends(csrf_protect)], include_in_schema=False)


@router.get("/models")
def models(request: Request, db: DbSession, admin: CurrentAdmin, settings: Settings,
           reanalysed: Annotated[int | None, Query(ge=1)] = None,
           queued: Annotated[int | None, Query(ge=1)] = None,
           pending: Annotated[int | None, Query(ge=1)] = None,
           missing: Annotated[int | None, Query(ge=1)] = None) -> Response:
    registry = ModelRegistry(registry_dir(settings.data_dir), settings.model_bundle)
    t = translator(page_language(request))
    notice = None
    if reanalysed is not None:
        study = crud.get_study(db, reanalysed)
        notice = t("models_reanalysed", id=reanalysed, version=study.model_version if study else "?")
    elif queued is not None:
        notice = t("models_reanalysis_queued", id=queued)
    elif pending is not None:
        notice = t("models_still_analysing", id=pending)
    elif missing is not None:
        notice = t("models_no_study", id=missing)
    return render(request, "admin_models.html", {
        "entries": registry.entries(), "active": registry.active_version,
        "shadow": registry.shadow_version, "history": registry.history(),
        "agreement": review_data.shadow_agreement(db), "per_version": review_data.studies_per_version(db),
        "notice": notice})


@router.post("/models/reanalyse")
def reanalyse_study(request: Request, db: DbSession, admin: CurrentAdmin,
                    study_id: Annotated[int, Form(ge=1)]) -> Response:
    """Re-analyse the study in this process, or queue it for a worker with the job queue on."""
    study = crud.get_study(db, study_id)
    if study is None:
        return RedirectResponse(f"/admin/models?missing={study_id}", status_code=status.HTTP_303_SEE_OTHER)
    intake: Intake = request.app.state.intake
    outcome = intake.reanalyse(db, study, admin, client=client_address(request))
    return RedirectResponse(f"/admin/models?{outcome}={study_id}", status_code=status.HTTP_303_SEE_OTHER)
