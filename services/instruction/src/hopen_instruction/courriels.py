"""Mail to the ARS regional mailboxes from the events instruction consumes (ADR 0017), queued in the
inbox transaction, deduplicated on (event id, recipient). The ARS reminders are queued by the
scheduler itself (echeances.service); the establishment's messages are mailed from here (the ARS's
own messages travel on another type, MessageEnvoyeParArs, so they are never mailed back to it)."""

from __future__ import annotations

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.courriel import mettre_en_file
from hopen_common.events import Evenement
from hopen_common.inbox import Handler
from hopen_instruction.models import Courriel
from hopen_instruction.settings import InstructionSettings


def courriel_ars(modele: str) -> Handler:
    async def courriel(session: AsyncSession, evenement: Evenement, payload: BaseModel) -> None:
        region = getattr(payload, "region", None)
        if not region:
            return
        reglages = InstructionSettings()
        await mettre_en_file(session, Courriel, cause=evenement.id,
                             destinataires=[reglages.courriel_ars(region)], modele=modele,
                             variables=payload.model_dump(), domaine=reglages.courriel_domaine)
    courriel.__name__ = f"courriel_ars_{modele}"
    return courriel


# Event type -> template of the ARS mail; chained after the state handlers (consumers.HANDLERS).
MODELES: dict[str, str] = {"MessageEnvoyeParEtablissement": "message_envoye"}
COURRIELS: dict[str, Handler] = {t: courriel_ars(m) for t, m in MODELES.items()}
