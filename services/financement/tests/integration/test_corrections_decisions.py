"""Issue 9 (ADR 0014): a corrected phase-1 decision changes what is owed by the next version of the
amount's business key, never by editing a line. Validation corrected to refusal: the solde key takes
back the amorçage (reprise), a solde already paid included; refusal corrected back: the reprise is
cancelled (a zero solde) and the soldes follow the objective decisions; an objective corrected
either way: solde <-> reprise. Amounts are checked against the independent oracle; a replay of the
same correction, or a correction of a decision already replaced, pays nothing more."""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.events import decoder_payload
from hopen_common.inbox import EvenementRefuse
from hopen_financement.consumers import HANDLERS
from hopen_financement.notifications.models import LigneFinancement, Notification
from hopen_financement.notifications.repository import lignes_non_remplacees

from .. import builders as b
from .. import oracle

D = Decimal
CORSE = "94"
SARTENE, CALVI, BONIFACIO = "2A0002606", "2B0005342", "2A0000220"
MAX = "600000"


@pytest.fixture(scope="module")
async def sessions(fresh_database):
    engine = build_engine(fresh_database("financement"), pool_size=5)
    yield build_sessionmaker(engine)
    await engine.dispose()


async def _appliquer(sessions, ev) -> None:
    async with sessions() as s:
        await HANDLERS[ev.type](s, ev, decoder_payload(ev))
        await s.commit()


@pytest.fixture(scope="module", autouse=True)
async def base(sessions):
    for finess, ac in ((SARTENE, "18530"), (CALVI, "7000"), (BONIFACIO, "30000"), ("750712184", MAX)):
        await _appliquer(sessions, b.etablissement(finess, CORSE, ac, effectifs=500))


async def _versions(sessions, cle: str) -> list[tuple[int, str, Decimal]]:
    async with sessions() as s:
        return [(li.version, li.nature, li.montant) for li in await s.scalars(
            select(LigneFinancement).where(LigneFinancement.cle_metier == cle)
            .order_by(LigneFinancement.version))]


async def _net(sessions, finess: str) -> Decimal:
    """What the ES keeps, from the current line of each key (the readers' rule)."""
    async with sessions() as s:
        lignes = await s.scalars(select(LigneFinancement).where(lignes_non_remplacees(),
                                                                LigneFinancement.finess == finess))
        return sum((-li.montant if li.nature == "reprise" else li.montant for li in lignes), D("0.00"))


async def _nombre_lignes(sessions) -> int:
    async with sessions() as s:
        return int(await s.scalar(select(func.count()).select_from(LigneFinancement)) or 0)


async def test_validation_corrigee_en_refus_puis_retablie(sessions):
    f = oracle.forfait_phase1("18530", "P1.O1", MAX)
    forfait, amorcage = f["forfait"], f["amorcage"]
    solde, cle_amorcage = f"phase1/{SARTENE}/P1.O1/solde", f"phase1/{SARTENE}/P1.O1/amorcage"
    validation = b.validee("c1", SARTENE, CORSE, ["P1.O1"])
    await _appliquer(sessions, validation)
    assert await _versions(sessions, cle_amorcage) == [(1, "amorcage", amorcage)]

    refus = b.refusee("c1", SARTENE, CORSE, remplace=validation.data["decision_id"])
    await _appliquer(sessions, refus)
    # The amorçage line is untouched; the solde key takes it back: the ES keeps nothing.
    assert await _versions(sessions, cle_amorcage) == [(1, "amorcage", amorcage)]
    assert await _versions(sessions, solde) == [(1, "reprise", amorcage)]
    assert await _net(sessions, SARTENE) == D("0.00")
    async with sessions() as s:
        reprise = await s.scalar(select(LigneFinancement).where(LigneFinancement.cle_metier == solde))
        notification = await s.get(Notification, reprise.notification_id)
    assert reprise.calcul["decision_remplacee"] == validation.data["decision_id"]
    assert validation.data["decision_id"] in notification.motif
    assert notification.montant_net == -amorcage

    # Replayed (the same decision under a new event id), and a second correction of the validation
    # already replaced: nothing more is written.
    avant = await _nombre_lignes(sessions)
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, refus)
    assert exc.value.motif == "paiement-en-double"
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, b.refusee("c1", SARTENE, CORSE, remplace=validation.data["decision_id"]))
    assert exc.value.motif == "correction-perimee"
    assert await _nombre_lignes(sessions) == avant

    # The refusal corrected back to a validation: the reprise is no longer owed (version 2 at 0 €),
    # the amorçage is not paid a second time.
    retablie = b.validee("c1", SARTENE, CORSE, ["P1.O1"], remplace=refus.data["decision_id"])
    await _appliquer(sessions, retablie)
    assert await _versions(sessions, cle_amorcage) == [(1, "amorcage", amorcage)]
    assert await _versions(sessions, solde) == [(1, "reprise", amorcage), (2, "solde", D("0.00"))]
    assert await _net(sessions, SARTENE) == amorcage

    # The objective reached: the solde (version 3); then corrected to not reached: a reprise (version 4).
    atteint = b.objectif("c1", SARTENE, CORSE, "P1.O1", True, ["P1.O1"])
    await _appliquer(sessions, atteint)
    assert (await _versions(sessions, solde))[-1] == (3, "solde", forfait - amorcage)
    assert await _net(sessions, SARTENE) == forfait
    correction = b.objectif("c1", SARTENE, CORSE, "P1.O1", False, ["P1.O1"],
                            remplace=atteint.data["decision_id"])
    await _appliquer(sessions, correction)
    assert (await _versions(sessions, solde))[-1] == (4, "reprise", amorcage)
    assert await _net(sessions, SARTENE) == D("0.00")
    async with sessions() as s:
        derniere = await s.scalar(select(LigneFinancement).where(LigneFinancement.cle_metier == solde,
                                                                 LigneFinancement.version == 4))
        precedente = await s.scalar(select(LigneFinancement).where(LigneFinancement.cle_metier == solde,
                                                                   LigneFinancement.version == 3))
        notification = await s.get(Notification, derniere.notification_id)
    # What it replaces: the version, the decision, and the whole notification of version 3.
    assert derniere.calcul["corrige"]["version"] == 3
    assert derniere.calcul["difference"] == str(-forfait)  # the solde paid and the amorçage come back
    assert notification.remplace == precedente.notification_id
    avant = await _nombre_lignes(sessions)
    with pytest.raises(EvenementRefuse):
        await _appliquer(sessions, correction)
    assert await _nombre_lignes(sessions) == avant
    async with sessions() as s:
        with pytest.raises(DBAPIError, match="immuable"):
            await s.execute(text("UPDATE ligne_financement SET montant = 0"))


