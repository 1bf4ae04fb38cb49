"""hopen_common.auth.declaration on small apps: what a route declares is read from its dependencies,
through nested included routers, and a route that declares nothing (or reads the principal by hand)
is refused (ADR 0029)."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import APIRouter, Depends, FastAPI

from hopen_common.auth import CurrentPrincipal, Principal, Role, exiger_roles
from hopen_common.auth.declaration import (
    Acces,
    DeclarationManquante,
    declaration_de,
    route_publique,
    routes_de,
)
from hopen_common.auth.principal import PrincipalAuthentifie

ArsOuDns = Annotated[Principal, Depends(exiger_roles(Role.ARS, Role.DNS))]


def _app() -> FastAPI:
    interne = APIRouter(prefix="/interne")

    @interne.get("/{objet_id}")
    def lire(p: ArsOuDns, q: CurrentPrincipal) -> None: ...

    milieu = APIRouter(prefix="/milieu")
    milieu.include_router(interne)

    @milieu.post("/tous")
    def tous(p: PrincipalAuthentifie) -> None: ...

    app = FastAPI()
    app.include_router(milieu, prefix="/v1")

    @app.get("/sante", dependencies=[Depends(route_publique)])
    def sante() -> None: ...

    return app


def test_les_declarations_sont_lues_a_toute_profondeur() -> None:
    routes = {(r.methode, r.chemin): declaration_de(r) for r in routes_de(_app())}
    assert set(routes) == {("GET", "/v1/milieu/interne/{objet_id}"), ("POST", "/v1/milieu/tous"),
                           ("GET", "/sante")}
    lire = routes["GET", "/v1/milieu/interne/{objet_id}"]
    assert (lire.acces, lire.roles) == (Acces.ROLES, frozenset({Role.ARS, Role.DNS}))  # the intersection
    assert routes["POST", "/v1/milieu/tous"].roles == frozenset(Role)
    assert routes["POST", "/v1/milieu/tous"].admet(Role.EXPERT)
    assert routes["GET", "/sante"].acces is Acces.PUBLIC


def test_une_route_sans_declaration_est_refusee() -> None:
    app = FastAPI()

    @app.get("/oubliee")
    def oubliee() -> None: ...

    def a_la_main(p: PrincipalAuthentifie) -> Principal:  # a hand-written check nobody can read back
        return p

    @app.get("/a-la-main")
    def main(p: Annotated[Principal, Depends(a_la_main)]) -> None: ...

    routes = list(routes_de(app))
    assert [r.chemin for r in routes] == ["/oubliee", "/a-la-main"]
    for route in routes:
        with pytest.raises(DeclarationManquante):
            declaration_de(route)
