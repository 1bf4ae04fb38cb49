"""Webhook delivery on the real Kafka broker, the real database and a real HTTP receiver on 127.0.0.1
that verifies every delivery with the independent `standardwebhooks` library: the consumer (through the
inbox) stores each event once and queues one delivery per matching subscription, the loop delivers
signed requests, failures follow the (compressed) schedule, 410 disables, 3xx is a failure, a slow
endpoint holds only its own subscription, rotation, replay, egress checks, and a restart of the worker
in the middle of a schedule."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from standardwebhooks import Webhook

from hopen_common.auth import Principal, Role
from hopen_common.contracts import CandidatureDeposee
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.messaging import JournalAudit
from hopen_common.db.session import session_scope
from hopen_common.devstack.kafka import ensure_topics_async
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.kafka import build_producer, stop_with_timeout
from hopen_common.testing import GestionnaireHttp, jeton, serveur_http_local
from hopen_common.testing.api import client_api
from hopen_common.testing.bus import bus_de_test
from hopen_common.testing.outils import en_tache_de_fond
from hopen_instruction.main import create_app
from hopen_instruction.models import WebhookAbonnement, WebhookLivraison, WebhookTentative
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks import service
from hopen_instruction.webhooks.schemas import WebhookDemande
from hopen_instruction.webhooks.worker import Consignation, Etat, Livreur

ARA, BFC = "84", "27"
ARS_ARA = Principal(subject="ars-ara", role=Role.ARS, region=ARA)
ARS_BFC = Principal(subject="ars-bfc", role=Role.ARS, region=BFC)
DNS = Principal(subject="dns", role=Role.DNS)
LOCAL = ["127.0.0.1/32"]


@dataclass
class Recue:
    chemin: str
    entetes: dict[str, str]
    corps: bytes
    quand: float


@dataclass
class Recepteur:
    """A real HTTP server; what each path answers is decided by `reponses` (path -> list of
    (status, headers, delay) consumed in order, the last one repeated)."""

    url: str
    recues: list[Recue] = field(default_factory=list)
    reponses: dict[str, list[tuple[int, dict[str, str], float]]] = field(default_factory=dict)

    def de(self, chemin: str) -> list[Recue]:
        return [r for r in self.recues if r.chemin == chemin]


@pytest.fixture(scope="module")
def recepteur() -> Iterator[Recepteur]:
    etat = Recepteur(url="")
    verrou = threading.Lock()

    class Gestionnaire(GestionnaireHttp):
        def do_POST(self) -> None:  # noqa: N802  (http.server's name)
            corps = self.rfile.read(int(self.headers["content-length"]))
            with verrou:
                etat.recues.append(Recue(self.path, {k.lower(): v for k, v in self.headers.items()}, corps,
                                         time.monotonic()))
                file = etat.reponses.get(self.path, [(200, {}, 0.0)])
                statut, entetes, delai = file.pop(0) if len(file) > 1 else file[0]
            time.sleep(delai)
            reponse = b"x" * 5000 if statut == 500 else b"ok"
            self.repondre(statut, reponse, entetes)  # nothing if the client gave up (timeout)

    with serveur_http_local(Gestionnaire) as url:
        etat.url = url
        yield etat


@pytest.fixture(scope="module")
def base(fresh_database: Callable[[str], str]) -> str:
    return fresh_database("instruction")


@pytest.fixture(autouse=True)
async def _menage(base: str) -> AsyncIterator[None]:
    """One database for the module (migrating one takes seconds): each test's subscriptions are
    deleted after it, so the next test's events reach only its own."""
    yield
    engine = build_engine(base)
    try:
        async with engine.begin() as conn:
            await conn.execute(update(WebhookLivraison).where(WebhookLivraison.statut == "en_attente")
                               .values(statut="annulee"))
            await conn.execute(update(WebhookAbonnement).values(actif=False, supprime_le=func.now()))
    finally:
        await engine.dispose()


def _reglages(url: str, **autres: Any) -> InstructionSettings:
    valeurs: dict[str, Any] = {
        "environment": "test", "database_url": url, "webhooks_calendrier_secondes": [0, 0.2, 0.2],
        "webhooks_gigue": 0.0, "webhooks_timeout_secondes": 1.0, "webhooks_intervalle_secondes": 0.05,
        "webhooks_destinations_permises": LOCAL, **autres}
    return InstructionSettings(**valeurs)


@contextlib.asynccontextmanager
async def _sessions(url: str) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = build_engine(url, pool_size=10)
    try:
        yield build_sessionmaker(engine)
    finally:
        await engine.dispose()


@contextlib.asynccontextmanager
async def _livreur(sessions: async_sessionmaker[AsyncSession], reglages: InstructionSettings,
                   **autres: Any) -> AsyncIterator[Livreur]:
    livreur = Livreur(sessions, reglages, **autres)
    async with en_tache_de_fond(livreur.run_forever()):
        yield livreur


async def _abonner(sessions: async_sessionmaker[AsyncSession], principal: Principal, url: str,
                   types: tuple[str, ...] = ("CandidatureDeposee",)) -> tuple[str, str]:
    reglages = service.Reglages.de(_reglages("postgresql+asyncpg://x/y"))
    async with session_scope(sessions) as session:
        cree = await service.creer(session, principal, WebhookDemande(url=url, types=list(types)),
                                   reglages=reglages, maintenant=datetime.now(UTC))
    return cree.id, cree.secret


