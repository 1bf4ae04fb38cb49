"""Reporting's own consumer fed through the real Kafka broker, read through its API: totals
follow corrections (a notification that replaces another takes its place), redelivery
changes nothing, envelopes keep their latest entry, and each ARS sees its region only."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest

from hopen_common.contracts import (
    EnveloppeEngagee,
    EnveloppeRestituee,
    EtablissementPublie,
    FinancementNotifie,
    LigneFinancement,
)
from hopen_common.events import nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_reporting.consumers import HANDLERS
from hopen_reporting.main import create_app
from hopen_reporting.models import CompteEnveloppe, NotificationVue
from hopen_reporting.settings import ReportingSettings

CALVI, CLINIQUE = "2B0005342", "2A0000998"
MAINTENANT = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)


def _etab(finess: str, secteur: str) -> EtablissementPublie:
    return EtablissementPublie(
        finess=finess, finess_ej=finess, raison_sociale=f"ES {finess}", region="94", departement="2B",
        secteur=secteur, categorie=None, niveau="EJ", ght_code=None, ght_role=None, finess_pmsi=finess,
        activite_combinee=Decimal("18530"), eligible_phase1=True, maille_phase1=finess, domaines_sun_es=[],
        ferme=False)


def _notification(finess: str, nature: str, lignes: list[tuple[str, str, str]], *,
                  dispositif: str = "phase1", remplace: str | None = None, candidature: str = "c-1"
                  ) -> FinancementNotifie:
    lignes_ = [LigneFinancement(objectif=o, nature=n, montant=Decimal(m), forfait=Decimal(m))
               for o, n, m in lignes]
    net = sum((-li.montant if li.nature == "reprise" else li.montant for li in lignes_), Decimal("0.00"))
    return FinancementNotifie(
        notification_id=str(uuid.uuid4()), candidature_id=candidature, finess=finess, region="94",
        dispositif=dispositif, nature=nature, lignes=lignes_, montant_net=net, decision_id=str(uuid.uuid4()),
        notifie_le=MAINTENANT, remplace=remplace)


def _engagement(ecriture: int, engage: str) -> EnveloppeEngagee:
    return EnveloppeEngagee(
        ecriture_id=ecriture, dispositif="aap", region="94", montant=Decimal("1000.00"), motif="test",
        ecrit_par="financement", ecrit_le=MAINTENANT, alloue=Decimal("456000.00"), engage=Decimal(engage),
        consomme=Decimal("0.00"), disponible=Decimal("456000.00") - Decimal(engage),
        projet_id=f"p-{ecriture}", decision_id=f"d-{ecriture}")


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="reporting", handlers=HANDLERS, database_url=fresh_database("reporting"),
                           kafka_bootstrap=kafka_bootstrap,
                           sujets=("etablissement", "financement", "enveloppe")) as b:
        yield b


async def _api(bus: Bus, kafka_bootstrap: str) -> tuple[Any, httpx.AsyncClient]:
    url = bus.sessions.kw["bind"].url.render_as_string(hide_password=False)
    app = create_app(ReportingSettings(database_url=url, kafka_bootstrap_servers=kafka_bootstrap,
                                       workers_in_process=False))
    return app, httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://reporting")


async def _publier_tout(bus: Bus) -> str:
    await bus.publier("etablissement", CALVI,
                      nouvel_evenement(_etab(CALVI, "public"), source="/t", subject=CALVI))
    await bus.publier("etablissement", CLINIQUE,
                      nouvel_evenement(_etab(CLINIQUE, "prive_lucratif"), source="/t", subject=CLINIQUE))
    for notification in (
        _notification(CALVI, "amorcage", [("P1.O1", "amorcage", "3138.97"), ("P1.O3", "amorcage", "627.80")]),
        _notification(CALVI, "solde", [("P1.O1", "solde", "7324.26"), ("P1.O3", "reprise", "627.80")]),
        _notification(CLINIQUE, "amorcage", [("P1.O5", "amorcage", "1000.00")], candidature="c-2"),
    ):
        await bus.publier("financement", notification.candidature_id,
                          nouvel_evenement(notification, source="/t", subject=notification.candidature_id))
    premiere = _notification(CALVI, "hospiconnect", [("2026", "hospiconnect", "10000.00")],
                             dispositif="hospiconnect", candidature="h-1")
    correction = _notification(CALVI, "hospiconnect", [("2026", "hospiconnect", "12000.00")],
                               dispositif="hospiconnect", candidature="h-1",
                               remplace=premiere.notification_id)
    for notification in (premiere, correction):
        await bus.publier("financement", "h-1", nouvel_evenement(notification, source="/t", subject="h-1"))
    # Two ledger entries of one region, on the region's key: the latest is the account.
    for ecriture, engage in ((1, "1000.00"), (2, "3000.00")):
        await bus.publier("enveloppe", "94", nouvel_evenement(_engagement(ecriture, engage), source="/t",
                                                              subject="94"))
    return correction.notification_id


async def test_synthese_regionale_et_nationale(bus: Bus, kafka_bootstrap: str) -> None:
    derniere = await _publier_tout(bus)
    await bus.attendre(lambda s: s.get(NotificationVue, derniere), quoi="correction applied")
    # Three topics, no order between them: wait until every event has gone through.
    await bus.attendre(lambda _: _vrai(bus.consumer.processed >= len(bus.publies)), quoi="all applied")
    app, client = await _api(bus, kafka_bootstrap)
    async with app.router.lifespan_context(app), client:
        async def lire() -> dict[str, Any]:
            r = await client.get("/v1/regions/94/synthese", headers=jeton("ars", region="94"))
            assert r.status_code == 200, r.text
            return dict(r.json())

        avant = await lire()
        assert (avant["amorcage"], avant["solde"], avant["reprise"]) == ("4766.77", "7324.26", "627.80")
        assert avant["net_phase1"] == "11463.23"
        assert avant["hospiconnect"] == "12000.00"  # the correction replaced the first amount
        assert avant["total"] == "23463.23"
        assert avant["par_secteur"]["prive_lucratif"]["amorcage"] == "1000.00"
        assert avant["par_secteur"]["public"]["solde"] == "7324.26"
        assert avant["enveloppes"] == [{"dispositif": "aap", "alloue": "456000.00", "engage": "3000.00",
                                        "consomme": "0.00", "disponible": "453000.00"}]

        # The broker redelivers everything: once every copy has gone through, nothing moved.
        publies = len(bus.publies)
        await bus.republier_tout()
        await bus.attendre(lambda _: _vrai(bus.consumer.processed >= 2 * publies), quoi="redelivery consumed")
        assert await lire() == avant
        assert await bus.compter(NotificationVue) == 5

        r = await client.get("/v1/regions/94/synthese", headers=jeton("ars", region="11"))
        assert r.status_code == 404
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (await client.get("/v1/synthese", headers=jeton("ars", region="94"))).status_code == 403
        # A code outside the 18 regions is refused at the edge (hopen_common.region), not a 404.
        r = await client.get("/v1/regions/99/synthese", headers=jeton("dns"))
        assert r.status_code == 422
        assert r.json()["champ"] == "code"
        nationale = (await client.get("/v1/synthese", headers=jeton("dns"))).json()
        assert nationale["total"] == "23463.23"
        assert [r["region"] for r in nationale["regions"]] == ["94"]


async def _vrai(valeur: bool) -> bool:
    return valeur


async def test_une_ligne_corrigee_remplace_sa_version_precedente(bus: Bus, kafka_bootstrap: str) -> None:
    """Issue 7: a corrected objective's solde is the next version of its business key, in a
    notification that replaces no other: the total counts the latest version only, whichever
    arrives first."""
    await bus.publier("etablissement", CALVI,
                      nouvel_evenement(_etab(CALVI, "public"), source="/t", subject=CALVI))
    cle = f"phase1/{CALVI}/P1.O3/solde"
    versions = []
    for version, nature, montant in ((1, "reprise", "627.80"), (2, "solde", "1464.88")):
        notification = _notification(CALVI, "solde", [("P1.O3", nature, montant)])
        lignes = [notification.lignes[0].model_copy(update={"cle_metier": cle, "version": version})]
        versions.append(notification.model_copy(update={"lignes": lignes}))
    # The correction first, on another key of the topic: reporting must not depend on the order.
    for rang, notification in ((2, versions[1]), (1, versions[0])):
        await bus.publier("financement", f"c-{rang}",
                          nouvel_evenement(notification, source="/t", subject=notification.candidature_id))
    await bus.attendre(lambda _: _vrai(bus.consumer.processed >= len(bus.publies)), quoi="all applied")
    app, client = await _api(bus, kafka_bootstrap)
    async with app.router.lifespan_context(app), client:
        synthese = (await client.get("/v1/regions/94/synthese", headers=jeton("ars", region="94"))).json()
    assert (synthese["solde"], synthese["reprise"]) == ("1464.88", "0.00")


async def test_validation_corrigee_en_refus_puis_objectif_corrige(bus: Bus, kafka_bootstrap: str) -> None:
    """Issue 9 (ADR 0014): financement's versions of one solde key after a validation corrected to
    a refusal (reprise of the amorçage), corrected back (0 €), the objective reached (solde) then
    corrected (reprise, in a notification that wholly replaces the solde's). The totals follow the
    current version only, whatever the arrival order; the amorçage is counted once."""
    await bus.publier("etablissement", CALVI,
                      nouvel_evenement(_etab(CALVI, "public"), source="/t", subject=CALVI))
    cle = f"phase1/{CALVI}/P1.O1/solde"
    amorcage = _notification(CALVI, "amorcage", [("P1.O1", "amorcage", "2627.80")], candidature="c-9")
    amorcage = amorcage.model_copy(update={"lignes": [amorcage.lignes[0].model_copy(
        update={"cle_metier": f"phase1/{CALVI}/P1.O1/amorcage", "version": 1})]})
    versions: list[FinancementNotifie] = []
    for version, nature, montant in ((1, "reprise", "2627.80"), (2, "solde", "0.00"), (3, "solde", "6131.53"),
                                     (4, "reprise", "2627.80")):
        notification = _notification(CALVI, "solde", [("P1.O1", nature, montant)], candidature="c-9",
                                     remplace=versions[-1].notification_id if version == 4 else None)
        versions.append(notification.model_copy(update={"lignes": [notification.lignes[0].model_copy(
            update={"cle_metier": cle, "version": version})]}))
    for notification in (versions[2], amorcage, versions[3], versions[0], versions[1]):
        await bus.publier("financement", notification.notification_id,
                          nouvel_evenement(notification, source="/t", subject=notification.candidature_id))
    await bus.attendre(lambda _: _vrai(bus.consumer.processed >= len(bus.publies)), quoi="all applied")
    app, client = await _api(bus, kafka_bootstrap)
    async with app.router.lifespan_context(app), client:
        synthese = (await client.get("/v1/regions/94/synthese", headers=jeton("ars", region="94"))).json()
    assert (synthese["amorcage"], synthese["solde"], synthese["reprise"], synthese["net_phase1"]) == (
        "2627.80", "0.00", "2627.80", "0.00")


async def test_une_reprise_baisse_le_consomme(bus: Bus) -> None:
    """Issue 9: a corrected AAP decision takes back a paid half (EnveloppeRestituee): the account's
    consumed figure follows."""
    await bus.publier("enveloppe", "94",
                      nouvel_evenement(_engagement(1, "50000.00"), source="/t", subject="94"))
    await bus.publier("enveloppe", "94", nouvel_evenement(EnveloppeRestituee(
        ecriture_id=2, dispositif="aap", region="94", montant=Decimal("5000.00"), motif="reprise",
        ecrit_par="financement", ecrit_le=MAINTENANT, alloue=Decimal("456000.00"), engage=Decimal("50000.00"),
        consomme=Decimal("20000.00"), disponible=Decimal("406000.00"), projet_id="p-1", notification_id="n-2",
        tranche="aap_acceptation", decision_id="d-2"), source="/t", subject="94"))

    async def appliquee(s):  # type: ignore[no-untyped-def]
        compte = await s.get(CompteEnveloppe, ("94", "aap"))
        return compte is not None and compte.derniere_ecriture == 2
    await bus.attendre(appliquee, quoi="reprise applied")
    async with bus.sessions() as s:
        compte = await s.get(CompteEnveloppe, ("94", "aap"))
    assert compte is not None
    assert (compte.engage, compte.consomme, compte.disponible) == (
        Decimal("50000.00"), Decimal("20000.00"), Decimal("406000.00"))
