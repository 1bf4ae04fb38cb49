"""Pure rules of instruction's deadlines (ADR 0016): which states still await an ARS decision, the
instruction deadline of a dossier, the reminder keys."""

from __future__ import annotations

from datetime import date

from hopen_common.contracts.etats import (
    STATUTS_EN_ATTENTE_DE_DECISION_CANDIDATURE,
    STATUTS_EN_ATTENTE_DE_DECISION_PROJET,
)
from hopen_common.programme.echeances import Echeance

# States in which a dossier / an AAP project still awaits its ARS decision (ADR 0013's vocabulary).
DOSSIER_EN_COURS = STATUTS_EN_ATTENTE_DE_DECISION_CANDIDATURE
PROJET_EN_COURS = STATUTS_EN_ATTENTE_DE_DECISION_PROJET


def fin_instruction(dispositif: str, echeances: dict[str, Echeance]) -> date | None:
    """The date by which the ARS decides a deposited candidature: phase 1's end of instruction; for
    HospiConnect the first programme year's end of instruction (the candidature is validated before
    its first yearly decision); an AAP project's end of selection."""
    if dispositif == "phase1":
        return echeances["phase1.fin_instruction"].date
    if dispositif == "hospiconnect":
        return min((e.date for e in echeances.values()
                    if e.dispositif == "hospiconnect" and e.cle.endswith(".fin_instruction")), default=None)
    if dispositif == "aap":
        return echeances["aap.fin_selection"].date
    return None


def cible_ars(region: str) -> str:
    return f"ars:{region}"


def cible_etablissement(finess: str) -> str:
    return f"etablissement:{finess}"