def _deposee(cid: str, region: str) -> Evenement:
    return nouvel_evenement(CandidatureDeposee(
        candidature_id=cid, dispositif="phase1", finess="010000024", raison_sociale="CH", region=region,
        objectifs=["P1.O1"], domaines_sun_es=[], deposee_le=datetime.now(UTC), deposee_par="es"),
        source="/test", subject=f"candidature/{cid}")


async def _stocker(sessions: async_sessionmaker[AsyncSession], *evenements: Evenement) -> None:
    for e in evenements:
        async with session_scope(sessions) as session:
            await service.stocker(session, e)


async def _attendre(condition: Callable[[], Any], *, en: float = 15.0, quoi: str = "condition") -> Any:
    limite = time.monotonic() + en
    while True:
        valeur = await condition()
        if valeur:
            return valeur
        assert time.monotonic() < limite, f"{quoi}: not reached within {en:.0f} s"
        await asyncio.sleep(0.05)


async def _livraisons(sessions: async_sessionmaker[AsyncSession], abonnement_id: str
                      ) -> list[WebhookLivraison]:
    async with sessions() as session:
        return list(await session.scalars(select(WebhookLivraison)
                                          .where(WebhookLivraison.abonnement_id == abonnement_id)))


async def _toutes_finies(sessions: async_sessionmaker[AsyncSession], *abonnements: str) -> bool:
    async with sessions() as session:
        restantes = await session.scalar(select(func.count()).select_from(WebhookLivraison).where(
            WebhookLivraison.abonnement_id.in_(abonnements), WebhookLivraison.statut == "en_attente"))
    return restantes == 0


async def _tentatives(sessions: async_sessionmaker[AsyncSession], abonnement_id: str
                      ) -> list[WebhookTentative]:
    async with sessions() as session:
        return list(await session.scalars(
            select(WebhookTentative)
            .join(WebhookLivraison, WebhookLivraison.id == WebhookTentative.livraison_id)
            .where(WebhookLivraison.abonnement_id == abonnement_id).order_by(WebhookTentative.id)))


def _verifier(recue: Recue, secret: str) -> dict[str, Any]:
    """What a regional integrator does: the independent library, on the bytes received."""
    donnees: dict[str, Any] = Webhook(secret).verify(recue.corps, recue.entetes)
    assert recue.entetes["webhook-id"] == donnees["id"]
    assert recue.entetes["content-type"] == "application/json"
    return donnees


async def test_de_kafka_au_recepteur_une_fois_par_abonnement(base: str, kafka_bootstrap: str,
                                                             recepteur: Recepteur) -> None:
    async with _sessions(base) as sessions, bus_de_test(
            nom=service.CONSOMMATEUR, handlers=service.handlers(), database_url=base,
            kafka_bootstrap=kafka_bootstrap, sujets=("candidature",)) as bus:
        ara, secret_ara = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/kafka/ara")
        bfc, secret_bfc = await _abonner(sessions, ARS_BFC, f"{recepteur.url}/kafka/bfc")
        nat, secret_nat = await _abonner(sessions, DNS, f"{recepteur.url}/kafka/nat")
        autre_type, _ = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/kafka/autre",
                                       types=("FinancementNotifie",))
        evenements = [_deposee(f"k{i}", ARA) for i in range(3)] + [_deposee("k-bfc", BFC)]
        for e in evenements:
            await bus.publier("candidature", e.subject, e)
        await bus.republier_tout()  # Kafka delivers every event twice
        async with _livreur(sessions, _reglages(base)):
            await _attendre(lambda: _compter_traites(bus.consumer, 8), quoi="8 records consumed")
            # Every event stored (the consumer's count may include a skipped redelivery), then sent.
            await _attendre(lambda: _stockees(sessions, {ara: 3, bfc: 1, nat: 4}), quoi="deliveries stored")
            await _attendre(lambda: _toutes_finies(sessions, ara, bfc, nat), quoi="deliveries done")
        # One delivery per event and subscription, whatever Kafka redelivered.
        assert len(await _livraisons(sessions, ara)) == 3
        assert len(await _livraisons(sessions, bfc)) == 1
        assert len(await _livraisons(sessions, nat)) == 4
        assert await _livraisons(sessions, autre_type) == []
        recus_ara = [_verifier(r, secret_ara) for r in recepteur.de("/kafka/ara")]
        assert sorted(d["id"] for d in recus_ara) == sorted(e.id for e in evenements[:3])
        # The other region's subscriber got its region's event only.
        assert [_verifier(r, secret_bfc)["id"] for r in recepteur.de("/kafka/bfc")] == [evenements[3].id]
        assert len([_verifier(r, secret_nat) for r in recepteur.de("/kafka/nat")]) == 4
        assert recepteur.de("/kafka/autre") == []
        # The body is the CloudEvent as published.
        premier = next(d for d in recus_ara if d["id"] == evenements[0].id)
        assert Evenement.model_validate(premier) == evenements[0]
        assert {"id", "type", "time", "subject", "data"} <= set(premier)


