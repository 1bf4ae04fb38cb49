"""Programme reference data (phase 1, HospiConnect, AAP and its regional envelopes, the pieces each
dispositif requires), shipped as
versioned data files under `data/`.

Numbers never live in code: the loaders parse `data/<dispositif>_v<version>.json` into
frozen dataclasses with exact Decimal values (ADR 0001, "Phase-1 programme data").
"""

from hopen_common.programme.aap import (
    EnveloppesAap,
    ProgrammeAap,
    charger_enveloppes_aap,
    charger_programme_aap,
    maximum_theorique,
)
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect, charger_programme_hospiconnect
from hopen_common.programme.phase1 import ProgrammePhase1, charger_programme_phase1, taux_atteint
from hopen_common.programme.pieces import ProgrammePieces, charger_programme_pieces, types_de_pieces

__all__ = [
    "EnveloppesAap",
    "ProgrammeAap",
    "ProgrammeHospiconnect",
    "ProgrammePhase1",
    "ProgrammePieces",
    "RegleMetierError",
    "charger_enveloppes_aap",
    "charger_programme_aap",
    "charger_programme_hospiconnect",
    "charger_programme_phase1",
    "charger_programme_pieces",
    "maximum_theorique",
    "taux_atteint",
    "types_de_pieces",
]
