"""Who sees what (architecture.md, Security): an ARS its region, an establishment its FINESS, the DNS
everything. A resource out of scope answers 404 (no existence leak); a list filter out of scope 403."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends

from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.errors import ProblemError, introuvable

Lecteur = Annotated[Principal, Depends(exiger_roles(Role.ETABLISSEMENT, Role.ARS, Role.DNS))]
Pilote = Annotated[Principal, Depends(exiger_roles(Role.ARS, Role.DNS))]
Dns = Annotated[Principal, Depends(exiger_roles(Role.DNS))]


def filtre_liste(principal: Principal, finess: str | None, region: str | None) -> None:
    """Refuse a list filter outside the caller's scope (the query is then restricted to it)."""
    if principal.role is Role.ETABLISSEMENT and (finess is None or finess not in principal.finess):
        raise ProblemError(403, "hors-perimetre", "Hors de votre périmètre",
                           "un établissement lit ses propres financements : précisez un FINESS"
                           " de votre jeton", champ="finess")
    if principal.role is Role.ARS and region not in (None, principal.region):
        raise ProblemError(403, "hors-perimetre", "Hors de votre périmètre",
                           f"région {region} hors de votre périmètre", champ="region")


def exiger_ressource(principal: Principal, ressource: str, identifiant: str, *, region: str,
                     finess: tuple[str, ...] = ()) -> None:
    """404 unless the caller may see this resource (its region, or one of its FINESS)."""
    if principal.role in (Role.DNS, Role.OPS):
        return
    if principal.role is Role.ARS and principal.voit_region(region):
        return
    if principal.role is Role.ETABLISSEMENT and principal.voit_finess(*finess):
        return
    raise introuvable(ressource, identifiant)
