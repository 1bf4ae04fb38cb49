"""Phase 1, an EJ whose PMSI is declared at the EJ (ATIH exception, ADR 0008): its EG cannot
apply on their own, the refusal names the EJ, and the EJ applies. The local copy is seeded with
the values the referentiel publishes for such an EJ and its EG (pinned on the referentiel's side
by test_dispositifs.py::test_eg_d_une_ej_declaree_a_l_ej_publie_l_ej_comme_maille)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.models import Candidature, EtablissementConnu, IndicateurDeclare
from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import rien_ecrit

CLINIQUE, CLINIQUE_EG1, CLINIQUE_EG2 = "800003071", "800000044", "800000036"


def _publie(finess: str, niveau: str) -> dict[str, Any]:
    # Every EG fiche of the EJ carries the EJ's FINESS PMSI, AC and maille.
    return {
        "finess": finess, "finess_ej": CLINIQUE, "raison_sociale": f"ES {finess}", "region": "32",
        "secteur": "prive_lucratif", "niveau": niveau, "ght_code": None, "ght_role": None,
        "finess_pmsi": CLINIQUE, "activite_combinee": Decimal("35000"), "eligible_phase1": True,
        "maille_phase1": CLINIQUE, "domaines_sun_es": [], "ferme": False,
    }


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), [
            _publie(CLINIQUE, "EJ"), _publie(CLINIQUE_EG1, "EG"), _publie(CLINIQUE_EG2, "EG")])
    yield engine
    await engine.dispose()


ECRITES = (Candidature, IndicateurDeclare, JournalAudit, OutboxMessage, RequeteIdempotente)


@pytest.mark.parametrize("finess", [CLINIQUE_EG1, CLINIQUE_EG2])
async def test_eg_refuse_au_nom_de_l_ej(api: httpx.AsyncClient, moteur: AsyncEngine, finess: str) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[finess]),
                           json={"dispositif": "phase1", "finess": finess, "objectifs": ["P1.O1"]})
    assert r.status_code == 422, r.text
    corps = r.json()
    assert corps["champ"] == "finess"
    assert f"pour {finess}, la phase 1 se candidate au FINESS {CLINIQUE}" in corps["detail"]


async def test_l_ej_candidate(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[CLINIQUE]),
                       json={"dispositif": "phase1", "finess": CLINIQUE, "objectifs": ["P1.O1"]})
    assert r.status_code == 201, r.text
    assert r.json()["finess"] == CLINIQUE
    assert r.json()["perimetre"] is None
