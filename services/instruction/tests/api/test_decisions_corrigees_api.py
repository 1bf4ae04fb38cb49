"""Correcting any ARS decision (issue 9, ADR 0014) through the instruction API on its real database:
a correction is a new immutable decision naming the current one it replaces (`remplace`), published
with it; a first decision on something decided is 409 `deja-decidee` naming `remplace` (the correction
path); a correction naming a decision that is not the current one of the same thing (replaced
already, another dossier's, none at all) is 422 on `remplace`; another region's file answers 404.
Nothing is written on a refusal. Dossiers, projects and evidence are seeded (in production: events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import rien_ecrit
from hopen_common.testing.quatre_yeux import decider_a_deux
from hopen_instruction.models import (
    Decision,
    DecisionProjet,
    DepensePrevueProjet,
    Dossier,
    EtablissementConnu,
    IndicateurRecu,
    Projet,
)

CALVI, AUTRE, LEAD = "2B0005342", "2A0002606", "210012142"
CORSE, BFC = "94", "27"
T0 = datetime(2026, 6, 1, tzinfo=UTC)
ARS = jeton("ars", region=CORSE, sujet="instructeur-corse")
ARS_BFC = jeton("ars", region=BFC, sujet="instructeur-bfc")
ECRITES = (Decision, DecisionProjet, JournalAudit, OutboxMessage, RequeteIdempotente)
NUL = "00000000-0000-0000-0000-000000000000"
X = {"motivation": "xxx"}


def _dossier(did: str, finess: str, statut: str) -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": finess, "raison_sociale": f"ES {finess}",
            "region": CORSE, "objectifs": ["P1.O1"], "domaines_sun_es": [], "statut": statut,
            "deposee_le": T0, "perimetre": None}


def _projet(pid: str) -> dict[str, Any]:
    return {"id": pid, "finess": LEAD, "raison_sociale": "CH", "region": BFC,
            "theme": "desengorgement_urgences", "titre": pid, "description": "d",
            "objectifs": ["o1", "o2", "o3"],
            "participants": [LEAD], "perimetre": ["210987665"], "equipe": [], "lettres_partenaires": [],
            "sans_versement_usage": None, "depenses_prevues": Decimal("400000.00"), "statut": "depose",
            "deposee_le": T0}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("c-valide", CALVI, "deposee"),
                                             _dossier("c-autre", AUTRE, "deposee"),
                                             _dossier("c-jamais", "2B0000111", "deposee"),
                                             _dossier("c-refus", "2A0000220", "deposee"),
                                             _dossier("c-suivante", "2A0000220", "deposee")])
        await conn.execute(insert(IndicateurRecu), [{
            "dossier_id": "c-valide", "finess_ej": CALVI, "objectif": "P1.O1", "indicateur": "P1.O1.a",
            "numerateur": 850, "denominateur": 1000, "depose_le": T0, "event_id": "ind-1"}])
        await conn.execute(insert(Projet), [_projet("p-1"), _projet("p-2")])
        await conn.execute(insert(DepensePrevueProjet), [
            {"projet_id": p, "annee": 2026, "montant": Decimal("400000.00")} for p in ("p-1", "p-2")])
        await conn.execute(insert(EtablissementConnu), [{
            "finess": LEAD, "finess_ej": LEAD, "raison_sociale": LEAD, "region": BFC, "secteur": "public",
            "niveau": "EJ", "ferme": False, "effectifs": 100, "finess_pmsi_phase2": LEAD,
            "activite_combinee_2024": Decimal("1000000.00"), "eligible_aap": True}])
    yield engine
    await engine.dispose()


def _probleme(r: httpx.Response, statut: int, champ: str | None, type_: str | None = None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    if type_ is not None:
        assert corps["type"].endswith(f"/{type_}"), corps
    return corps


async def _publies(engine: AsyncEngine, cle: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(OutboxMessage.envelope).where(OutboxMessage.key == cle)
                                  .order_by(OutboxMessage.id))
        return [dict(r) for r in rows]


async def _refuse(api: httpx.AsyncClient, moteur: AsyncEngine, url: str, corps: dict[str, Any], statut: int,
                  champ: str | None, headers: dict[str, str] = ARS, type_: str | None = None
                  ) -> dict[str, Any]:
    async with rien_ecrit(moteur, *ECRITES):
        return _probleme(await decider_a_deux(api, url, headers=headers, json=corps), statut, champ, type_)


async def test_candidature_validee_puis_refusee_puis_validee(api: httpx.AsyncClient,
                                                             moteur: AsyncEngine) -> None:
    url = "/v1/dossiers/c-valide/decision"
    # A correction with no initial decision: nothing to replace.
    await _refuse(api, moteur, url, {"decision": "refusee", "motivation": "erreur", "remplace": NUL}, 422,
                  "remplace")
    r = await decider_a_deux(api, url,
                             headers=ARS, json={"decision": "validee", "motivation": "dossier complet"})
    assert r.status_code == 201, r.text
    premiere = r.json()
    # A second first decision: 409, pointing to the correction path and the decision to name.
    corps = await _refuse(api, moteur, url, {"decision": "refusee", "motivation": "bis"}, 409, "remplace",
                          type_="deja-decidee")
    assert corps["decision_courante"] == premiere["id"]
    # Another region: 404, like a missing dossier.
    await _refuse(api, moteur, url, {"decision": "refusee", **X, "remplace": premiere["id"]},
                  404, None, headers=jeton("ars", region=BFC))
    await _refuse(api, moteur, url, {"decision": "refusee", **X, "remplace": "pas-un-id"},
                  422, "remplace")
    r = await decider_a_deux(api, url, headers=ARS, json={"decision": "refusee", "remplace": premiere["id"],
                                               "motivation": "maille erronée : l'EJ candidate déjà"})
    assert r.status_code == 201, r.text
    seconde = r.json()
    assert (seconde["decision"], seconde["remplace"]) == ("refusee", premiere["id"])
    # The replaced decision is no longer current: it cannot be replaced twice (a chain, never a fork).
    await _refuse(api, moteur, url, {"decision": "validee", **X, "remplace": premiere["id"]},
                  422, "remplace")
    r = await decider_a_deux(api, url, headers=ARS, json={"decision": "validee", "remplace": seconde["id"],
                                               "motivation": "refus levé après vérification"})
    assert r.status_code == 201, r.text
    troisieme = r.json()
    evenements = await _publies(moteur, "c-valide")
    assert [(e["type"], e["data"]["decision_id"], e["data"]["remplace"]) for e in evenements] == [
        ("CandidatureValidee", premiere["id"], None), ("CandidatureRefusee", seconde["id"], premiere["id"]),
        ("CandidatureValidee", troisieme["id"], seconde["id"])]
    detail = (await api.get("/v1/dossiers/c-valide", headers=ARS)).json()
    assert detail["statut"] == "validee"
    assert [d["remplace"] for d in detail["decisions"]] == [None, premiere["id"], seconde["id"]]
    async with moteur.connect() as conn:
        audit = list(await conn.scalars(select(JournalAudit.details)
                                        .where(JournalAudit.objet_id == "c-valide")
                                        .order_by(JournalAudit.id)))
    assert [a["remplace"] for a in audit] == [None, premiere["id"], seconde["id"]]


async def test_remplace_d_un_autre_dossier(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    r = await decider_a_deux(api, "/v1/dossiers/c-autre/decision", headers=ARS,
                       json={"decision": "refusee", "motivation": "hors maille"})
    assert r.status_code == 201, r.text
    autre = r.json()["id"]
    # c-jamais has no decision: naming c-autre's current decision is not a correction of c-jamais.
    await _refuse(api, moteur, "/v1/dossiers/c-jamais/decision",
                  {"decision": "validee", **X, "remplace": autre}, 422, "remplace")


async def test_objectif_corrige_dans_les_deux_sens(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    url = "/v1/dossiers/c-valide/objectifs/P1.O1/decision"
    await _refuse(api, moteur, url, {"decision": "non_atteint", **X, "remplace": NUL}, 422,
                  "remplace")
    r = await decider_a_deux(api, url,
                             headers=ARS, json={"decision": "non_atteint", "motivation": "taux non vérifié"})
    assert r.status_code == 201, r.text
    premiere = r.json()
    corps = await _refuse(api, moteur, url, {"decision": "atteint", "motivation": "bis"}, 409, "remplace",
                          type_="deja-decidee")
    assert corps["decision_courante"] == premiere["id"]
    # Another dossier's decision is not this objective's current one.
    autre = (await api.get("/v1/dossiers/c-autre", headers=ARS)).json()["decisions"][0]["id"]
    await _refuse(api, moteur, url, {"decision": "atteint", **X, "remplace": autre}, 422,
                  "remplace")
    await _refuse(api, moteur, url, {"decision": "atteint", **X, "remplace": premiere["id"]},
                  404, None, headers=ARS_BFC)
    r = await decider_a_deux(api, url, headers=ARS, json={"decision": "atteint", "remplace": premiere["id"],
                                               "motivation": "taux 85 % vérifié (cible 80 %)"})
    assert r.status_code == 201, r.text
    seconde = r.json()
    assert seconde["evaluation"]["decision"] == "atteint"
    r = await decider_a_deux(api, url,
                             headers=ARS, json={"decision": "non_atteint", "remplace": seconde["id"],
                                               "motivation": "file active mal comptée"})
    assert r.status_code == 201, r.text
    evenements = [e for e in await _publies(moteur, "c-valide") if e["type"].startswith("Objectif")]
    assert [(e["type"], e["data"]["remplace"]) for e in evenements] == [
        ("ObjectifNonAtteint", None), ("ObjectifAtteint", premiere["id"]),
        ("ObjectifNonAtteint", seconde["id"])]
    detail = (await api.get("/v1/dossiers/c-valide", headers=ARS)).json()
    assert detail["evaluation"][0]["decision"] == "non_atteint"


async def test_selection_montant_corrige_puis_non_retenu(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    url = "/v1/projets/p-1/selection"
    corps = {"decision": "selectionne", "montant_accorde": "300000.00", "motivation": "grille régionale"}
    await _refuse(api, moteur, url, {**corps, "remplace": NUL}, 422, "remplace", headers=ARS_BFC)
    r = await decider_a_deux(api, url, headers=ARS_BFC, json=corps)
    assert r.status_code == 201, r.text
    premiere = r.json()
    await _refuse(api, moteur, url, corps, 409, "remplace", headers=ARS_BFC, type_="deja-decidee")
    await _refuse(api, moteur, url, {**corps, "remplace": premiere["id"]}, 404, None, headers=ARS)
    # The corrected amount is still checked against the forecast (400 000 €).
    await _refuse(api, moteur, url, {**corps, "montant_accorde": "400000.01", "remplace": premiere["id"]},
                  422, "montant_accorde", headers=ARS_BFC)
    r = await decider_a_deux(api, url, headers=ARS_BFC, json={**corps, "montant_accorde": "350000.00",
                                                   "remplace": premiere["id"],
                                                   "motivation": "erreur de saisie"})
    assert r.status_code == 201, r.text
    seconde = r.json()
    # Another project's decision is not p-2's (which has none).
    await _refuse(api, moteur, "/v1/projets/p-2/selection", {**corps, "remplace": seconde["id"]}, 422,
                  "remplace", headers=ARS_BFC)
    r = await decider_a_deux(api, url,
                             headers=ARS_BFC, json={"decision": "non_retenu", "remplace": seconde["id"],
                                                   "motivation": "double financement constaté"})
    assert r.status_code == 201, r.text
    troisieme = r.json()
    evenements = await _publies(moteur, "p-1")
    assert [(e["type"], e["data"].get("montant_accorde"), e["data"]["remplace"]) for e in evenements] == [
        ("ProjetAapSelectionne", "300000.00", None), ("ProjetAapSelectionne", "350000.00", premiere["id"]),
        ("ProjetAapNonRetenu", None, seconde["id"])]
    assert (await api.get("/v1/projets/p-1", headers=ARS_BFC)).json()["statut"] == "non_retenu"
    # A first decision (non_retenu -> selectionne again) is a correction too.
    r = await decider_a_deux(api, url, headers=ARS_BFC, json={**corps, "remplace": troisieme["id"]})
    assert r.status_code == 201, r.text


async def test_atteinte_corrigee(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    r = await decider_a_deux(api, "/v1/projets/p-2/selection", headers=ARS_BFC, json={
        "decision": "selectionne", "montant_accorde": "200000.00", "motivation": "grille régionale"})
    assert r.status_code == 201, r.text
    selection = r.json()
    url = "/v1/projets/p-2/atteinte"
    await _refuse(api, moteur, url, {"atteint": True, **X, "remplace": NUL}, 422, "remplace",
                  headers=ARS_BFC)
    r = await decider_a_deux(api, url,
                             headers=ARS_BFC, json={"atteint": False, "motivation": "pièces manquantes"})
    assert r.status_code == 201, r.text
    premiere = r.json()
    await _refuse(api, moteur, url, {"atteint": True, "motivation": "bis"}, 409, "remplace", headers=ARS_BFC,
                  type_="deja-decidee")
    # The selection is no longer corrected once the attainment is decided.
    await _refuse(api, moteur, "/v1/projets/p-2/selection", {
        "decision": "non_retenu", **X, "remplace": selection["id"]}, 422, "remplace",
        headers=ARS_BFC)
    r = await decider_a_deux(api, url, headers=ARS_BFC, json={"atteint": True, "remplace": premiere["id"],
                                                   "motivation": "pièces reçues en retard, recevables"})
    assert r.status_code == 201, r.text
    (*_, evenement) = await _publies(moteur, "p-2")
    assert (evenement["type"], evenement["data"]["atteint"], evenement["data"]["remplace"]) == (
        "AtteinteProjetAapDecidee", True, premiere["id"])
    assert (await api.get("/v1/projets/p-2", headers=ARS_BFC)).json()["statut"] == "atteint"


async def test_refus_non_corrigeable_en_validation_si_une_autre_candidature_a_la_place(
        api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """A refusal frees the applicant, which deposited another candidature for the same dispositif:
    correcting the first refusal back to a validation would validate two candidatures of one applicant
    (two amorçages of one EJ): 409 deja-candidat naming the one that holds the place, nothing written."""
    r = await decider_a_deux(api, "/v1/dossiers/c-refus/decision", headers=ARS,
                       json={"decision": "refusee", "motivation": "prérequis absents"})
    assert r.status_code == 201, r.text
    corps = await _refuse(api, moteur, "/v1/dossiers/c-refus/decision",
                          {"decision": "validee", "remplace": r.json()["id"], "motivation": "revu"},
                          409, "remplace", type_="deja-candidat")
    assert corps["candidature_id"] == "c-suivante"

