"""AAP selection and attainment by the ARS (domain.md 5, instruction DNS/2025/180 chapter 3, annex 3).
Pure: no I/O.

Financement checks the amount granted against the theoretical maximum, the forecast and the regional
envelope, and parks a selection that breaks them (ADR 0021): the ARS gets its refusal here, before any
event, for the forecast and the envelope it can see."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hopen_common.monnaie import exiger_centimes
from hopen_common.programme.aap import ProgrammeAap
from hopen_common.programme.erreurs import RegleMetierError


@dataclass(frozen=True)
class Disponibilite:
    """What the region can still engage, as instruction knows it."""

    disponible: Decimal  # financement's figure, as of its last Enveloppe* event (or the allocation)
    en_attente: Decimal  # selections decided here that financement has not engaged yet
    pour_selection: Decimal  # disponible - en_attente


def disponibilite(disponible: Decimal, en_attente: Sequence[Decimal]) -> Disponibilite:
    attente = sum(en_attente, Decimal("0.00"))
    return Disponibilite(disponible, attente, disponible - attente)


def verifier_fenetre_selection(programme: ProgrammeAap, jour: date, ouvert: bool) -> None:
    fin = programme.calendrier.fin_selection
    if not ouvert and jour > fin:
        raise RegleMetierError(f"la sélection des projets est close depuis le {fin.isoformat()}", "date")


def verifier_selection(decision: str, montant_accorde: Decimal | None, depenses_prevues: Decimal,
                       place: Disponibilite | None, maximum: Decimal | None = None) -> Decimal | None:
    """A selected project gets a positive amount, to the cent, at most its forecast expenses, at most
    the theoretical maximum (when known) and at most what the region can still engage; a project not
    selected gets none."""
    champ = "montant_accorde"
    if decision == "non_retenu":
        if montant_accorde is not None:
            raise RegleMetierError("un projet non retenu ne reçoit pas de montant", champ)
        return None
    if montant_accorde is None:
        raise RegleMetierError("un projet sélectionné reçoit un montant accordé", champ)
    montant_accorde = exiger_centimes(montant_accorde, champ, signe="strictement_positif")
    if montant_accorde > depenses_prevues:
        raise RegleMetierError(
            f"montant accordé {montant_accorde} € supérieur aux dépenses prévues 2026-2027"
            f" ({depenses_prevues} €)", champ)
    if maximum is not None and montant_accorde > maximum:
        raise RegleMetierError(
            f"montant accordé {montant_accorde} € supérieur au maximum théorique du projet ({maximum} €,"
            " selon l'activité combinée 2024 cumulée et le nombre d'objectifs)", champ)
    if place is None:
        raise RegleMetierError("enveloppe régionale inconnue d'instruction : sélection impossible", champ)
    if montant_accorde > place.pour_selection:
        raise RegleMetierError(
            f"montant accordé {montant_accorde} € supérieur au disponible de l'enveloppe régionale"
            f" ({place.pour_selection} € = {place.disponible} € disponibles - {place.en_attente} € de"
            " sélections en cours d'engagement) ; la DNS peut réallouer des crédits", champ)
    return montant_accorde


def activites_participants(participants: Sequence[str], activites: Mapping[str, Decimal | None]
                           ) -> list[tuple[str, Decimal]]:
    """Each participant's AC 2024 from the referentiel copy: the theoretical maximum grows with their
    sum, so an unknown one blocks the selection (money is never computed on a guess)."""
    resultat = []
    for i, p in enumerate(participants):
        ac = activites.get(p)
        if ac is None:
            raise RegleMetierError(
                f"activité combinée 2024 de {p} inconnue du référentiel : la sélection attend sa publication",
                f"participants.{i}")
        resultat.append((p, ac))
    return resultat
