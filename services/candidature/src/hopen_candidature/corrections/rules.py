"""The establishment's answer to correction requests: only what is asked may change (pure rules)."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from datetime import date
from typing import Any

from hopen_common.problemes import CHAMP_NON_DEMANDE


def verifier_champs_demandes(modifies: Iterable[str], demandes: Collection[str]) -> None:
    """Every field edited is named by an open request: the first one that is not is refused (422
    `champ-non-demande`, champ = that field), so that nothing is written."""
    for champ in modifies:
        if champ not in demandes:
            raise CHAMP_NON_DEMANDE.erreur(
                f"le champ {champ[:80]} n'est demandé par aucune correction ouverte (demandés : "
                f"{', '.join(sorted(demandes)) or 'aucun'})", champ=champ)


def verifier_piece_demandee(type_: str, finess_ej: str | None, demandees: Collection[tuple[str, str | None]]
                            ) -> None:
    """While corrections are open, only the pieces they name may get a new version (champ `type`)."""
    if (type_, finess_ej) not in demandees:
        nommees = ", ".join(sorted(t if ej is None else f"{t} ({ej})" for t, ej in demandees)) or "aucune"
        raise CHAMP_NON_DEMANDE.erreur(
            f"pièce {type_[:50]}{'' if finess_ej is None else f' ({finess_ej})'} non demandée : pendant une"
            f" demande de correction, seules les pièces demandées se déposent ({nommees})", champ="type")


def champs_modifies(avant: Mapping[str, Any], apres: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Each field whose value changed: {champ, avant, apres}."""
    return [{"champ": c, "avant": avant.get(c), "apres": apres.get(c)} for c in sorted(apres)
            if avant.get(c) != apres.get(c)]


def en_retard(echeance: date, *, repondue: bool, aujourd_hui: date) -> bool:
    return not repondue and aujourd_hui > echeance
