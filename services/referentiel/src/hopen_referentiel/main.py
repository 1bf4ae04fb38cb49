from fastapi import FastAPI

from hopen_common.service import ServiceSpec, create_service_app
from hopen_referentiel.etablissements.router import router as etablissements_router
from hopen_referentiel.etablissements.router import router_ght
from hopen_referentiel.habilitations.router import router as habilitations_router
from hopen_referentiel.importations.router import router as imports_router
from hopen_referentiel.programme.router import router as programme_router
from hopen_referentiel.settings import ReferentielSettings


def spec(settings: ReferentielSettings | None = None) -> ServiceSpec:
    # The referentiel consumes no event: it is the source of reference data and of the habilitations.
    return ServiceSpec(
        name="referentiel",
        title="HOP'EN 2 — référentiel des établissements",
        settings=settings or ReferentielSettings(),
        routers=[etablissements_router, router_ght, imports_router, programme_router, habilitations_router],
    )


def create_app(settings: ReferentielSettings | None = None) -> FastAPI:
    return create_service_app(spec(settings))
