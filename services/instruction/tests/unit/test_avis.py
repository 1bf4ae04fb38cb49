"""The pure rule of an expert opinion's due date (issue 9, ADR 0015)."""

from __future__ import annotations

from datetime import date

import pytest

from hopen_common.programme.erreurs import RegleMetierError
from hopen_instruction.avis.rules import verifier_echeance


def test_echeance_aujourd_hui_ou_plus_tard() -> None:
    verifier_echeance(date(2026, 12, 2), date(2026, 12, 2))
    verifier_echeance(date(2027, 1, 15), date(2026, 12, 2))
    with pytest.raises(RegleMetierError) as e:
        verifier_echeance(date(2026, 12, 1), date(2026, 12, 2))
    assert e.value.champ == "echeance"
