"""The AAP evidence of attainment (its own deposit endpoint, refused after 30 June 2027 naming the
date, nothing written) and the establishment's contact address for mail, through the candidature API
on its real database."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.models import ContactEtablissement, DecisionProjetConnue, Piece, PreuveAap, ProjetAap
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.testing import jeton
from hopen_common.testing.api import NouveauClient, rien_ecrit

LEAD, PARTICIPANT, AUTRE = "210012142", "800009920", "520780057"


def _projet(pid: str) -> dict[str, Any]:
    return {"id": pid, "finess": LEAD, "region": "27", "statut": "depose", "theme": "t", "titre": pid,
            "description": "d", "objectifs": ["o1", "o2"], "participants": [LEAD, PARTICIPANT],
            "perimetre": [], "equipe": [], "lettres_partenaires": [], "sans_versement_usage": None,
            "cree_par": "etab", "cree_le": datetime(2026, 4, 1, tzinfo=UTC), "deposee_par": "etab",
            "deposee_le": datetime(2026, 5, 1, tzinfo=UTC)}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(ProjetAap), [_projet("p-sel"), _projet("p-attente"), _projet("p-retire")])
        await conn.execute(insert(Piece), [{
            "id": f"piece-{p}", "dossier_type": "projet", "dossier_id": p, "finess": LEAD, "region": "27",
            "type": "AAP.PREUVE", "finess_ej": None, "version": 1, "nom": "bilan.pdf",
            "media_type": "application/pdf", "taille": 10, "sha256": "0" * 64, "cle": f"k-{p}",
            "depose_par": "etab", "depose_le": datetime(2027, 5, 1, tzinfo=UTC)}
            for p in ("p-sel", "p-attente", "p-retire")])
        await conn.execute(insert(DecisionProjetConnue), [{
            "decision_id": "d-sel", "projet_id": "p-sel", "objet": "selection", "decision": "selectionne",
            "montant_accorde": None, "motivation": "ok", "decide_par": "ars",
            "decide_le": datetime(2026, 9, 1, tzinfo=UTC), "remplace": None}, {
            # Selected, then the selection corrected to not retained (ADR 0014).
            "decision_id": "d-ret-1", "projet_id": "p-retire", "objet": "selection",
            "decision": "selectionne",
            "montant_accorde": None, "motivation": "ok", "decide_par": "ars",
            "decide_le": datetime(2026, 9, 1, tzinfo=UTC), "remplace": None}, {
            "decision_id": "d-ret-2", "projet_id": "p-retire", "objet": "selection", "decision": "non_retenu",
            "montant_accorde": None, "motivation": "erreur de périmètre", "decide_par": "ars",
            "decide_le": datetime(2026, 9, 10, tzinfo=UTC), "remplace": "d-ret-1"}])
    yield engine
    await engine.dispose()


ECRITES = (PreuveAap, OutboxMessage, JournalAudit)
LEAD_JETON = jeton("etablissement", finess=[LEAD])


async def test_depot_des_preuves_aap(nouveau_client: NouveauClient, moteur: AsyncEngine) -> None:
    depot = {"objectif": "o1", "piece_id": "piece-p-sel", "commentaire": "bilan à 12 mois"}
    async with nouveau_client(ouvert=False, date_du_jour=date(2027, 6, 30)) as api:
        r = await api.post("/v1/projets/p-sel/preuves", json=depot, headers=LEAD_JETON)
        assert r.status_code == 201, r.text
        assert r.json()["objectif"] == "o1"
        async with moteur.connect() as conn:
            types = list(await conn.scalars(select(OutboxMessage.envelope["type"].astext)))
        assert "PreuveAtteinteAapDeposee" in types
        lues = await api.get("/v1/projets/p-sel/preuves",
                             headers=jeton("etablissement", finess=[PARTICIPANT]))
        assert [p["piece_id"] for p in lues.json()["items"]] == ["piece-p-sel"]

        async def refus(chemin: str, corps: dict[str, Any], entetes: dict[str, str]) -> dict[str, Any]:
            async with rien_ecrit(moteur, *ECRITES):
                reponse = await api.post(chemin, json=corps, headers=entetes)
            assert reponse.status_code >= 400, reponse.text
            return {"statut": reponse.status_code, **reponse.json()}

        assert (await refus("/v1/projets/p-attente/preuves", {**depot, "piece_id": "piece-p-attente"},
                            LEAD_JETON))["statut"] == 409  # not selected
        assert (await refus("/v1/projets/p-retire/preuves", {**depot, "piece_id": "piece-p-retire"},
                            LEAD_JETON))["statut"] == 409  # selected, then corrected to not retained
        p = await refus("/v1/projets/p-sel/preuves", {**depot, "objectif": "o9"}, LEAD_JETON)
        assert (p["statut"], p["champ"]) == (422, "objectif")
        p = await refus("/v1/projets/p-sel/preuves", {**depot, "piece_id": "piece-p-attente"}, LEAD_JETON)
        assert (p["statut"], p["champ"]) == (422, "piece_id")
        p = await refus("/v1/projets/p-sel/preuves", {**depot, "inconnu": 1}, LEAD_JETON)
        assert p["statut"] == 422
        # A participant sees the project but does not deposit; another establishment does not see it.
        assert (await refus("/v1/projets/p-sel/preuves", depot,
                            jeton("etablissement", finess=[PARTICIPANT])))["statut"] in (403, 404)
        assert (await refus("/v1/projets/p-sel/preuves", depot,
                            jeton("etablissement", finess=[AUTRE])))["statut"] == 404
    async with nouveau_client(ouvert=False, date_du_jour=date(2027, 7, 1)) as api:
        async with rien_ecrit(moteur, *ECRITES):
            r = await api.post("/v1/projets/p-sel/preuves", json=depot, headers=LEAD_JETON)
        assert r.status_code == 422, r.text
        assert r.json()["champ"] == "date"
        assert "2027-06-30" in r.json()["detail"]


async def test_contact_courriel(nouveau_client: NouveauClient, moteur: AsyncEngine) -> None:
    async with nouveau_client(ouvert=True) as api:
        r = await api.put(f"/v1/etablissements/{LEAD}/contact", json={"courriel": "si@ch.fr"},
                          headers=LEAD_JETON)
        assert r.status_code == 200, r.text
        r = await api.put(f"/v1/etablissements/{LEAD}/contact", json={"courriel": "dsi@ch.fr"},
                          headers=LEAD_JETON)
        assert (await api.get(f"/v1/etablissements/{LEAD}/contact", headers=LEAD_JETON)).json()[
            "courriel"] == "dsi@ch.fr"
        async with rien_ecrit(moteur, ContactEtablissement, JournalAudit):
            assert (await api.put(f"/v1/etablissements/{AUTRE}/contact", json={"courriel": "x@y.fr"},
                                  headers=LEAD_JETON)).status_code == 404
            mauvais = await api.put(f"/v1/etablissements/{LEAD}/contact",
                                    json={"courriel": "pas-une-adresse"}, headers=LEAD_JETON)
            assert mauvais.status_code == 422
            assert mauvais.json()["champ"] == "courriel"
