"""The webhooks API on the real database (issue 11): subscriptions per region (an ARS its own, the DNS
national), types checked against the AsyncAPI catalogue, the secret shown once and stored encrypted,
rotation with overlap, audit of every change, the deliveries and replays it queues, and the pull feed
(region, types, cursor) over events stored by the webhook consumer's handler."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_common.contracts import CandidatureDeposee, FinancementNotifie, ProgrammePublie
from hopen_common.contracts.financement import LigneFinancement
from hopen_common.db.messaging import JournalAudit
from hopen_common.db.session import build_sessionmaker, session_scope
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import compter, rien_ecrit
from hopen_instruction.models import WebhookAbonnement, WebhookEvenement, WebhookLivraison, WebhookSecret
from hopen_instruction.webhooks import chiffrement, service

ARA, BFC = "84", "27"
URL = "https://si.ars.example/hopen"
MAINTENANT = datetime(2026, 12, 3, 8, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    yield engine
    await engine.dispose()


def _deposee(cid: str, region: str, quand: datetime) -> Evenement:
    return nouvel_evenement(CandidatureDeposee(
        candidature_id=cid, dispositif="phase1", finess="010000024", raison_sociale="CH", region=region,
        objectifs=["P1.O1"], domaines_sun_es=[], deposee_le=quand, deposee_par="es"),
        source="/test", subject=f"candidature/{cid}").model_copy(update={"time": quand})


def _notifie(cid: str, region: str) -> Evenement:
    montant = Decimal("12345.67")
    return nouvel_evenement(FinancementNotifie(
        notification_id=f"n-{cid}", candidature_id=cid, finess="010000024", region=region,
        dispositif="phase1", nature="amorcage", montant_net=montant, decision_id=f"d-{cid}",
        lignes=[LigneFinancement(objectif="P1.O1", nature="amorcage", montant=montant, forfait=montant)],
        notifie_le=MAINTENANT), source="/test", subject=f"candidature/{cid}")


async def _stocker(moteur: AsyncEngine, *evenements: Evenement) -> None:
    """What the webhook consumer does with each event, in its transaction."""
    for e in evenements:
        async with session_scope(build_sessionmaker(moteur)) as session:
            await service.stocker(session, e)


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> None:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json().get("champ") == champ, r.text


async def test_abonnements_par_region(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    ars, autre, dns = jeton("ars", region=ARA), jeton("ars", region=BFC), jeton("dns")
    r = await api.post("/v1/webhooks", headers=ars, json={
        "url": URL, "types": ["CandidatureDeposee", "FinancementNotifie", "CandidatureDeposee"],
        "description": "SI régional"})
    assert r.status_code == 201, r.text
    cree = r.json()
    assert cree["secret"].startswith("whsec_")
    assert cree["region"] == ARA
    assert cree["types"] == ["CandidatureDeposee", "FinancementNotifie"]
    webhook_id = cree["id"]
    # The secret is stored encrypted, recoverable with the service's key, and never shown again.
    async with moteur.connect() as conn:
        chiffre = (await conn.execute(select(WebhookSecret.chiffre)
                                      .where(WebhookSecret.abonnement_id == webhook_id))).scalar_one()
    assert cree["secret"].encode() not in chiffre
    assert chiffrement.dechiffrer(chiffrement.cle_de_dev("instruction"), chiffre,
                                  abonnement_id=webhook_id) == cree["secret"]
    lu = await api.get(f"/v1/webhooks/{webhook_id}", headers=ars)
    assert lu.status_code == 200
    assert "secret" not in lu.json()
    assert cree["secret"] not in (await api.get("/v1/webhooks", headers=ars)).text
    # Another region's ARS neither sees nor manages it; the DNS sees it.
    assert (await api.get(f"/v1/webhooks/{webhook_id}", headers=autre)).status_code == 404
    assert (await api.patch(f"/v1/webhooks/{webhook_id}", headers=autre, json={"description": "x"})
            ).status_code == 404
    assert (await api.delete(f"/v1/webhooks/{webhook_id}", headers=autre)).status_code == 404
    assert (await api.post(f"/v1/webhooks/{webhook_id}/secret", headers=autre)).status_code == 404
    assert webhook_id not in {w["id"] for w in (await api.get("/v1/webhooks", headers=autre)).json()["items"]}
    assert (await api.get(f"/v1/webhooks/{webhook_id}", headers=dns)).status_code == 200
    # The DNS subscribes nationally; an ARS never sees a national subscription.
    national = (await api.post("/v1/webhooks", headers=dns, json={"url": URL, "types": ["ProgrammePublie"]})
                ).json()
    assert national["region"] is None
    assert (await api.get(f"/v1/webhooks/{national['id']}", headers=ars)).status_code == 404
    ids_dns = {w["id"] for w in (await api.get("/v1/webhooks", headers=dns)).json()["items"]}
    assert {webhook_id, national["id"]} <= ids_dns
    # Audited like every decision, never with the secret.
    async with moteur.connect() as conn:
        lignes = (await conn.execute(select(JournalAudit.action, JournalAudit.region, JournalAudit.details)
                                     .where(JournalAudit.objet_id == webhook_id))).all()
    assert [(a, reg) for a, reg, _ in lignes] == [("webhook_cree", ARA)]
    assert cree["secret"] not in str(lignes)


async def test_refus_nomment_le_champ(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    ars = jeton("ars", region=ARA)
    async with rien_ecrit(moteur, WebhookAbonnement, WebhookSecret, JournalAudit):
        r = await api.post("/v1/webhooks", headers=ars, json={"url": URL, "types": ["CandidatureDeposee",
                                                                                   "DossierInvente"]})
        _probleme(r, 422, "types")
        assert r.json()["inconnus"] == ["DossierInvente"]
        _probleme(await api.post("/v1/webhooks", headers=ars, json={"url": URL, "types": []}), 422, "types")
        _probleme(await api.post("/v1/webhooks", headers=ars, json={"url": "ftp://x.example/", "types": [
            "CandidatureDeposee"]}), 422, "url")
        _probleme(await api.post("/v1/webhooks", headers=ars, json={
            "url": "http://169.254.169.254/latest/meta-data", "types": ["CandidatureDeposee"]}), 422, "url")
        _probleme(await api.post("/v1/webhooks", headers=ars, json={
            "url": URL, "types": ["CandidatureDeposee"], "region": BFC}), 403, "region")
        _probleme(await api.post("/v1/webhooks", headers=ars, json={
            "url": URL, "types": ["CandidatureDeposee"], "region": "99"}), 422, "region")
        r = await api.post("/v1/webhooks", headers=jeton("etablissement", finess=["010000024"]),
                           json={"url": URL, "types": ["CandidatureDeposee"]})
        assert r.status_code == 403
        _probleme(await api.get("/v1/evenements?apres=pas-un-curseur", headers=ars), 422, "apres")
        _probleme(await api.get("/v1/evenements?types=Invente", headers=ars), 422, "types")
    # schemathesis found these accepted: a number is not a time, false is not a duration.
    wid = (await api.post("/v1/webhooks", headers=ars, json={"url": URL, "types": ["CandidatureDeposee"]})
           ).json()["id"]
    async with rien_ecrit(moteur, WebhookSecret, JournalAudit):
        for depuis in (0, 1764583200, 1.5, True):
            _probleme(await api.post(f"/v1/webhooks/{wid}/rejeu", headers=ars, json={"depuis": depuis}),
                      422, "depuis")
        for duree in (False, "3600"):
            _probleme(await api.post(f"/v1/webhooks/{wid}/secret", headers=ars,
                                     json={"recouvrement_secondes": duree}), 422, "recouvrement_secondes")


async def test_modifier_supprimer_et_rotation(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    ars = jeton("ars", region=ARA)
    cree = (await api.post("/v1/webhooks", headers=ars, json={"url": URL, "types": ["CandidatureDeposee"]})
            ).json()
    wid = cree["id"]
    r = await api.patch(f"/v1/webhooks/{wid}", headers=ars,
                        json={"types": ["CandidatureValidee"], "actif": False})
    assert r.status_code == 200, r.text
    assert r.json()["types"] == ["CandidatureValidee"]
    assert r.json()["actif"] is False
    _probleme(await api.patch(f"/v1/webhooks/{wid}", headers=ars, json={"types": ["Faux"]}), 422, "types")
    assert (await api.patch(f"/v1/webhooks/{wid}", headers=ars, json={"actif": True})).json()["actif"] is True
    # Rotation: both secrets sign during the overlap, then only the new one.
    r = await api.post(f"/v1/webhooks/{wid}/secret", headers=ars, json={"recouvrement_secondes": 3600})
    assert r.status_code == 201, r.text
    nouveau = r.json()["secret"]
    assert nouveau != cree["secret"]
    cle = chiffrement.cle_de_dev("instruction")
    async with build_sessionmaker(moteur)() as session:
        maintenant = datetime.now(UTC)
        assert await service.secrets_valides(session, wid, cle=cle, maintenant=maintenant) == [
            nouveau, cree["secret"]]
        assert await service.secrets_valides(session, wid, cle=cle,
                                             maintenant=maintenant + timedelta(hours=2)) == [nouveau]
    # A second rotation without overlap: only the newest signs at once.
    dernier = (await api.post(f"/v1/webhooks/{wid}/secret", headers=ars,
                              json={"recouvrement_secondes": 0})).json()["secret"]
    async with build_sessionmaker(moteur)() as session:
        assert await service.secrets_valides(session, wid, cle=cle, maintenant=datetime.now(UTC)) == [dernier]
    assert (await api.delete(f"/v1/webhooks/{wid}", headers=ars)).status_code == 204
    assert (await api.get(f"/v1/webhooks/{wid}", headers=ars)).status_code == 404
    async with moteur.connect() as conn:
        actions = list((await conn.execute(select(JournalAudit.action).where(JournalAudit.objet_id == wid)
                                           .order_by(JournalAudit.id))).scalars())
    assert actions == ["webhook_cree", "webhook_modifie", "webhook_modifie", "webhook_secret_tourne",
                       "webhook_secret_tourne", "webhook_supprime"]


async def test_livraisons_rejeux_et_test(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    ars, autre = jeton("ars", region=ARA), jeton("ars", region=BFC)
    wid = (await api.post("/v1/webhooks", headers=ars, json={"url": URL, "types": ["CandidatureDeposee"]})
           ).json()["id"]
    ancien = _deposee("c-ancien", ARA, MAINTENANT - timedelta(days=3))
    recents = [_deposee(f"c-{i}", ARA, MAINTENANT - timedelta(hours=5 - i)) for i in range(3)]
    # Another region's, another type's: never this subscription's.
    await _stocker(moteur, ancien, *recents, _deposee("c-bfc", BFC, MAINTENANT), _notifie("c-0", ARA))
    page = (await api.get(f"/v1/webhooks/{wid}/livraisons", headers=ars)).json()
    assert page["total"] == 4
    assert {li["evenement_id"] for li in page["items"]} == {ancien.id, *(e.id for e in recents)}
    assert {li["statut"] for li in page["items"]} == {"en_attente"}
    # The event delivered twice by Kafka goes through the inbox first: see the worker tests.
    r = await api.post(f"/v1/webhooks/{wid}/rejeu", headers=ars, json={"depuis": (MAINTENANT - timedelta(
        days=1)).isoformat()})
    assert r.status_code == 202, r.text
    assert r.json() == {"livraisons": 3}
    sans_fuseau = {"depuis": "2026-12-01T10:00:00"}  # no time zone: ambiguous
    _probleme(await api.post(f"/v1/webhooks/{wid}/rejeu", headers=ars, json=sans_fuseau), 422, "depuis")
    async with moteur.connect() as conn:
        rejeux = list((await conn.execute(
            select(WebhookEvenement.event_id)
            .join(WebhookLivraison, WebhookLivraison.evenement_position == WebhookEvenement.position)
            .where(WebhookLivraison.abonnement_id == wid, WebhookLivraison.origine == "rejeu")
            .order_by(WebhookEvenement.position))).scalars())
    assert rejeux == [e.id for e in recents]  # in order, the same ids (the webhook-id)
    une = page["items"][0]["id"]
    assert (await api.post(f"/v1/livraisons/{une}/rejeu", headers=autre)).status_code == 404
    r = await api.post(f"/v1/livraisons/{une}/rejeu", headers=ars)
    assert r.status_code == 202, r.text
    assert r.json()["evenement_id"] == page["items"][0]["evenement_id"]
    assert r.json()["origine"] == "rejeu"
    assert r.json()["id"] != une
    r = await api.post(f"/v1/webhooks/{wid}/test", headers=ars)
    assert r.status_code == 202, r.text
    test_id = r.json()["livraison_id"]
    filtrees = (await api.get(f"/v1/webhooks/{wid}/livraisons?statut=en_attente&limit=500",
                              headers=ars)).json()
    assert test_id in {li["id"] for li in filtrees["items"]}
    assert (await api.get(f"/v1/webhooks/{wid}", headers=ars)).json()["livraisons"]["en_attente"] == 9


async def test_un_lot_du_consommateur(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    """The consumer's lots (`stocker_lot`, ADR 0026): in one transaction, each event once, in the lot's
    order, with one delivery per subscription of its type and region, as one at a time."""
    async def abonner(entetes: dict[str, str], types: list[str]) -> str:
        r = await api.post("/v1/webhooks", headers=entetes, json={"url": URL, "types": types})
        assert r.status_code == 201, r.text
        return str(r.json()["id"])

    ara = await abonner(jeton("ars", region=ARA), ["CandidatureDeposee"])
    bfc = await abonner(jeton("ars", region=BFC), ["CandidatureDeposee", "FinancementNotifie"])
    national = await abonner(jeton("dns"), ["FinancementNotifie"])
    lot = [_deposee("l-0", ARA, MAINTENANT), _notifie("l-1", BFC), _deposee("l-2", BFC, MAINTENANT),
           _notifie("l-3", ARA), _deposee("l-4", ARA, MAINTENANT)]
    async with session_scope(build_sessionmaker(moteur)) as session:
        await service.stocker_lot(session, [(e, None) for e in lot])
    async with moteur.connect() as conn:
        positions = dict((await conn.execute(
            select(WebhookEvenement.event_id, WebhookEvenement.position)
            .where(WebhookEvenement.event_id.in_([e.id for e in lot])))).all())

        async def recus(abonnement_id: str) -> list[str]:
            return list((await conn.execute(
                select(WebhookEvenement.event_id)
                .join(WebhookLivraison, WebhookLivraison.evenement_position == WebhookEvenement.position)
                .where(WebhookLivraison.abonnement_id == abonnement_id).order_by(WebhookEvenement.position)
            )).scalars())

        assert await recus(ara) == [lot[0].id, lot[4].id]
        assert await recus(bfc) == [lot[1].id, lot[2].id]
        assert await recus(national) == [lot[1].id, lot[3].id]
    assert [positions[e.id] for e in lot] == sorted(positions.values())  # the feed's order: the lot's


async def test_flux(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    ars, autre, dns = jeton("ars", region=ARA), jeton("ars", region=BFC), jeton("dns")
    debut = (await api.get("/v1/evenements?limit=500", headers=dns)).json()["suivant"]
    a = [_deposee(f"f-{i}", ARA, MAINTENANT) for i in range(5)]
    b = _deposee("f-bfc", BFC, MAINTENANT)
    n = _notifie("f-0", ARA)
    programme = nouvel_evenement(ProgrammePublie(document="phase1", version="2026.9", empreinte="0" * 64,
                                                 publie_par="dns", publie_le=MAINTENANT, motivation="m",
                                                 contenu={}), source="/test", subject="programme/phase1")
    await _stocker(moteur, a[0], a[1], b, n, a[2], programme, a[3], a[4])
    # The ARS reads its region's events, in order, page by page, the same JSON as the webhooks' body.
    vus: list[dict[str, object]] = []
    curseur = debut
    while True:
        page = (await api.get(f"/v1/evenements?apres={curseur}&limit=2", headers=ars)).json()
        if not page["items"]:
            assert page["suivant"] == curseur  # nothing new: poll again with the same cursor
            break
        vus += page["items"]
        curseur = page["suivant"]
    assert [e["id"] for e in vus] == [a[0].id, a[1].id, n.id, a[2].id, a[3].id, a[4].id]
    assert vus[2]["data"]["montant_net"] == "12345.67"  # type: ignore[index]
    assert vus[0] == Evenement.model_validate(vus[0]).model_dump(mode="json")
    r = await api.get(f"/v1/evenements?apres={debut}&types=FinancementNotifie,ProgrammePublie", headers=ars)
    assert [e["id"] for e in r.json()["items"]] == [n.id]
    assert [e["id"] for e in (await api.get(f"/v1/evenements?apres={debut}", headers=autre)).json()["items"]
            ] == [b.id]
    tout = (await api.get(f"/v1/evenements?apres={debut}&types=ProgrammePublie&types=FinancementNotifie",
                          headers=dns)).json()["items"]
    assert [e["id"] for e in tout] == [n.id, programme.id]
    assert await compter(moteur, WebhookEvenement) >= 8
