"""The history of transitions (read and append), with no dependency on the slices that move a dossier."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_instruction.etats.rules import TypeDossier
from hopen_instruction.models import TransitionDossier


async def enregistrer_transition(session: AsyncSession, dossier_type: TypeDossier, dossier_id: str, *,
                                 de: str | None, vers: str, par: str, le: datetime,
                                 motivation: str | None = None, identifiant: str | None = None) -> str:
    """One history row; `identifiant` (an event or decision id) makes a redelivery write nothing."""
    identifiant = identifiant or str(uuid.uuid4())
    await session.execute(insert(TransitionDossier).values(
        id=identifiant, dossier_type=dossier_type, dossier_id=dossier_id, de=de, vers=vers, par=par, le=le,
        motivation=motivation).on_conflict_do_nothing(index_elements=["id"]))
    return identifiant


async def historique(session: AsyncSession, dossier_type: TypeDossier, dossier_id: str
                     ) -> list[TransitionDossier]:
    return list(await session.scalars(select(TransitionDossier).where(
        TransitionDossier.dossier_type == dossier_type, TransitionDossier.dossier_id == dossier_id)
        .order_by(TransitionDossier.le, TransitionDossier.id)))