async def _stockees(sessions: async_sessionmaker[AsyncSession], attendues: dict[str, int]) -> bool:
    for abonnement, n in attendues.items():
        if len(await _livraisons(sessions, abonnement)) < n:
            return False
    return True


async def _compter_traites(consumer: Any, n: int) -> bool:
    return bool(consumer.processed >= n / 2)  # redeliveries are skipped by the inbox, not counted twice


async def test_echecs_410_redirection_et_delai(base: str, recepteur: Recepteur) -> None:
    recepteur.reponses.update({
        "/echec/500": [(500, {}, 0.0)], "/echec/lent": [(200, {}, 3.0)], "/echec/410": [(410, {}, 0.0)],
        "/echec/302": [(302, {"location": f"{recepteur.url}/echec/cible"}, 0.0)]})
    async with _sessions(base) as sessions:
        ids = {nom: (await _abonner(sessions, ARS_ARA, f"{recepteur.url}/echec/{nom}"))[0]
               for nom in ("500", "lent", "410", "302")}
        await _stocker(sessions, _deposee("e1", ARA), _deposee("e2", ARA))
        # 1 s: a loaded machine's pause must not turn a 500, a 302 or a 410 into "no answer".
        reglages = _reglages(base, webhooks_timeout_secondes=1.0)
        async with _livreur(sessions, reglages) as livreur:
            await _attendre(lambda: _toutes_finies(sessions, ids["500"], ids["lent"], ids["302"]),
                            quoi="schedules exhausted")
        # 500: every attempt of the (compressed) schedule, then failed, counted.
        for livraison in await _livraisons(sessions, ids["500"]):
            assert (livraison.statut, livraison.tentatives) == ("echouee", 3)
        tentatives = await _tentatives(sessions, ids["500"])
        assert [t.statut_http for t in tentatives] == [500] * 6
        assert all(t.extrait is not None and len(t.extrait) == 200 for t in tentatives)  # an excerpt only
        async with sessions() as session:
            assert (await service.comptes(session, [ids["500"]]))[ids["500"]].echouee == 2
        # No answer within the timeout: failed attempts without a status.
        lentes = await _tentatives(sessions, ids["lent"])
        assert len(lentes) == 6
        assert all(t.statut_http is None and "pas de réponse" in (t.erreur or "") for t in lentes)
        assert all(t.duree_ms < 2500 for t in lentes)
        # 3xx: a failure, the redirect never followed.
        assert {t.statut_http for t in await _tentatives(sessions, ids["302"])} == {302}
        assert recepteur.de("/echec/cible") == []
        # 410: the subscription is disabled at the first one, the ARS is told (audit, its state).
        assert len(recepteur.de("/echec/410")) == 1
        async with sessions() as session:
            gone = await session.get(WebhookAbonnement, ids["410"])
            assert gone is not None
            assert gone.actif is False
            assert "410" in (gone.desactive_motif or "")
            assert await session.scalar(select(func.count()).select_from(JournalAudit).where(
                JournalAudit.objet_id == ids["410"], JournalAudit.action == "webhook_desactive")) == 1
        statuts = sorted(li.statut for li in await _livraisons(sessions, ids["410"]))
        assert statuts == ["echouee", "en_attente"]  # the other waits for the subscription to be re-enabled
        assert livreur.echouees == 2 + 2 + 2 + 1


async def test_un_abonne_lent_ne_retarde_pas_les_autres(base: str, recepteur: Recepteur) -> None:
    recepteur.reponses["/iso/lent"] = [(200, {}, 5.0)]
    async with _sessions(base) as sessions:
        lent, _ = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/iso/lent")
        vites = [(await _abonner(sessions, ARS_ARA, f"{recepteur.url}/iso/vite{i}"))[0] for i in range(3)]
        async with _livreur(sessions, _reglages(base, webhooks_timeout_secondes=8.0)):
            debut = time.monotonic()
            await _stocker(sessions, *(_deposee(f"iso{i}", ARA) for i in range(4)))
            await _attendre(lambda: _toutes_finies(sessions, *vites), quoi="fast subscribers served")
            ecoule = time.monotonic() - debut
            # The slow one needs 4 x 5 s, in order; the others were all served meanwhile, while it
            # had answered once at most (a shared queue would have served them after its 20 s).
            livrees_lentes = [li for li in await _livraisons(sessions, lent) if li.statut == "livree"]
            assert len(livrees_lentes) <= 1, ecoule
            assert ecoule < 15.0, ecoule
        for i in range(3):
            assert len(recepteur.de(f"/iso/vite{i}")) == 4


