from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from hopen_candidature.candidatures.schemas import Requete
from hopen_candidature.corrections.schemas import DemandeCorrectionLue
from hopen_candidature.hospiconnect.schemas import UUID
from hopen_common.finess import Finess
from hopen_common.monnaie import Euros, EurosEntrant


class MembreEquipe(Requete):
    nom: str = Field(min_length=1, max_length=200, examples=["Dr Claire Martin"])
    fonction: str = Field(min_length=1, max_length=200, examples=["cheffe des urgences"])
    responsable: bool = False


class DepensePrevueDemande(Requete):
    annee: int = Field(examples=[2026])
    montant: EurosEntrant = Field(description="euros, decimal string, to the cent", examples=["120000.00"])


class LettrePartenaireDemande(Requete):
    partenaire: str = Field(min_length=1, max_length=200, examples=["Éditeur DPI"])
    piece_id: str = Field(pattern=UUID, description="the letter, a piece of type AAP.LETTRE uploaded on"
                                                    " this project (POST /v1/projets/{id}/pieces)")


class ProjetCreation(Requete):
    finess: Finess = Field(description="the lead ES (chef de file), by its FINESS PMSI")
    theme: str = Field(examples=["desengorgement_urgences"])
    titre: str = Field(min_length=1, max_length=300)
    description: str = Field(min_length=1, max_length=20000)
    objectifs: list[str] = Field(description="one or more objectives of the theme (June 2027)",
                                 max_length=50)
    participants: list[Finess] = Field(default_factory=list, max_length=100,
                                    description="the other ES involved, by FINESS PMSI (the lead is implied)")
    perimetre: list[Finess] = Field(description="FINESS of the EG in the project's perimeter", max_length=500)
    equipe: list[MembreEquipe] = Field(max_length=100)
    depenses_prevues: list[DepensePrevueDemande] = Field(description="one per year: 2026 and 2027")
    lettres_partenaires: list[LettrePartenaireDemande] = Field(
        default_factory=list, max_length=0,
        description="left empty: a letter is a piece of the created project, joined by POST"
                    " /v1/projets/{id}/lettres-partenaires")
    sans_versement_usage: bool | None = Field(
        default=None, description="rattrapage only: no usage payment received in SUN-ES nor phase 1")


class DepensePrevueLue(BaseModel):
    annee: int
    montant: Euros


class DecisionArsLue(BaseModel):
    decision_id: str
    objet: str  # selection | atteinte
    decision: str  # selectionne | non_retenu | atteint | non_atteint
    montant_accorde: Euros | None
    motivation: str
    decide_par: str
    decide_le: datetime
    remplace: str | None = None  # a corrected decision names the one it replaces


class TransitionLue(BaseModel):
    de: str
    vers: str
    par: str
    le: datetime
    motivation: str | None


class ProjetLu(BaseModel):
    id: str
    finess: str
    region: str
    statut: str
    theme: str
    titre: str
    description: str
    objectifs: list[str]
    participants: list[str]
    perimetre: list[str]
    equipe: list[dict[str, object]]
    depenses_prevues: list[DepensePrevueLue]
    depenses_prevues_total: Euros
    lettres_partenaires: list[dict[str, object]]
    sans_versement_usage: bool | None
    cree_par: str
    cree_le: datetime
    deposee_par: str | None
    deposee_le: datetime | None
    decisions_ars: list[DecisionArsLue]  # the ARS selection and attainment, once known
    # Issue 9: instruction's transitions of the project (who, when, why).
    historique: list[TransitionLue] = Field(default_factory=list)
    demandes_correction: list[DemandeCorrectionLue] = Field(default_factory=list)




class PreuveAapDepot(BaseModel):
    """Evidence of one objective reached: a piece uploaded on the project (POST /v1/projets/{id}/pieces)."""

    model_config = ConfigDict(extra="forbid")

    objectif: str = Field(min_length=1, max_length=50)
    piece_id: str = Field(min_length=1, max_length=36)
    commentaire: str | None = Field(default=None, max_length=4000)


class PreuveAapLue(BaseModel):
    id: str
    projet_id: str
    objectif: str
    piece_id: str
    commentaire: str | None
    depose_par: str
    depose_le: datetime
