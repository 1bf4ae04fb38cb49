"""Correcting a decision (issue 9, ADR 0014). Pure: no I/O.

Every ARS decision is immutable; a correction is a new decision that names the one it replaces
(`remplace`), which must be the current one of the same thing (corrections form a chain, never a
fork). A first decision on something already decided is a 409 that points to the correction path."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, TypeVar

from hopen_common.problemes import DEJA_DECIDEE
from hopen_common.programme.erreurs import RegleMetierError


class _Remplacable(Protocol):
    @property
    def id(self) -> str: ...

    @property
    def remplace(self) -> str | None: ...


D = TypeVar("D", bound=_Remplacable)


def courante(decisions: Iterable[D]) -> D | None:
    """The decision no other replaces, among the decisions of one thing (None: never decided)."""
    liste = list(decisions)
    remplacees = {d.remplace for d in liste if d.remplace}
    restantes = [d for d in liste if d.id not in remplacees]
    return restantes[-1] if restantes else None


def verifier_remplace(courante_id: str | None, remplace: str | None, *, quoi: str) -> None:
    """`quoi` names the thing decided ("candidature c1", "objectif P1.O1 (2A0002606)")."""
    if remplace is None:
        if courante_id is not None:
            raise DEJA_DECIDEE.erreur(
                f"{quoi} déjà décidé(e) : décision {courante_id} ; une correction nomme la décision"
                " qu'elle remplace (remplace)", champ="remplace", extra={"decision_courante": courante_id})
        return
    if courante_id != remplace:
        attendu = "aucune décision à remplacer" if courante_id is None else f"décision courante {courante_id}"
        raise RegleMetierError(f"{remplace} n'est pas la décision courante de {quoi} ({attendu})", "remplace")
