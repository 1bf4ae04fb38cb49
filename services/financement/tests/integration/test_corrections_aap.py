"""Issue 9 (ADR 0014): a corrected AAP decision moves what the project is worth by the next version of
its tranche keys (`aap/<project>/<tranche>`), never by editing a line, and the regional envelope by
exactly the difference: engagement raised or released, a payment (complement) or a restitution
(reprise: `consomme` goes down, EnveloppeRestituee). A replay pays nothing; a correction of a decision
already replaced is parked `correction-perimee`. Real PostgreSQL; one region per test so that the
envelope figures start from zero engaged.

AC 200 000 and 2 objectives: theoretical maximum 427 951.81 € (parameters 2026.1); halves rounded
half up to the cent, the second half the remainder.
"""

from __future__ import annotations

from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import DBAPIError

from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.messaging import DeadLetter, OutboxMessage
from hopen_common.events import decoder_payload
from hopen_common.inbox import EvenementRefuse
from hopen_financement.consumers import HANDLERS
from hopen_financement.enveloppes.models import EcritureEnveloppe
from hopen_financement.enveloppes.service import situation_de
from hopen_financement.notifications.models import LigneFinancement, Notification

from .. import builders as b
from ..conftest import ars

D = Decimal
ES = "350000006"
AC = "200000"


@pytest.fixture(scope="module")
async def sessions(fresh_database):
    engine = build_engine(fresh_database("financement"), pool_size=5)
    yield build_sessionmaker(engine)
    await engine.dispose()


async def _appliquer(sessions, ev) -> None:
    async with sessions() as s:
        await HANDLERS[ev.type](s, ev, decoder_payload(ev))
        await s.commit()


def _id(ev) -> str:
    return str(ev.data["decision_id"])


async def _versions(sessions, projet: str, tranche: str) -> list[tuple[int, Decimal]]:
    async with sessions() as s:
        return [(li.version, li.montant) for li in await s.scalars(
            select(LigneFinancement).where(LigneFinancement.cle_metier == f"aap/{projet}/{tranche}")
            .order_by(LigneFinancement.version))]


async def _figures(sessions, region: str) -> tuple[Decimal, Decimal, Decimal, Decimal]:
    async with sessions() as s:
        f = await situation_de(s, "aap", region)
    return f.alloue, f.engage, f.consomme, f.disponible


async def _attendu(sessions, region: str, engage: str, consomme: str) -> None:
    alloue, *_ = await _figures(sessions, region)
    assert await _figures(sessions, region) == (alloue, D(engage), D(consomme), alloue - D(engage))


async def _ecritures(sessions, projet: str) -> list[tuple[str, Decimal]]:
    async with sessions() as s:
        return [(e.nature, e.montant) for e in await s.scalars(
            select(EcritureEnveloppe).where(EcritureEnveloppe.projet_id == projet)
            .order_by(EcritureEnveloppe.id))]


async def _compte(sessions) -> tuple[int, int, int]:
    async with sessions() as s:
        return (int(await s.scalar(select(func.count()).select_from(LigneFinancement)) or 0),
                int(await s.scalar(select(func.count()).select_from(EcritureEnveloppe)) or 0),
                int(await s.scalar(select(func.count()).select_from(Notification)) or 0))


