"""Bulk decisions (POST /v1/lots, GET /v1/lots/{id}) on the real instruction database and broker, with
financement's app in process on its own real database for the dry run's amounts (ADR 0018): a dry run
with mixed outcomes writes nothing; a real run decides every dossier it can, one refusal stopping none;
progress is visible while it runs; a lot naming another region's dossier, an unknown one or one twice is
refused before anything is written."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, compter, reglages_de_test, rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.quatre_yeux import decider_a_deux
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
    Lot,
    LotDossier,
    Projet,
    Proposition,
)
from hopen_instruction.settings import InstructionSettings

BFC, CORSE = "27", "94"
FINESS, FINESS_MAX = "010000024", "750000010"
N = 200  # the real run of the test; bench/bench_lots.py runs 1 000
ARS = jeton("ars", region=BFC, sujet="instructeur-bfc")
ECRITES = (Decision, DecisionProjet, JournalAudit, OutboxMessage, RequeteIdempotente, Lot, LotDossier,
           Proposition)


def _dossier(did: str, statut: str = "deposee", region: str = BFC) -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": FINESS, "raison_sociale": "CH", "region": region,
            "objectifs": ["P1.O2"], "domaines_sun_es": [], "perimetre": None, "statut": statut,
            "deposee_le": datetime(2025, 3, 1, tzinfo=UTC), "criteres_ght": None}


def _projet(pid: str, depenses: str) -> dict[str, Any]:
    return {"id": pid, "finess": FINESS, "raison_sociale": "CH", "region": BFC,
            "theme": "desengorgement_urgences", "titre": pid, "description": "d",
            "objectifs": ["o1", "o2", "o3"],
            "participants": [FINESS], "perimetre": [], "equipe": [], "lettres_partenaires": [],
            "sans_versement_usage": None, "depenses_prevues": Decimal(depenses), "statut": "depose",
            "deposee_le": datetime(2026, 5, 1, tzinfo=UTC)}


DOSSIERS = [
    *(_dossier(f"sim-{i}") for i in range(3)),
    _dossier("deja", "validee"), _dossier("retire", "desistee"), _dossier("corse", region=CORSE),
    _dossier("nul-0"),  # never decided: the NUL-byte test reaches the decision's insert
    _dossier("ancien-0"),  # in a lot queued before the two-person rule
    *(_dossier(f"lot-{i:04d}") for i in range(N)),
]
PROJETS = [_projet("p-1", "2000000.00"), _projet("p-2", "2000000.00"), _projet("p-3", "2000000.00")]


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), DOSSIERS)
        # "deja" is validated: its decision exists, as it always does for a decided dossier.
        await conn.execute(insert(Decision), [{
            "id": "decision-deja", "dossier_id": "deja", "objet": "candidature", "finess_ej": None,
            "decision": "validee", "motivation": "validée avant le lot", "decide_par": "ars-bfc",
            "decide_le": datetime(2026, 5, 2, tzinfo=UTC), "elements": {}, "remplace": None}])
        await conn.execute(insert(Projet), PROJETS)
        await conn.execute(insert(EtablissementConnu), [{
            "finess": FINESS, "finess_ej": FINESS, "raison_sociale": "CH", "region": BFC, "secteur": "public",
            "niveau": "EJ", "ferme": False, "effectifs": 100, "finess_pmsi_phase2": FINESS,
            "activite_combinee_2024": Decimal("1000000.00"), "eligible_aap": True}])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def moteur_financement(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    """Financement's eligible base: AC 15 000 for the applicant, 512 345.50 the national maximum."""
    engine = create_async_engine(fresh_database("financement"))
    colonnes = {c.name for c in EtablissementFinancement.__table__.columns}
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementFinancement), [
            {k: v for k, v in etablissement_connu(f, region=BFC, activite_combinee=Decimal(ac)).items()
             if k in colonnes} for f, ac in ((FINESS, "15000"), (FINESS_MAX, "512345.50"))])
    yield engine
    await engine.dispose()


