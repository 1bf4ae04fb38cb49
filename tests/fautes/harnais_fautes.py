"""The fault matrix's harness (issue 12 point 5, ADR 0028), shared by tests/fautes and
bench/bench_fautes.py.

A real workload: establishments write in their candidature's thread through candidature's API (in
process, the real app and its Idempotency-Key, on a PostgreSQL and a Kafka of the matrix's own), which
writes the message and its MessageEnvoyeParEtablissement to candidature's outbox; candidature's relay
(`python -m hopen_candidature.workers relais`, its own OS process) publishes it; instruction's consumer
(`python -m hopen_instruction.workers consommateur`, another process) copies the message into
instruction's thread. One key per candidature (the Kafka key is the candidature id).

Everything is measured from the ledgers and read models after the run, never from logs: candidature's
outbox (what was sent, when, in which order per key) and its message table (a command applied twice by
the API), instruction's inbox (what was applied, when, in which order) and its message table (the
effect, counted per command: each command's text is unique), instruction's dead letters.

The infrastructure is the matrix's own (not the test session's shared PostgreSQL and broker): the
faults restart the broker and the cluster, which would break every other test running beside them.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import time
import uuid
from collections import defaultdict
from collections.abc import AsyncIterator, Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner

from hopen_candidature.main import create_app
from hopen_candidature.settings import CandidatureSettings
from hopen_common.contracts import Topics
from hopen_common.contracts.topics import topic_dead_letter
from hopen_common.devstack._util import free_port
from hopen_common.devstack.kafka import KafkaBroker, ensure_topics_async
from hopen_common.devstack.postgres import PostgresCluster
from hopen_common.devstack.stack import StackConfig, find_repo_root, run_migrations
from hopen_common.finess import cle_finess_valide
from hopen_common.kafka import build_producer, stop_with_timeout
from hopen_common.pannes import VARIABLE as VARIABLE_PANNE
from hopen_common.testing import jeton
from hopen_instruction.consumers import TOPICS as TOPICS_INSTRUCTION

CONSOMMATEUR = "instruction"
TYPE = "MessageEnvoyeParEtablissement"
PARTITIONS = 3
DEPOSEE = datetime(2026, 3, 1, tzinfo=UTC)


def finess_de_la_matrice(n: int) -> list[str]:
    """N FINESS of Corse with a valid key (not real establishments: 2A8xxxxxk)."""
    return [next(f"2A8{i:05d}{k}" for k in range(10) if cle_finess_valide(f"2A8{i:05d}{k}"))
            for i in range(n)]


@dataclass
class Mesure:
    """One fault's figures, from the ledgers and read models."""

    faute: str
    commandes: int  # outbox rows of the scenario (what the API accepted and committed)
    acquittees: int  # 201 answers the client got (one per command, replays included)
    appliquees: int  # commands whose message is in instruction's thread
    perdues: int  # in the outbox, not in instruction's thread
    doublons: int  # a command's message twice (in either thread)
    violations_ordre: int  # per key, an event applied before one written earlier
    p50_ms: float
    p99_ms: float
    reprise_s: float | None  # fault -> first effect of an event written after it
    relances_api: int = 0  # client retries (the API answered 5xx or the connection failed)
    details: dict[str, Any] = field(default_factory=dict)

    def ligne(self) -> list[str]:
        reprise = "-" if self.reprise_s is None else f"{self.reprise_s:.2f}"
        return [self.faute, str(self.commandes), str(self.appliquees), str(self.perdues),
                str(self.doublons), str(self.violations_ordre), f"{self.p50_ms:.0f}", f"{self.p99_ms:.0f}",
                reprise]


COLONNES = ["faute", "commandes", "appliquées", "perdues", "doublons", "ordre violé", "p50 ms", "p99 ms",
            "reprise s"]


