"""Webhook delivery throughput and latency (issue 11, ADR 0026).

Starts a real PostgreSQL (fsync on; or --pg-port) and a real Kafka broker, migrates an instruction
database, and runs instruction's webhook consumer (EventConsumer through the inbox, on a private topic)
and its delivery loop (Livreur) in this process, as the workers do; a local receiver (uvicorn, its own
process, 127.0.0.1) answers 204 and records each delivery's latency: arrival time minus the event's
`time` (set when the event is created, just before it is published: "committed -> delivered"), and
keeps every 50th delivery of each subscription whole, whose signature the bench verifies with the
independent `standardwebhooks` library at the end. While waiting, the bench asks it for counts only
(with one client: building an httpx client per poll, as before, ate a third of the bench's CPU).

Three phases, each on 10 fresh subscriptions of one region:
1. throughput: --evenements events published at once, until every delivery arrived (deliveries/s);
2. paced: the same number at --cadence events/s: p50/p99 committed -> delivered (target p99 < 1 s at
   100 events/s);
3. the same with one of the 10 endpoints answering in 10 s: the 9 others' p50/p99, to compare with 2.

    .venv/bin/python bench/bench_webhooks.py                      # 300 events (a quick run)
    .venv/bin/python bench/bench_webhooks.py --evenements 10000   # the issue's size
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from _postgres import base_migree, grappe_de_banc  # bench/, the script's folder
from fastapi import FastAPI
from sqlalchemy import update

from hopen_common.auth import Principal, Role
from hopen_common.contracts import CandidatureDeposee
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.session import session_scope
from hopen_common.devstack._util import free_port
from hopen_common.devstack.kafka import KafkaBroker, ensure_topics_async
from hopen_common.devstack.stack import find_repo_root
from hopen_common.events import nouvel_evenement
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import ProducteurReconstruit, build_consumer, build_producer, stop_with_timeout
from hopen_common.reveil import executer
from hopen_common.service import superviser
from hopen_instruction.models import WebhookAbonnement
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks import service
from hopen_instruction.webhooks.schemas import WebhookDemande
from hopen_instruction.webhooks.worker import Livreur, livreur_de
from hopen_instruction.webhooks.worker import consommateur as consommateur_du_service

REGION = "84"
ABONNEMENTS = 10
LENT = 10.0  # seconds the slow endpoint of phase 3 takes to answer
ARS = Principal(subject="bench-ars", role=Role.ARS, region=REGION)


# --- the receiver (its own process: `bench_webhooks.py --recepteur PORT`) ----------------------------

RECUES: dict[str, list[float]] = defaultdict(list)
ECHANTILLONS: list[dict[str, Any]] = []
ECHANTILLON = 50  # one delivery in this many is kept whole (headers, body) to verify its signature


async def recepteur(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (message := await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    corps = b""
    while True:
        message = await receive()
        corps += message.get("body", b"")
        if not message.get("more_body"):
            break
    arrivee = time.time()
    if scope["method"] == "GET":  # the bench reads what arrived (counts while it waits)
        reponse = json.dumps(
            {c: len(v) for c, v in RECUES.items()} if scope["path"] == "/comptes"
            else ECHANTILLONS if scope["path"] == "/echantillons" else RECUES).encode()
        if scope["path"] == "/echantillons":  # each phase's, verified at its end (the timestamp's
            ECHANTILLONS.clear()  # tolerance is 5 minutes: a whole run is longer)
        await send({"type": "http.response.start", "status": 200,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": reponse})
        return
    evenement = json.loads(corps)
    latences = RECUES[scope["path"]]
    latences.append(arrivee - datetime.fromisoformat(evenement["time"]).timestamp())
    if len(latences) % ECHANTILLON == 1:
        ECHANTILLONS.append({"chemin": scope["path"], "corps": corps.decode(),
                             "entetes": {k.decode(): v.decode() for k, v in scope["headers"]}})
    if scope["path"].endswith("/lent"):
        await asyncio.sleep(LENT)
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})


def lancer_recepteur(port: int) -> None:
    import uvicorn

    uvicorn.run("bench_webhooks:recepteur", host="127.0.0.1", port=port, log_level="warning",
                app_dir=str(Path(__file__).parent), lifespan="on")


# --- the bench ---------------------------------------------------------------------------------------

def centile(valeurs: list[float], q: float) -> float:
    ordonnees = sorted(valeurs)
    return ordonnees[min(len(ordonnees) - 1, int(q * len(ordonnees)))]


async def lire(client: httpx.AsyncClient, chemin: str) -> Any:
    return (await client.get(chemin)).json()


def voies(livreur: Livreur) -> str:
    """How the phase's deliveries went: handed over by the consumer / claimed from the store (then reset)."""
    main, base = livreur.par_la_main, livreur.par_la_base
    livreur.par_la_main = livreur.par_la_base = 0
    return f"{main} par la main, {base} par la base"


