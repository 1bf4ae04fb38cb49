from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from hopen_common.contracts.base import Payload
from hopen_common.contracts.instruction import PerimetreEj
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion


class DsiGht(Payload):
    nom: str
    valide: bool  # validated by the director of the GHT's support ES


class CriteresGht(Payload):
    """The GHT criteria of annex 4 of DNS/2024/123, as a phase-1 GHT support deposited them (all met:
    candidature refuses the deposit otherwise), and its capacity proof."""

    dsi_ght: DsiGht
    projet_medical_valide: bool
    sdsi_date: date | None  # less than two years before the deposit, unless being updated
    sdsi_en_cours_de_mise_a_jour: bool
    convergence: str  # the SI convergence information entered
    referentiel_identite_unique: bool  # one identity repository shared by every EJ (P1.P3 at GHT level)
    preuve_capacite: Literal["convention", "costrat", "engagement"]
    a_regulariser_le: date | None = None  # engagement: when the instance regularises the letter


@enregistrer("CandidatureDeposee", 1)
class CandidatureDeposee(Payload):
    candidature_id: str
    dispositif: str
    finess: Finess
    raison_sociale: str
    region: CodeRegion
    objectifs: list[str]
    domaines_sun_es: list[str]
    deposee_le: datetime
    deposee_par: str
    # GHT candidature by its support ES: the member EJ, their objectives, AC and SUN-ES domains
    # (targets are measured per EJ). None: the candidature's own FINESS.
    perimetre: list[PerimetreEj] | None = None
    # Issue 8 (additive): a phase-1 GHT support's criteria and capacity proof; None otherwise.
    criteres_ght: CriteresGht | None = None


@enregistrer("IndicateurDepose", 1)
class IndicateurDepose(Payload):
    candidature_id: str
    finess: Finess
    region: CodeRegion
    objectif: str
    indicateur: str
    numerateur: int
    denominateur: int
    depose_le: datetime
    depose_par: str
    # GHT candidature: the member EJ the measure is for. None: the candidature's FINESS.
    finess_ej: Finess | None = None


@enregistrer("CandidatureDesistee", 1)
class CandidatureDesistee(Payload):
    """The applicant asked to withdraw a deposited candidature: instruction answers on the dossier
    topic, DesistementEnregistre (no decision is taken on it any more; the applicant and its EJ may
    then apply again inside the window) or DesistementRefuse (the ARS had already decided)."""

    candidature_id: str
    dispositif: str
    finess: Finess
    region: CodeRegion
    motivation: str
    desistee_le: datetime
    desistee_par: str