@asynccontextmanager
async def _client(moteur: AsyncEngine, kafka_bootstrap: str, financement: httpx.AsyncBaseTransport | None,
                  **reglages: Any) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(reglages_de_test(InstructionSettings, moteur, kafka_bootstrap, **reglages))
    app.state.transport_financement = financement
    async with client_api(app, "http://instruction") as client:
        yield client


@pytest.fixture(scope="module")
async def financement(moteur_financement: AsyncEngine, kafka_bootstrap: str
                      ) -> AsyncIterator[httpx.AsyncBaseTransport]:
    app = app_financement(reglages_de_test(FinancementSettings, moteur_financement, kafka_bootstrap))
    async with app.router.lifespan_context(app):
        yield httpx.ASGITransport(app=app)


@pytest.fixture(scope="module")
async def api(moteur: AsyncEngine, kafka_bootstrap: str, financement: httpx.AsyncBaseTransport
              ) -> AsyncIterator[httpx.AsyncClient]:
    """Windows open, the lot worker off: each test drives it (traiter_un) or opens a client with it on."""
    async with _client(moteur, kafka_bootstrap, financement, calendrier_ouvert=True, lots_actifs=False) as c:
        yield c


def _validation(*dossiers: str) -> dict[str, Any]:
    return {"dossiers": list(dossiers),
            "decision": {"type": "candidature", "decision": "validee", "motivation": "revue régionale"}}


async def _statuts(moteur: AsyncEngine) -> dict[str, str]:
    async with moteur.connect() as conn:
        return dict((await conn.execute(select(Dossier.id, Dossier.statut))).all())


async def test_simulation_mixte_n_ecrit_rien(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    statuts = await _statuts(moteur)
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/lots?simulation=true", headers={**ARS, "Idempotency-Key": "sim"},
                           json=_validation("sim-0", "deja", "sim-1", "retire", "sim-2"))
    assert r.status_code == 200, r.text
    assert await _statuts(moteur) == statuts
    corps = r.json()
    assert (corps["simulation"], corps["total"], corps["ok"], corps["refuses"]) == (True, 5, 3, 2)
    assert corps["montants_disponibles"] is True
    issues = {i["dossier_id"]: i for i in corps["dossiers"]}
    assert [i["rang"] for i in corps["dossiers"]] == [0, 1, 2, 3, 4]
    assert issues["deja"]["statut"] == "refuse"
    assert issues["deja"]["probleme"]["type"].endswith("/deja-decidee")
    assert issues["deja"]["probleme"]["status"] == 409
    assert issues["retire"]["probleme"]["type"].endswith("/candidature-desistee")
    # Financement's own example: AC 15 000, P1.O2 -> forfait 18 193.55, amorcage 30 %.
    assert issues["sim-0"]["montants"] == [{"finess_ej": FINESS, "objectif": "P1.O2", "nature": "amorcage",
                                            "montant": "5458.07", "forfait": "18193.55", "annee": None}]
    assert issues["sim-0"]["total"] == "5458.07"
    # The same EJ's other candidatures of the lot: its amorçage is paid once (by the first), so the
    # others would be parked paiement-en-double by financement, and the lot's total counts it once.
    for autre in ("sim-1", "sim-2"):
        assert not issues[autre]["montants"]
        assert "sim-0" in issues[autre]["probleme_montants"]["detail"], issues[autre]
    assert corps["total_montants"] == "5458.07"


