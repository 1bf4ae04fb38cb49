"""Building blocks of a service process: the FastAPI app and its background workers."""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import zlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field

from fastapi import APIRouter, FastAPI

from hopen_common.audit_api import router as audit_router
from hopen_common.audit_api import signer_points_de_controle
from hopen_common.db.session import build_engine, build_sessionmaker
from hopen_common.errors import install_problem_handlers
from hopen_common.garde_fous import installer_garde_fous
from hopen_common.habilitations import resolveur
from hopen_common.health import router as health_router
from hopen_common.inbox.consumer import EventConsumer, Handler
from hopen_common.kafka import ProducteurReconstruit, build_consumer, build_producer, stop_with_timeout
from hopen_common.openapi import documenter_erreurs
from hopen_common.operations import router as operations_router
from hopen_common.outbox.relay import OutboxRelay
from hopen_common.pannes import armer
from hopen_common.settings import ServiceSettings

log = logging.getLogger(__name__)

# What a service opens for its process's life besides the engine and the producer (its pieces store,
# a periodic task): entered after them, left before them, in the API process and in the workers-only one.
Ressource = Callable[[FastAPI], AbstractAsyncContextManager[None]]
# A loop of the workers (reminder scheduler, mail sender): started beside the relay and the consumer,
# restarted after a crash, cancelled at shutdown. Safe with any number of replicas by construction.
Tache = Callable[[FastAPI], Awaitable[None]]


@dataclass
class ServiceSpec:
    name: str
    title: str
    settings: ServiceSettings
    routers: Sequence[APIRouter] = ()
    # Event type -> handler, and the topics those types travel on.
    handlers: Mapping[str, Handler] = field(default_factory=dict)
    topics: Sequence[str] = ()
    ressources: Sequence[Ressource] = ()
    taches: Sequence[Tache] = ()


@asynccontextmanager
async def ressources(app: FastAPI, spec: ServiceSpec) -> AsyncIterator[None]:
    async with AsyncExitStack() as pile:
        for ressource in spec.ressources:
            await pile.enter_async_context(ressource(app))
        yield


# What a workers process runs: all three by default; one alone so that the relay and the consumer can
# be separate processes, each killed on its own (the fault matrix, ADR 0028).
ROLES = frozenset({"relais", "consommateur", "taches"})


def roles_demandes(arguments: Sequence[str]) -> frozenset[str]:
    """`python -m hopen_<name>.workers [relais] [consommateur] [taches]`: none named, all."""
    inconnus = set(arguments) - ROLES
    if inconnus:
        raise SystemExit(f"unknown worker role(s) {sorted(inconnus)}; one of {sorted(ROLES)}")
    return frozenset(arguments) or ROLES


def relay_lock_key(service: str) -> int:
    return zlib.crc32(f"hopen-outbox-relay:{service}".encode())


@asynccontextmanager
async def workers(app: FastAPI, spec: ServiceSpec, roles: frozenset[str] = ROLES) -> AsyncIterator[None]:
    """Outbox relay, consumer and periodic tasks (those of `roles`) as background tasks of this process."""
    settings = spec.settings
    armer(settings.environment)
    tasks: list[asyncio.Task[None]] = []
    if "relais" in roles:
        relay = OutboxRelay(
            database_url=settings.database_url,
            producteur=functools.partial(build_producer, settings.kafka_bootstrap_servers,
                                         client_id=f"{spec.name}-relais"),
            lock_key=relay_lock_key(spec.name),
            poll_interval=settings.relay_poll_interval_seconds,
            send_timeout=settings.kafka_send_timeout_seconds,
        )
        app.state.relay = relay
        tasks.append(asyncio.create_task(relay.run_forever(), name=f"{spec.name}-relay"))
    kafka_consumer = None
    if spec.handlers and "consommateur" in roles:
        kafka_consumer = build_consumer(
            settings.kafka_bootstrap_servers, *spec.topics, group_id=f"hopen-{spec.name}"
        )
        await kafka_consumer.start()
        consumer = EventConsumer(
            name=spec.name,
            consumer=kafka_consumer,
            producer=app.state.producer,
            sessionmaker=app.state.sessionmaker,
            handlers=spec.handlers,
            max_attempts=settings.consumer_max_attempts,
            retry_backoff=settings.consumer_retry_backoff_seconds,
        )
        app.state.consumer = consumer
        tasks.append(asyncio.create_task(superviser(consumer), name=f"{spec.name}-consumer"))
    for tache in (*spec.taches, signer_points_de_controle) if "taches" in roles else ():
        tasks.append(asyncio.create_task(relancer(tache, app), name=f"{spec.name}-{tache.__name__}"))
    try:
        yield
    finally:
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if kafka_consumer is not None:
            await stop_with_timeout(kafka_consumer)