async def test_rotation_et_rejeu(base: str, recepteur: Recepteur) -> None:
    async with _sessions(base) as sessions:
        wid, ancien = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/rot")
        async with session_scope(sessions) as session:
            nouveau = (await service.tourner_secret(
                session, ARS_ARA, wid, recouvrement=None, reglages=service.Reglages.de(_reglages(base)),
                maintenant=datetime.now(UTC))).secret
        evenement = _deposee("rot1", ARA)
        await _stocker(sessions, evenement)
        async with _livreur(sessions, _reglages(base)):
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="delivered")
            premiere = recepteur.de("/rot")[0]
            # During the overlap a receiver with either secret verifies it: two signatures.
            assert len(premiere.entetes["webhook-signature"].split(" ")) == 2
            assert _verifier(premiere, ancien) == _verifier(premiere, nouveau)
            # Replay one delivery: the same webhook-id and body, a new timestamp and signature.
            livraison = (await _livraisons(sessions, wid))[0]
            async with session_scope(sessions) as session:
                await service.rejouer_livraison(session, ARS_ARA, livraison.id, maintenant=datetime.now(UTC))
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="replayed")
            await _attendre(lambda: _vrai(len(recepteur.de("/rot")) == 2), quoi="replay received")
        rejouee = recepteur.de("/rot")[1]
        assert rejouee.entetes["webhook-id"] == premiere.entetes["webhook-id"] == evenement.id
        assert rejouee.corps == premiere.corps
        assert _verifier(rejouee, nouveau)["id"] == evenement.id
        # The overlap ended (rotation without one): the former secret no longer verifies.
        async with session_scope(sessions) as session:
            dernier = (await service.tourner_secret(
                session, ARS_ARA, wid, recouvrement=timedelta(0),
                reglages=service.Reglages.de(_reglages(base)),
                maintenant=datetime.now(UTC))).secret
        await _stocker(sessions, _deposee("rot2", ARA))
        async with _livreur(sessions, _reglages(base)):
            await _attendre(lambda: _vrai(len(recepteur.de("/rot")) == 3), quoi="after rotation")
        apres = recepteur.de("/rot")[2]
        assert len(apres.entetes["webhook-signature"].split(" ")) == 1
        assert _verifier(apres, dernier)["data"]["candidature_id"] == "rot2"
        with pytest.raises(Exception, match="No matching signature"):
            Webhook(nouveau).verify(apres.corps, apres.entetes)


async def _vrai(valeur: bool) -> bool:
    return valeur


async def test_redemarrage_au_milieu_du_calendrier(base: str, recepteur: Recepteur) -> None:
    """The worker dies after the first failure; a new one (another process, nothing in memory) takes
    the schedule where the database has it and delivers."""
    recepteur.reponses["/reprise"] = [(503, {}, 0.0), (500, {}, 0.0), (200, {}, 0.0)]
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/reprise")
        await _stocker(sessions, _deposee("rep1", ARA))
        reglages = _reglages(base, webhooks_calendrier_secondes=[0, 1.0, 1.0, 1.0])
        async with _livreur(sessions, reglages):
            await _attendre(lambda: _vrai(len(recepteur.de("/reprise")) == 1), quoi="first attempt")
            await _attendre(lambda: _tentatives(sessions, wid), quoi="first attempt recorded")
        (livraison,) = await _livraisons(sessions, wid)
        assert (livraison.statut, livraison.tentatives) == ("en_attente", 1)
        async with _livreur(sessions, reglages):
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="delivered after restart")
        (livraison,) = await _livraisons(sessions, wid)
        assert (livraison.statut, livraison.tentatives) == ("livree", 3)
        assert [(t.numero, t.statut_http) for t in await _tentatives(sessions, wid)] == [
            (1, 503), (2, 500), (3, 200)]
        recues = recepteur.de("/reprise")
        assert len({r.entetes["webhook-id"] for r in recues}) == 1  # a retry never looks like a new event
        assert recues[2].quand - recues[0].quand >= 2 * 1.0
        _verifier(recues[2], secret)


async def test_succes_consignes_ensemble(base: str, recepteur: Recepteur) -> None:
    """Successes of several subscriptions share transactions, each still with its attempt row and its
    delivery livree; a subscription that had failed gets its run of failures ended as before."""
    recepteur.reponses["/lot/b"] = [(500, {}, 0.0), (200, {}, 0.0)]
    async with _sessions(base) as sessions:
        a, secret_a = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/lot/a")
        b, _ = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/lot/b")
        await _stocker(sessions, *[_deposee(f"lot{i}", ARA) for i in range(5)])
        async with _livreur(sessions, _reglages(base)) as livreur:
            await _attendre(lambda: _toutes_finies(sessions, a, b), quoi="delivered")
        assert livreur.livrees == 10
        assert sorted((li.statut, li.tentatives) for li in await _livraisons(sessions, a)) == [
            ("livree", 1)] * 5
        assert sorted((li.statut, li.tentatives) for li in await _livraisons(sessions, b)) == [
            ("livree", 1)] * 4 + [("livree", 2)]
        assert all(li.termine_le is not None for li in [*await _livraisons(sessions, a),
                                                        *await _livraisons(sessions, b)])
        assert [(t.numero, t.statut_http, t.erreur) for t in await _tentatives(sessions, a)] == [
            (1, 200, None)] * 5
        assert [t.statut_http for t in await _tentatives(sessions, b)] == [500] + [200] * 5
        async with sessions() as session:
            assert (await session.get(WebhookAbonnement, b)).en_echec_depuis is None  # type: ignore[union-attr]
        # In the store's order for each subscription.
        assert [_verifier(r, secret_a)["data"]["candidature_id"] for r in recepteur.de("/lot/a")] == [
            f"lot{i}" for i in range(5)]