async def test_refus_apres_solde_reprend_tout(sessions):
    objectifs = ["P1.O2", "P1.O4"]
    validation = b.validee("c2", CALVI, CORSE, objectifs)
    await _appliquer(sessions, validation)
    for o in objectifs:
        await _appliquer(sessions, b.objectif("c2", CALVI, CORSE, o, True, objectifs))
    attendu = sum((oracle.forfait_phase1("7000", o, MAX)["forfait"] for o in objectifs), D("0.00"))
    assert await _net(sessions, CALVI) == attendu
    await _appliquer(sessions, b.refusee("c2", CALVI, CORSE, remplace=validation.data["decision_id"]))
    for o in objectifs:
        f = oracle.forfait_phase1("7000", o, MAX)
        assert await _versions(sessions, f"phase1/{CALVI}/{o}/solde") == [
            (1, "solde", f["forfait"] - f["amorcage"]), (2, "reprise", f["amorcage"])]
    assert await _net(sessions, CALVI) == D("0.00")


async def test_refus_corrige_en_validation_paie_l_amorcage(sessions):
    refus = b.refusee("c3", BONIFACIO, CORSE)
    await _appliquer(sessions, refus)  # a first refusal pays nothing
    assert await _net(sessions, BONIFACIO) == D("0.00")
    # A second first decision (names none) is parked.
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, b.validee("c3", BONIFACIO, CORSE, ["P1.O1"]))
    assert exc.value.motif == "paiement-en-double"
    correction = b.validee("c3", BONIFACIO, CORSE, ["P1.O1"], remplace=refus.data["decision_id"])
    await _appliquer(sessions, correction)
    f = oracle.forfait_phase1("30000", "P1.O1", MAX)
    assert await _versions(sessions, f"phase1/{BONIFACIO}/P1.O1/amorcage") == [(1, "amorcage", f["amorcage"])]
    with pytest.raises(EvenementRefuse):
        await _appliquer(sessions, correction)
    assert await _net(sessions, BONIFACIO) == f["amorcage"]


async def test_hospiconnect_validation_corrigee_en_refus_puis_retablie(sessions):
    """HospiConnect pays per (EJ, year): a validation corrected to a refusal takes back each year
    already notified (the key's next version is 0 €, the line paid is never edited); the validation
    restored gives each year its amount again; a replay of the refusal pays or takes nothing more."""
    cle = f"hospiconnect/{BONIFACIO}/2026"
    validation = b.validee("hc1", BONIFACIO, CORSE, [], dispositif="hospiconnect")
    await _appliquer(sessions, validation)
    await _appliquer(sessions, b.annee_hc("hc1", BONIFACIO, BONIFACIO, CORSE, 2026, ["1.0"]))
    await _appliquer(sessions, b.depenses("hc1", BONIFACIO, BONIFACIO, CORSE, 2026, "12000.00"))
    montant = oracle.montant_hospiconnect(500, ["1.0"], "12000.00")["montant"]
    assert montant > 0
    assert await _versions(sessions, cle) == [(1, "hospiconnect", montant)]

    refus = b.refusee("hc1", BONIFACIO, CORSE, remplace=validation.data["decision_id"],
                      dispositif="hospiconnect")
    await _appliquer(sessions, refus)
    assert await _versions(sessions, cle) == [(1, "hospiconnect", montant), (2, "hospiconnect", D("0.00"))]
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, refus)  # the same decision again (another event id)
    assert exc.value.motif == "paiement-en-double"
    async with sessions() as s:
        (notification,) = await s.scalars(select(Notification).join(
            LigneFinancement, LigneFinancement.notification_id == Notification.id)
            .where(LigneFinancement.cle_metier == cle, LigneFinancement.version == 2))
        assert "corrigée en refus" in notification.motif
        assert notification.remplace is not None

    retablie = b.validee("hc1", BONIFACIO, CORSE, [], dispositif="hospiconnect",
                         remplace=refus.data["decision_id"])
    await _appliquer(sessions, retablie)
    assert [v for _, _, v in await _versions(sessions, cle)] == [montant, D("0.00"), montant]
