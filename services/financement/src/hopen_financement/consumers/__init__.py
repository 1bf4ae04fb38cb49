"""Events the financement service consumes, and the handler of each type.

Every handler runs in the consumer's transaction with the inbox row (a redelivered event changes
nothing); each amount also has a unique business key (a deduplication bug still cannot pay twice).
A handler that raises is retried, then its event parked with its aggregate's key.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import EtablissementPublie, Topics
from hopen_common.events import Evenement
from hopen_common.habilitations import HANDLERS as HANDLERS_HABILITATIONS
from hopen_common.inbox import Handler
from hopen_financement.aap.service import sur_atteinte_decidee, sur_projet_non_retenu, sur_projet_selectionne
from hopen_financement.etablissements.repository import enregistrer
from hopen_financement.forfaits.service import (
    sur_candidature_refusee,
    sur_candidature_validee,
    sur_objectif_decide,
)
from hopen_financement.hospiconnect.service import sur_decision_annuelle, sur_depenses_declarees


async def etablissement_publie(session: AsyncSession, evenement: Evenement, e: EtablissementPublie) -> None:
    await enregistrer(session, e, instantane_le=evenement.time)


HANDLERS: dict[str, Handler] = {
    **HANDLERS_HABILITATIONS,  # the rights of the persons (ADR 0022)
    "EtablissementPublie": etablissement_publie,
    # phase 1 (instruction)
    "CandidatureValidee": sur_candidature_validee,
    "CandidatureRefusee": sur_candidature_refusee,
    "ObjectifAtteint": sur_objectif_decide,
    "ObjectifNonAtteint": sur_objectif_decide,
    # HospiConnect (instruction: yearly decision; candidature: declared expenses)
    "HospiconnectAnneeDecidee": sur_decision_annuelle,
    "DepensesDeclarees": sur_depenses_declarees,
    # AAP (instruction)
    "ProjetAapSelectionne": sur_projet_selectionne,
    "ProjetAapNonRetenu": sur_projet_non_retenu,
    "AtteinteProjetAapDecidee": sur_atteinte_decidee,
}
TOPICS = [Topics.ETABLISSEMENT, Topics.CANDIDATURE, Topics.DOSSIER, Topics.PROJET, Topics.HABILITATION]