async def test_panne_avant_consignation_renvoie_le_meme_webhook_id(base: str, recepteur: Recepteur) -> None:
    """The process dies after the receiver's 2xx, before the success was written: the delivery is still
    leased, nothing recorded; after the lease another worker sends it again with the same webhook-id."""
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/panne")
        await _stocker(sessions, _deposee("panne1", ARA))
        lente = Consignation(sessions, delai=60.0)  # the write would come a minute later
        async with _livreur(sessions, _reglages(base), consignation=lente):
            await _attendre(lambda: _vrai(len(recepteur.de("/panne")) == 1), quoi="first delivery")
            # The receiver records the request before it answers: the success is queued a moment later.
            await _attendre(_async(lambda: lente._tache is not None), quoi="the success queued")
            assert lente._tache is not None
            lente._tache.cancel()  # the process dies here: what was only in memory is lost
        (livraison,) = await _livraisons(sessions, wid)
        assert (livraison.statut, livraison.tentatives) == ("en_attente", 0)
        assert livraison.prochaine_le > datetime.now(UTC) + timedelta(seconds=10)  # still leased
        assert await _tentatives(sessions, wid) == []
        async with session_scope(sessions) as session:  # the lease runs out (compressed)
            await session.execute(update(WebhookLivraison).where(WebhookLivraison.id == livraison.id)
                                  .values(prochaine_le=datetime.now(UTC)))
        async with _livreur(sessions, _reglages(base)):
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="sent again")
        premiere, seconde = recepteur.de("/panne")
        assert premiere.entetes["webhook-id"] == seconde.entetes["webhook-id"]
        assert _verifier(seconde, secret)["data"]["candidature_id"] == "panne1"
        (livraison,) = await _livraisons(sessions, wid)
        assert (livraison.statut, livraison.tentatives) == ("livree", 1)
        assert [(t.numero, t.statut_http) for t in await _tentatives(sessions, wid)] == [(1, 200)]


async def _stocker_par(sessions: async_sessionmaker[AsyncSession], preneur: service.Preneur,
                       *evenements: Evenement) -> None:
    """As the consumer of a process with a delivery loop (worker.consommateur)."""
    for e in evenements:
        async with session_scope(sessions) as session:
            await service.stocker(session, e, preneur=preneur)


async def _prochaines(sessions: async_sessionmaker[AsyncSession], abonnement_id: str) -> list[datetime]:
    return [li.prochaine_le for li in sorted(await _livraisons(sessions, abonnement_id),
                                             key=lambda li: li.evenement_position)]


async def test_voie_rapide_remise_au_commit(base: str, recepteur: Recepteur) -> None:
    """The consumer hands its deliveries to the loop at commit (ADR 0026, fast path): sent at once with
    no NOTIFY and the polling a minute away, leased meanwhile so no other loop takes them; a rolled-back
    transaction hands nothing."""
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/rapide")
        async with _livreur(sessions, _reglages(base, webhooks_intervalle_secondes=60.0)) as livreur:
            await asyncio.sleep(0.5)  # past the first pass: the loop now sleeps
            # LISTEN set up (it wakes the loop once when it starts): later wake-ups would be NOTIFYs.
            await _attendre(_async(lambda: livreur._reveils >= 1), quoi="LISTEN set up")
            async with sessions() as session:  # stored, then rolled back: nothing handed over
                await service.stocker(session, _deposee("annule", ARA), preneur=livreur)
                await session.rollback()
            debut, reveils = time.monotonic(), livreur._reveils
            await _stocker_par(sessions, livreur, *[_deposee(f"vr{i}", ARA) for i in range(5)])
            await _attendre(lambda: _toutes_finies(sessions, wid), en=10, quoi="delivered")
            assert time.monotonic() - debut < 10  # neither polled (60 s) nor leased out (minutes)
            assert livreur._reveils == reveils  # handed over, not woken by a NOTIFY
            # Written as delivered before its task lets go of them and ends: wait for the end.
            await _attendre(_async(lambda: wid not in livreur._taches), quoi="the task ended")
            assert livreur._en_main == {}
            assert livreur._confiees == {}
        assert [_verifier(r, secret)["data"]["candidature_id"] for r in recepteur.de("/rapide")] == [
            f"vr{i}" for i in range(5)]
        assert sorted((li.statut, li.tentatives) for li in await _livraisons(sessions, wid)) == [
            ("livree", 1)] * 5
        assert [t.statut_http for t in await _tentatives(sessions, wid)] == [200] * 5


class _PreneurMort:
    """A process that died as its consumer committed: it leased the deliveries, never sent them."""

    def __init__(self, livreur: Livreur) -> None:
        self._livreur = livreur

    def accepte(self, abonnement_id: str, *, acceptees: Mapping[str, int]) -> bool:
        return True

    def bail(self, maintenant: datetime) -> datetime:
        return self._livreur.bail(maintenant)

    def confier(self, confiees: Any, *, refusees: Any, evenement_id: str, corps: bytes) -> None:
        pass


