from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import ArsOuDns, Dns
from hopen_common.auth.portee import exiger_region
from hopen_common.db import SessionDep
from hopen_common.region import CodeRegion
from hopen_reporting.syntheses import repository
from hopen_reporting.syntheses.rules import par_cle, totaliser
from hopen_reporting.syntheses.schemas import EnveloppeLue, Synthese, SyntheseNationale, TotauxLus

router = APIRouter(prefix="/v1", tags=["syntheses"])
Lecteur = ArsOuDns
National = Dns


async def _synthese(session: AsyncSession, region: str) -> Synthese:
    lignes = await repository.montants_par_secteur(session, region)
    totaux = totaliser((nature, montant) for _, nature, montant in lignes)
    return Synthese(
        region=region, **TotauxLus.de(totaux).model_dump(),
        candidatures=await repository.candidatures_par_statut(session, region),
        par_secteur={s: TotauxLus.de(t) for s, t in sorted(par_cle(lignes).items())},
        enveloppes=[EnveloppeLue.model_validate(c, from_attributes=True)
                    for c in await repository.enveloppes(session, region)],
    )


@router.get("/regions/{code}/synthese", response_model=Synthese)
async def synthese(code: CodeRegion, session: SessionDep, principal: Lecteur) -> Synthese:
    """ARS: its own region only (another region answers 404). DNS: every region."""
    exiger_region(principal, code, ressource="région", identifiant=code)
    return await _synthese(session, code)


@router.get("/synthese", response_model=SyntheseNationale)
async def synthese_nationale(session: SessionDep, _: National) -> SyntheseNationale:
    """DNS only: every region's synthesis and the national totals (the sum of the regions')."""
    regions = [await _synthese(session, r) for r in await repository.regions_connues(session)]
    lignes = await repository.montants_par_secteur(session, None)
    return SyntheseNationale(regions=regions,
                             **TotauxLus.de(totaliser((n, m) for _, n, m in lignes)).model_dump())
