"""Pure rules of expert opinions."""

from __future__ import annotations

from datetime import date

from hopen_common.programme.erreurs import RegleMetierError


def verifier_echeance(echeance: date, aujourd_hui: date) -> None:
    """An opinion is asked for today at the earliest: a due date already past would be late at birth."""
    if echeance < aujourd_hui:
        raise RegleMetierError(f"l'échéance {echeance.isoformat()} est passée (aujourd'hui"
                               f" {aujourd_hui.isoformat()})", "echeance")