def verifier_signatures(echantillons: list[dict[str, Any]], secrets: dict[str, str]) -> int:
    """What an integrator does, on the bytes received; raises on the first bad one."""
    from standardwebhooks import Webhook

    for e in echantillons:
        Webhook(secrets[e["chemin"]]).verify(e["corps"], e["entetes"])
    return len(echantillons)


async def abonner(sessions: Any, base: str, phase: str, secrets: dict[str, str], *, lent: bool = False
                  ) -> list[str]:
    """10 new subscriptions (the previous phase's disabled): their receiver paths (and their secrets
    into `secrets`)."""
    reglages = service.Reglages.de(InstructionSettings(environment="development",
                                                       webhooks_destinations_permises=["127.0.0.1/32"]))
    chemins = [f"/{phase}/s{i}" + ("/lent" if lent and i == 0 else "") for i in range(ABONNEMENTS)]
    async with session_scope(sessions) as session:
        await session.execute(update(WebhookAbonnement).values(actif=False))
        for chemin in chemins:
            cree = await service.creer(session, ARS, WebhookDemande(url=base + chemin,
                                                                    types=["CandidatureDeposee"]),
                                       reglages=reglages, maintenant=datetime.now(UTC))
            secrets[chemin] = cree.secret
    return chemins


async def publier_a_part(bootstrap: str, topic: str, n: int, cadence: float | None) -> None:
    """The load in its own process (as the services' relays are in production): its CPU is not the
    measured process's."""
    commande = [sys.executable, __file__, "--publieur", bootstrap, topic, str(n), str(cadence or 0)]
    processus = await asyncio.create_subprocess_exec(*commande)
    if await processus.wait() != 0:
        raise SystemExit(f"the publisher failed ({processus.returncode})")


async def publier_seul(bootstrap: str, topic: str, n: int, cadence: float | None) -> None:
    producteur = build_producer(bootstrap, client_id="bench-publieur")
    await producteur.start()
    try:
        await publier(producteur, topic, n, cadence)
    finally:
        await stop_with_timeout(producteur)


async def publier(producteur: Any, topic: str, n: int, cadence: float | None) -> None:
    debut = time.monotonic()
    envois = []
    for i in range(n):
        if cadence is not None:
            attente = debut + i / cadence - time.monotonic()
            if attente > 0:
                await asyncio.sleep(attente)
        cid = str(uuid.uuid4())
        evenement = nouvel_evenement(CandidatureDeposee(
            candidature_id=cid, dispositif="phase1", finess="010000024", raison_sociale="CH",
            region=REGION, objectifs=["P1.O1"], domaines_sun_es=[], deposee_le=datetime.now(UTC),
            deposee_par="bench"), source="/bench", subject=f"candidature/{cid}")
        envois.append(await producteur.send(topic, evenement.to_bytes(), key=cid.encode()))
    await asyncio.gather(*envois)


