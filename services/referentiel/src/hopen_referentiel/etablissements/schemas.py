from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, PlainSerializer

# Activity is a count of equivalent days, not money, but exact all the same: a decimal string.
Decimale = Annotated[Decimal, PlainSerializer(lambda v: str(v), return_type=str)]


class RegleLue(BaseModel):
    code: str
    libelle: str
    detail: str


class MailleLue(BaseModel):
    type: str  # EG | EJ | GHT
    finess: str  # who applies: the EG, the EJ, or the GHT's support EJ


class DispositifLu(BaseModel):
    eligible: bool
    finess_pmsi: str
    niveau_pmsi: str  # EJ | EG
    maille: MailleLue | None  # None: each EG of this EJ applies on its own
    regles_satisfaites: list[RegleLue]
    regles_non_satisfaites: list[RegleLue]
    eligible_via: str | None = None  # an EJ eligible through this EG


class GhtLu(BaseModel):
    code: str
    role: str  # S support | M member


class FicheLue(BaseModel):
    finess: str
    niveau: str  # EJ | EG
    raison_sociale: str
    finess_ej: str
    etablissements: list[str]  # EJ: its EG; EG: empty
    departement: str
    region: str
    secteur: str
    statut_juridique: str
    categorie: str | None
    agregat_categorie: str | None
    ght: GhtLu | None
    activite_combinee: Decimale | None  # AC 2022 of the phase-1 FINESS PMSI
    effectifs: int  # HospiConnect staff (domain 2.4)
    domaines_sun_es: list[str]
    ferme: bool
    dispositifs: dict[str, DispositifLu]
