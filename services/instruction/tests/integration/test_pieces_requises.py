"""The ARS checklist of required pieces (issue 8 item 4): instruction's own consumer on the real broker
keeps the pieces received (PieceDeposee, before or after the deposit, redelivery idempotent), and its
API on the same database answers `GET .../pieces-requises` per dossier and per AAP project: the latest
version of each piece with its hash, what is missing, the GHT commitment letter "to regularise" with
its due date (late past it), the GHT criteria; ARS of the region and DNS only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine

from hopen_common.contracts import (
    CandidatureDeposee,
    CriteresGht,
    DepensePrevueAap,
    DsiGht,
    LettrePartenaire,
    MembreEquipeAap,
    PerimetreEj,
    PieceDeposee,
    ProjetAapDepose,
)
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db.messaging import DeadLetter
from hopen_common.events import nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, reglages_de_test
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_instruction.consumers import HANDLERS
from hopen_instruction.main import create_app
from hopen_instruction.models import Dossier, PieceRecue, Projet
from hopen_instruction.settings import InstructionSettings

SUPPORT, A, B = "210780581", "520780032", "520780057"
SEUL, LEAD = "2A0002606", "210012142"
DEPOT = datetime(2024, 10, 1, 9, tzinfo=UTC)
ARS_27, ARS_94 = jeton("ars", region="27"), jeton("ars", region="94")


@pytest.fixture(scope="module")
def base(fresh_database: Callable[[str], str]) -> str:
    return fresh_database("instruction")


@pytest.fixture
async def bus(base: str, kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="instruction", handlers=HANDLERS, database_url=base,
                           kafka_bootstrap=kafka_bootstrap, sujets=("candidature",)) as b:
        yield b


@pytest.fixture
async def api(base: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    engine: AsyncEngine = create_async_engine(base)
    try:
        async with client_api(create_app(reglages_de_test(InstructionSettings, engine, kafka_bootstrap)),
                              "http://instruction") as client:
            yield client
    finally:
        await engine.dispose()


def _piece(dossier_id: str, type_: str, *, version: int = 1, ej: str | None = None, region: str = "27",
           dossier_type: TypeDossier = "candidature", finess: str = SUPPORT) -> PieceDeposee:
    return PieceDeposee(
        piece_id=str(uuid.uuid4()), dossier_type=dossier_type, dossier_id=dossier_id, finess=finess,
        region=region, type=type_, finess_ej=ej, nom=f"{type_}-v{version}.pdf", media_type="application/pdf",
        taille=1234, sha256=f"{version:02d}" * 32, version=version, depose_par="es",
        depose_le=datetime(2024, 9, 20 + version, tzinfo=UTC))


async def _publier(bus: Bus, cle: str, payload: Any) -> None:
    await bus.publier("candidature", cle, nouvel_evenement(payload, source="/test", subject=f"x/{cle}"))


def _lignes(corps: dict[str, Any]) -> dict[tuple[str, str | None], dict[str, Any]]:
    return {(ligne["code"], ligne["finess_ej"]): ligne for ligne in corps["pieces"]}


async def test_checklist_d_un_dossier_de_ght(bus: Bus, api: httpx.AsyncClient) -> None:
    did = "p1-ght"
    # Uploaded on the draft: the pieces arrive before the deposit, and are kept.
    for piece in (_piece(did, "P1.P1"), _piece(did, "P1.P1", version=2), _piece(did, "P1.P3", ej=A),
                  _piece(did, "P1.GHT.ENGAGEMENT"), _piece(did, "P1.P2")):
        await _publier(bus, did, piece)
    criteres = CriteresGht(
        dsi_ght=DsiGht(nom="M. Durand", valide=True), projet_medical_valide=True, sdsi_date=date(2023, 5, 1),
        sdsi_en_cours_de_mise_a_jour=False, convergence="DPI commun", referentiel_identite_unique=False,
        preuve_capacite="engagement", a_regulariser_le=date(2024, 12, 15))
    await _publier(bus, did, CandidatureDeposee(
        candidature_id=did, dispositif="phase1", finess=SUPPORT, raison_sociale="CHU support", region="27",
        objectifs=["P1.O1"], domaines_sun_es=[], deposee_le=DEPOT, deposee_par="es",
        perimetre=[PerimetreEj(finess_ej=f, raison_sociale=f, activite_combinee=Decimal("1000"),
                               objectifs=["P1.O1"]) for f in (A, B)],
        criteres_ght=criteres))

    async def arrive(s: AsyncSession) -> bool:
        return await s.get(Dossier, did) is not None and await bus.compter(PieceRecue) >= 5
    await bus.attendre(arrive, quoi="dossier and pieces received")

    # Redelivered, in order: nothing written twice.
    total = len(bus.publies)
    await bus.republier_tout()

    async def rejoue(_: AsyncSession) -> bool:
        return bus.consumer.processed >= 2 * total
    await bus.attendre(rejoue, quoi="redelivery consumed")
    assert await bus.compter(PieceRecue, PieceRecue.dossier_id == did) == 5
    assert await bus.compter(DeadLetter) == 0

    r = await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_27)
    assert r.status_code == 200, r.text
    corps = r.json()
    assert (corps["dossier_type"], corps["dispositif"], corps["complet"]) == ("candidature", "phase1", False)
    assert corps["criteres_ght"]["preuve_capacite"] == "engagement"
    assert corps["criteres_ght_invalides"] == []
    lignes = _lignes(corps)
    assert list(lignes) == [("P1.P1", None), ("P1.P2", None), ("P1.P3", A), ("P1.P3", B), ("P1.P4", None),
                            ("P1.GHT.CAPACITE", None), ("P1.GHT.DSI", None), ("P1.GHT.PROJET_MEDICAL", None),
                            ("P1.GHT.SDSI", None)]
    p1 = lignes[("P1.P1", None)]
    assert (p1["etat"], p1["piece"]["version"], p1["piece"]["sha256"]) == ("fournie", 2, "02" * 32)
    assert p1["piece"]["depose_le"].startswith("2024-09-22")
    assert lignes[("P1.P3", A)]["etat"] == "fournie"
    assert lignes[("P1.P3", B)]["etat"] == "manquante"
    assert lignes[("P1.P3", B)]["niveau"] == "ej"
    capacite = lignes[("P1.GHT.CAPACITE", None)]
    # The due date is past (the test runs after 15 December 2024): the letter is late.
    assert (capacite["etat"], capacite["echeance"], capacite["en_retard"]) == (
        "a_regulariser", "2024-12-15", True)
    assert capacite["piece"]["type"] == "P1.GHT.ENGAGEMENT"

    # The COSTRAT decision regularises the letter.
    await _publier(bus, did, _piece(did, "P1.GHT.COSTRAT"))

    async def regularise(_: AsyncSession) -> bool:
        return await bus.compter(PieceRecue, PieceRecue.dossier_id == did) == 6
    await bus.attendre(regularise, quoi="COSTRAT received")
    capacite = _lignes((await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_27)).json())[
        ("P1.GHT.CAPACITE", None)]
    assert (capacite["etat"], capacite["piece"]["type"], capacite["en_retard"]) == (
        "fournie", "P1.GHT.COSTRAT", False)

    # Who sees it: the ARS of the region and the DNS; another region 404, an establishment 403.
    assert (await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=jeton("dns"))).status_code == 200
    assert (await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_94)).status_code == 404
    assert (await api.get("/v1/dossiers/inconnu/pieces-requises", headers=ARS_27)).status_code == 404
    es = jeton("etablissement", finess=[SUPPORT])
    assert (await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=es)).status_code == 403
    # A year is HospiConnect's.
    r = await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_27, params={"annee": 2026})
    assert (r.status_code, r.json()["champ"]) == (409, "annee")


async def test_hospiconnect_et_preuves_d_une_annee(bus: Bus, api: httpx.AsyncClient) -> None:
    did = "hc-seul"
    await _publier(bus, did, CandidatureDeposee(
        candidature_id=did, dispositif="hospiconnect", finess=SEUL, raison_sociale="CH Sartène", region="94",
        objectifs=["1.0"], domaines_sun_es=[], deposee_le=DEPOT, deposee_par="es"))
    for piece in (_piece(did, "HC.ADM.CANDIDATURE", region="94", finess=SEUL),
                  _piece(did, "HC.1.0.2026", region="94", finess=SEUL)):
        await _publier(bus, did, piece)

    async def arrive(_: AsyncSession) -> bool:
        return await bus.compter(PieceRecue, PieceRecue.dossier_id == did) == 2
    await bus.attendre(arrive, quoi="HospiConnect pieces")
    corps = (await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_94)).json()
    assert [(ligne["code"], ligne["etat"]) for ligne in corps["pieces"]] == [
        ("HC.ADM.CANDIDATURE", "fournie")]
    assert (corps["complet"], corps["criteres_ght"]) == (True, None)
    corps = (await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_94,
                           params={"annee": 2027})).json()
    assert [(ligne["code"], ligne["etat"], ligne["annee"]) for ligne in corps["pieces"]][:2] == [
        ("HC.ADM.CANDIDATURE", "fournie", None), ("HC.1.0.2027", "manquante", 2027)]
    assert len(corps["pieces"]) == 6
    assert not corps["complet"]
    corps = (await api.get(f"/v1/dossiers/{did}/pieces-requises", headers=ARS_94,
                           params={"annee": 2026})).json()
    assert [(ligne["code"], ligne["etat"]) for ligne in corps["pieces"]] == [
        ("HC.ADM.CANDIDATURE", "fournie"), ("HC.1.0.2026", "fournie")]


async def test_projet_aap(bus: Bus, api: httpx.AsyncClient) -> None:
    pid = "aap-1"
    await _publier(bus, pid, _piece(pid, "AAP.EQUIPE", dossier_type="projet", finess=LEAD))
    await _publier(bus, pid, ProjetAapDepose(
        projet_id=pid, finess=LEAD, raison_sociale="CH", region="27", theme="desengorgement_urgences",
        titre="t", description="d", objectifs=["o1"], participants=[LEAD], perimetre=["210987665"],
        equipe=[MembreEquipeAap(nom="A", fonction="urgentiste", responsable=True)],
        depenses_prevues=[DepensePrevueAap(annee=2026, montant=Decimal("60000.00")),
                          DepensePrevueAap(annee=2027, montant=Decimal("40000.00"))],
        lettres_partenaires=[LettrePartenaire(partenaire="Éditeur", nom="l.pdf", sha256="cd" * 32)],
        deposee_par="es", deposee_le=DEPOT, participants_publics_ght=[LEAD]))

    async def arrive(s: AsyncSession) -> bool:
        return await s.get(Projet, pid) is not None and await bus.compter(
            PieceRecue, PieceRecue.dossier_id == pid) == 1
    await bus.attendre(arrive, quoi="project and its piece")
    r = await api.get(f"/v1/projets/{pid}/pieces-requises", headers=ARS_27)
    assert r.status_code == 200, r.text
    assert [(ligne["code"], ligne["finess_ej"], ligne["etat"]) for ligne in r.json()["pieces"]] == [
        ("AAP.EQUIPE", None, "fournie"), ("AAP.LETTRE", None, "manquante"),
        ("AAP.VALIDATION_GHT", LEAD, "manquante")]
    assert r.json()["dossier_type"] == "projet"
    assert (await api.get(f"/v1/projets/{pid}/pieces-requises", headers=ARS_94)).status_code == 404
    # A candidature's checklist is not a project's: the ids live in two spaces.
    assert (await api.get(f"/v1/dossiers/{pid}/pieces-requises", headers=ARS_27)).status_code == 404
