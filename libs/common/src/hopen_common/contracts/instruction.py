from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion


class _Decision(Payload):
    decision_id: str
    candidature_id: str
    finess: Finess
    region: CodeRegion
    decide_par: str
    decide_le: datetime
    motivation: str


class PerimetreEj(Payload):
    """One member EJ of a GHT candidature (phase 1): the objectives it applies to, and its AC as the
    producer knew it (financement prefers its own referentiel copy and falls back to this value)."""

    finess_ej: Finess
    raison_sociale: str
    activite_combinee: Decimal | None
    objectifs: list[str]
    # SUN-ES domains the EJ reached: which target each of its indicators must meet.
    domaines_sun_es: list[str] | None = None


@enregistrer("CandidatureValidee", 1)
class CandidatureValidee(_Decision):
    dispositif: str
    objectifs: list[str]
    # GHT candidature by its support ES: the member EJ and their objectives.
    # None: the candidature's own FINESS with the candidature's objectives.
    perimetre: list[PerimetreEj] | None = None


@enregistrer("CandidatureRefusee", 1)
class CandidatureRefusee(_Decision):
    dispositif: str


@enregistrer("ObjectifAtteint", 1)
class ObjectifAtteint(_Decision):
    objectif: str
    objectifs_candidature: list[str]
    # Which member EJ of a GHT candidature this decision judges; None: the candidature's FINESS.
    finess_ej: Finess | None = None
    # A correction names the decision it replaces (same candidature, EJ and objective).
    remplace: str | None = None


@enregistrer("ObjectifNonAtteint", 1)
class ObjectifNonAtteint(_Decision):
    objectif: str
    objectifs_candidature: list[str]
    # Which member EJ of a GHT candidature this decision judges; None: the candidature's FINESS.
    finess_ej: Finess | None = None
    # A correction names the decision it replaces (same candidature, EJ and objective).
    remplace: str | None = None
