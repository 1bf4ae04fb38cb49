"""The two roles without a business scope open only their own routes, in all five services: every
route's dependencies are read from the mounted applications (nothing mocked, nothing started).

- The expert (issue 9, ADR 0015) opens the opinions it is invited to: a route lets it through only if
  it names Role.EXPERT. The HTTP behaviour of the avis routes is tested in instruction's API tests.
- Ops (issue 12) opens the operations (dead letters, replays, imports, orphan pieces: the routes that
  name Role.OPS), the reference data every caller reads, and the routes open to any authenticated
  caller, where `hopen_common.auth.portee` shows it no business row (test_role_ops, over HTTP)."""

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


def _passe(role: Role, path: str, dependant: Dependant) -> bool | None:
    """True if a token of `role` passes the route's role checks, False if refused, None if the route
    asks for no token at all (health, metrics)."""
    appels = list(_appels(dependant))
    if principal_courant not in appels:
        return None
    if role is Role.EXPERT and principal_de_la_plateforme in appels:
        return False
    verificateurs = [c for c in appels if getattr(c, "__name__", "") == "_verifier"]
    if principal_de_la_plateforme in appels and not verificateurs:
        return True  # any platform role (not the expert: refused above)
    assert verificateurs, f"{path}: authenticated without a role check"
    for v in verificateurs:
        cellules = dict(zip(v.__code__.co_freevars, v.__closure__ or (), strict=True))  # type: ignore[attr-defined]
        if role not in cellules["autorises"].cell_contents:
            return False
    return True


def _ouvertes(role: Role) -> tuple[set[tuple[str, str, str]], int]:
    ouvertes, authentifiees = set(), 0
    for service, app in _applications().items():
        for path, methodes, dependant in _routes(app):
            passe = _passe(role, path, dependant)
            authentifiees += passe is not None
            if passe:
                ouvertes |= {(service, m, path) for m in methodes}
    return ouvertes, authentifiees


def test_le_role_expert_n_ouvre_que_ses_avis() -> None:
    ouvertes, authentifiees = _ouvertes(Role.EXPERT)
    assert ouvertes == OUVERTES_A_L_EXPERT
    assert authentifiees > 60  # the walk did see the services' business routes


_SERVICES = ("referentiel", "candidature", "instruction", "financement", "reporting")
# What ops is for: every service's dead letters and replays; the referentiel's imports; orphan pieces.
OPERATIONS = {
    *((s, m, p) for s in _SERVICES for m, p in (
        ("GET", "/v1/operations/lettres-mortes"), ("GET", "/v1/operations/lettres-mortes/comptes"),
        ("POST", "/v1/operations/lettres-mortes/{lettre_id}/abandon"),
        ("POST", "/v1/operations/cles/{cle}/rejeu"))),
    ("referentiel", "POST", "/v1/imports/finess"), ("referentiel", "POST", "/v1/imports/sae"),
    ("referentiel", "POST", "/v1/imports/base-eligible"), ("referentiel", "GET", "/v1/imports"),
    ("referentiel", "GET", "/v1/imports/{import_id}/signalements"),
    ("candidature", "POST", "/v1/operations/pieces/orphelins"),
    # the technical accounts (role ops) and one's own rights (ADR 0022)
    *(("referentiel", m, p) for m, p in (
        ("POST", "/v1/habilitations"), ("GET", "/v1/habilitations"), ("GET", "/v1/habilitations/moi"),
        ("GET", "/v1/habilitations/{habilitation_id}"), ("PATCH", "/v1/habilitations/{habilitation_id}"),
        ("POST", "/v1/habilitations/{habilitation_id}/revocation"),
        ("GET", "/v1/habilitations/{habilitation_id}/historique"))),
}
# Open to every authenticated caller because they hold no one's data: the published directory (FINESS
# is open data), the programme's texts, and the calculators (nothing stored, nothing read but the
# eligible base's figures).
PUBLIQUES = {
    ("referentiel", "GET", "/v1/etablissements"), ("referentiel", "GET", "/v1/etablissements/{finess}"),
    ("referentiel", "GET", "/v1/ghts"), ("referentiel", "GET", "/v1/ghts/{code}"),
    ("referentiel", "GET", "/v1/programme"), ("referentiel", "GET", "/v1/programme/{document}"),
    ("referentiel", "GET", "/v1/programme/{document}/versions/{version}"),
    ("financement", "POST", "/v1/simulations/phase1"),
    ("financement", "POST", "/v1/simulations/hospiconnect"),
}
# Open to any authenticated caller, each row then filtered by hopen_common.auth.portee: ops gets 404 or
# no row (tests/securite/test_role_ops.py reads them over HTTP as ops).
PAR_LA_PORTEE = {("candidature", "GET", p) for p in (
    "/v1/candidatures", "/v1/candidatures/{candidature_id}", "/v1/candidatures/{candidature_id}/indicateurs",
    "/v1/candidatures/{candidature_id}/depenses", "/v1/candidatures/{candidature_id}/preuves",
    "/v1/projets", "/v1/projets/{projet_id}", "/v1/projets/{projet_id}/preuves",
    "/v1/candidatures/{dossier_id}/pieces", "/v1/candidatures/{dossier_id}/pieces/{piece_id}/contenu",
    "/v1/projets/{dossier_id}/pieces", "/v1/projets/{dossier_id}/pieces/{piece_id}/contenu")}


def test_le_role_ops_n_ouvre_que_les_operations() -> None:
    """A new route that lets ops through must be declared above, in one of the three sets."""
    ouvertes, _ = _ouvertes(Role.OPS)
    assert ouvertes == OPERATIONS | PUBLIQUES | PAR_LA_PORTEE