async def test_voie_rapide_perdue_reprise_au_bout_du_bail(base: str, recepteur: Recepteur) -> None:
    """What was handed to a loop that died is not sent by another before the lease ends, then is."""
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/bail")
        reglages = _reglages(base)
        await _stocker_par(sessions, _PreneurMort(Livreur(sessions, reglages)), _deposee("bail1", ARA))
        (prochaine,) = await _prochaines(sessions, wid)
        assert prochaine > datetime.now(UTC) + timedelta(seconds=30)  # leased
        async with _livreur(sessions, reglages):
            await asyncio.sleep(1.0)  # many passes of the other loop (0.05 s)
            assert recepteur.de("/bail") == []
            async with session_scope(sessions) as session:  # the lease runs out (compressed)
                await session.execute(update(WebhookLivraison).where(WebhookLivraison.abonnement_id == wid)
                                      .values(prochaine_le=datetime.now(UTC)))
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="sent after the lease")
        (recue,) = recepteur.de("/bail")
        assert _verifier(recue, secret)["data"]["candidature_id"] == "bail1"


async def test_voie_rapide_bornee_le_surplus_passe_par_la_base(base: str, recepteur: Recepteur) -> None:
    """A slow endpoint: at most `webhooks_main_max` deliveries in hand (none waits past its lease), the
    surplus is stored due at once and delivered by the same task after them, each event once."""
    recepteur.reponses["/surplus"] = [(200, {}, 0.3)]
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/surplus")
        async with _livreur(sessions, _reglages(base, webhooks_lot=2, webhooks_main_max=2)) as livreur:
            await asyncio.sleep(0.3)
            await _stocker_par(sessions, livreur, *[_deposee(f"sp{i}", ARA) for i in range(6)])
            prochaines = await _prochaines(sessions, wid)
            limite = datetime.now(UTC) + timedelta(seconds=10)
            assert sum(p > limite for p in prochaines) <= 3  # in hand: leased (2, +1 while one is sent)
            assert sum(p < limite for p in prochaines) >= 3  # the surplus: due now, in the store
            # The consumer runs ahead of the endpoint: while the task sends the surplus from the store,
            # nothing more is handed over (it would overtake what the store still holds).
            await _attendre(_async(lambda: len(recepteur.de("/surplus")) >= 3), quoi="the store's turn")
            await _stocker_par(sessions, livreur, *[_deposee(f"sp{i}", ARA) for i in range(6, 9)])
            assert livreur._deborde == {wid}
            assert not livreur._confiees.get(wid)  # nothing handed over: all three are in the store
            await _attendre(lambda: _toutes_finies(sessions, wid), en=30, quoi="delivered")
            await _attendre(_async(lambda: wid not in livreur._taches), quoi="the task ended")
            assert livreur._deborde == set()  # the store emptied: the fast path again
            await _stocker_par(sessions, livreur, _deposee("sp9", ARA))
            assert livreur._en_main == {wid: 1}  # handed over again, not stored due (sent in 0.3 s)
            await _attendre(lambda: _toutes_finies(sessions, wid), en=10, quoi="delivered")
        recus = [_verifier(r, secret)["data"]["candidature_id"] for r in recepteur.de("/surplus")]
        assert recus == [f"sp{i}" for i in range(10)]  # once each, in the platform's order


def _async(condition: Callable[[], Any]) -> Callable[[], Awaitable[Any]]:
    async def verifier() -> Any:
        return condition()
    return verifier


async def test_voie_rapide_un_lot_du_consommateur(base: str, recepteur: Recepteur) -> None:
    """One lot of the consumer (`stocker_lot`, one transaction): the deliveries up to the hand's bound
    are handed over at commit, the rest stored due at once and NOTIFY'd (the polling is a minute away);
    all sent once, in the lot's order."""
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/unlot")
        async with _livreur(sessions, _reglages(base, webhooks_main_max=2,
                                                webhooks_intervalle_secondes=60.0)) as livreur:
            await asyncio.sleep(0.3)
            reveils = livreur._reveils
            async with session_scope(sessions) as session:
                await service.stocker_lot(session, [(_deposee(f"ul{i}", ARA), None) for i in range(5)],
                                          preneur=livreur)
                assert session.info["webhooks_acceptees"] == {wid: 2}
                assert session.info["webhooks_refusees"] == {wid}
            await _attendre(lambda: _toutes_finies(sessions, wid), en=20, quoi="delivered")
            assert livreur._reveils > reveils
            assert (livreur.par_la_main, livreur.par_la_base) == (2, 3)
        recus = [_verifier(r, secret)["data"]["candidature_id"] for r in recepteur.de("/unlot")]
        assert recus == [f"ul{i}" for i in range(5)]


