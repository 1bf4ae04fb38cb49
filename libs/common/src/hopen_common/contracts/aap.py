"""Appel a projets/HOP'EN 2 facts financement needs (domain.md 5). Producer: instruction.

Kafka key: projet_id (topic hopen.instruction.projet).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer


class ParticipantAap(Payload):
    """One establishment (FINESS PMSI) involved in a project, with its activite combinee 2024."""

    finess: str
    activite_combinee: Decimal


@enregistrer("ProjetAapSelectionne", 1)
class ProjetAapSelectionne(Payload):
    """The ARS selected a project and granted it an amount (engaged on the regional envelope)."""

    decision_id: str
    projet_id: str
    finess: str  # the lead ES (chef de file, FINESS PMSI): it is paid
    region: str
    theme: str
    objectifs: list[str]  # the theme's objectives the project covers
    participants: list[ParticipantAap]  # every ES involved, the lead included
    perimetre: list[str]  # FINESS of the EG in the project's perimeter
    depenses_prevues: Decimal  # forecast expenses 2026 + 2027, euros
    montant_accorde: Decimal  # amount granted, euros
    decide_par: str
    decide_le: datetime
    motivation: str


@enregistrer("AtteinteProjetAapDecidee", 1)
class AtteinteProjetAapDecidee(Payload):
    """The ARS judged (2027) whether the project reached its objectives: the second half is due or not."""

    decision_id: str
    projet_id: str
    finess: str
    region: str
    atteint: bool
    decide_par: str
    decide_le: datetime
    motivation: str
