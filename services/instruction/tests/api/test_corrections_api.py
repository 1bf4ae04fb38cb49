"""Issue 9 through the instruction API on its real database: ARS transitions checked against the state
machine (409 naming the state, nothing written), targeted correction requests (several open, late ones
flagged), the establishment's answer consumed (CandidatureRedeposee) and its diff piece by piece and
field by field, the processing time without the waits; projects take the same transitions."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hopen_common.contracts import CandidatureRedeposee, ChampModifie, PieceModifiee
from hopen_common.db.messaging import JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.events import nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import rien_ecrit
from hopen_common.testing.quatre_yeux import decider_a_deux
from hopen_instruction.corrections.service import candidature_redeposee
from hopen_instruction.models import (
    DemandeCorrection,
    Dossier,
    PieceRecue,
    Projet,
    TransitionDossier,
)

SUPPORT, MEMBRE = "210780581", "520780032"
T0 = datetime.now(UTC) - timedelta(days=3)
ARS = jeton("ars", region="27", sujet="instructrice-bfc")
ECRITES = (DemandeCorrection, TransitionDossier, JournalAudit, OutboxMessage, RequeteIdempotente)
CRITERES = {"sdsi_date": "2024-01-15", "convergence": "un DPI commun"}


def _dossier(did: str, statut: str = "deposee") -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": SUPPORT, "raison_sociale": "GHT Bourgogne",
            "region": "27", "objectifs": ["P1.O1"], "domaines_sun_es": [], "statut": statut, "deposee_le": T0,
            "criteres_ght": CRITERES,
            "perimetre": [{"finess_ej": f, "raison_sociale": f, "activite_combinee": None,
                           "objectifs": ["P1.O1"]} for f in (SUPPORT, MEMBRE)]}


def _piece(pid: str, did: str, type_: str, version: int, le: datetime, ej: str | None = None
           ) -> dict[str, Any]:
    return {"piece_id": pid, "dossier_type": "candidature", "dossier_id": did, "type": type_,
            "finess_ej": ej, "version": version, "nom": f"{type_}-v{version}.pdf",
            "media_type": "application/pdf", "taille": 10,
            "sha256": f"{version:x}" * 64, "depose_par": "es", "depose_le": le}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("d1"), _dossier("d2"), _dossier("d3", "validee")])
        await conn.execute(insert(TransitionDossier), [
            {"id": f"depot-{d}", "dossier_type": "candidature", "dossier_id": d, "de": None,
             "vers": "deposee", "par": "es", "le": T0} for d in ("d1", "d2", "d3")])
        await conn.execute(insert(PieceRecue), [_piece("sdsi-1", "d1", "P1.GHT.SDSI", 1, T0)])
        await conn.execute(insert(Projet), {
            "id": "p1", "finess": SUPPORT, "raison_sociale": "ES", "region": "27", "theme": "rattrapage",
            "titre": "t", "description": "d", "objectifs": ["O1"], "participants": [SUPPORT], "perimetre": [],
            "equipe": [], "lettres_partenaires": [], "sans_versement_usage": None,
            "depenses_prevues": Decimal("1000.00"), "statut": "depose", "deposee_le": T0})
    yield engine
    await engine.dispose()


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


DEMANDE = {"pieces": [{"type": "P1.GHT.SDSI"}, {"type": "P1.P1", "finess_ej": MEMBRE}],
           "champs": ["criteres_ght.sdsi_date"], "motivation": "SDSI de plus de deux ans",
           "echeance": (date.today() + timedelta(days=15)).isoformat()}


@pytest.mark.parametrize(("corps", "statut", "champ"), [
    ({**DEMANDE, "pieces": [], "champs": []}, 422, "pieces"),
    ({**DEMANDE, "pieces": [{"type": "AAP.EQUIPE"}]}, 422, "pieces[0].type"),
    ({**DEMANDE, "pieces": [{"type": "P1.P1", "finess_ej": "010780054"}]}, 422, "pieces[0].finess_ej"),
    ({**DEMANDE, "champs": ["objectifs"]}, 422, "champs[0]"),
    ({**DEMANDE, "echeance": "2020-01-01"}, 422, "echeance"),
    ({**DEMANDE, "motivation": ""}, 422, "motivation"),
    ({**DEMANDE, "inconnu": 1}, 422, "inconnu"),
])
async def test_demande_refusee(api: httpx.AsyncClient, moteur: AsyncEngine, corps: dict[str, Any],
                               statut: int, champ: str) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post("/v1/dossiers/d1/corrections", headers=ARS, json=corps), statut, champ)


async def test_portee_et_etat(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        # Another region's dossier answers like a missing one; the DNS and establishments do not ask.
        assert (await api.post("/v1/dossiers/d1/corrections", headers=jeton("ars", region="94"),
                               json=DEMANDE)).status_code == 404
        assert (await api.post("/v1/dossiers/d1/corrections", headers=jeton("dns"), json=DEMANDE)
                ).status_code == 403
        # A decided dossier: neither a correction nor a reopening (a decision correction changes it).
        r = await api.post("/v1/dossiers/d3/corrections", headers=ARS, json=DEMANDE)
        assert _probleme(r, 409, "statut")["statut"] == "validee"
        r = await api.post("/v1/dossiers/d3/reouverture", headers=ARS, json={"motivation": "erreur"})
        assert _probleme(r, 409, "statut")["transition"] == "rouvrir"
        assert (await api.post("/v1/dossiers/d3/instruction", headers=jeton("ars", region="94"),
                               json={})).status_code == 404


async def test_tour_de_correction(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    r = await api.post("/v1/dossiers/d1/instruction", headers=ARS)  # no body needed
    assert (r.status_code, r.json()["statut"]) == (200, "en_instruction"), r.text
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post("/v1/dossiers/d1/instruction", headers=ARS, json={}), 409, "statut")
    r = await api.post("/v1/dossiers/d1/corrections", headers=ARS, json=DEMANDE)
    assert r.status_code == 201, r.text
    premiere = r.json()
    assert (premiere["en_retard"], premiere["repondue_le"]) == (False, None)
    seconde = (await api.post("/v1/dossiers/d1/corrections", headers=ARS, json={
        **DEMANDE, "pieces": [{"type": "P1.GHT.DSI"}], "champs": []})).json()  # two open at once
    evenements = await _publies(moteur, "d1")
    assert [e["type"] for e in evenements] == ["DossierPrisEnInstruction", "CorrectionDemandee",
                                               "CorrectionDemandee"]
    assert evenements[1]["data"] == {**evenements[1]["data"], "correction_id": premiere["id"],
                                     "statut_precedent": "en_instruction", "statut": "correction_demandee",
                                     "champs": ["criteres_ght.sdsi_date"], "par": "instructrice-bfc"}
    # No decision while the establishment is asked to correct.
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/dossiers/d1/decision", headers=ARS, json={"decision": "validee",
                                                                           "motivation": "complet"})
        assert _probleme(r, 409, "statut")["statut"] == "correction_demandee"
    liste = (await api.get("/v1/dossiers/d1/corrections", headers=ARS)).json()
    assert [c["id"] for c in liste["items"]] == [premiere["id"], seconde["id"]]
    assert liste["total"] == 2

    # The establishment's answer (candidature's CandidatureRedeposee), consumed twice: written once.
    await asyncio.sleep(1)  # the new versions come strictly after both requests
    apres = datetime.now(UTC)
    async with moteur.begin() as conn:
        await conn.execute(insert(PieceRecue), [
            _piece("sdsi-2", "d1", "P1.GHT.SDSI", 2, apres - timedelta(milliseconds=300)),
            _piece("p1-m", "d1", "P1.P1", 1, apres - timedelta(milliseconds=200), MEMBRE),
            _piece("dsi-1", "d1", "P1.GHT.DSI", 1, apres - timedelta(milliseconds=200))])
    payload = CandidatureRedeposee(
        dossier_type="candidature", dossier_id="d1", finess=SUPPORT, region="27",
        corrections=[premiere["id"], seconde["id"]],
        champs=[ChampModifie(champ="criteres_ght.sdsi_date", avant="2024-01-15", apres="2025-06-01")],
        pieces=[PieceModifiee(piece_id="sdsi-2", type="P1.GHT.SDSI", version=2, sha256="2" * 64)],
        redeposee_par="es-bfc", redeposee_le=apres)
    evenement = nouvel_evenement(payload, source="/hopen/candidature", subject="candidature/d1")
    sessions = async_sessionmaker(moteur, expire_on_commit=False)
    for _ in range(2):
        async with sessions() as s, s.begin():
            await candidature_redeposee(s, evenement, payload)
    detail = (await api.get("/v1/dossiers/d1", headers=ARS)).json()
    assert (detail["statut"], detail["corrections_ouvertes"]) == ("deposee", 0)
    assert detail["duree_instruction_secondes"] > 0
    diff = (await api.get(f"/v1/dossiers/d1/corrections/{premiere['id']}/diff", headers=ARS)).json()
    assert diff["correction"]["repondue_le"] is not None
    sdsi, p1 = diff["pieces"]
    assert (sdsi["avant"]["piece_id"], sdsi["apres"]["piece_id"], sdsi["apres"]["sha256"]) == (
        "sdsi-1", "sdsi-2", "2" * 64)
    assert (p1["finess_ej"], p1["avant"], p1["apres"]["version"], p1["modifiee"]) == (MEMBRE, None, 1, True)
    assert diff["champs"] == [{"champ": "criteres_ght.sdsi_date", "avant": "2024-01-15",
                               "apres": "2025-06-01"}]
    autre = f"/v1/dossiers/d2/corrections/{premiere['id']}/diff"  # another dossier's request
    assert (await api.get(autre, headers=ARS)).status_code == 404
    async with moteur.connect() as conn:
        criteres = await conn.scalar(select(Dossier.criteres_ght).where(Dossier.id == "d1"))
    assert criteres == {**CRITERES, "sdsi_date": "2025-06-01"}

    r = await decider_a_deux(api, "/v1/dossiers/d1/decision", headers=ARS, json={"decision": "validee",
                                                                       "motivation": "SDSI à jour"})
    assert r.status_code == 201, r.text
    historique = (await api.get("/v1/dossiers/d1/historique", headers=jeton("dns"))).json()
    assert [(t["de"], t["vers"]) for t in historique["historique"]] == [
        (None, "deposee"), ("deposee", "en_instruction"), ("en_instruction", "correction_demandee"),
        ("correction_demandee", "correction_demandee"), ("correction_demandee", "deposee"),
        ("deposee", "validee")]


async def test_en_retard(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with moteur.begin() as conn:
        await conn.execute(insert(DemandeCorrection).values(
            id="retard", dossier_type="candidature", dossier_id="d2",
            pieces=[{"type": "P1.P1", "finess_ej": None}],
            champs=[], motivation="pièce illisible", echeance=date.today() - timedelta(days=1),
            demandee_par="ars", demandee_le=T0))
    (seule,) = (await api.get("/v1/dossiers/d2/corrections", headers=ARS)).json()["items"]
    assert (seule["id"], seule["en_retard"]) == ("retard", True)


async def test_classement_et_reouverture(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post("/v1/dossiers/d2/classement", headers=ARS, json={}), 422, "motivation")
    r = await api.post("/v1/dossiers/d2/classement", headers=ARS, json={"motivation": "hors champ"})
    assert (r.status_code, r.json()["statut"]) == (200, "classee_sans_suite"), r.text
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await decider_a_deux(api, "/v1/dossiers/d2/decision", headers=ARS,
                                 json={"decision": "validee", "motivation": "complet"}), 409, "statut")
    r = await api.post("/v1/dossiers/d2/reouverture", headers=ARS, json={"motivation": "classé par erreur"})
    assert r.json()["statut"] == "en_instruction"
    types = [e["type"] for e in await _publies(moteur, "d2")]
    assert types == ["DossierClasseSansSuite", "DossierRouvert"]


async def test_projet(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    r = await api.post("/v1/projets/p1/instruction", headers=ARS, json={})
    assert (r.status_code, r.json()["statut"]) == (200, "en_instruction"), r.text
    async with rien_ecrit(moteur, *ECRITES):  # a project has pieces to correct, no field
        _probleme(await api.post("/v1/projets/p1/corrections", headers=ARS, json={**DEMANDE, "pieces": []}),
                  422, "champs[0]")
        _probleme(await api.post("/v1/projets/p1/corrections", headers=ARS, json={
            **DEMANDE, "champs": []}), 422, "pieces[0].type")  # a phase-1 type
    r = await api.post("/v1/projets/p1/corrections", headers=ARS, json={
        "pieces": [{"type": "AAP.EQUIPE"}], "motivation": "équipe incomplète",
        "echeance": DEMANDE["echeance"]})
    assert r.status_code == 201, r.text
    correction = r.json()["id"]
    await asyncio.sleep(1)
    payload = CandidatureRedeposee(
        dossier_type="projet", dossier_id="p1", finess=SUPPORT, region="27", corrections=[correction],
        champs=[], pieces=[], redeposee_par="lead", redeposee_le=datetime.now(UTC))
    async with async_sessionmaker(moteur)() as s, s.begin():
        await candidature_redeposee(s, nouvel_evenement(payload, source="/hopen/candidature",
                                                        subject="projet/p1"), payload)
    assert (await api.get("/v1/projets/p1/historique", headers=ARS)).json()["statut"] == "depose"
    diff = (await api.get(f"/v1/projets/p1/corrections/{correction}/diff", headers=ARS)).json()
    assert diff["pieces"] == [{"type": "AAP.EQUIPE", "finess_ej": None, "avant": None, "apres": None,
                               "modifiee": False}]
    r = await api.post("/v1/projets/p1/classement", headers=ARS, json={"motivation": "thème hors AAP"})
    assert r.json()["statut"] == "classe_sans_suite"
    async with rien_ecrit(moteur, *ECRITES):
        r = await decider_a_deux(api, "/v1/projets/p1/selection", headers=ARS,
                           json={"decision": "non_retenu", "motivation": "hors enveloppe"})
        assert _probleme(r, 409, "statut")["statut"] == "classe_sans_suite"
    evenements = await _publies(moteur, "p1")
    assert [e["type"] for e in evenements] == ["ProjetPrisEnInstruction", "CorrectionProjetDemandee",
                                               "ProjetClasseSansSuite"]
    assert evenements[0]["data"]["dossier_type"] == "projet"