async def test_simulation_fenetre_close_et_sans_financement(moteur: AsyncEngine, kafka_bootstrap: str
                                                            ) -> None:
    """Window closed: every dossier refused naming `date`. Financement unreachable: the outcomes are
    still given, the amounts marked missing."""
    transport = httpx.MockTransport(lambda _: httpx.Response(503))  # a broken peer, not our service
    async with _client(moteur, kafka_bootstrap, transport, calendrier_ouvert=False, lots_actifs=False) as c, \
            rien_ecrit(moteur, *ECRITES):
        r = await c.post("/v1/lots?simulation=true", headers=ARS, json=_validation("sim-0", "sim-1"))
        assert r.status_code == 200, r.text
        issues = [(i["statut"], i["probleme"]["champ"]) for i in r.json()["dossiers"]]
        assert issues == [("refuse", "date")] * 2
    async with _client(moteur, kafka_bootstrap, transport, calendrier_ouvert=True, lots_actifs=False) as c, \
            rien_ecrit(moteur, *ECRITES):
        r = await c.post("/v1/lots?simulation=true", headers=ARS, json=_validation("sim-0"))
        corps = r.json()
        assert (corps["ok"], corps["montants_disponibles"]) == (1, False)
        assert corps["dossiers"][0]["montants"] is None