async def test_montant_corrige_a_la_hausse_puis_a_la_baisse(sessions):
    region, p = "53", "p-montant"
    alloue, *_ = await _figures(sessions, region)
    selection = b.projet(p, ES, region, "200000.01", ac=AC)
    await _appliquer(sessions, selection)
    await _attendu(sessions, region, "200000.01", "100000.01")

    hausse = b.projet(p, ES, region, "300000.00", ac=AC, remplace=_id(selection))
    await _appliquer(sessions, hausse)
    # Complement of 49 999.99 € on the paid first half; 99 999.99 € more engaged.
    await _attendu(sessions, region, "300000.00", "150000.00")

    baisse = b.projet(p, ES, region, "150000.00", ac=AC, remplace=_id(hausse))
    await _appliquer(sessions, baisse)
    # Reprise of 75 000 € on the first half: consumed goes down; 150 000 € released.
    await _attendu(sessions, region, "150000.00", "75000.00")
    assert (await _figures(sessions, region))[0] == alloue

    assert await _versions(sessions, p, "aap_acceptation") == [
        (1, D("100000.01")), (2, D("150000.00")), (3, D("75000.00"))]
    assert await _versions(sessions, p, "aap_atteinte") == []
    assert await _ecritures(sessions, p) == [
        ("engagement", D("200000.01")), ("paiement", D("100000.01")),
        ("engagement", D("99999.99")), ("paiement", D("49999.99")),
        ("reprise", D("75000.00")), ("desengagement", D("150000.00"))]
    async with sessions() as s:
        lignes = list(await s.scalars(select(LigneFinancement).where(
            LigneFinancement.candidature_id == p).order_by(LigneFinancement.version)))
        assert [li.calcul.get("difference") for li in lignes] == [None, "49999.99", "-75000.00"]
        assert [li.calcul.get("sens") for li in lignes] == [None, "complement", "reprise"]
        assert lignes[2].calcul["corrige"]["decision_remplacee"] == _id(hausse)
        notifications = {n.id: n for n in await s.scalars(select(Notification).where(
            Notification.candidature_id == p))}
        # Each correction's notification names the one it replaces, and says complement / reprise.
        n2, n3 = notifications[lignes[1].notification_id], notifications[lignes[2].notification_id]
        assert n2.remplace == lignes[0].notification_id
        assert n3.remplace == n2.id
        assert n2.motif.startswith("AAP : complément de 49999.99 €")
        assert n3.motif.startswith("AAP : reprise de 75000.00 €")
        assert n3.montant_net == D("75000.00")
        # The reprise is announced to instruction and reporting with the account after it.
        restitutions = [m.envelope for m in await s.scalars(select(OutboxMessage))
                        if m.envelope["type"] == "EnveloppeRestituee"]
        assert [(r["data"]["montant"], r["data"]["consomme"], r["data"]["engage"]) for r in restitutions] == [
            ("75000.00", "75000.00", "300000.00")]
        # Lines are never edited (trigger).
        with pytest.raises(DBAPIError):
            await s.execute(text("UPDATE ligne_financement SET montant = 0 WHERE candidature_id = :p"),
                            {"p": p})
        await s.rollback()

    # The same correction again (another event id) pays nothing; a correction of a replaced decision
    # is parked as stale.
    avant = await _compte(sessions)
    with pytest.raises(EvenementRefuse) as double:
        await _appliquer(sessions, baisse.model_copy(update={"id": "meme-decision-autre-evenement"}))
    assert double.value.motif == "paiement-en-double"
    with pytest.raises(EvenementRefuse) as perimee:
        await _appliquer(sessions, b.projet(p, ES, region, "250000.00", ac=AC, remplace=_id(selection)))
    assert perimee.value.motif == "correction-perimee"
    # A second first selection of the same project is a double payment too.
    with pytest.raises(EvenementRefuse) as premiere:
        await _appliquer(sessions, b.projet(p, ES, region, "150000.00", ac=AC))
    assert premiere.value.motif == "paiement-en-double"
    assert await _compte(sessions) == avant
    await _attendu(sessions, region, "150000.00", "75000.00")


async def test_selection_corrigee_en_non_retenu_puis_retablie_et_atteinte(sessions):
    region, p = "28", "p-retenu"
    selection = b.projet(p, ES, region, "100000.00", ac=AC)
    await _appliquer(sessions, selection)
    await _attendu(sessions, region, "100000.00", "50000.00")

    refus = b.non_retenu(p, ES, region, remplace=_id(selection))
    await _appliquer(sessions, refus)
    # Everything engaged released, everything paid taken back.
    await _attendu(sessions, region, "0.00", "0.00")
    assert await _versions(sessions, p, "aap_acceptation") == [(1, D("50000.00")), (2, D("0.00"))]

    retabli = b.projet(p, ES, region, "120000.00", ac=AC, remplace=_id(refus))
    await _appliquer(sessions, retabli)
    await _attendu(sessions, region, "120000.00", "60000.00")
    assert await _versions(sessions, p, "aap_acceptation") == [
        (1, D("50000.00")), (2, D("0.00")), (3, D("60000.00"))]

    await _appliquer(sessions, b.atteinte(p, ES, region, True))
    await _attendu(sessions, region, "120000.00", "120000.00")
    assert await _versions(sessions, p, "aap_atteinte") == [(1, D("60000.00"))]
    assert await _ecritures(sessions, p) == [
        ("engagement", D("100000.00")), ("paiement", D("50000.00")),
        ("reprise", D("50000.00")), ("desengagement", D("100000.00")),
        ("engagement", D("120000.00")), ("paiement", D("60000.00")),
        ("paiement", D("60000.00"))]

    # Once the attainment is decided, the selection is no longer corrected (correct the attainment).
    avant = await _compte(sessions)
    with pytest.raises(Exception, match="corriger l'atteinte"):
        await _appliquer(sessions, b.non_retenu(p, ES, region, remplace=_id(retabli)))
    assert await _compte(sessions) == avant


async def test_premier_non_retenu_corrige_en_selection(sessions):
    region, p = "52", "p-repeche"
    refus = b.non_retenu(p, ES, region)
    await _appliquer(sessions, refus)
    await _attendu(sessions, region, "0.00", "0.00")
    await _appliquer(sessions, b.projet(p, ES, region, "80000.00", ac=AC, remplace=_id(refus)))
    # Like a first selection: engaged whole, first half paid.
    await _attendu(sessions, region, "80000.00", "40000.00")
    assert await _versions(sessions, p, "aap_acceptation") == [(1, D("40000.00"))]
    with pytest.raises(EvenementRefuse) as perimee:
        await _appliquer(sessions, b.projet(p, ES, region, "90000.00", ac=AC, remplace=_id(refus)))
    assert perimee.value.motif == "correction-perimee"


