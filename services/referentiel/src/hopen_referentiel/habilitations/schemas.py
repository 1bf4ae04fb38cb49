"""What /v1/habilitations reads and answers."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from hopen_common.auth import Profil, Role
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion

Motivation = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Courriel = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254,
                                            pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")]


class _Corps(BaseModel):
    model_config = ConfigDict(extra="forbid")


class NouvelleHabilitation(_Corps):
    """One person (`emetteur` + `sujet`, exactly as the identity provider's tokens carry them) and
    what they may do."""

    emetteur: Annotated[str, StringConstraints(min_length=1, max_length=500)] = Field(
        examples=["https://auth.agentconnect.gouv.fr/api/v2"])
    sujet: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    role: Role
    region: CodeRegion | None = None
    finess: list[Finess] = Field(default_factory=list, max_length=200)
    profils: list[Profil] = Field(default_factory=list, max_length=2)
    referent: bool = False
    nom: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    courriel: Courriel | None = None
    motivation: Motivation


class ModificationHabilitation(_Corps):
    """The fields to change (absent: unchanged); `actif: true` restores a revoked habilitation."""

    role: Role | None = None
    region: CodeRegion | None = None
    finess: list[Finess] | None = Field(default=None, max_length=200)
    profils: list[Profil] | None = Field(default=None, max_length=2)
    referent: bool | None = None
    actif: Literal[True] | None = None
    nom: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)] | None = None
    courriel: Courriel | None = None
    motivation: Motivation


class Revocation(_Corps):
    motivation: Motivation


class HabilitationLue(BaseModel):
    id: uuid.UUID
    emetteur: str
    sujet: str
    role: Role
    region: str | None
    finess: list[str]
    profils: list[Profil]
    referent: bool
    actif: bool
    version: int
    nom: str | None
    courriel: str | None
    cree_le: datetime
    cree_par: str
    modifie_le: datetime
    modifie_par: str


class ChangementHabilitation(BaseModel):
    version: int
    action: Literal["creation", "modification", "revocation"]
    avant: dict[str, Any] | None
    apres: dict[str, Any]
    par: str
    par_role: str
    le: datetime
    motivation: str


class RegionSansReferent(BaseModel):
    code: str
    libelle: str
    ars: str


class ReferentsManquantsLus(BaseModel):
    """Annex 3: each ARS names at least one référent of the programme before the end of the first
    candidature period; the regions that have not, and the time left."""

    echeance: date
    jours_restants: int
    echeance_depassee: bool
    regions: list[RegionSansReferent]
