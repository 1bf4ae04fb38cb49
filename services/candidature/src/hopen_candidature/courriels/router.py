from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert

from hopen_candidature.courriels.schemas import ContactDemande, ContactLu
from hopen_candidature.models import ContactEtablissement, EtablissementConnu
from hopen_common.auth import Etablissement
from hopen_common.auth.portee import exiger_finess
from hopen_common.db import SessionDep
from hopen_common.db.messaging import JournalAudit
from hopen_common.problemes import introuvable

router = APIRouter(prefix="/v1/etablissements", tags=["courriels"])


@router.put("/{finess}/contact", response_model=ContactLu)
async def definir(finess: str, demande: ContactDemande, session: SessionDep,
                  principal: Etablissement) -> ContactLu:
    """The establishment (a FINESS of its token) sets the address it receives HOP'EN mail at:
    decisions, correction requests, messages, reminders. Audited."""
    exiger_finess(principal, finess, ressource="etablissement", identifiant=finess)
    valeurs = {"finess": finess, "courriel": demande.courriel, "maj_par": principal.subject,
               "maj_le": datetime.now(UTC)}
    await session.execute(insert(ContactEtablissement).values(valeurs).on_conflict_do_update(
        index_elements=["finess"], set_={k: v for k, v in valeurs.items() if k != "finess"}))
    # The establishment's region (local copy of the referentiel), for its ARS to read the row.
    region = await session.scalar(select(EtablissementConnu.region)
                                  .where(EtablissementConnu.finess == finess))
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="contact_defini",
                             objet_type="etablissement", objet_id=finess, region=region,
                             details={"courriel": demande.courriel}))
    return ContactLu(**valeurs)


@router.get("/{finess}/contact", response_model=ContactLu)
async def lire(finess: str, session: SessionDep, principal: Etablissement) -> ContactLu:
    exiger_finess(principal, finess, ressource="etablissement", identifiant=finess)
    contact = await session.get(ContactEtablissement, finess)
    if contact is None:
        raise introuvable("contact", finess)
    return ContactLu.model_validate(contact, from_attributes=True)
