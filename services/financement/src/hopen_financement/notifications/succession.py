"""Whether a decision may follow the ones already received for the same thing (issue 7). Pure.

A decision on something already decided must name the decision it replaces; the one it names must
be about the same thing and still be current. Otherwise the event would pay a second time (or
correct a stale state) and is refused: parked at once with a reason an operator can read.
"""

from __future__ import annotations

from dataclasses import dataclass

from hopen_common import problemes
from hopen_common.inbox import EvenementRefuse
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.erreurs import DonneeManquante

PAIEMENT_EN_DOUBLE = problemes.PAIEMENT_EN_DOUBLE.code
CORRECTION_PERIMEE = "correction-perimee"
MAILLE_INVALIDE = "maille-invalide"  # the applicant is not who applies for that activity (ADR 0008)


@dataclass(frozen=True)
class Courante:
    """The current decision of the thing decided, as the reason names it."""

    decision_id: str
    libelle: str  # e.g. "d1, candidature c1"


def verifier_succession(*, objet: str, decision_id: str, deja_recue: bool, remplace: str | None,
                        courante: Courante | None, remplacee_connue: bool, meme_objet: bool,
                        exigence_meme_objet: str) -> None:
    """`objet`: what is decided ("2A0002606 P1.O1 de la candidature c1"); `deja_recue`: this decision
    id is already stored (the same decision sent again under another event id); `remplacee_connue`
    and `meme_objet`: what the store says of the decision `remplace` names."""
    if deja_recue:
        raise EvenementRefuse(PAIEMENT_EN_DOUBLE,
                              f"décision {decision_id} déjà reçue sous un autre événement")
    if remplace is None:
        if courante is not None:
            raise EvenementRefuse(PAIEMENT_EN_DOUBLE, (
                f"{objet} déjà décidé ({courante.libelle}) : une correction nomme la décision qu'elle"
                " remplace"))
        return
    if not remplacee_connue:
        # The correction overtook its decision: wait for it (retried, then parked).
        raise DonneeManquante(f"décision remplacée {remplace} inconnue")
    if not meme_objet:
        raise RegleMetierError(exigence_meme_objet, "remplace")
    if courante is None or courante.decision_id != remplace:
        raise EvenementRefuse(CORRECTION_PERIMEE, (
            f"la décision {remplace} est déjà remplacée ; la décision courante de {objet} est"
            f" {courante.decision_id if courante else 'inconnue'}"))
