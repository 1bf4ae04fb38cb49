"""The FINESS number, once for every service (domain 2).

9 characters: two for the territory (`01`..`95`, `2A`, `2B`, and `97`/`98` for overseas, whose
FINESS starts with the 4-character INSEE code, `9701..`), six digits, then a Luhn check digit
over the first eight computed after mapping Corsica's `2A` -> `21` and `2B` -> `22`.

`cle_finess_valide` is the whole rule (character set included); `verifier_finess` says why a
number fails; `Finess` is the pydantic type for schemas, path/query parameters and contracts.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, StringConstraints, WithJsonSchema

from hopen_common.programme.erreurs import RegleMetierError

MOTIF_FINESS = r"^(?:[0-9]{2}|2[AB])[0-9]{7}$"
"""The character set only (ASCII digits, `2A`/`2B`): for JSON Schema; the key is checked apart."""

FORMAT_FINESS = re.compile(r"(?:[0-9]{2}|2[AB])[0-9]{7}")
"""`MOTIF_FINESS` compiled, for `fullmatch`: tells a malformed number from a wrong key."""

REGLE_FINESS = (
    "9 caractères : 2 chiffres (ou 2A, 2B), 7 chiffres, le 9e étant la clé de Luhn calculée sur les 8"
    " premiers après 2A -> 21, 2B -> 22"
)


class FinessInvalide(RegleMetierError):
    """A number that is not a FINESS (length, characters or check key)."""


class DepartementFinessInconnu(RegleMetierError):
    """A well-formed overseas FINESS whose 4-character territory the programme does not know."""


# Corsica's letters are replaced before the Luhn computation (checked on 6 106 real numbers).
_CORSE = {"2A": "21", "2B": "22"}
_SIMPLE = {str(chiffre): chiffre for chiffre in range(10)}
_DOUBLE = {str(chiffre): (2 * chiffre if chiffre < 5 else 2 * chiffre - 9) for chiffre in range(10)}


def cle_finess_valide(finess: str) -> bool:
    """True when `finess` has 9 characters of the FINESS set and a valid Luhn check digit."""
    if len(finess) != 9:
        return False
    c = _CORSE.get(finess[:2], finess[:2]) + finess[2:]
    # Luhn from the right of the 8-character body: the last, 6th, 4th and 2nd digits are doubled.
    # Unrolled over lookup tables: it runs once per record of a national import (275 000 times).
    # The tables hold ASCII digits only, so any other character (a letter elsewhere than 2A/2B,
    # a full-width digit that str.isdigit() would accept) fails as a KeyError.
    try:
        total = (
            _SIMPLE[c[0]] + _DOUBLE[c[1]] + _SIMPLE[c[2]] + _DOUBLE[c[3]]
            + _SIMPLE[c[4]] + _DOUBLE[c[5]] + _SIMPLE[c[6]] + _DOUBLE[c[7]]
        )
        return (10 - total % 10) % 10 == _SIMPLE[c[8]]
    except KeyError:  # not a digit
        return False


def verifier_finess(finess: str, champ: str | None = None) -> str:
    """Return `finess` unchanged when valid, else raise FinessInvalide saying why (and `champ`)."""
    if len(finess) != 9:
        raise FinessInvalide(f"FINESS {finess!r} : 9 caracteres attendus, {len(finess)} recus", champ)
    if not FORMAT_FINESS.fullmatch(finess):
        raise FinessInvalide(
            f"FINESS {finess!r} : caracteres invalides, 2 chiffres (ou 2A, 2B) puis 7 chiffres attendus",
            champ)
    if not cle_finess_valide(finess):
        raise FinessInvalide(f"FINESS {finess!r} : cle de controle (9e caractere) invalide", champ)
    return finess


# Overseas FINESS numbers carry the INSEE code on 4 characters; FINESS writes the departement
# itself as 9A..9F (domain 2).
_OUTRE_MER = {"9701": "9A", "9702": "9B", "9703": "9C", "9704": "9D", "9805": "9F"}


def departement_du_finess(finess: str) -> str:
    """The departement (FINESS coding: `21`, `2A`, `9A`...) a FINESS number was issued in.

    Raises DepartementFinessInconnu for an overseas prefix outside the programme (e.g. 9709)."""
    if finess[:2] in ("97", "98"):
        try:
            return _OUTRE_MER[finess[:4]]
        except KeyError:
            raise DepartementFinessInconnu(
                f"FINESS {finess!r} : territoire {finess[:4]} inconnu") from None
    return finess[:2]


def _valider(finess: str) -> str:
    # pydantic turns a ValueError into a 422 naming the field: say which part of the rule failed.
    try:
        return verifier_finess(finess)
    except FinessInvalide as exc:
        raise ValueError(f"{exc.message} ({REGLE_FINESS})") from None


MOTIF_DEPARTEMENT_FINESS = r"^[0-9][0-9AB]$|^9[A-F]$"
"""A département as FINESS writes it (what `departement_du_finess` returns): 01..95, 2A, 2B, 9A..9F."""

DepartementFiness = Annotated[str, StringConstraints(pattern=MOTIF_DEPARTEMENT_FINESS)]


Finess = Annotated[
    str,
    AfterValidator(_valider),
    WithJsonSchema({"type": "string", "pattern": MOTIF_FINESS, "minLength": 9, "maxLength": 9,
                    "examples": ["210780581"], "description": f"numéro FINESS : {REGLE_FINESS}"}),
]
"""A FINESS number (EJ or EG): 9 characters, the FINESS character set and a valid check key."""

