"""The two-person rule (issue 10, ADR 0023) on the real instruction database and broker, with
financement's app in process on its own real database for the proposals' amounts: a decision endpoint
called by an instructeur answers 202 with a proposal priced by financement and decides nothing; a
valideur of the region who is not the proposer confirms it (the decision records both persons, so does
its event) or rejects it; every other person is refused; a lot is proposed and confirmed as one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, reglages_de_test, rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.quatre_yeux import valideur
from hopen_financement.etablissements.models import EtablissementConnu as EtablissementFinancement
from hopen_financement.main import create_app as app_financement
from hopen_financement.settings import FinancementSettings
from hopen_instruction.lots.worker import traiter_un
from hopen_instruction.main import create_app
from hopen_instruction.models import (
    Decision,
    DecisionProjet,
    Dossier,
    EtablissementConnu,
    LotDossier,
    Projet,
    Proposition,
)
from hopen_instruction.settings import InstructionSettings

BFC, CORSE = "27", "94"
FINESS = "010000024"
ALICE = jeton("ars", region=BFC, sujet="alice")  # instructeur
BRUNO = valideur(BFC, "bruno")
# The proposer holding both profiles still may not confirm her own proposal.
ALICE_VALIDEUSE = jeton("ars", region=BFC, sujet="alice", profils=["instructeur", "valideur"])
CLAIRE = jeton("ars", region=BFC, sujet="claire")  # another instructeur, not valideur
VALIDEUR_CORSE = valideur(CORSE)
DNS = jeton("dns")
VALIDATION = {"decision": "validee", "motivation": "dossier complet"}


def _dossier(did: str) -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": FINESS, "raison_sociale": "CH", "region": BFC,
            "objectifs": ["P1.O2"], "domaines_sun_es": [], "perimetre": None, "statut": "deposee",
            "deposee_le": datetime(2025, 3, 1, tzinfo=UTC), "criteres_ght": None}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier(f"c-{i}") for i in range(1, 8)])
        await conn.execute(insert(Projet), [{
            "id": "p-1", "finess": FINESS, "raison_sociale": "CH", "region": BFC,
            "theme": "desengorgement_urgences", "titre": "p-1", "description": "d",
            "objectifs": ["o1", "o2", "o3"],
            "participants": [FINESS], "perimetre": [], "equipe": [], "lettres_partenaires": [],
            "sans_versement_usage": None, "depenses_prevues": Decimal("2000000.00"), "statut": "depose",
            "deposee_le": datetime(2026, 5, 1, tzinfo=UTC)}])
        await conn.execute(insert(EtablissementConnu), [{
            "finess": FINESS, "finess_ej": FINESS, "raison_sociale": "CH", "region": BFC, "secteur": "public",
            "niveau": "EJ", "ferme": False, "effectifs": 100, "finess_pmsi_phase2": FINESS,
            "activite_combinee_2024": Decimal("1000000.00"), "eligible_aap": True}])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def moteur_financement(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("financement"))
    colonnes = {c.name for c in EtablissementFinancement.__table__.columns}
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementFinancement), [
            {k: v for k, v in etablissement_connu(f, region=BFC, activite_combinee=Decimal(ac)).items()
             if k in colonnes} for f, ac in ((FINESS, "15000"), ("750000010", "512345.50"))])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def api(moteur: AsyncEngine, moteur_financement: AsyncEngine, kafka_bootstrap: str
              ) -> AsyncIterator[httpx.AsyncClient]:
    fin = app_financement(reglages_de_test(FinancementSettings, moteur_financement, kafka_bootstrap))
    async with fin.router.lifespan_context(fin):
        app = create_app(reglages_de_test(InstructionSettings, moteur, kafka_bootstrap,
                                          calendrier_ouvert=True, lots_actifs=False))
        app.state.transport_financement = httpx.ASGITransport(app=fin)
        async with client_api(app, "http://instruction") as client:
            yield client


def _type(r: httpx.Response) -> str:
    return str(r.json()["type"]).rsplit("/", 1)[-1]


async def _confirmer(api: httpx.AsyncClient, pid: str, qui: dict[str, str]) -> httpx.Response:
    return await api.post(f"/v1/propositions/{pid}/confirmation", headers=qui,
                          json={"motivation": "vu et conforme"})


async def test_proposition_chiffree_puis_confirmee_par_un_autre(api: httpx.AsyncClient, moteur: AsyncEngine
                                                                ) -> None:
    async with rien_ecrit(moteur, Decision, OutboxMessage):
        r = await api.post("/v1/dossiers/c-1/decision", headers=ALICE, json=VALIDATION)
    assert r.status_code == 202, r.text
    p = r.json()
    pid = p["proposition_id"]
    assert (p["statut"], p["proposee_par"], p["type"], p["demande"]["decision"]) == (
        "en_attente", "alice", "candidature", "validee")
    # Financement's own example: AC 15 000, P1.O2 -> forfait 18 193.55, amorçage 30 %.
    assert p["montants"]["disponibles"] is True
    assert p["montants"]["lignes"] == [{"finess_ej": FINESS, "objectif": "P1.O2", "nature": "amorcage",
                                        "montant": "5458.07", "forfait": "18193.55", "annee": None}]
    assert p["montants"]["total"] == "5458.07"
    async with moteur.connect() as conn:
        assert await conn.scalar(select(Dossier.statut).where(Dossier.id == "c-1")) == "deposee"

    deuxieme = await api.post("/v1/dossiers/c-1/decision", headers=CLAIRE, json=VALIDATION)
    assert (deuxieme.status_code, _type(deuxieme)) == (409, "proposition-en-attente"), deuxieme.text
    assert deuxieme.json()["proposition_id"] == pid

    for qui, statut, type_ in ((ALICE_VALIDEUSE, 403, "quatre-yeux"), (CLAIRE, 403, "role-interdit"),
                               (DNS, 403, "role-interdit"), (VALIDEUR_CORSE, 404, "introuvable")):
        refus = await _confirmer(api, pid, qui)
        assert (refus.status_code, _type(refus)) == (statut, type_), (qui, refus.text)
        refus = await api.post(f"/v1/propositions/{pid}/rejet", headers=qui, json={"motivation": "non"})
        assert refus.status_code == statut, refus.text

    c = await _confirmer(api, pid, BRUNO)
    assert c.status_code == 201, c.text
    proposition = c.json()["proposition"]
    assert (proposition["statut"], proposition["traitee_par"]) == ("confirmee", "bruno")
    decision = c.json()["decision"]
    assert (decision["decision"], decision["decide_par"], decision["proposee_par"],
            decision["confirmee_par"]) == ("validee", "bruno", "alice", "bruno")
    assert c.json()["proposition"]["decision_id"] == decision["id"]
    async with moteur.connect() as conn:
        ligne = (await conn.execute(select(Decision).where(Decision.id == decision["id"]))).one()
        assert (ligne.proposee_par, ligne.confirmee_par) == ("alice", "bruno")
        envelope = await conn.scalar(select(OutboxMessage.envelope).where(
            OutboxMessage.envelope["data"]["decision_id"].astext == decision["id"]))
        assert envelope is not None
        assert (envelope["data"]["proposee_par"], envelope["data"]["confirmee_par"]) == ("alice", "bruno")
        actions = list(await conn.scalars(select(JournalAudit.action).where(
            JournalAudit.objet_id.in_([pid, "c-1"])).order_by(JournalAudit.id)))
        assert actions == ["proposition_deposee", "candidature_validee", "proposition_confirmee"]

    encore = await _confirmer(api, pid, valideur(BFC, "berenice"))
    assert (encore.status_code, _type(encore)) == (409, "proposition-deja-traitee")
    rejet = await api.post(f"/v1/propositions/{pid}/rejet", headers=BRUNO, json={"motivation": "trop tard"})
    assert (rejet.status_code, _type(rejet)) == (409, "proposition-deja-traitee")
    # The decision itself still refuses at proposal time, as before the rule.
    deja = await api.post("/v1/dossiers/c-1/decision", headers=ALICE, json=VALIDATION)
    assert (deja.status_code, _type(deja)) == (409, "deja-decidee"), deja.text


async def test_seul_un_instructeur_propose(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, Proposition, Decision):
        for qui in (BRUNO, DNS):
            r = await api.post("/v1/dossiers/c-2/decision", headers=qui, json=VALIDATION)
            assert r.status_code == 403, r.text
        r = await api.post("/v1/lots", headers=BRUNO, json={"dossiers": ["c-2"], "decision": {
            "type": "candidature", **VALIDATION}})
        assert r.status_code == 403, r.text


async def test_rejet_motive_puis_nouvelle_proposition(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/dossiers/c-2/decision", headers=ALICE, json=VALIDATION)
    pid = r.json()["proposition_id"]
    assert (await api.post(f"/v1/propositions/{pid}/rejet", headers=BRUNO, json={})).status_code == 422
    r = await api.post(f"/v1/propositions/{pid}/rejet", headers=BRUNO, json={"motivation": "pièce manquante"})
    assert r.status_code == 200, r.text
    assert (r.json()["statut"], r.json()["motivation_traitement"]) == ("rejetee", "pièce manquante")
    r = await api.post("/v1/dossiers/c-2/decision", headers=ALICE,
                       json={"decision": "refusee", "motivation": "prérequis absents"})
    assert r.status_code == 202, r.text


async def test_liste_par_region(api: httpx.AsyncClient) -> None:
    r = await api.post("/v1/dossiers/c-5/decision", headers=ALICE, json=VALIDATION)
    pid = r.json()["proposition_id"]
    lues = await api.get("/v1/propositions", headers=BRUNO, params={"statut": "en_attente", "limit": 100})
    assert lues.status_code == 200, lues.text
    assert pid in [p["proposition_id"] for p in lues.json()["items"]]
    assert all(p["statut"] == "en_attente" and p["region"] == BFC for p in lues.json()["items"])
    corse = await api.get("/v1/propositions", headers=VALIDEUR_CORSE, params={"statut": "en_attente"})
    assert corse.json()["total"] == 0
    assert (await api.get(f"/v1/propositions/{pid}", headers=VALIDEUR_CORSE)).status_code == 404
    dns = await api.get("/v1/propositions", headers=DNS)
    assert pid in [p["proposition_id"] for p in dns.json()["items"]]
    assert (await api.get(f"/v1/propositions/{pid}", headers=BRUNO)).json()["proposee_par"] == "alice"


async def test_selection_chiffree_par_moitie_et_enveloppe(api: httpx.AsyncClient, moteur: AsyncEngine
                                                         ) -> None:
    r = await api.post("/v1/projets/p-1/selection", headers=ALICE, json={
        "decision": "selectionne", "montant_accorde": "1500000.00", "motivation": "grille régionale"})
    assert r.status_code == 202, r.text
    montants = r.json()["montants"]
    assert montants["enveloppe"] == {"avant": "3707000.00", "apres": "2207000.00"}
    # Per half: the acceptance half (2026) and the attainment half (2027).
    assert montants["total"] == "1500000.00"
    assert [(m["nature"], m["montant"], m["annee"]) for m in montants["lignes"]] == [
        ("aap_acceptation", "750000.00", 2026), ("aap_atteinte", "750000.00", 2027)], montants
    c = await _confirmer(api, r.json()["proposition_id"], BRUNO)
    assert c.status_code == 201, c.text
    assert (c.json()["decision"]["montant_accorde"], c.json()["decision"]["proposee_par"]) == (
        "1500000.00", "alice")
    async with moteur.connect() as conn:
        ligne = (await conn.execute(select(DecisionProjet.proposee_par, DecisionProjet.confirmee_par))).all()
    assert ligne == [("alice", "bruno")]


async def test_lot_propose_et_confirme_comme_un(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """A lot of two dossiers and a single proposal on one of them: the lot is confirmed first, the worker
    decides both in the confirmer's name with the proposer; the single one then gets the decision's own
    409 and stays waiting (a valideur rejects it)."""
    seule = (await api.post("/v1/dossiers/c-4/decision", headers=CLAIRE, json=VALIDATION)).json()
    r = await api.post("/v1/lots", headers=ALICE, json={"dossiers": ["c-3", "c-4"], "decision": {
        "type": "candidature", **VALIDATION}})
    assert r.status_code == 202, r.text
    lot = r.json()
    assert (lot["type"], lot["statut"], lot["montants"]["lot"]["ok"]) == ("lot", "en_attente", 2)
    assert await _confirmer(api, lot["proposition_id"], ALICE_VALIDEUSE) is not None
    c = await _confirmer(api, lot["proposition_id"], BRUNO)
    assert c.status_code == 202, c.text
    lot_id = c.json()["decision"]["id"]
    sessions = async_sessionmaker(moteur, expire_on_commit=False)
    while await traiter_un(sessions, ouvert=True):
        pass
    lu = (await api.get(f"/v1/lots/{lot_id}", headers=BRUNO)).json()
    assert (lu["ok"], lu["demande_par"]) == (2, "alice"), lu
    async with moteur.connect() as conn:
        personnes = (await conn.execute(select(Decision.decide_par, Decision.proposee_par,
                                               Decision.confirmee_par).where(
            Decision.dossier_id.in_(["c-3", "c-4"])))).all()
    assert sorted(personnes) == [("bruno", "alice", "bruno")] * 2
    tard = await _confirmer(api, seule["proposition_id"], BRUNO)
    assert (tard.status_code, _type(tard)) == (409, "deja-decidee"), tard.text
    assert (await api.get(f"/v1/propositions/{seule['proposition_id']}", headers=BRUNO)).json()[
        "statut"] == "en_attente"



async def test_deux_confirmations_simultanees_un_seul_lot(api: httpx.AsyncClient, moteur: AsyncEngine
                                                         ) -> None:
    """Two valideurs confirm one lot proposal at the same instant: the second waits for the row lock,
    then sees the proposal confirmed (409), and the lot is created once (the locked read refreshes the
    proposal the route read before the lock; a stale copy ran the lot twice until the trigger's 500)."""
    lot = (await api.post("/v1/lots", headers=ALICE, json={"dossiers": ["c-6"], "decision": {
        "type": "candidature", **VALIDATION}})).json()
    reponses = await asyncio.gather(_confirmer(api, lot["proposition_id"], BRUNO),
                                    _confirmer(api, lot["proposition_id"], valideur(BFC, "berenice")))
    statuts = sorted((r.status_code, _type(r) if r.status_code >= 400 else "") for r in reponses)
    assert statuts == [(202, ""), (409, "proposition-deja-traitee")], [r.text for r in reponses]
    async with moteur.connect() as conn:
        assert len((await conn.execute(select(LotDossier).where(LotDossier.dossier_id == "c-6"))).all()) == 1


async def _activite(moteur_financement: AsyncEngine, ac: str) -> None:
    """What financement's consumer writes when the referentiel republishes the EJ's fiche with a
    corrected activité combinée (the copy the amorçage is computed on)."""
    async with moteur_financement.begin() as conn:
        await conn.execute(update(EtablissementFinancement).where(EtablissementFinancement.finess == FINESS)
                           .values(activite_combinee=Decimal(ac)))


async def test_confirmation_refusee_si_les_montants_ont_change(
        api: httpx.AsyncClient, moteur: AsyncEngine, moteur_financement: AsyncEngine) -> None:
    """The proposal showed bruno an amorçage of 5 458.07; the referentiel then corrects the EJ's
    activité combinée (15 000 -> 30 000), so the same decision would pay more: his confirmation is a
    409 proposition-perimee, nothing decided, nothing published, the proposal still waiting (hostile
    review finding 1). With the activity back, the very proposal is confirmed at the amounts shown."""
    r = await api.post("/v1/dossiers/c-7/decision", headers=ALICE, json=VALIDATION)
    assert r.status_code == 202, r.text
    pid = r.json()["proposition_id"]
    assert r.json()["montants"]["total"] == "5458.07"
    await _activite(moteur_financement, "30000")
    try:
        async with rien_ecrit(moteur, Decision, OutboxMessage, JournalAudit):
            c = await _confirmer(api, pid, BRUNO)
        assert (c.status_code, _type(c)) == (409, "proposition-perimee"), c.text
        assert c.json()["proposition_id"] == pid
        assert c.json()["montants_actuels"]["total"] != "5458.07"
        assert "5458.07" in c.json()["detail"]
        lue = (await api.get(f"/v1/propositions/{pid}", headers=BRUNO)).json()
        assert (lue["statut"], lue["montants"]["total"]) == ("en_attente", "5458.07")
        async with moteur.connect() as conn:
            assert await conn.scalar(select(Dossier.statut).where(Dossier.id == "c-7")) == "deposee"
    finally:
        await _activite(moteur_financement, "15000")
    c = await _confirmer(api, pid, BRUNO)
    assert c.status_code == 201, c.text
    assert c.json()["decision"]["decision"] == "validee"


async def test_lot_perime_non_confirme(api: httpx.AsyncClient, moteur: AsyncEngine,
                                       moteur_financement: AsyncEngine) -> None:
    """A lot's confirmation reruns its dry run: amounts changed since the proposal -> 409, no lot."""
    async with moteur.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("c-8")])
    r = await api.post("/v1/lots", headers=ALICE, json={"dossiers": ["c-8"], "decision": {
        "type": "candidature", **VALIDATION}})
    assert r.status_code == 202, r.text
    assert r.json()["montants"]["total"] == "5458.07"
    await _activite(moteur_financement, "30000")
    try:
        async with rien_ecrit(moteur, LotDossier, Decision, OutboxMessage):
            c = await _confirmer(api, r.json()["proposition_id"], BRUNO)
        assert (c.status_code, _type(c)) == (409, "proposition-perimee"), c.text
    finally:
        await _activite(moteur_financement, "15000")


