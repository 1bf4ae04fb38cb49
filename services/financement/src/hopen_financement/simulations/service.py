from __future__ import annotations

from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.etablissements.repository import activite_combinee_max_nationale
from hopen_financement.forfaits.rules import calculer_forfait_phase1
from hopen_financement.hospiconnect.rules import montant_annuel
from hopen_financement.simulations.schemas import (
    ObjectifSimule,
    ResultatHospiconnect,
    ResultatPhase1,
    SimulationHospiconnect,
    SimulationPhase1,
)


async def simuler_phase1(session: AsyncSession, demande: SimulationPhase1) -> ResultatPhase1:
    programme = charger_programme_phase1()
    vus: set[str] = set()
    for i, objectif in enumerate(demande.objectifs):
        if objectif not in programme.objectifs:
            raise RegleMetierError(f"objectif de phase 1 inconnu : {objectif}", f"objectifs.{i}")
        if objectif in vus:
            raise RegleMetierError(f"objectif {objectif} présent deux fois", f"objectifs.{i}")
        vus.add(objectif)
    if demande.activite_combinee_max is not None:
        maximum, source = demande.activite_combinee_max, "demande"
    else:
        base = await activite_combinee_max_nationale(session)
        if base is None:
            raise RegleMetierError("base des établissements éligibles vide : précisez activite_combinee_max",
                                   "activite_combinee_max")
        maximum, source = base, "base"
    calculs = [calculer_forfait_phase1(demande.activite_combinee, o, maximum, programme)
               for o in demande.objectifs]
    zero = Decimal("0.00")
    return ResultatPhase1(
        activite_combinee=demande.activite_combinee, activite_combinee_max=maximum, source_maximum=source,
        programme_version=programme.version,
        objectifs=[ObjectifSimule(objectif=c.objectif, tranche=c.tranche, forfait=c.forfait,
                                  amorcage=c.amorcage, solde=c.solde) for c in calculs],
        total=sum((c.forfait for c in calculs), zero),
        total_amorcage=sum((c.amorcage for c in calculs), zero),
        total_solde=sum((c.solde for c in calculs), zero),
    )


def simuler_hospiconnect(demande: SimulationHospiconnect) -> ResultatHospiconnect:
    programme = charger_programme_hospiconnect()
    if len(set(demande.objectifs_atteints)) != len(demande.objectifs_atteints):
        raise RegleMetierError("objectif présent deux fois", "objectifs_atteints")
    c = montant_annuel(demande.effectifs, demande.objectifs_atteints, demande.depenses_eligibles,
                       programme, demande.annee)
    return ResultatHospiconnect(
        plafond=c.plafond, taux=c.taux, montant_theorique=c.montant_theorique, montant=c.montant,
        nombre_objectifs=c.nombre_objectifs, objectif_obligatoire_atteint=c.objectif_obligatoire_atteint,
        programme_version=c.programme_version)
