"""Issue 9 through the candidature API on its real database: the establishment follows instruction's
transitions and decisions (fed here to the consumer's handlers, as the inbox would), sees what is asked
of it, edits only the named fields (another: 422 naming it, nothing written), uploads new versions of
the named pieces only, and re-deposits (CandidatureRedeposee with before/after); a dossier in
instruction or waiting for a correction still holds its applicant (pay once, issue 7)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker, create_async_engine

from hopen_candidature.candidatures.schemas import CriteresGhtDemande
from hopen_candidature.consumers import HANDLERS
from hopen_candidature.models import Candidature, CandidatureEj, EtablissementConnu, Piece, ProjetAap
from hopen_common.contracts import (
    CandidatureValidee,
    CorrectionDemandee,
    CorrectionProjetDemandee,
    DossierPrisEnInstruction,
    PieceDemandee,
)
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.events import nouvel_evenement
from hopen_common.events.registry import decoder_payload
from hopen_common.testing import fichiers, jeton
from hopen_common.testing.api import rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu

SUPPORT, MEMBRE = "210780581", "520780032"  # GHT BFC-03, region 27
GHT = {"region": "27", "ght_code": "BFC-03", "maille_phase1": SUPPORT, "maille_hospiconnect": SUPPORT}
ES = jeton("etablissement", finess=[SUPPORT], sujet="dsi-ght")
T0 = datetime.now(UTC) - timedelta(days=2)
CRITERES = CriteresGhtDemande.model_validate({
    "dsi_ght": {"nom": "Mme Martin", "valide": True}, "projet_medical_valide": True,
    "sdsi_date": "2024-01-15",
    "convergence": "DPI commun", "referentiel_identite_unique": True, "preuve_capacite": "convention",
}).model_dump(mode="json")
ECRITES = (Candidature, Piece, JournalAudit, OutboxMessage)


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), [
            etablissement_connu(SUPPORT, **{**GHT, "ght_role": "S"}),
            etablissement_connu(MEMBRE, **{**GHT, "ght_role": "M"})])
        await conn.execute(insert(Candidature).values(
            id="c1", dispositif="phase1", finess=SUPPORT, region="27", statut="deposee", objectifs=["P1.O1"],
            perimetre=[{"finess_ej": f, "raison_sociale": f, "activite_combinee": None,
                        "objectifs": ["P1.O1"]} for f in (SUPPORT, MEMBRE)],
            criteres_ght=CRITERES, cree_par="dsi-ght", cree_le=T0, deposee_par="dsi-ght", deposee_le=T0))
        await conn.execute(insert(ProjetAap).values(
            id="p1", finess=SUPPORT, region="27", statut="depose", theme="rattrapage", titre="t",
            description="d",
            objectifs=["O1"], participants=[SUPPORT], perimetre=[], equipe=[], lettres_partenaires=[],
            sans_versement_usage=None, cree_par="dsi-ght", cree_le=T0, deposee_par="dsi-ght", deposee_le=T0))
        await conn.execute(insert(CandidatureEj), [
            {"candidature_id": "c1", "finess_ej": f, "dispositif": "phase1", "statut": "deposee"}
            for f in (SUPPORT, MEMBRE)])
    yield engine
    await engine.dispose()


async def _consommer(engine: AsyncEngine, payload: Any) -> None:
    """What the inbox does with an event of instruction: its handler, in a transaction."""
    evenement = nouvel_evenement(payload, source="/hopen/instruction", subject="candidature/c1")
    async with async_sessionmaker(engine, expire_on_commit=False)() as s, s.begin():
        await HANDLERS[evenement.type](s, evenement, decoder_payload(evenement))


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


async def _televerser(api: httpx.AsyncClient, type_: str, finess_ej: str | None = None) -> httpx.Response:
    return await api.post("/v1/candidatures/c1/pieces", headers=ES,
                          data={"type": type_} | ({"finess_ej": finess_ej} if finess_ej else {}),
                          files={"fichier": ("sdsi.pdf", fichiers.pdf(), "application/pdf")})


def _transition(**champs: Any) -> dict[str, Any]:
    return {"dossier_type": "candidature", "dossier_id": "c1", "finess": SUPPORT, "region": "27",
            "par": "instructrice-bfc", "le": datetime.now(UTC), **champs}


async def test_tour_de_correction(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    sdsi_v1 = await _televerser(api, "P1.GHT.SDSI")  # deposited with the dossier
    assert sdsi_v1.status_code == 201, sdsi_v1.text
    await _consommer(moteur, DossierPrisEnInstruction(**_transition(
        transition_id="t1", statut_precedent="deposee", statut="en_instruction")))
    # In instruction, the candidature still holds its applicant: no second phase-1 candidature.
    r = await api.post("/v1/candidatures", headers=ES, json={"dispositif": "phase1", "finess": SUPPORT,
                                                             "objectifs": ["P1.O1"]})
    _probleme(r, 409, "finess")
    # Outside a correction, neither editing nor re-depositing.
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post("/v1/candidatures/c1/redepot", headers=ES), 409, "statut")
    demande = CorrectionDemandee(**_transition(
        transition_id="t2", statut_precedent="en_instruction", statut="correction_demandee",
        motivation="SDSI de plus de deux ans", correction_id="k1", pieces=[PieceDemandee(type="P1.GHT.SDSI")],
        champs=["criteres_ght.sdsi_date"], echeance=date.today() + timedelta(days=10)))
    await _consommer(moteur, demande)
    await _consommer(moteur, demande)  # redelivered: nothing twice
    vue = (await api.get("/v1/candidatures/c1", headers=ES)).json()
    assert vue["statut"] == "correction_demandee"
    (asked,) = vue["demandes_correction"]
    assert (asked["correction_id"], asked["motivation"], asked["champs"], asked["en_retard"]) == (
        "k1", "SDSI de plus de deux ans", ["criteres_ght.sdsi_date"], False)
    assert asked["pieces"] == [{"type": "P1.GHT.SDSI", "finess_ej": None}]
    assert [(t["vers"], t["motivation"]) for t in vue["historique"]] == [
        ("en_instruction", None), ("correction_demandee", "SDSI de plus de deux ans")]
    async with moteur.connect() as conn:
        statuts = await conn.scalars(select(CandidatureEj.statut).where(CandidatureEj.candidature_id == "c1"))
        assert set(statuts) == {"correction_demandee"}

    async with rien_ecrit(moteur, *ECRITES):
        # A field not asked for, a field that does not exist, a wrong value: each named, nothing written.
        for champs, champ in (({"criteres_ght.convergence": "autre"}, "criteres_ght.convergence"),
                              ({"objectifs": ["P1.O2"]}, "objectifs"),
                              ({"criteres_ght.sdsi_date": "pas une date"}, "criteres_ght.sdsi_date")):
            r = await api.patch("/v1/candidatures/c1/champs", headers=ES, json={"champs": champs})
            _probleme(r, 422, champ)
        # A piece not asked for cannot be uploaded while the correction is open.
        _probleme(await _televerser(api, "P1.P1", MEMBRE), 422, "type")
        # Nothing new yet: the named piece is missing.
        r = await api.post("/v1/candidatures/c1/redepot", headers=ES)
        assert _probleme(r, 422, "pieces")["manquantes"][0]["type"] == "P1.GHT.SDSI"
        autre = jeton("etablissement", finess=[MEMBRE])
        assert (await api.post("/v1/candidatures/c1/redepot", headers=autre)).status_code == 404

    r = await api.patch("/v1/candidatures/c1/champs", headers=ES,
                        json={"champs": {"criteres_ght.sdsi_date": "2025-06-01"}})
    assert (r.status_code, r.json()["criteres_ght"]["sdsi_date"]) == (200, "2025-06-01"), r.text
    sdsi_v2 = await _televerser(api, "P1.GHT.SDSI")
    assert (sdsi_v2.status_code, sdsi_v2.json()["version"]) == (201, 2), sdsi_v2.text
    r = await api.post("/v1/candidatures/c1/redepot", headers=ES)
    assert (r.status_code, r.json()["statut"]) == (200, "deposee"), r.text
    assert r.json()["demandes_correction"][0]["repondue_le"] is not None
    async with moteur.connect() as conn:
        (envoi,) = await conn.scalars(select(OutboxMessage.envelope).where(
            OutboxMessage.key == "c1", OutboxMessage.envelope["type"].astext == "CandidatureRedeposee"))
    assert envoi["data"]["corrections"] == ["k1"]
    assert envoi["data"]["champs"] == [{"champ": "criteres_ght.sdsi_date", "avant": "2024-01-15",
                                        "apres": "2025-06-01"}]
    assert [(p["piece_id"], p["version"]) for p in envoi["data"]["pieces"]] == [(sdsi_v2.json()["id"], 2)]

    # The ARS decision, with its motivation, as the establishment sees it.
    await _consommer(moteur, CandidatureValidee(
        decision_id="dec-1", candidature_id="c1", finess=SUPPORT, region="27", decide_par="instructrice-bfc",
        decide_le=datetime.now(UTC), motivation="SDSI à jour, critères remplis", dispositif="phase1",
        objectifs=["P1.O1"]))
    vue = (await api.get("/v1/candidatures/c1", headers=ES)).json()
    assert vue["statut"] == "validee"
    (decision,) = vue["decisions_ars"]
    assert (decision["decision"], decision["motivation"], decision["remplace"]) == (
        "validee", "SDSI à jour, critères remplis", None)


async def test_projet(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """An AAP project: the lead answers a request for a piece and re-deposits (no field to correct)."""
    await _consommer(moteur, CorrectionProjetDemandee(**{
        **_transition(transition_id="tp1", statut_precedent="depose", statut="correction_demandee",
                      motivation="équipe incomplète", correction_id="kp1",
                      pieces=[PieceDemandee(type="AAP.EQUIPE")], champs=[],
                      echeance=date.today() + timedelta(days=5)),
        "dossier_type": "projet", "dossier_id": "p1"}))
    vue = (await api.get("/v1/projets/p1", headers=ES)).json()
    assert (vue["statut"], vue["demandes_correction"][0]["correction_id"]) == ("correction_demandee", "kp1")
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post("/v1/projets/p1/redepot", headers=ES), 422, "pieces")
    r = await api.post("/v1/projets/p1/pieces", headers=ES, data={"type": "AAP.EQUIPE"},
                       files={"fichier": ("equipe.pdf", fichiers.pdf(), "application/pdf")})
    assert r.status_code == 201, r.text
    r = await api.post("/v1/projets/p1/redepot", headers=ES)
    assert (r.status_code, r.json()["statut"]) == (200, "depose"), r.text
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post("/v1/projets/p1/redepot", headers=ES), 409, "statut")