def arreter_processus(proc: subprocess.Popen[bytes] | None, timeout: float = 20.0) -> None:
    """SIGINT: asyncio.run cancels the workers, which leave the consumer group cleanly."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


MOTS_D_ERREUR = ("rror", "failed", "Unexpected", "xception")


class Processus:
    """A worker of one service as its own OS process (`python -m hopen_<svc>.workers <role>`)."""

    def __init__(self, config: StackConfig, service: str, role: str, journal: Path,
                 extra_env: dict[str, str]) -> None:
        self._config, self.service, self.role = config, service, role
        self._journal, self._extra = journal, extra_env
        self.proc: subprocess.Popen[bytes] | None = None
        self.morts: list[tuple[datetime, int]] = []  # (when it was seen dead, return code)

    def demarrer(self, *, panne: str | None = None) -> None:
        env = {**self._config.service_env(self.service), **self._extra}
        env.pop(VARIABLE_PANNE, None)
        if panne is not None:
            env[VARIABLE_PANNE] = panne
        with self._journal.open("ab") as sortie:
            self.proc = subprocess.Popen(
                [str(self._config.bin("python")), "-m", f"hopen_{self.service}.workers", self.role],
                env=env, stdout=sortie, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                start_new_session=True)

    def arreter(self, timeout: float = 20.0) -> None:
        proc, self.proc = self.proc, None
        arreter_processus(proc, timeout)

    def erreurs(self, n: int = 12) -> list[str]:
        """The last distinct warning/error lines of its journal: a failed measure shows them (the
        journal itself is in a temporary directory that later pytest runs remove)."""
        lignes = [ligne for ligne in self._journal.read_text(errors="replace").splitlines()
                  if ligne[:1].isalpha() and any(m in ligne for m in MOTS_D_ERREUR)]
        return list(dict.fromkeys(ligne[:200] for ligne in reversed(lignes)))[:n]

    async def surveiller_mort(self, *, en: float) -> datetime:
        """Wait for the armed process to kill itself; note when, restart it unarmed (a supervisor's
        job in production: systemd, Kubernetes)."""
        limite = time.monotonic() + en
        while True:
            assert self.proc is not None
            code = self.proc.poll()
            if code is not None:
                quand = datetime.now(UTC)
                self.morts.append((quand, code))
                self.demarrer()
                return quand
            assert time.monotonic() < limite, f"{self.service} {self.role}: fault point never reached"
            await asyncio.sleep(0.02)


class Infrastructure:
    """A PostgreSQL cluster and a Kafka broker of the matrix's own, the two databases migrated."""

    def __init__(self, dossier: Path) -> None:
        self.dossier = dossier
        self.racine = find_repo_root()
        self.grappe = PostgresCluster(dossier / "pg", port=free_port(), fast=True)
        port = free_port()
        controleur = free_port()
        while controleur == port:
            controleur = free_port()
        self.broker = KafkaBroker(dossier / "kafka", port, controleur, self.racine / "deploy" / "kafka",
                                  num_partitions=PARTITIONS)
        self.config = StackConfig(root=self.racine, data_dir=dossier / "stack", pg_port=self.grappe.port,
                                  kafka_bootstrap=self.broker.bootstrap, pg_fast=True,
                                  extra_env={"CANDIDATURE_ENVIRONMENT": "test",
                                             "INSTRUCTION_ENVIRONMENT": "test"})

    def demarrer(self) -> None:
        # The broker (a JVM) starts while the cluster starts and both databases migrate: the set-up
        # of the matrix is most of its cost in `make test`.
        with ThreadPoolExecutor(3) as pool:
            broker = pool.submit(self.broker.start)
            self.grappe.start()
            self.grappe.ensure_role("hopen", "hopen")
            for service in ("candidature", CONSOMMATEUR):
                self.grappe.ensure_database(self.config.database_name(service), "hopen")
            migrations = [pool.submit(run_migrations, self.config, s) for s in ("candidature", CONSOMMATEUR)]
            for migration in migrations:
                migration.result()
            broker.result()

    def arreter(self) -> None:
        self.broker.stop()
        self.grappe.stop()

    def dsn(self, service: str) -> str:
        return self.config.database_url(service).replace("postgresql+asyncpg://", "postgresql://", 1)

    def redemarrer_broker(self, *, dur: bool) -> None:
        """Clean: SIGTERM, the broker flushes and leaves. Hard: SIGKILL, it recovers its logs."""
        proc = self.broker._proc
        if dur and proc is not None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        self.broker.stop()
        self.broker.start()

    def redemarrer_postgres(self, *, arret: float = 0.0) -> None:
        """pg_ctl stop -m fast: every open transaction (API, relay, consumer) is rolled back; started
        again after `arret` seconds."""
        self.grappe.stop()
        time.sleep(arret)
        self.grappe.start()


