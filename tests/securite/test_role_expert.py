"""The expert role (issue 9, ADR 0015) opens the opinions it is invited to and nothing else, in all
five services: every route's dependencies are read from the mounted applications (nothing mocked,
nothing started), and a route lets an expert through only if it names Role.EXPERT. The HTTP
behaviour of the avis routes (the invitation, the 404s) is tested in instruction's API tests."""

from __future__ import annotations

from collections.abc import Iterator

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

from hopen_common.auth.principal import Role, principal_courant, principal_de_la_plateforme

# The only routes an expert may call: its opinions (listed, read with their dossier, answered).
OUVERTES_A_L_EXPERT = {
    ("instruction", "GET", "/v1/avis"),
    ("instruction", "GET", "/v1/avis/{avis_id}"),
    ("instruction", "POST", "/v1/avis/{avis_id}/reponse"),
}


def _applications() -> dict[str, FastAPI]:
    from hopen_candidature.main import create_app as candidature
    from hopen_financement.main import create_app as financement
    from hopen_instruction.main import create_app as instruction
    from hopen_referentiel.main import create_app as referentiel
    from hopen_reporting.main import create_app as reporting

    return {"referentiel": referentiel(), "candidature": candidature(), "instruction": instruction(),
            "financement": financement(), "reporting": reporting()}


def _appels(d: Dependant) -> Iterator[object]:
    for sous in d.dependencies:
        yield sous.call
        yield from _appels(sous)


def _routes(app: FastAPI) -> Iterator[tuple[str, set[str], Dependant]]:
    """(path, methods, dependencies) of every route, those of included routers too (FastAPI 0.165
    mounts them as contexts rather than copies)."""
    for route in app.routes:
        if isinstance(route, APIRoute):
            yield route.path, set(route.methods), route.dependant
        for ctx in getattr(route, "effective_candidates", list)():
            yield ctx.path, set(ctx.methods or ()), ctx.dependant


def _expert_passe(path: str, dependant: Dependant) -> bool | None:
    """True if an expert token passes the route's role checks, False if refused, None if the route
    asks for no token at all (health, metrics)."""
    appels = list(_appels(dependant))
    if principal_courant not in appels:
        return None
    if principal_de_la_plateforme in appels:
        return False
    verificateurs = [c for c in appels if getattr(c, "__name__", "") == "_verifier"]
    assert verificateurs, f"{path}: authenticated without a role check"
    for v in verificateurs:
        cellules = dict(zip(v.__code__.co_freevars, v.__closure__ or (), strict=True))  # type: ignore[attr-defined]
        if Role.EXPERT not in cellules["autorises"].cell_contents:
            return False
    return True


def test_le_role_expert_n_ouvre_que_ses_avis() -> None:
    ouvertes, authentifiees = set(), 0
    for service, app in _applications().items():
        for path, methodes, dependant in _routes(app):
            passe = _expert_passe(path, dependant)
            authentifiees += passe is not None
            if passe:
                ouvertes |= {(service, m, path) for m in methodes}
    assert ouvertes == OUVERTES_A_L_EXPERT
    assert authentifiees > 60  # the walk did see the services' business routes
