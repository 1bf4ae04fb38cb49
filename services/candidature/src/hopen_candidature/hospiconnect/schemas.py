from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from hopen_candidature.candidatures.schemas import Requete
from hopen_common.finess import Finess
from hopen_common.monnaie import Euros, EurosEntrant

UUID = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
SHA256 = r"^[0-9a-f]{64}$"


class DepensesDeclaration(Requete):
    annee: int = Field(examples=[2026])
    finess_ej: Finess | None = Field(
        default=None, description="the EJ (GHT: a member of the perimeter; else the applicant)")
    montant: EurosEntrant = Field(description="euros, decimal string, >= 0, to the cent",
                                  examples=["30000.00"])
    remplace: str | None = Field(default=None, pattern=UUID,
                                 description="id of the declaration this one corrects")


class DepensesLue(BaseModel):
    id: str
    candidature_id: str
    finess_ej: str
    annee: int
    montant: Euros
    remplace: str | None
    declare_par: str
    declare_le: datetime
    courante: bool  # not replaced by a later declaration: it counts in the year's total


class PreuveDepot(Requete):
    annee: int = Field(examples=[2026])
    objectif: str = Field(examples=["1.0"])
    finess_ej: Finess | None = None
    piece_id: str | None = Field(default=None, pattern=UUID,
                                 description="objectives 1.0-1.4: a piece uploaded on this candidature"
                                             " (POST .../pieces)")
    numerateur: int | None = Field(default=None, description="objectives 2.1, 2.2")
    denominateur: int | None = None


class PreuveLue(BaseModel):
    id: str
    candidature_id: str
    finess_ej: str
    annee: int
    objectif: str
    nature: str
    document_nom: str | None
    document_type: str | None
    document_sha256: str | None
    piece_id: str | None  # the uploaded piece (GET .../pieces/{piece_id}/contenu)
    numerateur: int | None
    denominateur: int | None
    depose_par: str
    depose_le: datetime
