from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_financement.etablissements.repository import raisons_sociales
from hopen_financement.exports.rules import Circulaire, Source, construire
from hopen_financement.notifications import repository


async def circulaire(session: AsyncSession, region: str | None) -> Circulaire:
    """The circular of one region (None: national) from the current (non-superseded) lines, plus the
    phase-1 solde still planned (forfait - amorçage of every line not decided yet)."""
    sources = [Source(li.region, li.finess, li.dispositif, li.objectif, li.nature, li.montant)
               for li in await repository.lignes_courantes(session, region)]
    sources += [Source(li.region, li.finess, li.dispositif, li.objectif, "solde_prevu",
                       li.forfait - li.montant)
                for li in await repository.amorcages_sans_solde(session, region)]
    noms = await raisons_sociales(session, {s.finess for s in sources})
    return construire(sources, noms, "TOTAL NATIONAL" if region is None else f"TOTAL région {region}")