async def test_atteinte_corrigee_dans_les_deux_sens(sessions):
    region, p, q = "24", "p-atteint", "p-rate"
    await _appliquer(sessions, b.projet(p, ES, region, "200000.01", ac=AC))
    atteint = b.atteinte(p, ES, region, True)
    await _appliquer(sessions, atteint)
    await _attendu(sessions, region, "200000.01", "200000.01")

    rate = b.atteinte(p, ES, region, False, remplace=_id(atteint))
    await _appliquer(sessions, rate)
    # The second half (100 000.00 €) taken back and released; the first half stays paid.
    await _attendu(sessions, region, "100000.01", "100000.01")

    retabli = b.atteinte(p, ES, region, True, remplace=_id(rate))
    await _appliquer(sessions, retabli)
    await _attendu(sessions, region, "200000.01", "200000.01")
    assert await _versions(sessions, p, "aap_atteinte") == [
        (1, D("100000.00")), (2, D("0.00")), (3, D("100000.00"))]
    assert await _versions(sessions, p, "aap_acceptation") == [(1, D("100000.01"))]

    # A first "not reached" corrected to reached: the second half paid, engaged again.
    await _appliquer(sessions, b.projet(q, ES, region, "150000.00", ac=AC))
    non = b.atteinte(q, ES, region, False)
    await _appliquer(sessions, non)
    await _attendu(sessions, region, "275000.01", "275000.01")
    oui = b.atteinte(q, ES, region, True, remplace=_id(non))
    await _appliquer(sessions, oui)
    await _attendu(sessions, region, "350000.01", "350000.01")
    assert await _versions(sessions, q, "aap_atteinte") == [(1, D("0.00")), (2, D("75000.00"))]

    avant = await _compte(sessions)
    with pytest.raises(EvenementRefuse) as perimee:
        await _appliquer(sessions, b.atteinte(p, ES, region, False, remplace=_id(rate)))
    assert perimee.value.motif == "correction-perimee"
    with pytest.raises(EvenementRefuse) as double:
        await _appliquer(sessions, oui.model_copy(update={"id": "autre-evenement"}))
    assert double.value.motif == "paiement-en-double"
    assert await _compte(sessions) == avant


async def test_correction_par_le_broker(bus):
    """The same path through the real broker: a selection, then its correction to a lower amount; the
    correction is consumed (not parked), the first half is partly taken back, published once."""
    region, p = "27", "p-kafka"
    selection = b.projet(p, ES, region, "100000.00", ac=AC)
    await bus.publier("projet", p, selection)
    await bus.publier("projet", p, b.projet(p, ES, region, "60000.00", ac=AC, remplace=_id(selection)))

    async def reprise(s):
        return (await s.scalars(select(EcritureEnveloppe).where(
            EcritureEnveloppe.projet_id == p, EcritureEnveloppe.nature == "desengagement"))).first()
    await bus.attendre(reprise, quoi="correction consumed")
    async with bus.sessions() as s:
        f = await situation_de(s, "aap", region)
        assert (f.engage, f.consomme) == (D("60000.00"), D("30000.00"))
        ecritures = [(e.nature, e.montant) for e in await s.scalars(
            select(EcritureEnveloppe).where(EcritureEnveloppe.projet_id == p).order_by(EcritureEnveloppe.id))]
        assert ecritures == [("engagement", D("100000.00")), ("paiement", D("50000.00")),
                             ("reprise", D("20000.00")), ("desengagement", D("40000.00"))]
    assert await bus.compter(DeadLetter) == 0


async def test_le_projet_lu_suit_ses_decisions_courantes(api):
    """GET /v1/aap/projets/{id} shows the current amount, attainment and whether it is still retained."""
    region, p = "84", "p-lu"
    selection = b.projet(p, ES, region, "100000.00", ac=AC)
    correction = b.projet(p, ES, region, "90000.00", ac=AC, remplace=_id(selection))
    for ev in (selection, correction):
        await _appliquer(api.sessions, ev)
    lu = (await api.client.get(f"/v1/aap/projets/{p}", headers=ars(region))).json()
    assert (lu["montant_accorde"], lu["decision_id"], lu["retenu"], lu["atteint"]) == (
        "90000.00", _id(correction), True, None)
    await _appliquer(api.sessions, b.non_retenu(p, ES, region, remplace=_id(correction)))
    listes = (await api.client.get("/v1/aap/projets", headers=ars(region))).json()["items"]
    assert [(x["projet_id"], x["retenu"]) for x in listes] == [(p, False)]
