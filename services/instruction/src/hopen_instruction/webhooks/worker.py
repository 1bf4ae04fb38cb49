"""The webhook workers (ADR 0026), started with the other workers of the process (ServiceSpec.taches):

- the consumer: every domain topic, through the inbox (hopen_common.inbox, its own name and group), into
  the event store with one delivery per matching subscription, in the inbox's transaction: an event
  Kafka delivers twice creates its deliveries once;
- the delivery loop: finds the subscriptions with due deliveries and runs one task per subscription
  (a slow or dead endpoint only ever holds its own task), each task taking its due deliveries with
  FOR UPDATE SKIP LOCKED and leasing them (`prochaine_le` pushed past the timeout) before calling out,
  so that several replicas share the work and a crashed worker's deliveries come back due by
  themselves. All state is in PostgreSQL: a restart resumes the schedule where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import httpx
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlalchemy import func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.contracts.topics import Topics
from hopen_common.db.session import session_scope
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import build_consumer, stop_with_timeout
from hopen_common.service import superviser
from hopen_instruction.models import WebhookAbonnement, WebhookEvenement, WebhookLivraison, WebhookTentative
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks import rules, service
from hopen_instruction.webhooks.signature import entetes

log = logging.getLogger(__name__)
RELIRE_SECONDES = 2.0  # a subscription's URL, secrets and state are read again this often
MARGE_BAIL = 30.0  # seconds past the timeout before a taken delivery is due again (its worker died)
LECTURE_MAX = 4096  # bytes of an answer read at most: the excerpt is shorter still
Resolveur = Callable[[str, int], Awaitable[list[str]]]


async def resoudre(hote: str, port: int) -> list[str]:
    """Every address the name resolves to now (each is checked: one private address refuses it)."""
    infos = await asyncio.get_running_loop().getaddrinfo(hote, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


@dataclass
class Etat:
    """What a subscription's task knows of it, read again every RELIRE_SECONDES (a PATCH of its URL, a
    rotation, a disabling elsewhere are seen within that) and at each start of the task."""

    abonnement_id: str
    url: str
    secrets: Sequence[str]
    en_echec_depuis: datetime | None
    actif: bool = True
    lu_le: float = 0.0


@dataclass(frozen=True)
class Envoi:
    livraison_id: str
    evenement_id: str
    corps: bytes
    tentatives: int  # before this attempt


@dataclass(frozen=True)
class Reponse:
    statut: int | None
    erreur: str | None
    extrait: str | None
    retry_after: str | None
    duree_ms: int


class Livreur:
    """The delivery loop of one process; `run_forever` until cancelled."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], settings: InstructionSettings, *,
                 resolveur: Resolveur = resoudre) -> None:
        self._sessions = sessionmaker
        self._settings = settings
        self._reglages = service.Reglages.de(settings)
        self._resolveur = resolveur
        self._taches: dict[str, asyncio.Task[None]] = {}
        self._client: httpx.AsyncClient | None = None
        self.livrees = 0
        self.echouees = 0  # schedule exhausted (or 410): visible per subscription in the API too

    async def run_forever(self) -> None:
        s = self._settings
        async with httpx.AsyncClient(timeout=s.webhooks_timeout_secondes, follow_redirects=False,
                                     trust_env=False, limits=httpx.Limits(max_connections=None)) as client:
            self._client = client
            try:
                while True:
                    await self.passer()
                    await asyncio.sleep(s.webhooks_intervalle_secondes)
            finally:
                for tache in list(self._taches.values()):
                    tache.cancel()
                for tache in list(self._taches.values()):
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await tache
                self._client = None

    async def passer(self) -> None:
        """One task for each active subscription with a due delivery that has none running."""
        places = self._settings.webhooks_concurrence_max - len(self._taches)
        if places <= 0:
            return
        async with self._sessions() as session:
            ids = list(await session.scalars(
                select(WebhookLivraison.abonnement_id).distinct()
                .join(WebhookAbonnement, WebhookAbonnement.id == WebhookLivraison.abonnement_id)
                .where(WebhookLivraison.statut == service.EN_ATTENTE,
                       WebhookLivraison.prochaine_le <= datetime.now(UTC),
                       WebhookAbonnement.actif.is_(True))
                .limit(places + len(self._taches))))
        maximum = self._settings.webhooks_concurrence_max
        for abonnement_id in ids:
            if abonnement_id not in self._taches and len(self._taches) < maximum:
                self._taches[abonnement_id] = asyncio.create_task(self._abonnement(abonnement_id),
                                                                  name=f"webhook-{abonnement_id}")

    def _fin(self, abonnement_id: str) -> None:
        self._taches.pop(abonnement_id, None)

    async def _abonnement(self, abonnement_id: str) -> None:
        par = self._settings.webhooks_concurrence_par_abonnement
        try:
            etat: Etat | None = None
            while True:
                if etat is None or time.monotonic() - etat.lu_le > RELIRE_SECONDES:
                    etat = await self._lire(abonnement_id)
                if etat is None or not etat.actif:
                    return
                envois = await self._prendre(etat)
                if not envois:
                    return
                for i in range(0, len(envois), par):  # `par` in flight, in the store's order
                    await asyncio.gather(*(self._livrer(etat, e) for e in envois[i:i + par]))
                    if not etat.actif:  # a 410: what it took waits, as its other pending ones
                        await self._rendre(envois[i + par:])
                        return
        except asyncio.CancelledError:
            raise
        except Exception:  # the database went away: the leases expire, the next pass takes them again
            log.exception("webhook %s : livraisons interrompues", abonnement_id)
        finally:
            self._fin(abonnement_id)

    async def _lire(self, abonnement_id: str) -> Etat | None:
        maintenant = datetime.now(UTC)
        async with self._sessions() as session:
            abonnement = await session.get(WebhookAbonnement, abonnement_id)
            if abonnement is None or not abonnement.actif:
                return None
            secrets = await service.secrets_valides(session, abonnement_id, cle=self._reglages.cle,
                                                    maintenant=maintenant)
        return Etat(abonnement_id, abonnement.url, secrets, abonnement.en_echec_depuis,
                    lu_le=time.monotonic())

    async def _prendre(self, etat: Etat) -> list[Envoi]:
        """Up to `webhooks_lot` due deliveries, in the store's order, leased for as long as sending
        them all may take (a worker that dies leaves them due again after that)."""
        s = self._settings
        maintenant = datetime.now(UTC)
        lot = s.webhooks_lot
        vagues = -(-lot // s.webhooks_concurrence_par_abonnement)
        bail = maintenant + timedelta(seconds=vagues * s.webhooks_timeout_secondes + MARGE_BAIL)
        dues = (select(WebhookLivraison.id)
                .where(WebhookLivraison.abonnement_id == etat.abonnement_id,
                       WebhookLivraison.statut == service.EN_ATTENTE,
                       WebhookLivraison.prochaine_le <= maintenant)
                .order_by(WebhookLivraison.evenement_position, WebhookLivraison.cree_le)
                .limit(lot).with_for_update(skip_locked=True))
        async with session_scope(self._sessions) as session:
            prises = list(await session.execute(
                update(WebhookLivraison).where(WebhookLivraison.id.in_(dues.scalar_subquery()))
                .values(prochaine_le=bail)
                .returning(WebhookLivraison.id, WebhookLivraison.evenement_position,
                           WebhookLivraison.cree_le, WebhookLivraison.tentatives)
                .execution_options(synchronize_session=False)))
            if not prises:
                return []
            corps = {p: (e, c) for p, e, c in await session.execute(
                select(WebhookEvenement.position, WebhookEvenement.event_id, WebhookEvenement.corps)
                .where(WebhookEvenement.position.in_({li.evenement_position for li in prises})))}
        prises.sort(key=lambda li: (li.evenement_position, li.cree_le))
        return [Envoi(li.id, corps[li.evenement_position][0], corps[li.evenement_position][1], li.tentatives)
                for li in prises]

    async def _rendre(self, envois: Sequence[Envoi]) -> None:
        """Deliveries taken but not sent: due again at once (for when the subscription is re-enabled)."""
        if not envois:
            return
        async with session_scope(self._sessions) as session:
            await session.execute(
                update(WebhookLivraison).where(WebhookLivraison.id.in_([e.livraison_id for e in envois]),
                                               WebhookLivraison.statut == service.EN_ATTENTE)
                .values(prochaine_le=datetime.now(UTC)).execution_options(synchronize_session=False))

    async def _livrer(self, etat: Etat, envoi: Envoi) -> None:
        debut = datetime.now(UTC)
        reponse = await self.appeler(etat.url, envoi, etat.secrets)
        await self._consigner(etat, envoi, reponse, debut)

    async def appeler(self, url: str, envoi: Envoi, secrets: Sequence[str]) -> Reponse:
        """One signed POST; never raises: what went wrong is the attempt's error."""
        assert self._client is not None
        t0 = time.monotonic()
        statut = retry_after = extrait = erreur = None
        delai = self._settings.webhooks_timeout_secondes
        try:
            async with asyncio.timeout(delai):  # the whole exchange, not each read (a slow drip)
                await self._verifier_destination(url)
                signes = entetes(secrets, identifiant=envoi.evenement_id, horodatage=int(time.time()),
                                 corps=envoi.corps)
                async with self._client.stream(
                        "POST", url, content=envoi.corps,
                        headers={**signes, "content-type": "application/json",
                                 "user-agent": "HOPEN2-Webhooks/1"}) as r:
                    statut, retry_after = r.status_code, r.headers.get("retry-after")
                    lu = bytearray()
                    async for morceau in r.aiter_bytes():
                        lu += morceau
                        if len(lu) >= LECTURE_MAX:
                            break
                    extrait = rules.extrait(lu.decode("utf-8", "replace")) or None
            if not 200 <= statut < 300:
                erreur = f"HTTP {statut}" + (" (redirection non suivie)" if 300 <= statut < 400 else "")
        except (TimeoutError, httpx.TimeoutException):
            erreur = f"pas de réponse en {delai:g} s"
        except rules.DestinationRefusee as exc:
            erreur = f"destination refusée : {exc}"
        except (httpx.HTTPError, OSError) as exc:
            erreur = f"{type(exc).__name__} : {exc}"[:500]
        return Reponse(statut, erreur, extrait, retry_after, int((time.monotonic() - t0) * 1000))

    async def _verifier_destination(self, url: str) -> None:
        """At every delivery, not only at subscription: a name may point elsewhere since."""
        morceaux = urlsplit(url)
        hote = morceaux.hostname or ""
        rules.verifier_url(url, https_seulement=self._reglages.https_seulement,
                           permises=self._reglages.permises)
        port = morceaux.port or (443 if morceaux.scheme == "https" else 80)
        try:
            adresses = await self._resolveur(hote, port)
        except OSError as exc:
            raise rules.DestinationRefusee(f"{hote} ne se résout pas ({exc})") from None
        for adresse in adresses:
            if (motif := rules.adresse_refusee(adresse, permises=self._reglages.permises)) is not None:
                raise rules.DestinationRefusee(f"{hote} → {adresse} : {motif}")

    async def _consigner(self, etat: Etat, envoi: Envoi, reponse: Reponse, debut: datetime) -> None:
        """The attempt and what follows from it, in one transaction of a few statements (the hot path:
        no ORM loading)."""
        s = self._settings
        maintenant = datetime.now(UTC)
        numero = envoi.tentatives + 1
        verdict = rules.juger(reponse.statut, reponse.retry_after, maintenant=maintenant)
        suite: dict[str, object] = {"tentatives": numero}
        if verdict.issue is rules.Issue.REESSAYER:
            suivante = rules.prochaine_tentative(
                numero, calendrier=s.webhooks_calendrier_secondes, gigue=s.webhooks_gigue,
                maintenant=maintenant, attendre=verdict.attendre_secondes)
            suite |= ({"statut": service.ECHOUEE, "termine_le": maintenant} if suivante is None
                      else {"prochaine_le": suivante})
        else:
            suite |= {"statut": service.LIVREE if verdict.issue is rules.Issue.LIVREE else service.ECHOUEE,
                      "termine_le": maintenant}
        async with session_scope(self._sessions) as session:
            await session.execute(insert(WebhookTentative).values(
                livraison_id=envoi.livraison_id, numero=numero, debut_le=debut, duree_ms=reponse.duree_ms,
                statut_http=reponse.statut, erreur=reponse.erreur, extrait=reponse.extrait))
            ecrite = await session.execute(
                update(WebhookLivraison).where(WebhookLivraison.id == envoi.livraison_id,
                                               WebhookLivraison.statut == service.EN_ATTENTE)
                .values(**suite).execution_options(synchronize_session=False))
            if ecrite.rowcount == 0:  # type: ignore[attr-defined]
                return  # cancelled meanwhile (subscription deleted): the attempt is still recorded
            if verdict.issue is rules.Issue.LIVREE:
                if etat.en_echec_depuis is not None:
                    await self._echec_depuis(session, etat, None)
                self.livrees += 1
                return
            if suite.get("statut") == service.ECHOUEE:
                self.echouees += 1
                log.warning("webhook %s : livraison %s en échec après %d tentatives (%s)", etat.abonnement_id,
                            envoi.livraison_id, numero, reponse.erreur)
            if verdict.issue is rules.Issue.DESACTIVER:
                await self._desactiver(session, etat, "la destination a répondu 410 Gone", maintenant)
            elif etat.en_echec_depuis is None:
                await self._echec_depuis(session, etat, maintenant)
            elif maintenant - etat.en_echec_depuis >= timedelta(days=s.webhooks_desactivation_jours):
                motif = f"en échec depuis {s.webhooks_desactivation_jours:g} jours"
                await self._desactiver(session, etat, motif, maintenant)

    @staticmethod
    async def _echec_depuis(session: AsyncSession, etat: Etat, quand: datetime | None) -> None:
        """The start of the current run of failures (None: a success ended it); the first writer wins."""
        colonne = WebhookAbonnement.en_echec_depuis
        valeur = None if quand is None else func.coalesce(colonne, quand)
        etat.en_echec_depuis = await session.scalar(
            update(WebhookAbonnement).where(WebhookAbonnement.id == etat.abonnement_id)
            .values(en_echec_depuis=valeur).returning(colonne).execution_options(synchronize_session=False))

    @staticmethod
    async def _desactiver(session: AsyncSession, etat: Etat, motif: str, maintenant: datetime) -> None:
        """Its pending deliveries wait (PATCH actif=true resumes them); the audit row tells the ARS, who
        reads its region's journal and sees the subscription's state in GET /v1/webhooks."""
        etat.actif = False
        abonnement = await session.get(WebhookAbonnement, etat.abonnement_id, with_for_update=True)
        if abonnement is None or not abonnement.actif:
            return
        abonnement.actif, abonnement.desactive_le, abonnement.desactive_motif = False, maintenant, motif
        log.warning("webhook %s désactivé : %s", abonnement.id, motif)
        service._auditer(session, None, "webhook_desactive", abonnement, {"motif": motif})


# --- the tasks of the workers (ServiceSpec.taches) -----------------------------------------------------

def consommateur(app: FastAPI, kafka: AIOKafkaConsumer) -> EventConsumer:
    settings: InstructionSettings = app.state.settings
    return EventConsumer(name=service.CONSOMMATEUR, consumer=kafka,
                         producer=app.state.producer, sessionmaker=app.state.sessionmaker,
                         handlers=service.handlers(), max_attempts=settings.consumer_max_attempts,
                         retry_backoff=settings.consumer_retry_backoff_seconds)


async def tache_consommateur_webhooks(app: FastAPI) -> None:
    settings: InstructionSettings = app.state.settings
    if not settings.webhooks_actifs:
        return
    # The rights' topic carries no webhook type (rules.TYPES_INTERNES).
    topics = settings.webhooks_topics or [t.value for t in Topics if t is not Topics.HABILITATION]
    kafka = build_consumer(settings.kafka_bootstrap_servers, *topics,
                           group_id=f"hopen-{service.CONSOMMATEUR}")
    await kafka.start()
    try:
        app.state.consommateur_webhooks = consommateur(app, kafka)
        await superviser(app.state.consommateur_webhooks)
    finally:
        await stop_with_timeout(kafka)


async def tache_livraisons(app: FastAPI) -> None:
    settings: InstructionSettings = app.state.settings
    if not settings.webhooks_actifs:
        return
    app.state.livreur = Livreur(app.state.sessionmaker, settings)
    await app.state.livreur.run_forever()