async def test_cle_d_idempotence_portee_par_les_droits(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """A replay skips the use case's scope checks: the same subject with the same key and body but
    another region's rights (development tokens share subjects) is not handed the stored answer, it
    gets its own check (404: not its region's dossier); and the same key on another route is 422
    (hostile review finding 3)."""
    async with moteur.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("c-9"), _dossier("c-10")])
    cle = {"Idempotency-Key": "cle-partagee"}
    r = await api.post("/v1/dossiers/c-9/decision", headers=ALICE | cle, json=VALIDATION)
    assert r.status_code == 202, r.text
    rejeu = await api.post("/v1/dossiers/c-9/decision", headers=ALICE | cle, json=VALIDATION)
    assert (rejeu.status_code, rejeu.headers.get("Idempotent-Replayed")) == (202, "true")
    assert rejeu.json()["proposition_id"] == r.json()["proposition_id"]
    alice_corse = jeton("ars", region=CORSE, sujet="alice")
    async with rien_ecrit(moteur, Proposition):
        autre = await api.post("/v1/dossiers/c-9/decision", headers=alice_corse | cle, json=VALIDATION)
    assert (autre.status_code, _type(autre)) == (404, "introuvable"), autre.text
    assert "Idempotent-Replayed" not in autre.headers
    ailleurs = await api.post("/v1/dossiers/c-10/decision", headers=ALICE | cle, json=VALIDATION)
    assert (ailleurs.status_code, _type(ailleurs)) == (422, "idempotency-key-reutilisee"), ailleurs.text
