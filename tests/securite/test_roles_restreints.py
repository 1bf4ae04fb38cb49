"""The two roles without a business scope open only their own routes, in all five services: every
route's dependencies are read from the mounted applications (nothing mocked, nothing started).

- The expert (issue 9, ADR 0015) opens the opinions it is invited to: a route lets it through only if
  it names Role.EXPERT. The HTTP behaviour of the avis routes is tested in instruction's API tests.
- Ops (issue 12) opens the operations (dead letters, replays, imports, orphan pieces: the routes that
  name Role.OPS), the reference data every caller reads, and the routes open to any authenticated
  caller, where `hopen_common.auth.portee` shows it no business row (test_role_ops, over HTTP)."""

from __future__ import annotations

from fastapi import FastAPI

from hopen_common.auth.declaration import Acces, declaration_de, routes_de
from hopen_common.auth.principal import Role

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


def _ouvertes(role: Role) -> tuple[set[tuple[str, str, str]], int]:
    """The routes whose declaration (hopen_common.auth.declaration, ADR 0029) admits `role`, and how
    many routes ask for a token at all."""
    ouvertes, authentifiees = set(), 0
    for service, app in _applications().items():
        for route in routes_de(app):
            declaration = declaration_de(route)
            authentifiees += declaration.acces is not Acces.PUBLIC
            if declaration.admet(role):
                ouvertes.add((service, route.methode, route.chemin))
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
