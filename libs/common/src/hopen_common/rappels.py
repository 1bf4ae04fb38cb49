"""The reminder scheduler every service with deadlines to remind runs in its workers (ADR 0016):
for each deadline whose J-7 or J-1 is due today, for each target the service says still has
something to do, one `rappel_emis` row (primary key: deadline, target, reminder), inserted
ON CONFLICT DO NOTHING in the transaction that writes its RappelEcheanceEmis outbox row and what the
service adds (a mail). A replica that loses the race inserts nothing; the transaction-scoped
advisory lock only spares replicas the same pass at the same time."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import DateTime, String, text
from sqlalchemy.dialects.postgresql import JSONB, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.orm import Mapped, mapped_column

from hopen_common.contracts.echeances import RappelEcheanceEmis
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.programme.echeances import Echeance, rappel_du

log = logging.getLogger(__name__)


class RappelEmisMixin:
    """A reminder sent: the primary key is what makes it once-only. Append-only (immutable)."""

    __tablename__ = "rappel_emis"

    echeance: Mapped[str] = mapped_column(String(100), primary_key=True)  # e.g. phase1.fin_instruction
    cible: Mapped[str] = mapped_column(String(50), primary_key=True)  # ars:<region> | etablissement:<finess>
    rappel: Mapped[str] = mapped_column(String(3), primary_key=True)  # J-7 | J-1
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    dossiers: Mapped[list[str]] = mapped_column(JSONB)
    emis_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


def creer_table_rappel_emis(op: Any) -> None:
    """Explicit DDL of RappelEmisMixin (immutable), for a service's migration."""
    from hopen_common.db.migrations import rendre_immuables

    op.create_table(
        "rappel_emis",
        sa.Column("echeance", sa.String(length=100), nullable=False),
        sa.Column("cible", sa.String(length=50), nullable=False),
        sa.Column("rappel", sa.String(length=3), nullable=False),
        sa.Column("event_id", sa.String(length=64), nullable=False),
        sa.Column("dossiers", JSONB(), nullable=False),
        sa.Column("emis_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("echeance", "cible", "rappel", name=op.f("pk_rappel_emis")),
        sa.UniqueConstraint("event_id", name=op.f("uq_rappel_emis_event_id")),
    )
    rendre_immuables(op, "rappel_emis")


@dataclass(frozen=True)
class Cible:
    cible: str  # ars:<region> | etablissement:<finess> | brouillon:<id>
    region: str
    finess: str | None
    dossiers: tuple[str, ...]


def rappel_id(echeance: str, cible: str, rappel: str) -> str:
    return f"{echeance}|{cible}|{rappel}"


Concernes = Callable[[AsyncSession, Echeance], Awaitable[list[Cible]]]
# What the service adds in the same transaction for a new reminder (e.g. queue its mail).
Suite = Callable[[AsyncSession, RappelEcheanceEmis, Evenement, Cible], Awaitable[None]]


@dataclass
class Emetteur:
    table: type[RappelEmisMixin]
    concernes: Concernes
    source: str  # CloudEvents source of the service
    topic: str
    cle: Callable[[RappelEcheanceEmis], str] = lambda p: p.rappel_id  # Kafka key
    suite: Suite | None = None
    modele: type[RappelEcheanceEmis] = RappelEcheanceEmis  # the event type (RappelDepotEmis for drafts)

    async def emettre(self, session: AsyncSession, *, jour: date, liste: Sequence[Echeance],
                      maintenant: datetime) -> list[RappelEcheanceEmis]:
        """Every reminder due on `jour` not sent yet, in the caller's transaction."""
        emis: list[RappelEcheanceEmis] = []
        for echeance in liste:
            rappel = rappel_du(echeance.date, jour)
            if rappel is None:
                continue
            for cible in await self.concernes(session, echeance):
                payload = self.modele(
                    rappel_id=rappel_id(echeance.cle, cible.cible, rappel), echeance=echeance.cle,
                    libelle=echeance.libelle, dispositif=echeance.dispositif, date_echeance=echeance.date,
                    rappel=rappel, destinataire=echeance.destinataire, region=cible.region,
                    finess=cible.finess, dossiers=list(cible.dossiers), emis_le=maintenant)
                evenement = nouvel_evenement(payload, source=self.source, subject=f"echeance/{echeance.cle}")
                requete: Any = insert(self.table).values(
                    echeance=echeance.cle, cible=cible.cible, rappel=rappel, event_id=evenement.id,
                    dossiers=list(cible.dossiers), emis_le=maintenant,
                ).on_conflict_do_nothing(index_elements=["echeance", "cible", "rappel"]).returning(
                    sa.literal_column("event_id"))
                if (await session.execute(requete)).first() is None:
                    continue  # sent already (by us earlier, or by a replica that won the race)
                await publier(session, self.topic, self.cle(payload), evenement)
                if self.suite is not None:
                    await self.suite(session, payload, evenement, cible)
                session.add(JournalAudit(acteur="systeme", role="systeme", action="rappel_echeance_emis",
                                         objet_type="echeance", objet_id=payload.rappel_id,
                                         region=cible.region, details={"event_id": evenement.id,
                                                  "dossiers": list(cible.dossiers)}))
                emis.append(payload)
        await session.flush()
        return emis


class Planificateur:
    """One pass per interval, in one transaction."""

    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], emetteur: Emetteur, *,
                 liste: Sequence[Echeance], jour: Callable[[], date], verrou: int,
                 intervalle: float = 300.0) -> None:
        self.sessionmaker = sessionmaker
        self.emetteur = emetteur
        self.liste = list(liste)
        self.jour = jour
        self.cle_verrou = verrou
        self.intervalle = intervalle

    async def passage(self, *, verrou: bool = True) -> list[RappelEcheanceEmis]:
        async with self.sessionmaker() as session, session.begin():
            if verrou and not await session.scalar(text("SELECT pg_try_advisory_xact_lock(:k)"),
                                                   {"k": self.cle_verrou}):
                return []
            return await self.emetteur.emettre(session, jour=self.jour(), liste=self.liste,
                                               maintenant=datetime.now(UTC))

    async def run_forever(self) -> None:
        while True:
            try:
                emis = await self.passage()
                if emis:
                    log.info("%d rappel(s) d'échéance émis", len(emis))
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("planificateur des rappels : échec d'un passage")
            await asyncio.sleep(self.intervalle)