async def attendre(client: httpx.AsyncClient, chemins: list[str], n: int, en: float
                   ) -> dict[str, list[float]]:
    limite = time.monotonic() + en
    while True:
        comptes = await lire(client, "/comptes")
        if all(comptes.get(c, 0) >= n for c in chemins):
            recues: dict[str, list[float]] = await lire(client, "/stats")
            return recues
        if time.monotonic() > limite:
            manque = {c: n - comptes.get(c, 0) for c in chemins}
            raise SystemExit(f"deliveries missing after {en:.0f} s: {manque}")
        await asyncio.sleep(0.2)


def resume(recues: dict[str, list[float]], chemins: list[str]) -> dict[str, float]:
    latences = [v for c in chemins for v in recues[c]]
    return {"livraisons": len(latences), "p50_ms": round(centile(latences, 0.5) * 1000, 1),
            "p99_ms": round(centile(latences, 0.99) * 1000, 1), "max_ms": round(max(latences) * 1000, 1),
            "moyenne_ms": round(statistics.fmean(latences) * 1000, 1)}


async def _stockes_en(consommateur: EventConsumer, n: int) -> float:
    """When the consumer has applied its n-th event (polled: the consumer has no signal to wait on)."""
    while consommateur.processed < n:  # noqa: ASYNC110
        await asyncio.sleep(0.02)
    return time.monotonic()


