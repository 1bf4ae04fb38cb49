"""Issue 12: ops sees operations, not business data, in every service (the hostile finding: ops listed
every candidature in candidature). Over HTTP, on each service's real database: ops reads its dead
letters (200) and gets no business row: 404 or an empty list where any authenticated caller may read
and `hopen_common.auth.portee` filters (candidature), 403 where the route names its roles. The routes
ops passes are enumerated in test_roles_restreints.py."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert

from hopen_candidature.models import EtablissementConnu
from hopen_common.testing import jeton
from hopen_common.testing.copies_locales import etablissement_connu

OPS = jeton("ops", sujet="astreinte")
DNS = jeton("dns", sujet="dns-ops-test")
CALVI = "2B0005342"
ES = jeton("etablissement", finess=[CALVI])
LETTRES = "/v1/operations/lettres-mortes"


async def test_candidature_ne_montre_aucune_candidature_a_ops(services: Any) -> None:
    async with services.moteur("candidature").begin() as conn:
        await conn.execute(insert(EtablissementConnu), [etablissement_connu(CALVI)])
    async with services.client("candidature") as api:
        cree = await api.post("/v1/candidatures", headers=ES,
                              json={"dispositif": "phase1", "finess": CALVI, "objectifs": ["P1.O1"]})
        assert cree.status_code == 201, cree.text
        cid = cree.json()["id"]
        assert (await api.get("/v1/candidatures", headers=DNS)).json()["total"] >= 1  # it is there
        liste = await api.get("/v1/candidatures", headers=OPS)
        assert liste.status_code == 200
        assert (liste.json()["items"], liste.json()["total"]) == ([], 0)
        for chemin in (f"/v1/candidatures/{cid}", f"/v1/candidatures/{cid}/indicateurs",
                       f"/v1/candidatures/{cid}/depenses", f"/v1/candidatures/{cid}/pieces"):
            r = await api.get(chemin, headers=OPS)
            assert r.status_code == 404, (chemin, r.text)
            assert r.json()["type"].endswith("/introuvable")
        assert (await api.get("/v1/projets", headers=OPS)).json()["items"] == []
        assert (await api.get(LETTRES, headers=OPS)).status_code == 200


@pytest.mark.parametrize(("service", "chemins"), [
    ("instruction", ["/v1/dossiers", "/v1/projets", "/v1/propositions", "/v1/avis"]),
    ("financement", ["/v1/financements?region=27", "/v1/notifications?region=27", "/v1/enveloppes",
                     "/v1/aap/projets?region=27", "/v1/hospiconnect/montants?region=27"]),
    ("reporting", ["/v1/synthese", "/v1/regions/27/synthese"]),
    ("referentiel", ["/v1/audit"]),
])
async def test_les_autres_services_refusent_les_donnees_metier_a_ops(services: Any, service: str,
                                                                     chemins: list[str]) -> None:
    async with services.client(service) as api:
        for chemin in chemins:
            r = await api.get(chemin, headers=OPS)
            assert r.status_code == 403, (service, chemin, r.text)
            assert r.headers["content-type"] == "application/problem+json"
        assert (await api.get(LETTRES, headers=OPS)).status_code == 200
