"""AAP selection and attainment through the instruction API on its real database: the ARS gets a clear
refusal, naming the field, before any event financement would park (amount above the forecast, above
what the regional envelope can still take, participants' AC 2024 unknown); decisions are immutable and
scoped to the region; the envelope copy counts selections still in flight. Projects, the referentiel
copy and the envelope figures are seeded directly (in production: events)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import NouveauClient, rien_ecrit
from hopen_common.testing.quatre_yeux import decider_a_deux
from hopen_instruction.models import (
    DecisionProjet,
    DepensePrevueProjet,
    EngagementConnu,
    EnveloppeConnue,
    EtablissementConnu,
    Projet,
)

LEAD, CLINIQUE, SANS_AC = "210012142", "800009920", "520780057"
BFC, CORSE = "27", "94"
D = Decimal


def _projet(pid: str, region: str, participants: list[str], forecast: tuple[str, str],
            objectifs: int = 2) -> dict[str, Any]:
    return {"id": pid, "finess": participants[0], "raison_sociale": "CH", "region": region,
            "theme": "desengorgement_urgences", "titre": pid, "description": "d",
            "objectifs": [f"o{i}" for i in range(1, objectifs + 1)],
            "participants": participants, "perimetre": ["210987665"], "equipe": [], "lettres_partenaires": [],
            "sans_versement_usage": None, "depenses_prevues": D(forecast[0]) + D(forecast[1]),
            "statut": "depose", "deposee_le": datetime(2026, 5, 1, tzinfo=UTC)}


PROJETS = [
    # AC 2024 above the last point of the maximum (1 500 000 € flat), three objectives: coefficient 1.
    _projet("p-grand", BFC, [LEAD, CLINIQUE], ("4000000.00", "1000000.00"), objectifs=3),
    _projet("p-second", BFC, [LEAD], ("2000000.00", "0.00"), objectifs=3),
    _projet("p-troisieme", BFC, [LEAD], ("2000000.00", "0.00"), objectifs=3),
    _projet("p-petit", BFC, [CLINIQUE], ("60000.00", "40000.00")),
    _projet("p-sans-ac", BFC, [LEAD, SANS_AC], ("50000.00", "50000.00")),
    _projet("p-refuse", BFC, [CLINIQUE], ("1000.00", "1000.00")),
    _projet("p-corse", CORSE, ["2A0002606"], ("10000.00", "10000.00")),
]


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Projet), PROJETS)
        await conn.execute(insert(DepensePrevueProjet), [
            {"projet_id": p["id"], "annee": 2026, "montant": p["depenses_prevues"]} for p in PROJETS])
        await conn.execute(insert(EtablissementConnu), [
            {"finess": f, "finess_ej": f, "raison_sociale": f, "region": BFC, "secteur": "public",
             "niveau": n,
             "ferme": False, "effectifs": 100, "finess_pmsi_phase2": f, "activite_combinee_2024": ac,
             "eligible_aap": True}
            for f, n, ac in ((LEAD, "EJ", D("1000000.00")), (CLINIQUE, "EG", D("62180.50")),
                             (SANS_AC, "EJ", None))])
    yield engine
    await engine.dispose()


# Every table a request could write: a refused one leaves their row counts as they were (rien_ecrit).
ECRITES = (DecisionProjet, JournalAudit, OutboxMessage, RequeteIdempotente)


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


async def _publies(engine: AsyncEngine, cle: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(OutboxMessage.envelope).where(OutboxMessage.key == cle)
                                  .order_by(OutboxMessage.id))
        return [dict(r) for r in rows]


ARS = jeton("ars", region=BFC, sujet="instructeur-bfc")


def selection(montant: str | None, decision: str = "selectionne") -> dict[str, Any]:
    return {"decision": decision, "montant_accorde": montant, "motivation": "grille de sélection régionale"}


async def test_enveloppe_publiee_au_depart(api: httpx.AsyncClient) -> None:
    r = await api.get(f"/v1/enveloppes/{BFC}", headers=ARS)
    assert r.status_code == 200, r.text
    e = r.json()
    # Annex 3: 3 707 k€, from the data file, until financement's first event for the region.
    assert (e["alloue"], e["engage"], e["disponible"], e["en_attente"], e["disponible_pour_selection"]) == (
        "3707000.00", "0.00", "3707000.00", "0.00", "3707000.00")
    assert e["source"] == "enveloppes_aap_v2026.1"
    assert (await api.get(f"/v1/enveloppes/{BFC}", headers=jeton("ars", region=CORSE))).status_code == 404
    assert (await api.get(f"/v1/enveloppes/{BFC}", headers=jeton("dns"))).status_code == 200
    assert (await api.get(f"/v1/enveloppes/{BFC}",
                          headers=jeton("etablissement", finess=[LEAD]))).status_code == 403


@pytest.mark.parametrize(("projet", "corps", "statut", "champ"), [
    ("p-petit", selection("100000.01"), 422, "montant_accorde"),  # above the forecast 2026 + 2027
    ("p-petit", selection("0.00"), 422, "montant_accorde"),
    ("p-petit", selection("10.001"), 422, "montant_accorde"),
    ("p-petit", selection(None), 422, "montant_accorde"),
    ("p-petit", {**selection(None), "montant_accorde": 50000.0}, 422, "montant_accorde"),  # a float
    ("p-petit", selection("100.00", "non_retenu"), 422, "montant_accorde"),
    ("p-petit", {**selection("1.00"), "decision": "peut-etre"}, 422, "decision"),
    ("p-grand", selection("1500000.01"), 422, "montant_accorde"),  # above the theoretical maximum
    ("p-sans-ac", selection("1000.00"), 422, "participants.1"),  # AC 2024 unknown: never a guess
    ("inconnu", selection("1.00"), 404, None),
])
async def test_refus(api: httpx.AsyncClient, moteur: AsyncEngine, projet: str, corps: dict[str, Any],
                     statut: int, champ: str | None) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, f"/v1/projets/{projet}/selection", headers=ARS, json=corps)
    _probleme(r, statut, champ)


async def test_portee(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        for headers, statut in ((jeton("ars", region=CORSE), 404), (jeton("dns"), 403),
                                (jeton("etablissement", finess=[LEAD]), 403)):
            r = await decider_a_deux(api, "/v1/projets/p-petit/selection",
                                     headers=headers, json=selection("1.00"))
            assert r.status_code == statut, r.text
    assert (await api.get("/v1/projets/p-petit", headers=jeton("ars", region=CORSE))).status_code == 404
    assert {p["id"] for p in (await api.get("/v1/projets", headers=ARS)).json()["items"]} == {
        p["id"] for p in PROJETS if p["region"] == BFC}
    assert (await api.get("/v1/projets", headers=jeton("dns"))).json()["total"] == len(PROJETS)


async def test_hors_delai(moteur: AsyncEngine, nouveau_client: NouveauClient) -> None:
    async with nouveau_client(ouvert=False) as client, rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(client, "/v1/projets/p-petit/selection", headers=ARS, json=selection("1.00"))
    assert "2026-10-02" in _probleme(r, 422, "date")["detail"]


async def test_selection_et_enveloppe_en_cours(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    detail = (await api.get("/v1/projets/p-grand", headers=ARS)).json()
    assert detail["maximum_theorique"] == "1500000.00"
    assert (await api.get("/v1/projets/p-sans-ac", headers=ARS)).json()["maximum_theorique"] is None
    cle = {**ARS, "Idempotency-Key": "sel-grand"}
    r = await decider_a_deux(api, "/v1/projets/p-grand/selection", headers=cle, json=selection("1500000.00"))
    assert r.status_code == 201, r.text
    rejouee = await decider_a_deux(api, "/v1/projets/p-grand/selection",
                                   headers=cle, json=selection("1500000.00"))
    assert rejouee.json() == r.json()
    decision = r.json()
    assert (decision["decision"], decision["montant_accorde"], decision["proposee_par"],
            decision["decide_par"]) == ("selectionne", "1500000.00", "instructeur-bfc", "valideur-27")
    assert decision["elements"]["maximum_theorique"] == "1500000.00"
    (evenement,) = await _publies(moteur, "p-grand")
    assert evenement["type"] == "ProjetAapSelectionne"
    assert evenement["data"] == {**evenement["data"], "decision_id": decision["id"], "finess": LEAD,
                                 "region": BFC, "montant_accorde": "1500000.00",
                                 "depenses_prevues": "5000000.00", "objectifs": ["o1", "o2", "o3"],
                                 "theme": "desengorgement_urgences",
                                 "participants": [{"finess": LEAD, "activite_combinee": "1000000.00"},
                                                  {"finess": CLINIQUE, "activite_combinee": "62180.50"}]}
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/projets/p-grand/selection", headers=ARS, json=selection("1.00"))
        _probleme(r, 409, "remplace")

    # Financement has not engaged it yet: the envelope copy still says 3 707 000 available, but the
    # next selections see the ones in flight.
    e = (await api.get(f"/v1/enveloppes/{BFC}", headers=ARS)).json()
    assert (e["disponible"], e["en_attente"], e["disponible_pour_selection"]) == (
        "3707000.00", "1500000.00", "2207000.00")
    r = await decider_a_deux(api, "/v1/projets/p-second/selection", headers=ARS, json=selection("1500000.00"))
    assert r.status_code == 201, r.text
    second = r.json()
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/projets/p-troisieme/selection",
                                 headers=ARS, json=selection("707000.01"))
        assert "707000.00" in _probleme(r, 422, "montant_accorde")["detail"]

    # Financement engages both (EnveloppeEngagee, applied to the copy by the consumer): none in flight.
    async with moteur.begin() as conn:
        await conn.execute(update(EnveloppeConnue).where(EnveloppeConnue.region == BFC).values(
            engage=D("3000000.00"), consomme=D("1500000.00"), disponible=D("707000.00"),
            derniere_ecriture=8, source="financement"))
        await conn.execute(insert(EngagementConnu), [
            {"decision_id": d["id"], "projet_id": p, "region": BFC, "montant": D("1500000.00"),
             "ecriture_id": i} for d, p, i in ((decision, "p-grand", 7), (second, "p-second", 8))])
    enveloppe = (await api.get("/v1/projets/p-grand", headers=ARS)).json()["enveloppe"]
    assert (enveloppe["en_attente"], enveloppe["disponible_pour_selection"]) == ("0.00", "707000.00")
    r = await decider_a_deux(api, "/v1/projets/p-troisieme/selection",
                             headers=ARS, json=selection("607000.00"))
    assert r.status_code == 201, r.text  # leaves 100 000 for p-petit


async def test_non_retenu_et_atteinte(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/projets/p-refuse/atteinte", headers=ARS, json={"atteint": True,
                                                                               "motivation": "x" * 3})
        _probleme(r, 409, None)  # not selected
    r = await decider_a_deux(api, "/v1/projets/p-refuse/selection", headers=ARS, json={
        "decision": "non_retenu", "motivation": "équilibre entre secteurs"})
    assert r.status_code == 201, r.text
    (evenement,) = await _publies(moteur, "p-refuse")
    assert (evenement["type"], evenement["data"]["motivation"]) == ("ProjetAapNonRetenu",
                                                                    "équilibre entre secteurs")

    r = await decider_a_deux(api, "/v1/projets/p-petit/selection", headers=ARS, json=selection("100000.00"))
    assert r.status_code == 201, r.text
    r = await decider_a_deux(api, "/v1/projets/p-petit/atteinte", headers=ARS,
                       json={"atteint": False, "motivation": "objectifs de juin 2027 non atteints"})
    assert r.status_code == 201, r.text
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/projets/p-petit/atteinte", headers=ARS, json={"atteint": True,
                                                                              "motivation": "bis"})
        _probleme(r, 409, "remplace")
    atteinte = (await _publies(moteur, "p-petit"))[-1]
    assert atteinte["type"] == "AtteinteProjetAapDecidee"
    assert (atteinte["data"]["atteint"], atteinte["data"]["finess"]) == (False, CLINIQUE)
    detail = (await api.get("/v1/projets/p-petit", headers=jeton("dns"))).json()
    assert detail["statut"] == "non_atteint"
    assert [(d["objet"], d["decision"]) for d in detail["decisions"]] == [
        ("selection", "selectionne"), ("atteinte", "non_atteint")]
