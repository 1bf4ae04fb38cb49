"""The state machine of a dossier (candidature or AAP project) and its processing time: pure rules,
no I/O (ADR 0013). The transitions table is the one place that says what may follow what."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from hopen_common.problemes import TRANSITION_INTERDITE, ProblemError

TypeDossier = Literal["candidature", "projet"]

# The actions that move a dossier, with who performs them.
Action = Literal["deposer", "prendre_en_instruction", "demander_correction", "redeposer", "decider",
                 "classer_sans_suite", "rouvrir", "desister"]

# (action) -> states it may start from, per dossier type. `decider` leads to the decision's own state.
_CANDIDATURE: dict[str, tuple[str, ...]] = {
    "deposer": ("brouillon",),
    "prendre_en_instruction": ("deposee",),
    # Several requests may be open at once: a new one on a dossier already waiting is allowed.
    "demander_correction": ("deposee", "en_instruction", "correction_demandee"),
    "redeposer": ("correction_demandee",),
    "decider": ("deposee", "en_instruction"),
    "classer_sans_suite": ("deposee", "en_instruction", "correction_demandee"),
    # Only a dossier closed without a decision reopens here: a validated or refused one carries a
    # decision (and money may follow), which only a decision correction (remplace) changes.
    "rouvrir": ("classee_sans_suite",),
    "desister": ("deposee", "en_instruction", "correction_demandee"),
}
_VERS_CANDIDATURE = {"deposer": "deposee", "prendre_en_instruction": "en_instruction",
                     "demander_correction": "correction_demandee", "redeposer": "deposee",
                     "classer_sans_suite": "classee_sans_suite", "rouvrir": "en_instruction",
                     "desister": "desistee"}
_MASCULIN = {"deposee": "depose", "classee_sans_suite": "classe_sans_suite", "desistee": "desiste"}


def _projet(statut: str) -> str:
    return _MASCULIN.get(statut, statut)


TRANSITIONS: dict[TypeDossier, dict[str, tuple[str, ...]]] = {
    "candidature": _CANDIDATURE,
    "projet": {a: tuple(_projet(s) for s in de) for a, de in _CANDIDATURE.items()},
}
CIBLES: dict[TypeDossier, dict[str, str]] = {
    "candidature": _VERS_CANDIDATURE,
    "projet": {a: _projet(s) for a, s in _VERS_CANDIDATURE.items()},
}
# States where the processing clock stops (a decision, a closing, a withdrawal).
FINAUX = frozenset({"validee", "refusee", "classee_sans_suite", "desistee", "selectionne", "non_retenu",
                    "classe_sans_suite", "desiste", "atteint", "non_atteint"})
EN_ATTENTE_CORRECTION = "correction_demandee"


def statuts_de_depart(dossier_type: TypeDossier, action: Action) -> tuple[str, ...]:
    return TRANSITIONS[dossier_type][action]


def transition_interdite(dossier_type: TypeDossier, dossier_id: str, statut: str, action: str
                         ) -> ProblemError:
    permis = ", ".join(TRANSITIONS[dossier_type].get(action, ())) or "aucun"
    return TRANSITION_INTERDITE.erreur(
        f"{dossier_type} {dossier_id} : « {action} » est impossible dans l'état {statut}"
        f" (possible depuis : {permis})", champ="statut",
        extra={"statut": statut, "transition": action})


def verifier_transition(dossier_type: TypeDossier, dossier_id: str, statut: str, action: Action,
                        *, decision: str | None = None) -> str:
    """The state `action` leads to from `statut`, or the 409 `transition-interdite` naming both.
    `decider` leads to the decision's own state (`decision`)."""
    if statut not in TRANSITIONS[dossier_type][action]:
        raise transition_interdite(dossier_type, dossier_id, statut, action)
    if action == "decider":
        assert decision is not None
        return decision
    return CIBLES[dossier_type][action]


@dataclass(frozen=True)
class Passage:
    """One recorded transition: the state entered and when."""

    vers: str
    le: datetime


def duree_instruction(passages: Sequence[Passage], maintenant: datetime) -> timedelta:
    """The time the dossier spent with the ARS: from its (first) deposit to its decision or closing
    (or `maintenant`), without the time it waited for the establishment's correction. A reopening
    restarts the clock; a re-deposit after a correction restarts it too."""
    total = timedelta(0)
    depuis: datetime | None = None  # when the running stretch began; None: clock stopped
    for p in sorted(passages, key=lambda p: p.le):
        if depuis is not None:
            total += p.le - depuis
            depuis = None
        if p.vers not in FINAUX and p.vers != EN_ATTENTE_CORRECTION and p.vers != "brouillon":
            depuis = p.le
    if depuis is not None and maintenant > depuis:
        total += maintenant - depuis
    return total
