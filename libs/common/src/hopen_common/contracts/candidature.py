from __future__ import annotations

from datetime import datetime

from hopen_common.contracts.base import Payload
from hopen_common.contracts.instruction import PerimetreEj
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion


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