async def superviser(consumer: EventConsumer, pause: float = 2.0) -> None:
    """Run the consumer loop forever, restarting it after a crash (it resumes from its
    committed offsets)."""
    while True:
        try:
            await consumer.run_forever()
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("consumer %s crashed; restarting in %s s", consumer.name, pause)
            await asyncio.sleep(pause)


async def relancer(tache: Tache, app: FastAPI, pause: float = 2.0) -> None:
    while True:
        try:
            await tache(app)
            return
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("tâche %s en échec ; reprise dans %s s", getattr(tache, "__name__", tache), pause)
            await asyncio.sleep(pause)


def producteur_du_service(spec: ServiceSpec) -> ProducteurReconstruit:
    """The process's producer for parking and readiness, rebuilt after a failure (the relay builds its
    own: its sends are the outbox's and must not wait behind another's)."""
    return ProducteurReconstruit(functools.partial(build_producer, spec.settings.kafka_bootstrap_servers,
                                                   client_id=spec.name))


def create_service_app(spec: ServiceSpec) -> FastAPI:
    settings = spec.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.settings = settings
        app.state.engine = build_engine(settings.database_url)
        app.state.sessionmaker = build_sessionmaker(app.state.engine)
        app.state.producer = producteur_du_service(spec)
        await app.state.producer.demarrer()  # a broker out of reach stops the start-up here
        try:
            async with ressources(app, spec):
                if settings.workers_in_process:
                    async with workers(app, spec):
                        yield
                else:
                    yield
        finally:
            await app.state.producer.arreter()
            await app.state.engine.dispose()

    app = FastAPI(title=spec.title, version="1.0.0", lifespan=lifespan)
    app.state.settings = settings
    app.state.spec = spec
    # An identity provider's token is what our rights tables say of its (iss, sub) (ADR 0022).
    app.state.resoudre_principal = resolveur(app)
    install_problem_handlers(app)
    # Issue 12: size limits, then the URL and JSON checks, before any route reads the request.
    installer_garde_fous(app, json_max=settings.corps_json_taille_max,
                         formulaire_max=settings.limite_formulaire())
    app.include_router(health_router)
    app.include_router(operations_router)
    app.include_router(audit_router)
    for router in spec.routers:
        app.include_router(router)
    documenter_erreurs(app)
    return app


async def run_workers_only(spec: ServiceSpec, roles: frozenset[str] = ROLES) -> None:
    """`python -m hopen_<name>.workers [role...]`: the same workers without the HTTP API."""
    spec.settings.workers_in_process = True
    app = FastAPI()
    app.state.settings = spec.settings
    app.state.engine = build_engine(spec.settings.database_url)
    app.state.sessionmaker = build_sessionmaker(app.state.engine)
    app.state.producer = producteur_du_service(spec)
    await app.state.producer.demarrer()
    try:
        async with ressources(app, spec), workers(app, spec, roles):
            await asyncio.Event().wait()
    finally:
        await app.state.producer.arreter()
        await app.state.engine.dispose()