@dataclass
class Dossier:
    id: str
    entete: dict[str, str]


class Matrice:
    """The running workload: infrastructure, relay and consumer processes, the API in process."""

    def __init__(self, infra: Infrastructure, *, cles: int = 50, debit: float = 80.0,
                 concurrence: int = 4) -> None:
        self.infra = infra
        self.cles = cles
        self.debit = debit  # commands per second, all keys together (a steady load)
        self.concurrence = concurrence
        journaux = infra.dossier / "journaux"
        journaux.mkdir(parents=True, exist_ok=True)
        self.relais = Processus(infra.config, "candidature", "relais", journaux / "relais.log",
                                {"CANDIDATURE_STOCKAGE_ORPHELINS_INTERVALLE_HEURES": "0"})
        self.consommateur = Processus(infra.config, CONSOMMATEUR, "consommateur",
                                      journaux / "consommateur.log", {"INSTRUCTION_LOTS_ACTIFS": "false"})
        finess = finess_de_la_matrice(cles)
        self.dossiers = [Dossier(f"fautes-{i:03d}", jeton("etablissement", finess=[f], sujet=f"daf-{i}"))
                         for i, f in enumerate(finess)]
        self.dossiers_finess = finess
        self.api: httpx.AsyncClient | None = None
        self.producteur: AIOKafkaProducer | None = None

    @asynccontextmanager
    async def ouverte(self) -> AsyncIterator[Matrice]:
        await self._semer()
        bootstrap = self.infra.broker.bootstrap
        await ensure_topics_async(bootstrap, [*TOPICS_INSTRUCTION, topic_dead_letter(CONSOMMATEUR)],
                                  partitions=PARTITIONS)
        self.relais.demarrer()
        self.consommateur.demarrer()
        reglages = CandidatureSettings(
            environment="test", database_url=self.infra.config.database_url("candidature"),
            kafka_bootstrap_servers=bootstrap, workers_in_process=False, calendrier_ouvert=True,
            stockage_url=(self.infra.dossier / "stockage").as_uri())
        app = create_app(reglages)
        self.producteur = build_producer(bootstrap, client_id="matrice-de-pannes")
        await self.producteur.start()
        try:
            async with app.router.lifespan_context(app), httpx.AsyncClient(
                    transport=httpx.ASGITransport(app=app, raise_app_exceptions=False),
                    base_url="http://candidature") as client:
                self.api = client
                await self.amorcer("ouverture")
                yield self
        finally:
            self.api = None
            await stop_with_timeout(self.producteur)
            await asyncio.to_thread(self.relais.arreter)
            await asyncio.to_thread(self.consommateur.arreter)

    async def _semer(self) -> None:
        """The deposited candidatures (set-up, not the workload): one per key."""
        cnx = await asyncpg.connect(self.infra.dsn("candidature"))
        try:
            await cnx.executemany(
                "INSERT INTO candidature (id, dispositif, finess, region, statut, objectifs, cree_par,"
                " cree_le, deposee_par, deposee_le)"
                " VALUES ($1, 'phase1', $2, '94', 'deposee', $3, 'daf', $4, 'daf', $4)"
                " ON CONFLICT DO NOTHING",
                [(d.id, f, json.dumps(["P1.O1"]), DEPOSEE)
                 for d, f in zip(self.dossiers, self.dossiers_finess, strict=True)])
        finally:
            await cnx.close()

    # ------------------------------------------------------------------ the load
    async def amorcer(self, nom: str, *, en: float = 120.0) -> None:
        """One command through the whole pipeline and its effect awaited: the relay and the consumer
        are up (the consumer has its partitions) before a scenario starts. Not part of any measure."""
        assert self.api is not None
        dossier = self.dossiers[0]
        texte = f"amorce-{nom}|{uuid.uuid4()}"
        r = await self.api.post(f"/v1/candidatures/{dossier.id}/messages", json={"texte": texte},
                                headers=dossier.entete)
        assert r.status_code == 201, r.text
        limite = time.monotonic() + en
        cnx = await asyncpg.connect(self.infra.dsn(CONSOMMATEUR))
        try:
            while not await cnx.fetchval("SELECT count(*) FROM message WHERE texte = $1", texte):
                assert time.monotonic() < limite, f"warm-up {nom}: the pipeline did not carry it in {en} s"
                await asyncio.sleep(0.1)
        finally:
            await cnx.close()

    async def charger(self, scenario: str, commandes: int, *, a_mi_course: Callable[[], Awaitable[Any]]
                      | None = None, seuil: float = 0.3) -> dict[str, Any]:
        """`commandes` messages over every key at `debit` per second, each key's commands one after the
        other (its order), retried with the same Idempotency-Key until the API answers 201. Once
        `seuil` of them are acknowledged, `a_mi_course` runs beside the load (the fault)."""
        assert self.api is not None
        api = self.api
        etat: dict[str, Any] = {"acquittees": 0, "relances": 0, "faute": None}
        pas = self.concurrence / self.debit
        declenchee = asyncio.Event()

        async def commande(dossier: Dossier, rang: int) -> None:
            corps = {"texte": f"{scenario}|{dossier.id}|{rang:06d}"}
            entetes = {**dossier.entete, "Idempotency-Key": f"{scenario}-{dossier.id}-{rang}"}
            limite = time.monotonic() + 180
            while True:
                try:
                    r = await api.post(f"/v1/candidatures/{dossier.id}/messages", json=corps, headers=entetes)
                    if r.status_code == 201:
                        break
                    assert r.status_code >= 500, f"{r.status_code} {r.text}"
                except (OSError, httpx.HTTPError, asyncpg.PostgresError):
                    pass
                etat["relances"] += 1
                assert time.monotonic() < limite, f"{dossier.id} #{rang}: no 201 in 180 s"
                await asyncio.sleep(0.2)
            etat["acquittees"] += 1
            if etat["acquittees"] >= seuil * commandes:
                declenchee.set()

        async def ouvrier(numero: int) -> None:
            # Worker w owns the keys j with j % concurrence == w and goes round them in turn.
            siens = self.dossiers[numero::self.concurrence]
            rangs = [(r, d) for r in range(-(-commandes // self.cles)) for d in siens
                     if r * self.cles + self.dossiers.index(d) < commandes]
            prochain = time.monotonic()
            for rang, dossier in rangs:
                await commande(dossier, rang)
                prochain += pas
                await asyncio.sleep(max(0.0, prochain - time.monotonic()))

        async def faute() -> None:
            await declenchee.wait()
            if a_mi_course is not None:
                etat["faute"] = await a_mi_course()

        tache_faute = asyncio.create_task(faute())
        try:
            await asyncio.gather(*(ouvrier(w) for w in range(self.concurrence)))
            declenchee.set()
            await tache_faute
        finally:
            tache_faute.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await tache_faute
        return etat

    # ------------------------------------------------------------------ fault helpers
    async def evenements_envoyes(self, scenario: str, *, au_moins: int = 0) -> list[asyncpg.Record]:
        """The scenario's outbox rows already relayed (id order), once there are `au_moins` of them (at
        most 30 s, the load going on): the API's acknowledged commands are ahead of the relay, and a
        fault that draws from what is on the broker must draw from the share of the load it names
        (CI once drew F5's tenth from 110 relayed events when 60 % of 200 were acknowledged)."""
        cnx = await asyncpg.connect(self.infra.dsn("candidature"))
        try:
            limite = time.monotonic() + 30
            while True:
                lignes = list(await cnx.fetch(
                    "SELECT id, topic, key, envelope::text AS envelope FROM outbox WHERE sent_at IS NOT NULL"
                    " AND envelope->>'type' = $1 AND envelope->'data'->>'texte' LIKE $2 ORDER BY id",
                    TYPE, f"{scenario}|%"))
                if len(lignes) >= au_moins or time.monotonic() > limite:
                    return lignes
                await asyncio.sleep(0.05)
        finally:
            await cnx.close()

    async def republier(self, lignes: list[asyncpg.Record], *, nouvel_id: bool = False) -> int:
        """Send outbox rows to the broker once more, as they are (a redelivery), or under a new event
        id (a producer that replays: the inbox cannot know it, the read model must)."""
        assert self.producteur is not None
        for ligne in lignes:
            enveloppe = ligne["envelope"]
            if nouvel_id:
                enveloppe = json.dumps({**json.loads(enveloppe), "id": str(uuid.uuid4())})
            await self.producteur.send_and_wait(ligne["topic"], enveloppe.encode(), key=ligne["key"].encode())
        return len(lignes)

    async def empoisonner(self) -> dict[str, int]:
        """Two poisons on the candidature topic: a registered type whose payload breaks its schema,
        and bytes that are not even an envelope. Returns their keys' partitions."""
        assert self.producteur is not None
        invalide = {"specversion": "1.0", "id": str(uuid.uuid4()), "source": "matrice", "type": TYPE,
                    "subject": "candidature/poison", "time": datetime.now(UTC).isoformat(),
                    "datacontenttype": "application/json", "dataschema": f"{TYPE}/v1",
                    "data": {"message_id": 12, "texte": None}}
        poisons = {"poison-contenu": json.dumps(invalide).encode(), "poison-octets": b"\xff\xfenot json"}
        for cle, valeur in poisons.items():
            await self.producteur.send_and_wait(Topics.CANDIDATURE.value, valeur, key=cle.encode())
        return {cle: partition(cle) for cle in poisons}

    # ------------------------------------------------------------------ measures
    async def attendre_calme(self, scenario: str, *, en: float = 120.0) -> None:
        """Until every outbox row of the scenario is sent and in instruction's inbox (or time is out:
        the measure then counts what is missing as lost)."""
        limite = time.monotonic() + en
        while time.monotonic() < limite:
            envoyes = await self._lire_outbox(scenario)
            if envoyes and all(e["sent_at"] is not None for e in envoyes):
                vus = await self._lire_inbox({e["event_id"] for e in envoyes})
                if len(vus) == len(envoyes):
                    return
            await asyncio.sleep(0.3)

    async def _lire_outbox(self, scenario: str) -> list[asyncpg.Record]:
        cnx = await asyncpg.connect(self.infra.dsn("candidature"))
        try:
            return list(await cnx.fetch(
                "SELECT id, event_id::text AS event_id, key, created_at, sent_at,"
                " envelope->'data'->>'texte' AS texte FROM outbox"
                " WHERE envelope->>'type' = $1 AND envelope->'data'->>'texte' LIKE $2 ORDER BY id",
                TYPE, f"{scenario}|%"))
        finally:
            await cnx.close()

    async def _lire_inbox(self, ids: set[str]) -> dict[str, datetime]:
        cnx = await asyncpg.connect(self.infra.dsn(CONSOMMATEUR))
        try:
            lignes = await cnx.fetch("SELECT event_id, processed_at FROM inbox WHERE consumer = $1"
                                     " AND event_id = ANY($2::text[])", CONSOMMATEUR, list(ids))
            return {ligne["event_id"]: ligne["processed_at"] for ligne in lignes}
        finally:
            await cnx.close()

    async def mesurer(self, faute: str, scenario: str, etat: dict[str, Any], *,
                      instant: datetime | None) -> Mesure:
        envoyes = await self._lire_outbox(scenario)
        inbox = await self._lire_inbox({e["event_id"] for e in envoyes})
        motif = f"{scenario}|%"
        cnx = await asyncpg.connect(self.infra.dsn(CONSOMMATEUR))
        try:
            copies = await cnx.fetch("SELECT texte, count(*) AS n FROM message WHERE texte LIKE $1"
                                     " GROUP BY texte", motif)
            lettres = await cnx.fetch("SELECT key, motif, partition, created_at FROM dead_letter"
                                      " WHERE consumer = $1 AND created_at >= $2", CONSOMMATEUR,
                                      min((e["created_at"] for e in envoyes), default=datetime.now(UTC)))
        finally:
            await cnx.close()
        cnx = await asyncpg.connect(self.infra.dsn("candidature"))
        try:
            doublons_api = await cnx.fetchval(
                "SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM message WHERE texte LIKE $1"
                " GROUP BY texte) AS t", motif)
        finally:
            await cnx.close()
        par_texte = {c["texte"]: c["n"] for c in copies}
        commandes = {e["texte"] for e in envoyes}
        appliquees = commandes & set(par_texte)
        # Per key, the order the consumer applied in (inbox time) must be the order of the outbox.
        par_cle: dict[str, list[tuple[datetime, int]]] = defaultdict(list)
        latences = []
        for e in envoyes:
            applique = inbox.get(e["event_id"])
            if applique is None:
                continue
            par_cle[e["key"]].append((applique, e["id"]))
            latences.append((applique - e["created_at"]).total_seconds() * 1000)
        violations = 0
        for suite in par_cle.values():
            ids = [i for _, i in sorted(suite)]
            violations += sum(1 for a, b in zip(ids, ids[1:], strict=False) if b < a)
        latences.sort()
        reprise = None
        if instant is not None:
            apres = [inbox[e["event_id"]] for e in envoyes
                     if e["created_at"] > instant and e["event_id"] in inbox]
            if apres:
                reprise = (min(apres) - instant).total_seconds()
        return Mesure(
            faute=faute, commandes=len(envoyes), acquittees=etat["acquittees"], appliquees=len(appliquees),
            perdues=len(commandes - set(par_texte)),
            doublons=(int(doublons_api) + sum(n - 1 for n in par_texte.values())
                      + len(envoyes) - len(commandes)),
            violations_ordre=violations, p50_ms=_quantile(latences, 0.50), p99_ms=_quantile(latences, 0.99),
            reprise_s=reprise, relances_api=etat["relances"],
            details={"lettres": [dict(lettre) for lettre in lettres], "faute": etat.get("faute")})

    # ------------------------------------------------------------------ the faults
    async def f1_relais_tue(self, commandes: int) -> Mesure:
        """kill -9 of the relay after the broker's ack, before the row is marked sent."""
        scenario = "F1"
        # The warm-up passes the point once; then it dies a third of the way. The armed relay starts
        # (its imports, seconds) while the old one still holds the relay's advisory lock: it takes over
        # once the old one is stopped.
        ancien = self.relais.proc
        self.relais.demarrer(panne=f"relais-apres-ack@{1 + max(1, commandes // 3)}")
        await asyncio.sleep(3)
        await asyncio.to_thread(arreter_processus, ancien)
        await self.amorcer(scenario)
        etat = await self.charger(scenario, commandes,
                                  a_mi_course=lambda: self.relais.surveiller_mort(en=120), seuil=0.0)
        await self.attendre_calme(scenario)
        return await self.mesurer("F1 kill -9 relais (après ack)", scenario, etat, instant=etat["faute"])

    async def f2_consommateur_tue(self, commandes: int) -> Mesure:
        """kill -9 of the consumer after its DB commit, before the offset commit."""
        scenario = "F2"
        await asyncio.to_thread(self.consommateur.arreter)
        self.consommateur.demarrer(panne=f"consommateur-apres-commit@{1 + max(1, commandes // 3)}")
        await self.amorcer(scenario)
        etat = await self.charger(scenario, commandes,
                                  a_mi_course=lambda: self.consommateur.surveiller_mort(en=120), seuil=0.0)
        await self.attendre_calme(scenario)
        return await self.mesurer("F2 kill -9 consommateur (après commit)", scenario, etat,
                                  instant=etat["faute"])

    async def f3_broker(self, commandes: int, *, dur: bool) -> Mesure:
        scenario = "F3d" if dur else "F3p"

        async def redemarrer() -> datetime:
            quand = datetime.now(UTC)
            await asyncio.to_thread(self.infra.redemarrer_broker, dur=dur)
            return quand

        etat = await self.charger(scenario, commandes, a_mi_course=redemarrer)
        await self.attendre_calme(scenario)
        nom = "F3 broker SIGKILL + redémarrage" if dur else "F3 broker SIGTERM + redémarrage"
        return await self.mesurer(nom, scenario, etat, instant=etat["faute"])

    async def f4_postgres(self, commandes: int, *, arret: float = 0.0) -> Mesure:
        """PostgreSQL stopped (fast: open transactions of the API, the relay and the consumer rolled
        back) and started again at once, or after `arret` seconds (longer than the consumer's retries)."""
        scenario = f"F4-{arret:g}"

        async def redemarrer() -> datetime:
            quand = datetime.now(UTC)
            await asyncio.to_thread(self.infra.redemarrer_postgres, arret=arret)
            return quand

        etat = await self.charger(scenario, commandes, a_mi_course=redemarrer)
        await self.attendre_calme(scenario)
        nom = "F4 PostgreSQL redémarré" + (f" (arrêté {arret:g} s)" if arret else "")
        return await self.mesurer(nom, scenario, etat, instant=etat["faute"])

    async def f5_doublons(self, commandes: int) -> Mesure:
        """10 % of the events already sent, republished as they are, while the load goes on."""
        scenario = "F5"

        async def republier() -> dict[str, Any]:
            quand = datetime.now(UTC)
            envoyes = await self.evenements_envoyes(scenario, au_moins=int(commandes * 0.6))
            choisis = random.Random(5).sample(envoyes, max(1, len(envoyes) // 10))
            return {"instant": quand, "republies": await self.republier(choisis)}

        etat = await self.charger(scenario, commandes, a_mi_course=republier, seuil=0.6)
        await self.attendre_calme(scenario)
        etat["faute"], republies = etat["faute"]["instant"], etat["faute"]["republies"]
        mesure = await self.mesurer("F5 livraison en double (10 %)", scenario, etat, instant=etat["faute"])
        mesure.details["republies"] = republies
        return mesure

    async def f6_desordre(self, commandes: int) -> Mesure:
        """Older events of a key republished after newer ones were applied: as they were (same id, a
        redelivery) and under a new id (a replaying producer)."""
        scenario = "F6"

        async def republier() -> dict[str, Any]:
            quand = datetime.now(UTC)
            par_cle: dict[str, list[asyncpg.Record]] = defaultdict(list)
            for ligne in await self.evenements_envoyes(scenario, au_moins=int(commandes * 0.6)):
                par_cle[ligne["key"]].append(ligne)
            # The older half of each key's events, newest first: the reverse of their order.
            vieux = [e for suite in par_cle.values() if len(suite) > 1 for e in suite[:len(suite) // 2][::-1]]
            n = await self.republier(vieux) + await self.republier(vieux, nouvel_id=True)
            return {"instant": quand, "republies": n}

        etat = await self.charger(scenario, commandes, a_mi_course=republier, seuil=0.6)
        await self.attendre_calme(scenario)
        etat["faute"], republies = etat["faute"]["instant"], etat["faute"]["republies"]
        mesure = await self.mesurer("F6 désordre dans une clé", scenario, etat, instant=etat["faute"])
        mesure.details["republies"] = republies
        return mesure

    async def f7_poison(self, commandes: int) -> Mesure:
        scenario = "F7"

        async def empoisonner() -> dict[str, Any]:
            quand = datetime.now(UTC)
            return {"instant": quand, "partitions": await self.empoisonner()}

        etat = await self.charger(scenario, commandes, a_mi_course=empoisonner)
        await self.attendre_calme(scenario)
        etat["faute"], partitions = etat["faute"]["instant"], etat["faute"]["partitions"]
        mesure = await self.mesurer("F7 message empoisonné", scenario, etat, instant=etat["faute"])
        mesure.details["partitions_poison"] = partitions
        # The poisons' partitions kept flowing: events of other keys on them applied after the poisons.
        envoyes = await self._lire_outbox(scenario)
        inbox = await self._lire_inbox({e["event_id"] for e in envoyes})
        mesure.details["appliques_apres_sur_partition"] = {
            cle: sum(1 for e in envoyes if partition(e["key"]) == p and e["event_id"] in inbox
                     and inbox[e["event_id"]] > etat["faute"] + timedelta(seconds=0))
            for cle, p in partitions.items()}
        return mesure

    async def toutes(self, commandes: int) -> list[Mesure]:
        return [
            await self.f1_relais_tue(commandes),
            await self.f2_consommateur_tue(commandes),
            await self.f3_broker(commandes, dur=False),
            await self.f3_broker(commandes, dur=True),
            await self.f4_postgres(commandes),
            await self.f5_doublons(commandes),
            await self.f6_desordre(commandes),
            await self.f7_poison(commandes),
        ]


def partition(cle: str) -> int:
    """The partition the producer's default partitioner puts `cle` on (murmur2, as Java's)."""
    toutes = list(range(PARTITIONS))
    return int(DefaultPartitioner()(cle.encode(), toutes, toutes))


def _quantile(valeurs: list[float], q: float) -> float:
    if not valeurs:
        return float("nan")
    return valeurs[min(len(valeurs) - 1, int(q * len(valeurs)))]
