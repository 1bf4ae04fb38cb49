"""Appel a projets/HOP'EN 2 facts (domain.md 5).

The ARS decisions (producer: instruction; Kafka key: projet_id, topic hopen.instruction.projet) are
what financement needs; the deposited project (producer: candidature; Kafka key: projet_id, topic
hopen.candidature.candidature, the instruction calling the submission a "candidature") is what
instruction instructs.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.monnaie import EurosEntrant
from hopen_common.region import CodeRegion


class ParticipantAap(Payload):
    """One establishment (FINESS PMSI) involved in a project, with its activite combinee 2024."""

    finess: Finess
    activite_combinee: Decimal


@enregistrer("ProjetAapSelectionne", 1)
class ProjetAapSelectionne(Payload):
    """The ARS selected a project and granted it an amount (engaged on the regional envelope)."""

    decision_id: str
    projet_id: str
    finess: Finess  # the lead ES (chef de file, FINESS PMSI): it is paid
    region: CodeRegion
    theme: str
    objectifs: list[str]  # the theme's objectives the project covers
    participants: list[ParticipantAap]  # every ES involved, the lead included
    perimetre: list[Finess]  # FINESS of the EG in the project's perimeter
    depenses_prevues: EurosEntrant  # forecast expenses 2026 + 2027, euros
    montant_accorde: EurosEntrant  # amount granted, euros
    decide_par: str
    decide_le: datetime
    motivation: str
    # Issue 10 (additive): the two-person rule's proposer and confirmer.
    proposee_par: str | None = None
    confirmee_par: str | None = None
    # Issue 9 (additive): a correction names the decision it replaces (the project's current one).
    remplace: str | None = None


@enregistrer("AtteinteProjetAapDecidee", 1)
class AtteinteProjetAapDecidee(Payload):
    """The ARS judged (2027) whether the project reached its objectives: the second half is due or not."""

    decision_id: str
    projet_id: str
    finess: Finess
    region: CodeRegion
    atteint: bool
    decide_par: str
    decide_le: datetime
    motivation: str
    # Issue 10 (additive): the two-person rule's proposer and confirmer.
    proposee_par: str | None = None
    confirmee_par: str | None = None
    # Issue 9 (additive): a correction names the decision it replaces (the project's current one).
    remplace: str | None = None


class MembreEquipeAap(Payload):
    """One person of the project team; diversity of professions beyond IT is a selection criterion."""

    nom: str
    fonction: str  # e.g. "DSI", "cadre de santé", "pharmacien"
    responsable: bool = False  # exactly one responsible person per project


class DepensePrevueAap(Payload):
    annee: int  # 2026 or 2027
    montant: EurosEntrant  # euros, >= 0


class LettrePartenaire(Payload):
    """An optional partner commitment letter: since issue 8 an uploaded piece of the project (its id;
    its file name and hash as the server computed them). None before issue 8 (client metadata)."""

    partenaire: str
    nom: str
    sha256: str
    piece_id: str | None = None


@enregistrer("ProjetAapDepose", 1)
class ProjetAapDepose(Payload):
    """A lead ES (chef de file, FINESS PMSI) submitted an AAP project to the ARS of its region."""

    projet_id: str
    finess: Finess  # the lead ES (FINESS PMSI)
    raison_sociale: str
    region: CodeRegion
    theme: str
    titre: str
    description: str
    objectifs: list[str]  # the theme's objectives the project covers, proving success in June 2027
    participants: list[Finess]  # FINESS PMSI of every ES involved, the lead included
    perimetre: list[Finess]  # FINESS of the EG in the project's perimeter
    equipe: list[MembreEquipeAap]
    depenses_prevues: list[DepensePrevueAap]  # one per year (2026, 2027)
    lettres_partenaires: list[LettrePartenaire]
    # Rattrapage theme: the lead declares it received no usage payment in SUN-ES nor in phase 1
    # (the ARS checks it). None for the other themes.
    sans_versement_usage: bool | None = None
    deposee_par: str
    deposee_le: datetime
    # Issue 8 (additive): the participants that are public members of a GHT, each of which owes the
    # project's GHT validation piece (AAP.VALIDATION_GHT). None: a producer from before issue 8.
    participants_publics_ght: list[Finess] | None = None


@enregistrer("ProjetAapNonRetenu", 1)
class ProjetAapNonRetenu(Payload):
    """The ARS did not select a project: nothing is engaged, the lead is told why."""

    decision_id: str
    projet_id: str
    finess: Finess
    region: CodeRegion
    decide_par: str
    decide_le: datetime
    motivation: str
    # Issue 10 (additive): the two-person rule's proposer and confirmer.
    proposee_par: str | None = None
    confirmee_par: str | None = None
    # Issue 9 (additive): a correction names the decision it replaces (the project's current one).
    remplace: str | None = None


@enregistrer("PreuveAtteinteAapDeposee", 1)
class PreuveAtteinteAapDeposee(Payload):
    """The lead of a selected project deposited a piece proving one objective reached (until the AAP
    evidence deadline, 30 June 2027 in 2026.1). Producer candidature, topic hopen.candidature.candidature,
    key projet_id; instruction keeps it for the attainment decision."""

    preuve_id: str
    projet_id: str
    finess: Finess  # the lead
    region: CodeRegion
    objectif: str
    piece_id: str  # a piece uploaded on the project (POST /v1/projets/{id}/pieces)
    piece_nom: str
    piece_sha256: str
    commentaire: str | None = None
    depose_par: str
    depose_le: datetime
