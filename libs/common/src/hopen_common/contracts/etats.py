"""The states of a dossier (issue 9), the same words in candidature and instruction, and the events of
its transitions (ADR 0013). Instruction owns the state once deposited: every transition the ARS makes
is published on the dossier's topic (Topics.DOSSIER for a candidature, Topics.PROJET for an AAP
project) and candidature follows it; the re-deposit after a correction is candidature's event."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from hopen_common.contracts.base import Payload
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion

# Candidature (feminine) and AAP project (masculine) states, one word each on both sides.
STATUTS_CANDIDATURE = ("brouillon", "deposee", "en_instruction", "correction_demandee", "validee",
                       "refusee", "classee_sans_suite", "desistee")
STATUTS_PROJET = ("brouillon", "depose", "en_instruction", "correction_demandee", "selectionne",
                  "non_retenu", "classe_sans_suite", "desiste")
# The states a decision (validation/refusal, selection) may be taken from.
STATUTS_DECIDABLES_CANDIDATURE = ("deposee", "en_instruction")
STATUTS_DECIDABLES_PROJET = ("depose", "en_instruction")
# Still awaiting the ARS's decision: decidable, or waiting for the establishment's correction.
STATUTS_EN_ATTENTE_DE_DECISION_CANDIDATURE = (*STATUTS_DECIDABLES_CANDIDATURE, "correction_demandee")
STATUTS_EN_ATTENTE_DE_DECISION_PROJET = (*STATUTS_DECIDABLES_PROJET, "correction_demandee")

# The candidature fields a correction may name (and the establishment then edit): the phase-1 GHT
# criteria of annex 4, one entry per field of the criteria block.
CHAMPS_CORRIGEABLES = (
    "criteres_ght.dsi_ght", "criteres_ght.projet_medical_valide", "criteres_ght.sdsi_date",
    "criteres_ght.sdsi_en_cours_de_mise_a_jour", "criteres_ght.convergence",
    "criteres_ght.referentiel_identite_unique", "criteres_ght.preuve_capacite",
    "criteres_ght.a_regulariser_le",
)


class _Transition(Payload):
    """A transition of a dossier's state: who moved it, when, from what to what, and why."""

    transition_id: str
    dossier_type: TypeDossier
    dossier_id: str  # the candidature or AAP project id: the event's key
    finess: Finess
    region: CodeRegion
    statut_precedent: str
    statut: str
    par: str
    le: datetime
    motivation: str | None = None


@enregistrer("DossierPrisEnInstruction", 1)
class DossierPrisEnInstruction(_Transition):
    """The ARS took the deposited dossier into instruction."""


@enregistrer("DossierClasseSansSuite", 1)
class DossierClasseSansSuite(_Transition):
    """The ARS closed the dossier without a decision (motivated): no money follows."""


@enregistrer("DossierRouvert", 1)
class DossierRouvert(_Transition):
    """The ARS reopened a dossier it had closed without a decision (motivated): back in instruction."""


# An event type travels on one topic only: an AAP project's transitions have their own names
# (Topics.PROJET), the same payload.
@enregistrer("ProjetPrisEnInstruction", 1)
class ProjetPrisEnInstruction(_Transition):
    """The ARS took the deposited AAP project into instruction."""


@enregistrer("ProjetClasseSansSuite", 1)
class ProjetClasseSansSuite(_Transition):
    """The ARS closed the AAP project without a selection decision (motivated)."""


@enregistrer("ProjetRouvert", 1)
class ProjetRouvert(_Transition):
    """The ARS reopened an AAP project it had closed without a decision (motivated)."""


class PieceDemandee(Payload):
    type: str  # a piece type code of the dispositif
    finess_ej: Finess | None = None  # a GHT dossier's member EJ, when the piece is per EJ


@enregistrer("CorrectionDemandee", 1)
class CorrectionDemandee(_Transition):
    """The ARS asks for corrections of named pieces and/or fields, by a due date; several requests may
    be open at once. `statut` is correction_demandee."""

    correction_id: str
    pieces: list[PieceDemandee]
    champs: list[str]  # among CHAMPS_CORRIGEABLES
    echeance: date


@enregistrer("CorrectionProjetDemandee", 1)
class CorrectionProjetDemandee(CorrectionDemandee):
    """The same request on an AAP project (Topics.PROJET): pieces only, no field is correctable."""


class ChampModifie(Payload):
    champ: str
    avant: Any
    apres: Any


class PieceModifiee(Payload):
    piece_id: str
    type: str
    finess_ej: Finess | None = None
    version: int
    sha256: str


@enregistrer("CandidatureRedeposee", 1)
class CandidatureRedeposee(Payload):
    """The establishment answered the open correction requests and re-deposited its dossier: what
    changed since the requests (fields before/after, the new piece versions)."""

    dossier_type: TypeDossier
    dossier_id: str
    finess: Finess
    region: CodeRegion
    corrections: list[str]  # the correction ids answered
    champs: list[ChampModifie]
    pieces: list[PieceModifiee]
    redeposee_par: str
    redeposee_le: datetime
