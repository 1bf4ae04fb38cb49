from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Literal

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
    # Issue 10 (additive): the two-person rule's proposer and confirmer (decide_par is the confirmer).
    proposee_par: str | None = None
    confirmee_par: str | None = None


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
    # Issue 9 (additive): a correction names the candidature decision it replaces (the current one).
    remplace: str | None = None


@enregistrer("CandidatureRefusee", 1)
class CandidatureRefusee(_Decision):
    dispositif: str
    # Issue 9 (additive): a correction names the candidature decision it replaces (the current one).
    remplace: str | None = None


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


class _Desistement(Payload):
    """Instruction's answer to a CandidatureDesistee (two-phase withdrawal, ADR 0010): candidature
    keeps the applicant and its EJ held (`desistement_demande`) until it reads it."""

    candidature_id: str
    dispositif: str
    finess: Finess
    region: CodeRegion
    desistement_event_id: str  # the CandidatureDesistee answered


@enregistrer("DesistementEnregistre", 1)
class DesistementEnregistre(_Desistement):
    """The dossier was still to instruct: it is withdrawn, no ARS decision will be taken on it;
    candidature closes the candidature (`desistee`), which frees the applicant and its EJ."""

    enregistre_le: datetime


@enregistrer("DesistementRefuse", 1)
class DesistementRefuse(_Desistement):
    """The ARS had already decided when the withdrawal arrived: the decision stands (money may follow
    it). Its CandidatureValidee | CandidatureRefusee precedes this event on the same key."""

    decision_id: str
    statut: Literal["validee", "refusee"]
    decide_le: datetime