async def banc(args: argparse.Namespace, url: str, bootstrap: str, base: str) -> dict[str, Any]:
    topic = f"bench.{uuid.uuid4().hex[:8]}.candidature"
    await ensure_topics_async(bootstrap, [topic, f"hopen.dlq.{service.CONSOMMATEUR}"])
    reglages = InstructionSettings(
        environment="development", database_url=url, kafka_bootstrap_servers=bootstrap,
        webhooks_destinations_permises=["127.0.0.1/32"],
        webhooks_concurrence_par_abonnement=args.par_abonnement, webhooks_main_max=args.main_max)
    engine = build_engine(url, pool_size=ABONNEMENTS + 5)
    sessions = build_sessionmaker(engine)
    producteur = ProducteurReconstruit(lambda: build_producer(bootstrap, client_id="bench"))
    kafka = build_consumer(bootstrap, topic, group_id=f"bench-{uuid.uuid4().hex[:6]}")
    await kafka.start()
    # What the service's workers build (worker.consommateur, worker.livreur_de), on this process's state.
    app = FastAPI()
    app.state.settings, app.state.sessionmaker, app.state.producer = reglages, sessions, producteur
    livreur = livreur_de(app)
    consommateur = consommateur_du_service(app, kafka)
    taches = [asyncio.create_task(superviser(consommateur)), asyncio.create_task(livreur.run_forever())]
    n = args.evenements
    resultats: dict[str, Any] = {"evenements": n, "abonnements": ABONNEMENTS, "cadence": args.cadence,
                                 "par_abonnement": args.par_abonnement}
    secrets: dict[str, str] = {}
    verifiees = 0
    client = httpx.AsyncClient(base_url=base)
    try:
        chemins = await abonner(sessions, base, "debit", secrets)
        debut, cpu = time.monotonic(), time.process_time()
        deja = consommateur.processed
        stockes = asyncio.create_task(_stockes_en(consommateur, deja + n))
        await publier_a_part(bootstrap, topic, n, None)
        recues = await attendre(client, chemins, n, en=max(120.0, n * 0.5))
        duree, cpu = time.monotonic() - debut, time.process_time() - cpu
        stockage = await stockes - debut
        # CPU of this process (consumer + loop, not the publisher, the receiver nor PostgreSQL) per
        # delivery: less at the mercy of the other jobs of the machine than the wall-clock rate.
        resultats["debit"] = {"secondes": round(duree, 2),
                              "livraisons_par_seconde": round(n * ABONNEMENTS / duree, 1),
                              "cpu_ms_par_livraison": round(cpu * 1000 / (n * ABONNEMENTS), 2),
                              # the consumer alone: every event stored with its deliveries
                              "evenements_stockes_par_seconde": round(n / stockage, 1),
                              **resume(recues, chemins)}
        resultats["debit"]["voie_rapide"] = voies(livreur)
        print("throughput", resultats["debit"], flush=True)
        verifiees += verifier_signatures(await lire(client, "/echantillons"), secrets)

        chemins = await abonner(sessions, base, "cadence", secrets)
        await publier_a_part(bootstrap, topic, n, args.cadence)
        recues = await attendre(client, chemins, n, en=n / args.cadence + 120)
        resultats["cadence_10_rapides"] = resume(recues, chemins)
        resultats["cadence_10_rapides"]["voie_rapide"] = voies(livreur)
        print("paced", resultats["cadence_10_rapides"], flush=True)
        verifiees += verifier_signatures(await lire(client, "/echantillons"), secrets)

        chemins = await abonner(sessions, base, "lent", secrets, lent=True)
        rapides = [c for c in chemins if not c.endswith("/lent")]
        await publier_a_part(bootstrap, topic, n, args.cadence)
        recues = await attendre(client, rapides, n, en=n / args.cadence + 120)
        resultats["cadence_9_rapides_1_lent"] = {**resume(recues, rapides),
                                                 "lent_recues": len(recues.get(chemins[0], []))}
        resultats["cadence_9_rapides_1_lent"]["voie_rapide"] = voies(livreur)
        print("paced, one endpoint at 10 s", resultats["cadence_9_rapides_1_lent"], flush=True)
        verifiees += verifier_signatures(await lire(client, "/echantillons"), secrets)
        resultats["signatures_verifiees"] = verifiees
    finally:
        await client.aclose()
        for tache in taches:
            tache.cancel()
        for tache in taches:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await tache
        await stop_with_timeout(kafka)
        await producteur.arreter()
        await engine.dispose()
    return resultats


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--evenements", type=int, default=300)
    parser.add_argument("--cadence", type=float, default=100.0, help="events/s of the paced phases")
    parser.add_argument("--main-max", type=int,
                        default=InstructionSettings.model_fields["webhooks_main_max"].default,
                        help="webhooks_main_max: deliveries handed over to one subscription's task at most")
    parser.add_argument("--par-abonnement", type=int, default=1,
                        help="webhooks_concurrence_par_abonnement (deliveries in flight per subscription)")
    parser.add_argument("--pg-port", type=int)
    parser.add_argument("--sortie", type=Path)
    parser.add_argument("--recepteur", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--publieur", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.recepteur:
        lancer_recepteur(args.recepteur)
        return
    if args.publieur:
        bootstrap, topic, n, cadence = args.publieur
        executer(publier_seul(bootstrap, topic, int(n), float(cadence) or None))
        return
    racine = find_repo_root()
    with tempfile.TemporaryDirectory(prefix="bench-webhooks-") as dossier:
        admin, port, grappe = grappe_de_banc(args.pg_port, Path(dossier), fast=False)
        broker = KafkaBroker(Path(dossier) / "kafka", free_port(), free_port(), racine / "deploy" / "kafka")
        port_recepteur = free_port()
        recepteur_proc = subprocess.Popen([sys.executable, __file__, "--recepteur", str(port_recepteur)],
                                          env={**os.environ})
        try:
            (Path(dossier) / "kafka").mkdir()
            broker.start()
            url = base_migree(admin, port, "instruction", "bench_webhooks")
            base = f"http://127.0.0.1:{port_recepteur}"
            for _ in range(100):
                with contextlib.suppress(httpx.HTTPError):
                    httpx.get(f"{base}/stats")
                    break
                time.sleep(0.1)
            resultats = executer(banc(args, url, broker.bootstrap, base))
        finally:
            recepteur_proc.terminate()
            recepteur_proc.wait(10)
            broker.stop()
            if grappe is not None:
                grappe.stop()
    print(json.dumps(resultats, indent=2))
    if args.sortie:
        args.sortie.parent.mkdir(parents=True, exist_ok=True)
        args.sortie.write_text(json.dumps(resultats, indent=2) + "\n")


if __name__ == "__main__":
    main()
