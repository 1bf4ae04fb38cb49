from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import BaseModel, PlainSerializer, model_validator

from hopen_referentiel.etablissements.rules import LIBELLES_REGLES, CodeRegle

# Activity is a count of equivalent days, not money, but exact all the same: a decimal string.
Decimale = Annotated[Decimal, PlainSerializer(lambda v: str(v), return_type=str)]


class RegleLue(BaseModel):
    code: str
    libelle: str = ""  # the rule's label (rules.LIBELLES_REGLES), filled in from the code
    detail: str

    @model_validator(mode="after")
    def _libelle(self) -> RegleLue:
        if not self.libelle:
            try:
                self.libelle = LIBELLES_REGLES[CodeRegle(self.code)]
            except ValueError:
                pass
        return self


class MailleLue(BaseModel):
    type: str  # EG | EJ | GHT | GHU
    finess: str  # who applies: the EG, the EJ, the GHT's support EJ, or the AP-HP GHU
    ght: str | None = None  # type GHT: the GHT applying


class DispositifLu(BaseModel):
    eligible: bool
    finess_pmsi: str | None  # None: each EG has its own (private EJ), or statut outside the programme
    niveau_pmsi: str | None  # EJ | EG
    maille: MailleLue | None  # None: each EG (or GHU) of this EJ applies on its own
    activite_combinee: Decimale | None = None  # AC of finess_pmsi for the dispositif's campaign
    campagne_activite: int | None = None  # 2022 (phase 1, AAP) or 2024 (HospiConnect)
    regles_satisfaites: list[RegleLue]
    regles_non_satisfaites: list[RegleLue]
    eligible_via: str | None = None  # an EJ eligible through this EG


class GhtLu(BaseModel):
    code: str
    role: str  # S support | M member
    support: str | None = None  # FINESS EJ of the GHT's support


class FicheLue(BaseModel):
    finess: str
    niveau: str  # EJ | EG
    raison_sociale: str
    finess_ej: str
    etablissements: list[str]  # EJ: its EG; EG: empty
    departement: str
    region: str
    secteur: str | None
    statut_juridique: str
    categorie: str | None
    agregat_categorie: str | None
    ght: GhtLu | None
    activite_combinee: Decimale | None  # AC 2022 of the phase-1 FINESS PMSI
    activite_combinee_2024: Decimale | None = None  # AC 2024 of the phase-2 FINESS PMSI
    effectifs: int  # HospiConnect staff (domain 2.4; AP-HP GHU: the GHU's)
    domaines_sun_es: list[str]
    ferme: bool
    ghu: str | None = None  # AP-HP EG: FINESS of its GHU (phase 2)
    dans_le_perimetre: bool = True  # False: statut juridique outside the programme's secteurs
    dispositifs: dict[str, DispositifLu]  # phase1, hospiconnect, aap


class GhtDetail(BaseModel):
    code: str
    libelle: str
    type_groupement: str | None
    numero_gcc: str | None
    actif: bool
    support: str | None
    membres: list[str]  # FINESS EJ, support included
    source: str