async def test_voie_rapide_plafond_de_taches_par_transaction(base: str, recepteur: Recepteur) -> None:
    """One event for three subscriptions, at most two tasks: the third's delivery goes through the
    store (due at once), not into a hand no task may take."""
    async with _sessions(base) as sessions:
        abonnements = [await _abonner(sessions, ARS_ARA, f"{recepteur.url}/plafond{i}") for i in range(3)]
        async with _livreur(sessions, _reglages(base, webhooks_concurrence_max=2,
                                                webhooks_intervalle_secondes=60.0)) as livreur:
            await asyncio.sleep(0.3)
            async with session_scope(sessions) as session:  # one transaction, as a lot of the consumer
                await service.stocker(session, _deposee("pl0", ARA), preneur=livreur)
                await service.stocker(session, _deposee("pl1", ARA), preneur=livreur)
                assert len(session.info["webhooks_acceptees"]) == 2
            limite = datetime.now(UTC) + timedelta(seconds=10)
            baux = [sum(p > limite for p in await _prochaines(sessions, wid)) for wid, _ in abonnements]
            assert sorted(baux) == [0, 2, 2]
            assert len(livreur._taches) <= 2
            ids = [wid for wid, _ in abonnements]
            await _attendre(lambda: _toutes_finies(sessions, *ids), en=20, quoi="all delivered")
        for i, (_, secret) in enumerate(abonnements):
            assert [_verifier(r, secret)["data"]["candidature_id"] for r in recepteur.de(f"/plafond{i}")] == [
                "pl0", "pl1"]


async def test_voie_rapide_une_tache_en_echec_rend_sa_main(base: str, recepteur: Recepteur,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    """A task that fails (here its reading of the subscription) or is cancelled before its first step
    leaves nothing in hand waiting for the lease: its deliveries are due again at once, then sent."""
    async with _sessions(base) as sessions:
        wid, secret = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/echec")
        async with _livreur(sessions, _reglages(base, webhooks_intervalle_secondes=60.0)) as livreur:
            await asyncio.sleep(0.3)
            lire, pannes = livreur._lire, []

            async def une_panne(abonnement_id: str) -> Etat | None:
                if not pannes:
                    pannes.append(abonnement_id)
                    raise ConnectionError("base injoignable")
                return await lire(abonnement_id)

            monkeypatch.setattr(livreur, "_lire", une_panne)
            await _stocker_par(sessions, livreur, _deposee("ec0", ARA))
            await _attendre(lambda: _toutes_finies(sessions, wid), en=10, quoi="sent without the lease")
            assert pannes == [wid]
            # Cancelled before its first step: `_fin` runs all the same (no task left registered).
            await _stocker_par(sessions, _PreneurMort(livreur), _deposee("ec1", ARA))
            (livraison,) = [li for li in await _livraisons(sessions, wid) if li.statut == "en_attente"]
            livreur.confier([(wid, livraison.id)], refusees=[], evenement_id="x", corps=b"{}")
            livreur._taches[wid].cancel()
            await _attendre(_async(lambda: wid not in livreur._taches), quoi="the cancelled task gone")
            await _attendre(lambda: _toutes_finies(sessions, wid), en=10, quoi="sent without the lease")
        recus = [_verifier(r, secret)["data"]["candidature_id"] for r in recepteur.de("/echec")]
        assert recus == ["ec0", "ec1"]


async def test_reveil_par_notify(base: str, recepteur: Recepteur) -> None:
    """Polling every 60 s: a delivery queued while the loop sleeps is sent at once, woken by the NOTIFY
    of the transaction that queued it (any replica's loop gets it)."""
    async with _sessions(base) as sessions:
        wid, _ = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/reveil")
        async with _livreur(sessions, _reglages(base, webhooks_intervalle_secondes=60.0)):
            await asyncio.sleep(1.0)  # past the first pass: the loop now sleeps
            for i in range(3):
                debut = time.monotonic()
                await _stocker(sessions, _deposee(f"rev{i}", ARA))
                await _attendre(lambda n=i + 1: _vrai(len(recepteur.de("/reveil")) == n), en=10,
                                quoi=f"delivery {i + 1} woken")
                assert time.monotonic() - debut < 10
        assert {li.statut for li in await _livraisons(sessions, wid)} == {"livree"}


async def test_retry_after(base: str, recepteur: Recepteur) -> None:
    recepteur.reponses["/occupe"] = [(429, {"retry-after": "1"}, 0.0), (200, {}, 0.0)]
    async with _sessions(base) as sessions:
        wid, _ = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/occupe")
        await _stocker(sessions, _deposee("ra1", ARA))
        # (Retry-After is capped at the schedule's longest step: 2 s here.)
        async with _livreur(sessions, _reglages(base, webhooks_calendrier_secondes=[0, 0.05, 2.0])):
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="delivered")
        premiere, seconde = recepteur.de("/occupe")
        assert seconde.quand - premiere.quand >= 1.0  # not the schedule's 0.05 s


async def test_destinations_refusees_a_chaque_livraison(base: str, recepteur: Recepteur) -> None:
    async with _sessions(base) as sessions:
        local, _ = await _abonner(sessions, ARS_ARA, f"{recepteur.url}/ssrf")
        nom, _ = await _abonner(sessions, ARS_ARA, "http://si.ars.example/ssrf")
        await _stocker(sessions, _deposee("ssrf1", ARA))

        async def vers_le_prive(hote: str, port: int) -> list[str]:
            return ["93.184.215.14", "10.0.0.5"] if hote == "si.ars.example" else ["127.0.0.1"]

        # Without the allow-list: the loopback receiver and a name resolving to a private address
        # are refused at delivery time, before any request.
        reglages = _reglages(base, webhooks_destinations_permises=[], webhooks_calendrier_secondes=[0])
        async with _livreur(sessions, reglages, resolveur=vers_le_prive):
            await _attendre(lambda: _toutes_finies(sessions, local, nom), quoi="refused")
        assert recepteur.de("/ssrf") == []
        (refus_local,) = await _tentatives(sessions, local)
        assert "boucle locale" in (refus_local.erreur or "")
        (refus_nom,) = await _tentatives(sessions, nom)
        assert "10.0.0.5" in (refus_nom.erreur or "")
        assert "privée" in (refus_nom.erreur or "")
        assert refus_nom.statut_http is None


