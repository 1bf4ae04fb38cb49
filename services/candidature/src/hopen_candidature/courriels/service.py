"""Mail to establishments (ADR 0017): each event below queues one mail to the contact address of the
establishment it concerns, in the inbox transaction that applies the event (dedup on event id and
recipient). Adding a mail = a template file in hopen_common/courriel/modeles + an entry in MODELES."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.models import ContactEtablissement, Courriel
from hopen_candidature.settings import CandidatureSettings
from hopen_common.courriel import mettre_en_file
from hopen_common.events import Evenement
from hopen_common.inbox import Handler

# Event type -> template (the establishment's side: the ARS's decisions, correction requests and
# messages, and its reminders).
MODELES: dict[str, str] = {
    "CorrectionDemandee": "correction_demandee",
    "CorrectionProjetDemandee": "correction_demandee",
    "MessageEnvoyeParArs": "message_envoye",
    "CandidatureValidee": "candidature_validee",
    "CandidatureRefusee": "candidature_refusee",
    "ObjectifAtteint": "objectif_atteint",
    "ObjectifNonAtteint": "objectif_non_atteint",
    "HospiconnectAnneeDecidee": "hospiconnect_annee_decidee",
    "ProjetAapSelectionne": "projet_aap_selectionne",
    "ProjetAapNonRetenu": "projet_aap_non_retenu",
    "AtteinteProjetAapDecidee": "atteinte_projet_aap_decidee",
    "RappelEcheanceEmis": "rappel_echeance_etablissement",
}


async def contacts(session: AsyncSession, finess: list[str]) -> list[str]:
    return list(await session.scalars(
        select(ContactEtablissement.courriel).where(ContactEtablissement.finess.in_(finess))))


def _finess(payload: Any) -> list[str]:
    """Who is told: the FINESS the event names (the applicant / lead, and a GHT member EJ judged)."""
    return [f for f in (getattr(payload, "finess", None), getattr(payload, "finess_ej", None)) if f]


def handler_courriel(modele: str, reglages: CandidatureSettings | None = None) -> Handler:
    async def courriel(session: AsyncSession, evenement: Evenement, payload: BaseModel) -> None:
        if getattr(payload, "destinataire", "etablissement") != "etablissement":
            return  # an ARS reminder: instruction mails the ARS itself
        destinataires = await contacts(session, _finess(payload))
        r = reglages or CandidatureSettings()
        await mettre_en_file(session, Courriel, cause=evenement.id, destinataires=destinataires,
                             modele=modele, variables=payload.model_dump(), domaine=r.courriel_domaine)
    courriel.__name__ = f"courriel_{modele}"
    return courriel


COURRIELS: dict[str, Handler] = {t: handler_courriel(m) for t, m in MODELES.items()}
