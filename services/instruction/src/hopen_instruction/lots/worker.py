"""The lot worker (ADR 0018): decides the pending dossiers of lots one at a time, each in its own
transaction that also records its outcome, so a crash anywhere leaves the dossier pending (its decision
not committed either) and the next run takes it again; nothing is decided twice, nothing is lost.
Several replicas share the queue (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

import httpx
from fastapi import FastAPI
from pydantic import TypeAdapter
from sqlalchemy import select
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.db.session import session_scope
from hopen_common.problemes import ERREUR_INTERNE
from hopen_common.reveil import attendre_reveil
from hopen_common.simulations import probleme_de, probleme_du_type
from hopen_instruction.lots.schemas import DecisionLot
from hopen_instruction.lots.service import decider, principal_du_lot, proposeur_du_lot
from hopen_instruction.models import Lot, LotDossier

log = logging.getLogger(__name__)
_DECISION: TypeAdapter[DecisionLot] = TypeAdapter(DecisionLot)


async def traiter_un(sessionmaker: async_sessionmaker[AsyncSession], *, ouvert: bool) -> bool:
    """Decide the oldest pending dossier of any lot; False when there is none."""
    async with session_scope(sessionmaker) as session:
        ligne = await session.scalar(
            select(LotDossier).where(LotDossier.statut == "en_attente")
            .order_by(LotDossier.cree_le, LotDossier.lot_id, LotDossier.rang)
            .limit(1).with_for_update(skip_locked=True))
        if ligne is None:
            return False
        lot = await session.get(Lot, ligne.lot_id)
        assert lot is not None  # foreign key
        maintenant = datetime.now(UTC)
        try:
            async with session.begin_nested():
                decision_id = await decider(
                    session, principal_du_lot(lot), _DECISION.validate_python(lot.decision), ligne.dossier_id,
                    ouvert=ouvert, maintenant=maintenant, proposee_par=proposeur_du_lot(lot))
            ligne.statut, ligne.decision_id = "ok", decision_id
        except DBAPIError as exc:
            if exc.connection_invalidated:
                raise  # the database is gone: the dossier stays pending for the next run
            _refuser(ligne, exc)
        except Exception as exc:
            _refuser(ligne, exc)
        ligne.traite_le = maintenant
    return True


def _refuser(ligne: LotDossier, exc: Exception) -> None:
    probleme = probleme_de(exc)
    if probleme is None:
        # Not a refusal but a bug or a race: recorded on this dossier, the lot goes on.
        log.exception("lot %s, dossier %s", ligne.lot_id, ligne.dossier_id, exc_info=exc)
        probleme = probleme_du_type(ERREUR_INTERNE, f"{type(exc).__name__}: {exc}")
    ligne.statut = "refuse"
    ligne.probleme = probleme.model_dump(mode="json")


async def boucle(sessionmaker: async_sessionmaker[AsyncSession], reveil: asyncio.Event, *, ouvert: bool,
                 pause: float) -> None:
    while True:
        try:
            traite = await traiter_un(sessionmaker, ouvert=ouvert)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("lot worker: retrying in %s s", pause)
            traite = False
        if not traite:
            reveil.clear()
            await attendre_reveil(reveil, pause)


@asynccontextmanager
async def lots(app: FastAPI) -> AsyncIterator[None]:
    """Resource of the instruction process: financement's client (the dry run's amounts) and the lot
    worker. Tests may set `app.state.transport_financement` (financement's app in process)."""
    settings = app.state.settings
    transport = getattr(app.state, "transport_financement", None)
    async with httpx.AsyncClient(base_url=settings.financement_url, transport=transport,
                                 timeout=settings.financement_timeout_secondes) as client:
        app.state.financement = client
        app.state.reveil_lots = reveil = asyncio.Event()
        tache = None
        if settings.lots_actifs:
            tache = asyncio.create_task(
                boucle(app.state.sessionmaker, reveil, ouvert=settings.calendrier_ouvert,
                       pause=settings.lots_pause_secondes), name="instruction-lots")
        try:
            yield
        finally:
            if tache is not None:
                tache.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await tache