async def test_simulation_selection_enveloppe(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """Selections draw on the regional envelope one after the other: the third no longer fits."""
    demande = {"dossiers": ["p-1", "p-2", "p-3"], "decision": {
        "type": "selection", "decision": "selectionne", "motivation": "grille régionale",
        "montants_accordes": {"p-1": "1500000.00", "p-2": "1500000.00", "p-3": "1000000.00"}}}
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/lots?simulation=true", headers=ARS, json=demande)
    assert r.status_code == 200, r.text
    corps = r.json()
    assert [i["statut"] for i in corps["dossiers"]] == ["ok", "ok", "refuse"]
    assert corps["dossiers"][2]["probleme"]["champ"] == "montant_accorde"
    assert [i["enveloppe"] for i in corps["dossiers"][:2]] == [
        {"avant": "3707000.00", "apres": "2207000.00"}, {"avant": "2207000.00", "apres": "707000.00"}]
    assert corps["enveloppe"] == {"avant": "3707000.00", "apres": "707000.00"}
    assert sum(Decimal(m["montant"]) for m in corps["dossiers"][0]["montants"]) == Decimal("1500000.00")
    assert corps["total_montants"] == "3000000.00"


@pytest.mark.parametrize(("corps", "statut", "champ"), [
    (_validation("sim-0", "corse"), 404, "dossiers.1"),  # another region's: like an unknown one
    (_validation("sim-0", "sim-1", "inconnu"), 404, "dossiers.2"),
    (_validation("sim-0", "sim-1", "sim-0"), 422, "dossiers.2"),
    (_validation(), 422, "dossiers"),
    (_validation(*(f"x{i}" for i in range(5001))), 422, "dossiers"),
    ({**_validation("sim-0"), "priorite": 1}, 422, "priorite"),
    ({"dossiers": ["sim-0"], "decision": {"type": "candidature", "decision": "peut-etre",
                                          "motivation": "m" * 5}}, 422, "decision.candidature.decision"),
    ({"dossiers": ["p-1", "p-2"], "decision": {"type": "selection", "decision": "selectionne",
                                               "motivation": "mmm", "montants_accordes": {"p-1": "1.00"}}},
     422, "decision.montants_accordes.p-2"),
    ({"dossiers": ["sim-0"], "decision": {"type": "selection", "decision": "non_retenu",
                                          "motivation": "mmm"}}, 404, "dossiers.0"),  # not a project
])
@pytest.mark.parametrize("simulation", [False, True])
async def test_lot_refuse_avant_tout(api: httpx.AsyncClient, moteur: AsyncEngine, corps: dict[str, Any],
                                     statut: int, champ: str, simulation: bool) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/lots?simulation={str(simulation).lower()}", headers=ARS, json=corps)
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["champ"] == champ, r.json()


async def test_roles(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        for headers in (jeton("dns"), jeton("etablissement", finess=[FINESS])):
            assert (await decider_a_deux(api, "/v1/lots",
                                         headers=headers, json=_validation("sim-0"))).status_code == 403
        assert (await api.post("/v1/lots", json=_validation("sim-0"))).status_code == 401


async def _lire(client: httpx.AsyncClient, lot_id: str, **params: Any) -> dict[str, Any]:
    r = await client.get(f"/v1/lots/{lot_id}", headers=ARS, params=params)
    assert r.status_code == 200, r.text
    corps: dict[str, Any] = r.json()
    return corps


async def test_progression_un_dossier_apres_l_autre(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """The worker decides one dossier per transaction: progress shows between two of them, a refusal
    is that dossier's outcome and the next one is decided anyway."""
    r = await decider_a_deux(api, "/v1/lots", headers=ARS, json=_validation("sim-0", "deja", "sim-1"))
    assert r.status_code == 202, r.text
    lot_id = r.json()["id"]
    lu = await _lire(api, lot_id)
    assert (lu["statut"], lu["total"], lu["traites"], lu["dossiers"]["total"]) == ("en_cours", 3, 0, 3)
    assert {d["statut"] for d in lu["dossiers"]["items"]} == {"en_attente"}
    sessions = async_sessionmaker(moteur, expire_on_commit=False)
    assert await traiter_un(sessions, ouvert=True)
    lu = await _lire(api, lot_id)
    assert (lu["statut"], lu["traites"], lu["ok"], lu["refuses"]) == ("en_cours", 1, 1, 0)
    assert await traiter_un(sessions, ouvert=True)
    assert await traiter_un(sessions, ouvert=True)
    assert not await traiter_un(sessions, ouvert=True)
    lu = await _lire(api, lot_id)
    assert (lu["statut"], lu["traites"], lu["ok"], lu["refuses"]) == ("termine", 3, 2, 1)
    assert lu["termine_le"] is not None
    (refus,) = (await _lire(api, lot_id, statut="refuse"))["dossiers"]["items"]
    assert (refus["dossier_id"], refus["rang"], refus["decision_id"]) == ("deja", 1, None)
    assert refus["probleme"]["type"].endswith("/deja-decidee")
    statuts = await _statuts(moteur)
    assert (statuts["sim-0"], statuts["sim-1"]) == ("validee", "validee")
    assert (await api.get(f"/v1/lots/{lot_id}", headers=jeton("ars", region=CORSE))).status_code == 404
    assert (await api.get(f"/v1/lots/{lot_id}", headers=jeton("dns"))).status_code == 200
    assert (await api.get("/v1/lots/inconnu", headers=ARS)).status_code == 404
    # An outcome is written once, whatever the code does (trigger), and the lot is immutable.
    async with moteur.connect() as conn:
        for ordre in (update(LotDossier).where(LotDossier.lot_id == lot_id).values(statut="en_attente"),
                      update(Lot).where(Lot.id == lot_id).values(total=1)):
            with pytest.raises(IntegrityError):
                await conn.execute(ordre)
            await conn.rollback()


async def test_lot_sans_confirmation_jamais_execute(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """A lot queued before the two-person rule (migration 0012 left its `confirmee_par` NULL) is never
    run by its requester alone: the worker refuses its dossiers `quatre-yeux`, decides nothing and
    publishes nothing; the instructeur proposes it again (hostile review finding 2)."""
    async with moteur.begin() as conn:
        await conn.execute(insert(Lot).values(
            id="lot-ancien", region=BFC, type="candidature",
            decision={"type": "candidature", "decision": "validee", "motivation": "avant la règle"},
            demande_par="instructeur-bfc", role="ars", cree_le=datetime(2026, 11, 30, tzinfo=UTC), total=1,
            confirmee_par=None))
        await conn.execute(insert(LotDossier).values(lot_id="lot-ancien", rang=0, dossier_id="ancien-0",
                                                     cree_le=datetime(2026, 11, 30, tzinfo=UTC),
                                                     statut="en_attente"))
    sessions = async_sessionmaker(moteur, expire_on_commit=False)
    while await traiter_un(sessions, ouvert=True):
        pass
    async with moteur.connect() as conn:
        assert (await conn.execute(select(Decision).where(Decision.dossier_id == "ancien-0"))).all() == []
        assert (await conn.execute(select(OutboxMessage).where(
            OutboxMessage.key == "ancien-0"))).all() == []
    lu = await _lire(api, "lot-ancien")
    assert (lu["statut"], lu["ok"], lu["refuses"]) == ("termine", 0, 1), lu
    (refus,) = lu["dossiers"]["items"]
    assert refus["decision_id"] is None
    assert refus["probleme"]["type"].rsplit("/", 1)[-1] == "quatre-yeux", refus
    assert "jamais confirmé" in refus["probleme"]["detail"]
    assert (await _statuts(moteur))["ancien-0"] == "deposee"


async def test_lot_reel_en_arriere_plan(moteur: AsyncEngine, kafka_bootstrap: str,
                                        financement: httpx.AsyncBaseTransport) -> None:
    """N dossiers and one already decided, with the worker on: every other dossier is validated, each
    with its decision, its event and its audit row; the Idempotency-Key replays the same lot."""
    ids = [f"lot-{i:04d}" for i in range(N)]
    ids.insert(N // 2, "deja")
    audits = await compter(moteur, JournalAudit)
    async with _client(moteur, kafka_bootstrap, financement, calendrier_ouvert=True,
                       lots_pause_secondes=0.05) as client:
        cle = {**ARS, "Idempotency-Key": "lot-reel"}
        debut = time.monotonic()
        r = await decider_a_deux(client, "/v1/lots", headers=cle, json=_validation(*ids))
        assert r.status_code == 202, r.text
        lot_id = r.json()["id"]
        assert (await decider_a_deux(client, "/v1/lots",
                                     headers=cle, json=_validation(*ids))).json()["id"] == lot_id
        lu = await _lire(client, lot_id, limit=10)
        while lu["statut"] != "termine":
            assert time.monotonic() - debut < 60, lu
            await asyncio.sleep(0.2)
            lu = await _lire(client, lot_id, limit=10)
    assert (lu["total"], lu["ok"], lu["refuses"]) == (N + 1, N, 1)
    assert len(lu["dossiers"]["items"]) == 10
    assert lu["dossiers"]["total"] == N + 1
    statuts = await _statuts(moteur)
    assert all(statuts[i] == "validee" for i in ids)
    assert await compter(moteur, Decision, Decision.dossier_id.in_(ids)) == N + 1  # + "deja"'s own
    assert await compter(moteur, OutboxMessage, OutboxMessage.key.in_(ids)) == N
    # each decision, the lot, its proposal and its confirmation
    assert await compter(moteur, JournalAudit) == audits + N + 3
    assert await compter(moteur, JournalAudit, JournalAudit.objet_id == lot_id) == 1


@pytest.mark.parametrize("simulation", [True, False])
async def test_octet_nul_refuse_sans_rien_ecrire(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                 simulation: bool) -> None:
    """A NUL byte PostgreSQL cannot store, in a motivation, a dossier id or a path: 422 problem+json,
    nothing written, never a 500."""
    url = "/v1/lots?simulation=true" if simulation else "/v1/lots"
    motivation = _validation("nul-0")
    motivation["decision"]["motivation"] = "revue\u0000régionale"
    async with rien_ecrit(moteur, *ECRITES):
        for corps in (motivation, _validation("sim\u00000")):
            r = await decider_a_deux(api, url, headers=ARS, json=corps)
            assert r.status_code in (404, 422), r.text
            assert r.headers["content-type"].startswith("application/problem+json")
        r = await api.get("/v1/lots/a%00b", headers=ARS)
        assert r.status_code in (404, 422), r.text
