"""The deadlines of the three dispositifs, read from their versioned data files, and the pure rules of
the reminders (J-7, J-1) and of the "late / due soon" views (ADR 0016).

Every date comes from `data/*.json` (phase 1, HospiConnect, AAP): a new calendar is a new data file.
"Today" is always an argument (the caller takes it from `hopen_common.calendrier.aujourd_hui`, which
the settings can pin), so the tests move time without patching anything.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from hopen_common.programme.aap import ProgrammeAap
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.phase1 import ProgrammePhase1

__all__ = [
    "RAPPELS",
    "Echeance",
    "echeances_programme",
    "etat_echeance",
    "rappel_du",
]

Destinataire = Literal["ars", "etablissement"]
Rappel = Literal["J-7", "J-1"]
# Days before the deadline each reminder opens, latest first (the most specific wins).
RAPPELS: tuple[tuple[Rappel, int], ...] = (("J-1", 1), ("J-7", 7))


@dataclass(frozen=True)
class Echeance:
    """One deadline of a dispositif. `cle` is stable across versions of the data file (it keys the
    reminders already sent), e.g. "phase1.fin_instruction", "hospiconnect.2027.fin_depot_preuves"."""

    cle: str
    dispositif: str  # phase1 | hospiconnect | aap
    libelle: str  # French, as mailed
    date: date  # inclusive: the last day something can be done
    destinataire: Destinataire  # who must act before it
    annee: int | None = None  # HospiConnect: the programme year


def echeances_programme(phase1: ProgrammePhase1, hospiconnect: ProgrammeHospiconnect,
                        aap: ProgrammeAap) -> list[Echeance]:
    """Every deadline of the programme, in date order."""
    c1, ch, ca = phase1.calendrier, hospiconnect.calendrier, aap.calendrier
    liste = [
        Echeance("phase1.candidature_fin", "phase1", "fin du dépôt des candidatures (phase 1)",
                 c1.candidature_fin, "etablissement"),
        Echeance("phase1.fin_instruction", "phase1", "fin de l'instruction des candidatures (phase 1)",
                 c1.fin_instruction, "ars"),
        Echeance("phase1.fin_mesure_indicateurs", "phase1", "fin de la mesure des indicateurs (phase 1)",
                 c1.fin_mesure_indicateurs, "etablissement"),
        Echeance("hospiconnect.fin_candidatures", "hospiconnect",
                 "fin du dépôt des candidatures HospiConnect", ch.fin_candidatures, "etablissement"),
        Echeance("aap.fin_depot_dossiers", "aap", "fin du dépôt des projets (appel à projets)",
                 ca.fin_depot_dossiers, "etablissement"),
        Echeance("aap.fin_selection", "aap", "fin de la sélection des projets (appel à projets)",
                 ca.fin_selection, "ars"),
        Echeance("aap.fin_depot_preuves", "aap",
                 "fin du dépôt des preuves d'atteinte des objectifs (appel à projets)",
                 ca.fin_depot_preuves_2027, "etablissement"),
    ]
    for annee, cal in sorted(ch.annees.items()):
        liste.append(Echeance(f"hospiconnect.{annee}.fin_depot_preuves", "hospiconnect",
                              f"fin du dépôt des preuves HospiConnect {annee}", cal.fin_depot_preuves,
                              "etablissement", annee))
        liste.append(Echeance(f"hospiconnect.{annee}.fin_instruction", "hospiconnect",
                              f"fin de l'instruction HospiConnect {annee}", cal.fin_instruction,
                              "ars", annee))
    return sorted(liste, key=lambda e: (e.date, e.cle))


def rappel_du(echeance: date, aujourd_hui: date) -> Rappel | None:
    """The reminder due today for a deadline, if any: J-7 from 7 days before until J-1 opens (a
    scheduler down on the day catches up, once), J-1 from the day before through the deadline itself.
    Nothing before J-7 or after the deadline."""
    if aujourd_hui > echeance:
        return None
    for rappel, jours in RAPPELS:
        if aujourd_hui >= echeance - timedelta(days=jours):
            return rappel
    return None


def etat_echeance(echeance: date, aujourd_hui: date, *,
                  jours_proche: int) -> Literal["en_retard", "proche"] | None:
    """`en_retard` once the (inclusive) deadline is past, `proche` within `jours_proche` days of it."""
    if aujourd_hui > echeance:
        return "en_retard"
    if echeance - aujourd_hui <= timedelta(days=jours_proche):
        return "proche"
    return None


def par_cle(echeances: Iterable[Echeance]) -> dict[str, Echeance]:
    return {e.cle: e for e in echeances}
