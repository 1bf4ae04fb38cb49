"""The webhook workers (ADR 0026), started with the other workers of the process (ServiceSpec.taches):

- the consumer: every domain topic, through the inbox (hopen_common.inbox, its own name and group), into
  the event store with one delivery per matching subscription, in the inbox's transaction: an event
  Kafka delivers twice creates its deliveries once;
- the delivery loop: finds the subscriptions with due deliveries and runs one task per subscription
  (a slow or dead endpoint only ever holds its own task), each task taking its due deliveries with
  FOR UPDATE SKIP LOCKED and leasing them (`prochaine_le` pushed past the timeout) before calling out,
  so that several replicas share the work and a crashed worker's deliveries come back due by
  themselves. All state is in PostgreSQL: a restart resumes the schedule where it was. It wakes up on
  the NOTIFY of the transactions that queue deliveries (service.CANAL), polling as the fallback;
- the fast path between them: the deliveries the consumer of this process stores for a subscription the
  loop `accepte` are stored already leased to it and handed over at commit (`confier`), sent without a
  claim; the lease is the safety net, as for a claim, and nothing is handed over for a subscription
  whose work is in the store (its order is kept: ADR 0026, Performance).

The bookkeeping of a success (its attempt, the delivery `livree`) is written by `Consignation`, many
deliveries of every subscription in one transaction (ADR 0026, Performance): a crash between the answer
and that write only leaves the delivery leased, sent again after the lease with the same webhook-id
(at least once, as for any crash). Failures, and the first success after failures, are written at once
with what follows from them (schedule, disabling).
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import itertools
import logging
import socket
import time
from collections import deque
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import asyncpg
from aiohttp.abc import AbstractResolver, ResolveResult
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from sqlalchemy import bindparam, func, insert, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.types import DateTime, Integer, String

from hopen_common.contracts.topics import Topics
from hopen_common.db.base import table_de
from hopen_common.db.session import session_scope
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import build_consumer, stop_with_timeout
from hopen_common.outbox.relay import asyncpg_dsn
from hopen_common.reveil import attendre_reveil
from hopen_common.service import superviser
from hopen_instruction.models import WebhookAbonnement, WebhookLivraison, WebhookTentative
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks import rules, service
from hopen_instruction.webhooks.signature import entetes

log = logging.getLogger(__name__)
RELIRE_SECONDES = 2.0  # a subscription's URL, secrets and state are read again this often
MARGE_BAIL = 30.0  # seconds past the timeout before a taken delivery is due again (its worker died)
LECTURE_MAX = 4096  # bytes of an answer read at most: the excerpt is shorter still
CONSIGNATION_DELAI = 0.005  # seconds a success waits for others to share its transaction
CONSIGNATION_LOT = 500  # successes written in one transaction at most
ECOUTE_REPRISE = 5.0  # seconds before listening again after the LISTEN connection was lost
RENDRE_A_L_ARRET = 5.0  # seconds a stopping loop waits to hand its unsent deliveries back to the store
Resolveur = Callable[[str, int], Awaitable[list[str]]]


async def resoudre(hote: str, port: int) -> list[str]:
    """Every address the name resolves to now (each is checked: one private address refuses it)."""
    infos = await asyncio.get_running_loop().getaddrinfo(hote, port, type=socket.SOCK_STREAM)
    return sorted({str(info[4][0]) for info in infos})


class ResolveurVerifie(AbstractResolver):
    """The connector's resolver: aiohttp connects only to the addresses returned here, each checked
    just before, so a name that answers differently between `_verifier_destination` and the connection
    (DNS rebinding) is refused too. Literal IPs do not come here (checked by `_verifier_destination`)."""

    def __init__(self, resolveur: Resolveur, reglages: service.Reglages) -> None:
        self._resolveur = resolveur
        self._reglages = reglages

    async def resolve(self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
                      ) -> list[ResolveResult]:
        adresses = await self._resolveur(host, port)
        for adresse in adresses:
            if (motif := rules.adresse_refusee(adresse, permises=self._reglages.permises)) is not None:
                raise rules.DestinationRefusee(f"{host} → {adresse} : {motif}")
        return [ResolveResult(hostname=host, host=a, port=port, proto=0, flags=socket.AI_NUMERICHOST,
                              family=socket.AF_INET6 if ":" in a else socket.AF_INET) for a in adresses]

    async def close(self) -> None:
        pass


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
class Succes:
    """A success waiting for `Consignation`: the attempt's row and the delivery's new state."""

    livraison_id: str
    numero: int
    debut: datetime
    fin: datetime
    reponse: Reponse


_LIVREES = text(
    "UPDATE webhook_livraison AS l SET statut = :livree, tentatives = v.numero, termine_le = v.fin "
    "FROM unnest(:ids, :numeros, :fins) AS v(id, numero, fin) "
    "WHERE l.id = v.id AND l.statut = :en_attente RETURNING l.id"
).bindparams(bindparam("ids", type_=ARRAY(String)), bindparam("numeros", type_=ARRAY(Integer)),
             bindparam("fins", type_=ARRAY(DateTime(timezone=True))))


_PRENDRE = text(
    "WITH dues AS (SELECT id FROM webhook_livraison WHERE abonnement_id = :abonnement_id "
    "AND statut = :en_attente AND prochaine_le <= :maintenant ORDER BY evenement_position, cree_le "
    "LIMIT :lot FOR UPDATE SKIP LOCKED), "
    "prises AS (UPDATE webhook_livraison AS l SET prochaine_le = :bail FROM dues WHERE l.id = dues.id "
    "RETURNING l.id, l.evenement_position, l.cree_le, l.tentatives) "
    "SELECT p.id, p.tentatives, e.event_id, e.corps FROM prises AS p "
    "JOIN webhook_evenement AS e ON e.position = p.evenement_position "
    "ORDER BY p.evenement_position, p.cree_le"
).bindparams(bindparam("maintenant", type_=DateTime(timezone=True)),
             bindparam("bail", type_=DateTime(timezone=True)))


_TENTATIVES = insert(table_de(WebhookTentative))  # Core, built once: the ORM's bulk path cost more


class Consignation:
    """The successes of every subscription's task, written together: the attempts in one multi-row
    INSERT and the deliveries in one UPDATE, one transaction (one commit's wait) for up to
    CONSIGNATION_LOT of them. `ajouter` returns a future: True once written, False when the delivery
    was cancelled meanwhile, None when the write failed (the lease brings it back: sent again)."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], *, delai: float = CONSIGNATION_DELAI,
                 lot: int = CONSIGNATION_LOT) -> None:
        self._sessions = sessionmaker
        self._delai = delai
        self._lot = lot
        self._attente: list[tuple[Succes, asyncio.Future[bool | None]]] = []
        self._tache: asyncio.Task[None] | None = None

    def ajouter(self, succes: Succes) -> asyncio.Future[bool | None]:
        futur: asyncio.Future[bool | None] = asyncio.get_running_loop().create_future()
        self._attente.append((succes, futur))
        if self._tache is None:
            self._tache = asyncio.create_task(self._vider(), name="webhook-consignation")
        return futur

    async def fermer(self) -> None:
        """What was answered is written before the loop stops (else it would be sent again)."""
        if self._tache is not None:
            await self._tache

    async def _vider(self) -> None:
        lot: list[tuple[Succes, asyncio.Future[bool | None]]] = []
        try:
            while self._attente:
                if len(self._attente) < self._lot:
                    await asyncio.sleep(self._delai)  # the others answering now share the commit
                lot, self._attente = self._attente[:self._lot], self._attente[self._lot:]
                try:
                    ecrites: set[str] | None = await self._ecrire([s for s, _ in lot])
                except Exception:  # the database went away: the leases expire, they are sent again
                    log.exception("webhooks : %d succès non consignés", len(lot))
                    ecrites = None
                for succes, futur in lot:
                    if not futur.done():
                        futur.set_result(None if ecrites is None else succes.livraison_id in ecrites)
                lot = []
        finally:
            self._tache = None
            for _, futur in itertools.chain(lot, self._attente):  # cancelled: nothing was written
                futur.cancel()
            self._attente = []

    async def _ecrire(self, succes: Sequence[Succes]) -> set[str]:
        async with session_scope(self._sessions) as session:
            await session.execute(_TENTATIVES, [
                {"livraison_id": s.livraison_id, "numero": s.numero, "debut_le": s.debut,
                 "duree_ms": s.reponse.duree_ms, "statut_http": s.reponse.statut, "erreur": s.reponse.erreur,
                 "extrait": s.reponse.extrait} for s in succes])
            ecrites = await session.scalars(_LIVREES, {
                "livree": service.LIVREE, "en_attente": service.EN_ATTENTE,
                "ids": [s.livraison_id for s in succes], "numeros": [s.numero for s in succes],
                "fins": [s.fin for s in succes]})
            return set(ecrites)


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
                 resolveur: Resolveur = resoudre, consignation: Consignation | None = None) -> None:
        self._sessions = sessionmaker
        self._settings = settings
        self._reglages = service.Reglages.de(settings)
        self._resolveur = resolveur
        self._taches: dict[str, asyncio.Task[None]] = {}
        self._client: aiohttp.ClientSession | None = None
        self._consignation = consignation or Consignation(sessionmaker)
        self._reveil = asyncio.Event()
        self._reveils = 0  # wake-ups so far: a task that ends sees whether one came while it looked
        # The fast path (service.Preneur): deliveries the consumer of this process leased to us, per
        # subscription, and how many of them are queued or being sent (bounded: see `accepte`).
        self._confiees: dict[str, deque[Envoi]] = {}
        self._en_main: dict[str, int] = {}
        self._etats: dict[str, Etat] = {}  # each subscription's last reading (RELIRE_SECONDES)
        # Per subscription with deliveries in the store that must go before anything handed over now
        # (the consumer's surplus, what a task gave back), those it knows of by id (filled at commit;
        # empty between a refusal and its commit): nothing is handed over for it until its task has
        # claimed them all or found the store empty with nothing stored while it looked (`_versions`),
        # so none is sent ahead of an older one. A lot claimed from the store counts in `_en_main` while
        # it is sent, so that what is handed over meanwhile never waits longer than its lease.
        self._en_base: dict[str, set[str]] = {}
        self._versions: dict[str, int] = {}
        self._ouvert = False  # between the start of run_forever and the start of its stop
        self._plein = False  # a subscription waited for a place (webhooks_concurrence_max): see `_fin`
        self._arriere: set[asyncio.Task[None]] = set()  # deliveries handed back to the store
        self.par_la_main = 0  # deliveries sent as handed over by the consumer (the fast path)
        self.par_la_base = 0  # deliveries sent as claimed from the store (retries, replays, surplus)
        self.livrees = 0
        self.echouees = 0  # schedule exhausted (or 410): visible per subscription in the API too

    async def run_forever(self) -> None:
        s = self._settings
        # aiohttp rather than httpx: ~10x less CPU per request (ADR 0026, Performance). No proxy from
        # the environment (trust_env), no DNS cache (each new connection goes through the check).
        connecteur = aiohttp.TCPConnector(limit=0, use_dns_cache=False,
                                          resolver=ResolveurVerifie(self._resolveur, self._reglages))
        async with aiohttp.ClientSession(connector=connecteur, trust_env=False,
                                         timeout=aiohttp.ClientTimeout(total=s.webhooks_timeout_secondes)
                                         ) as client:
            self._client = client
            # A loop started again (the same Livreur) starts from the store: nothing of before is in hand.
            self._taches, self._confiees, self._en_main, self._etats = {}, {}, {}, {}
            self._en_base, self._versions = {}, {}
            self._ouvert = True
            ecoute = asyncio.create_task(self._ecouter(), name="webhook-listen")
            try:
                while True:
                    self._reveil.clear()  # before looking: a wake-up during `passer` is not lost
                    await self.passer()
                    await attendre_reveil(self._reveil, s.webhooks_intervalle_secondes)
            finally:
                self._ouvert = False  # what the consumer commits from now on waits for its lease
                ecoute.cancel()
                taches = [*self._taches.values(), ecoute]
                for tache in taches:
                    tache.cancel()
                for tache in taches:
                    with contextlib.suppress(asyncio.CancelledError, Exception):
                        await tache
                with contextlib.suppress(Exception):
                    await self._consignation.fermer()
                if self._arriere:  # the hands' leftovers (`_fin`), due again for the next loop
                    await asyncio.wait(self._arriere, timeout=RENDRE_A_L_ARRET)
                self._client = None

    def reveiller(self, *_: Any) -> None:
        """Look for due deliveries now (a NOTIFY of service.CANAL)."""
        self._reveils += 1
        self._reveil.set()

    async def _ecouter(self) -> None:
        """LISTEN on its own connection (a pooled one would be handed to others); lost, it is opened
        again: meanwhile the polling finds the deliveries."""
        while True:
            try:
                await self._ecouter_jusqu_a_la_coupure()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("webhooks : LISTEN %s impossible (%s), nouvel essai dans %g s", service.CANAL,
                            exc, ECOUTE_REPRISE)
            await asyncio.sleep(ECOUTE_REPRISE)

    async def _ecouter_jusqu_a_la_coupure(self) -> None:
        connexion = await asyncpg.connect(asyncpg_dsn(self._settings.database_url))
        try:
            coupee = asyncio.Event()
            connexion.add_termination_listener(lambda *_: coupee.set())
            await connexion.add_listener(service.CANAL, self.reveiller)
            self.reveiller()  # what was queued before we listened
            await coupee.wait()
        finally:
            await connexion.close()

    # --- the fast path: deliveries handed over by the consumer (service.stocker) -----------------------

    def accepte(self, abonnement_id: str, *, acceptees: Mapping[str, int]) -> bool:
        """At most `webhooks_main_max` in hand per subscription (counting what the consumer's current
        transaction accepted, `acceptees`), so that none waits longer than its lease (`bail`), and at
        most `webhooks_concurrence_max` subscriptions with a task; nothing for a subscription with
        deliveries in the store to send first (`_deborde`). Refused, the delivery goes through the store,
        due at once, and so do the subscription's next ones until its task has claimed them."""
        if not self._ouvert:  # not running: the store and whichever loop runs
            return False
        if abonnement_id in self._en_base:
            return False
        if abonnement_id not in self._taches and abonnement_id not in acceptees:
            nouvelles = sum(1 for i in acceptees if i not in self._taches)
            if len(self._taches) + nouvelles >= self._settings.webhooks_concurrence_max:
                self._en_base.setdefault(abonnement_id, set())
                self._plein = True
                return False
        en_main = self._en_main.get(abonnement_id, 0) + acceptees.get(abonnement_id, 0)
        if en_main >= self._settings.webhooks_main_max:
            self._en_base.setdefault(abonnement_id, set())
            return False
        return True

    def bail(self, maintenant: datetime) -> datetime:
        """As long as sending a full hand may take, one more for the delivery accepted meanwhile."""
        s = self._settings
        vagues = -(-(s.webhooks_main_max + 1) // s.webhooks_concurrence_par_abonnement)
        return maintenant + timedelta(seconds=vagues * s.webhooks_timeout_secondes + MARGE_BAIL)

    def confier(self, confiees: Sequence[tuple[str, str]], *, refusees: Sequence[tuple[str, str]],
                evenement_id: str, corps: bytes) -> None:
        """At the consumer's commit: the accepted deliveries queued, in the event's order, to their
        subscription's task; the refused ones noted (they are in the store). Never raises (it runs
        inside the consumer's commit): what it could not queue is sent after its lease."""
        try:
            for abonnement_id, livraison_id in refusees:
                self._en_base_aussi(abonnement_id, [livraison_id])
            if not self._ouvert:  # stopping: the leases bring them back
                return
            for abonnement_id, livraison_id in confiees:
                self._confiees.setdefault(abonnement_id, deque()).append(
                    Envoi(livraison_id, evenement_id, corps, 0))
                self._en_main[abonnement_id] = self._en_main.get(abonnement_id, 0) + 1
                self._lancer(abonnement_id)
            for abonnement_id in dict.fromkeys(a for a, _ in refusees):  # claimed by their task, in order
                self._lancer_si_place(abonnement_id)
        except Exception:
            log.exception("webhooks : remise de %d livraisons impossible (envoyées au bout du bail)",
                          len(confiees))

    def _en_base_aussi(self, abonnement_id: str, livraison_ids: Iterable[str]) -> None:
        """These deliveries are in the store, due: they go before anything handed over from now on."""
        self._en_base.setdefault(abonnement_id, set()).update(livraison_ids)
        self._versions[abonnement_id] = self._versions.get(abonnement_id, 0) + 1

    @property
    def _deborde(self) -> set[str]:
        """The subscriptions whose next deliveries go through the store (see `_en_base`)."""
        return set(self._en_base)

    def _lancer_si_place(self, abonnement_id: str) -> None:
        if abonnement_id in self._taches:
            return
        if len(self._taches) < self._settings.webhooks_concurrence_max:
            self._lancer(abonnement_id)
        else:
            self._plein = True

    def _lancer(self, abonnement_id: str) -> None:
        """The subscription's task, unless it has one; `_fin` runs however it ends (even cancelled
        before its first step)."""
        if abonnement_id in self._taches:
            return
        tache = asyncio.create_task(self._abonnement(abonnement_id), name=f"webhook-{abonnement_id}")
        self._taches[abonnement_id] = tache
        tache.add_done_callback(functools.partial(self._fin, abonnement_id))

    def _de_la_main(self, abonnement_id: str, n: int) -> list[Envoi]:
        file = self._confiees.get(abonnement_id)
        if not file:
            return []
        return [file.popleft() for _ in range(min(n, len(file)))]

    def _lacher(self, abonnement_id: str, n: int) -> None:
        reste = self._en_main.get(abonnement_id, 0) - n
        if reste > 0:
            self._en_main[abonnement_id] = reste
        else:
            self._en_main.pop(abonnement_id, None)

    async def passer(self) -> None:
        """One task for each active subscription with a due delivery that has none running."""
        places = self._settings.webhooks_concurrence_max - len(self._taches)
        if places <= 0:
            self._plein = True  # looked again as soon as a task ends
            return
        # Per active subscription without a task, one probe of its pending deliveries (index
        # ix_webhook_livraison_a_envoyer), not a scan of every due delivery (a backlog has 100 000).
        dues = select(WebhookLivraison.id).where(
            WebhookLivraison.abonnement_id == WebhookAbonnement.id,
            WebhookLivraison.statut == service.EN_ATTENTE, WebhookLivraison.prochaine_le <= datetime.now(UTC)
        ).exists()
        async with self._sessions() as session:
            ids = list(await session.scalars(
                select(WebhookAbonnement.id)
                .where(WebhookAbonnement.actif.is_(True), dues,
                       WebhookAbonnement.id.not_in(list(self._taches)))
                .limit(places)))
        for abonnement_id in ids:
            self._lancer_si_place(abonnement_id)

    def _fin(self, abonnement_id: str, tache: asyncio.Task[None]) -> None:
        """The task ended (returned, failed or cancelled): what was handed to it and not sent (handed
        over while it stopped, or it failed) goes back to the store, due at once, in the background;
        if that fails too (the database is away) the lease brings them back."""
        if self._taches.get(abonnement_id) is not tache:  # a loop started again since: not ours
            return
        del self._taches[abonnement_id]
        if self._plein:  # a place is free: the next pass, now, gives it to one that waits
            self._plein = False
            self._reveil.set()
        self._en_main.pop(abonnement_id, None)
        restes = list(self._confiees.pop(abonnement_id, ()))
        if restes:
            self._en_base_aussi(abonnement_id, (e.livraison_id for e in restes))
            arriere = asyncio.get_running_loop().create_task(self._rendre_sans_echec(abonnement_id, restes))
            self._arriere.add(arriere)
            arriere.add_done_callback(self._arriere.discard)

    async def _rendre_sans_echec(self, abonnement_id: str, envois: Sequence[Envoi]) -> None:
        try:
            await self._rendre(envois)
        except Exception as exc:
            log.warning("webhook %s : %d livraisons remises au bout du bail (%s)", abonnement_id,
                        len(envois), exc)
            return
        if self._ouvert:
            self._lancer_si_place(abonnement_id)

    async def _abonnement(self, abonnement_id: str) -> None:
        """The subscription's only task: what the consumer handed over first, then what is due in the
        store (retries, replays, a surplus, a dead worker's leases), a lot at a time."""
        par = self._settings.webhooks_concurrence_par_abonnement
        try:
            # What the previous task read, while fresh: at a paced flow a task starts for nearly every
            # commit of the consumer, and reading the subscription (its secrets decrypted) each time was
            # a tenth of the loop's CPU.
            etat: Etat | None = self._etats.get(abonnement_id)
            while True:
                if etat is None or time.monotonic() - etat.lu_le > RELIRE_SECONDES:
                    etat = await self._lire(abonnement_id)
                    if etat is None:
                        self._etats.pop(abonnement_id, None)
                    else:
                        self._etats[abonnement_id] = etat
                if etat is None or not etat.actif:
                    await self._rendre_la_main(abonnement_id)
                    return
                reveils = self._reveils
                envois = self._de_la_main(abonnement_id, self._settings.webhooks_lot)
                self.par_la_main += len(envois)
                if not envois:
                    version = self._versions.get(abonnement_id, 0)
                    envois = await self._prendre(etat)
                    self.par_la_base += len(envois)
                    if envois:  # counted against the hand's bound while it is sent (see `accepte`)
                        self._en_main[abonnement_id] = self._en_main.get(abonnement_id, 0) + len(envois)
                    connues = self._en_base.get(abonnement_id, set())
                    connues.difference_update(e.livraison_id for e in envois)
                    if envois and not connues:
                        # Every delivery the store had to send first is in this lot: what is handed
                        # over from now on is sent after it.
                        self._en_base.pop(abonnement_id, None)
                    elif not envois:
                        if self._versions.get(abonnement_id, 0) != version:
                            continue  # stored while it looked: look again
                        # Nothing due, nothing stored meanwhile: those it knew of went elsewhere
                        # (another replica, a cancellation).
                        self._en_base.pop(abonnement_id, None)
                en_main = len(envois)
                if not envois:
                    if self._confiees.get(abonnement_id):  # handed over while the store was read
                        continue
                    if self._reveils != reveils:  # queued as it found none: the pass skipped us
                        self._reveil.set()
                    return
                consignes: list[asyncio.Future[bool | None]] = []
                try:
                    for i in range(0, len(envois), par):  # `par` in flight, in the store's order
                        vague = envois[i:i + par]
                        resultats = ([await self._livrer(etat, vague[0])] if len(vague) == 1  # no task
                                     else await asyncio.gather(*(self._livrer(etat, e) for e in vague)))
                        consignes += [c for c in resultats if c is not None]
                        if not etat.actif:  # a 410: what it took waits, as its other pending ones
                            self._en_base_aussi(abonnement_id, (e.livraison_id for e in envois[i + par:]))
                            await self._rendre(envois[i + par:])
                            await self._rendre_la_main(abonnement_id)
                            return
                finally:
                    # The lot's successes are written before the next lot is taken (or the task ends).
                    for ecrite in await asyncio.gather(*consignes):
                        self.livrees += ecrite is True
                    self._lacher(abonnement_id, en_main)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database went away: the leases expire, the next pass takes them again
            log.exception("webhook %s : livraisons interrompues", abonnement_id)

    async def _rendre_la_main(self, abonnement_id: str) -> None:
        """What was handed over and not sent: back to the store, due (they wait while disabled)."""
        envois = list(self._confiees.pop(abonnement_id, ()))
        self._en_base_aussi(abonnement_id, (e.livraison_id for e in envois))
        self._lacher(abonnement_id, len(envois))
        await self._rendre(envois)

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
        them all may take (a worker that dies leaves them due again after that), with their bodies:
        one statement."""
        s = self._settings
        maintenant = datetime.now(UTC)
        lot = s.webhooks_lot
        vagues = -(-lot // s.webhooks_concurrence_par_abonnement)
        bail = maintenant + timedelta(seconds=vagues * s.webhooks_timeout_secondes + MARGE_BAIL)
        async with session_scope(self._sessions) as session:
            prises = await session.execute(_PRENDRE, {
                "abonnement_id": etat.abonnement_id, "en_attente": service.EN_ATTENTE,
                "maintenant": maintenant, "lot": lot, "bail": bail})
            return [Envoi(li.id, li.event_id, li.corps, li.tentatives) for li in prises]

    async def _rendre(self, envois: Sequence[Envoi]) -> None:
        """Deliveries taken but not sent: due again at once (for when the subscription is re-enabled);
        the subscription's next ones follow them through the store."""
        if not envois:
            return
        async with session_scope(self._sessions) as session:
            await session.execute(
                update(WebhookLivraison).where(WebhookLivraison.id.in_([e.livraison_id for e in envois]),
                                               WebhookLivraison.statut == service.EN_ATTENTE)
                .values(prochaine_le=datetime.now(UTC)).execution_options(synchronize_session=False))
            await service.reveiller_livreurs(session)  # any replica's loop may take them now

    async def _livrer(self, etat: Etat, envoi: Envoi) -> asyncio.Future[bool | None] | None:
        """The answer's bookkeeping: a success without failures before it goes to the shared
        `Consignation` (its future returned); anything else is written now."""
        debut = datetime.now(UTC)
        reponse = await self.appeler(etat.url, envoi, etat.secrets)
        fin = datetime.now(UTC)
        if (etat.en_echec_depuis is None
                and rules.juger(reponse.statut, maintenant=fin).issue is rules.Issue.LIVREE):
            return self._consignation.ajouter(Succes(envoi.livraison_id, envoi.tentatives + 1, debut, fin,
                                                     reponse))
        await self._consigner(etat, envoi, reponse, debut)
        return None

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
                async with self._client.post(
                        url, data=envoi.corps, allow_redirects=False,
                        headers={**signes, "content-type": "application/json",
                                 "user-agent": "HOPEN2-Webhooks/1"}) as r:
                    statut, retry_after = r.status, r.headers.get("retry-after")
                    lu = bytearray()
                    while len(lu) < LECTURE_MAX and (morceau := await r.content.read(LECTURE_MAX - len(lu))):
                        lu += morceau
                    extrait = rules.extrait(lu.decode("utf-8", "replace")) or None
            if not 200 <= statut < 300:
                erreur = f"HTTP {statut}" + (" (redirection non suivie)" if 300 <= statut < 400 else "")
        except TimeoutError:  # aiohttp's own timeouts are TimeoutErrors too
            erreur = f"pas de réponse en {delai:g} s"
        except rules.DestinationRefusee as exc:
            erreur = f"destination refusée : {exc}"
        except (aiohttp.ClientError, OSError) as exc:
            erreur = f"{type(exc).__name__} : {exc}"[:500]
        return Reponse(statut, erreur, extrait, retry_after, int((time.monotonic() - t0) * 1000))

    async def _verifier_destination(self, url: str) -> None:
        """At every delivery, not only at subscription: a name may point elsewhere since."""
        cible = rules.destination(url, https_seulement=self._reglages.https_seulement,
                                  permises=self._reglages.permises)
        if cible.litterale:  # judged with the URL (getaddrinfo would take a trip through a thread)
            return
        hote = cible.hote
        try:
            adresses = await self._resolveur(hote, cible.port)
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

def livreur_de(app: FastAPI) -> Livreur:
    """The process's one delivery loop, shared by its two tasks (whichever starts first builds it)."""
    if getattr(app.state, "livreur", None) is None:
        app.state.livreur = Livreur(app.state.sessionmaker, app.state.settings)
    livreur: Livreur = app.state.livreur
    return livreur


def consommateur(app: FastAPI, kafka: AIOKafkaConsumer) -> EventConsumer:
    settings: InstructionSettings = app.state.settings
    return EventConsumer(name=service.CONSOMMATEUR, consumer=kafka,
                         producer=app.state.producer, sessionmaker=app.state.sessionmaker,
                         handlers=service.handlers(preneur=livreur_de(app)),
                         handler_lot=service.handler_lot(preneur=livreur_de(app)),
                         lot=settings.webhooks_consommateur_lot, max_attempts=settings.consumer_max_attempts,
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
    await livreur_de(app).run_forever()