async def test_adresse_connectee_verifiee(base: str, recepteur: Recepteur) -> None:
    """DNS rebinding: the name resolves to the allowed receiver when checked, then to a private address
    when the connection is made; the connection goes only to checked addresses, so it is refused."""
    port = int(recepteur.url.rsplit(":", 1)[1])
    async with _sessions(base) as sessions:
        wid, _ = await _abonner(sessions, ARS_ARA, f"http://rebind.example:{port}/rebind")
        await _stocker(sessions, _deposee("rebind1", ARA))
        reponses = iter([["127.0.0.1"], ["10.0.0.5"]])

        async def changeant(hote: str, port: int) -> list[str]:
            return next(reponses, ["10.0.0.5"])

        reglages = _reglages(base, webhooks_calendrier_secondes=[0])
        async with _livreur(sessions, reglages, resolveur=changeant):
            await _attendre(lambda: _toutes_finies(sessions, wid), quoi="refused")
        assert recepteur.de("/rebind") == []
        (refus,) = await _tentatives(sessions, wid)
        assert refus.statut_http is None
        assert "10.0.0.5" in (refus.erreur or "")
        assert "privée" in (refus.erreur or "")


async def test_taches_du_service(base: str, kafka_bootstrap: str, recepteur: Recepteur) -> None:
    """The wiring of production: the service's workers (ServiceSpec.taches) run the webhook consumer (its
    lots through `stocker_lot`, handed over to the loop at commit) and the delivery loop; events on Kafka
    reach the receivers of subscriptions made through the API: each subscriber its region's (the DNS
    every one), once whatever Kafka delivers twice, a key's events in their order."""
    topic = f"test.{uuid.uuid4().hex[:10]}.candidature"
    await ensure_topics_async(kafka_bootstrap, [topic])
    reglages = _reglages(base, kafka_bootstrap_servers=kafka_bootstrap, workers_in_process=True,
                         webhooks_topics=[topic], lots_actifs=False)
    ars = jeton("ars", region=ARA)
    app = create_app(reglages)
    async with client_api(app, "http://instruction") as api:
        abonnes = {}
        for chemin, entetes in (("ara", ars), ("bfc", jeton("ars", region=BFC)), ("nat", jeton("dns"))):
            r = await api.post("/v1/webhooks", headers=entetes, json={
                "url": f"{recepteur.url}/service/{chemin}", "types": ["CandidatureDeposee"]})
            assert r.status_code == 201, r.text
            abonnes[chemin] = (r.json()["id"], r.json()["secret"])
        ara = [_deposee(f"srv{i}", ARA) for i in range(6)]  # one key: one partition, in this order
        bfc = [_deposee(f"srv-bfc{i}", BFC) for i in range(2)]
        producteur = build_producer(kafka_bootstrap, client_id="test-webhooks")
        await producteur.start()
        try:
            for _ in range(2):  # Kafka delivers every event twice
                for e in ara:
                    await producteur.send(topic, e.to_bytes(), key=b"srv")
                for e in bfc:
                    await producteur.send(topic, e.to_bytes(), key=e.subject.encode())
                await producteur.flush()
        finally:
            await stop_with_timeout(producteur)

        def recus(chemin: str) -> list[str]:
            return [_verifier(r, abonnes[chemin][1])["id"] for r in recepteur.de(f"/service/{chemin}")]

        await _attendre(lambda: _vrai(len(recus("nat")) >= 8 and len(recus("ara")) >= 6
                                      and len(recus("bfc")) >= 2), en=60, quoi="delivered by the service")
        wid = abonnes["ara"][0]
        assert recus("ara") == [e.id for e in ara]
        assert sorted(recus("bfc")) == sorted(e.id for e in bfc)
        assert [i for i in recus("nat") if i in {e.id for e in ara}] == [e.id for e in ara]
        assert sorted(recus("nat")) == sorted(e.id for e in ara + bfc)

        async def livrees() -> bool:
            items = (await api.get(f"/v1/webhooks/{wid}/livraisons", headers=ars)).json()["items"]
            return len(items) == 6 and all(
                item["statut"] == "livree" and item["tentatives"][0]["statut_http"] == 200 for item in items)

        await _attendre(livrees, quoi="livree in the API")
        await asyncio.sleep(0.5)  # nothing more arrives: each event once per subscription
        assert (len(recus("ara")), len(recus("bfc")), len(recus("nat"))) == (6, 2, 8)
        assert app.state.livreur.par_la_main > 0  # handed over by the consumer at commit (the fast path)
