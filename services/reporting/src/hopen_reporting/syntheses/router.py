from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import BaseModel
from sqlalchemy import func, select

from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.db import SessionDep
from hopen_common.errors import introuvable
from hopen_common.montants import Euros
from hopen_reporting.models import EtatCandidature, MontantNotifie

router = APIRouter(prefix="/v1/regions", tags=["syntheses"])
Lecteur = Annotated[Principal, Depends(exiger_roles(Role.ARS, Role.DNS))]


class Synthese(BaseModel):
    region: str
    candidatures: dict[str, int]
    amorcage: Euros
    solde: Euros
    reprise: Euros
    net: Euros  # amorcage + solde - reprise: what the region's ES keep


@router.get("/{code}/synthese", response_model=Synthese)
async def synthese(code: Annotated[str, Path(pattern=r"^[0-9]{2}$")], session: SessionDep,
                   principal: Lecteur) -> Synthese:
    """ARS: its own region only (another region answers 404). DNS: every region."""
    if not principal.voit_region(code):
        raise introuvable("région", code)
    totaux = dict((await session.execute(
        select(MontantNotifie.nature, func.coalesce(func.sum(MontantNotifie.montant), 0))
        .where(MontantNotifie.region == code).group_by(MontantNotifie.nature))).tuples().all())
    comptes = dict((await session.execute(
        select(EtatCandidature.statut, func.count())
        .where(EtatCandidature.region == code).group_by(EtatCandidature.statut))).tuples().all())
    zero = Decimal("0.00")
    amorcage = Decimal(totaux.get("amorcage", zero))
    solde = Decimal(totaux.get("solde", zero))
    reprise = Decimal(totaux.get("reprise", zero))
    return Synthese(region=code, candidatures=comptes, amorcage=amorcage, solde=solde,
                    reprise=reprise, net=amorcage + solde - reprise)
