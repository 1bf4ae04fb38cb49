"""The expert role (issue 9, ADR 0015) opens the opinions it is invited to and nothing else, in all
five services: every route's dependencies are read from the mounted applications (nothing mocked,
nothing started), and a route lets an expert through only if it names Role.EXPERT. The HTTP
behaviour of the avis routes (the invitation, the 404s) is tested in instruction's API tests."""

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


def test_le_role_expert_n_ouvre_que_ses_avis() -> None:
    ouvertes, authentifiees = set(), 0
    for service, app in _applications().items():
        for route in routes_de(app):
            declaration = declaration_de(route)
            authentifiees += declaration.acces is not Acces.PUBLIC
            if declaration.admet(Role.EXPERT):
                ouvertes.add((service, route.methode, route.chemin))
    assert ouvertes == OUVERTES_A_L_EXPERT
    assert authentifiees > 60  # the walk did see the services' business routes
