"""Money, once for every service: euros as an exact Decimal with two decimals (domain 3.4).

- `CENTIME`, `arrondi_centime`: the one rounding function (to the cent, half up, ties away from
  zero), used wherever an exact computation (forfait, amorçage, rate x ceiling) becomes money.
- `exiger_centimes`: the rules' check that an amount is already money (finite, at most two
  decimals, within the storage bounds), raising the business error naming the field.
- `Euros`: the output type; its JSON form is a decimal string with exactly two decimals.
- `EurosEntrant`: the one incoming type, for request schemas and event contracts alike.

The incoming rule (ADR 0009): a decimal string `-?[0-9]+(.[0-9]{1,2})?` — the form `Euros`
writes, so whatever the platform emits it reads back — or a JSON integer, which is exact. A JSON
float is refused whatever its value, 30000.0 included: the JSON parser has already turned it
into binary, and a rule accepting some floats and not others would depend on the value rather
than on the form. Exponents, NaN, Infinity, booleans and amounts beyond the Numeric(14, 2)
columns are refused too; nothing is ever rounded on the way in. The sign is the rules' business
(a reprise is negative, an enveloppe strictly positive), not the type's.
"""

from __future__ import annotations

import re
from decimal import ROUND_HALF_UP, Context, Decimal
from fractions import Fraction
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, PlainSerializer, WithJsonSchema

from hopen_common.programme.erreurs import RegleMetierError

CENTIME = Decimal("0.01")

# Every amount column is Numeric(14, 2): 12 digits before the point. Refusing more at the edge
# turns a database overflow (a 500 after work was done) into a 422 naming the field.
MONTANT_MAX = Decimal("999999999999.99")

_MOTIF_TEXTE = r"^-?[0-9]{1,12}(?:\.[0-9]{1,2})?$"
_TEXTE = re.compile(_MOTIF_TEXTE)

Signe = Literal["quelconque", "positif", "strictement_positif"]


def arrondi_centime(valeur: Decimal | Fraction | int) -> Decimal:
    """`valeur` rounded to the cent, ROUND_HALF_UP (ties away from zero: 0.005 -> 0.01,
    -0.005 -> -0.01), always with exactly two decimals. Exact for any size: a Fraction (the
    exact result of a division) is rounded without going through a binary or 28-digit value."""
    if isinstance(valeur, bool):
        raise TypeError("arrondi_centime : un booléen n'est pas un montant")
    if isinstance(valeur, Decimal):
        if not valeur.is_finite():
            raise ValueError(f"arrondi_centime : valeur non finie ({valeur})")
        # The context's precision must hold every digit of the result, however large the value.
        contexte = Context(prec=max(28, valeur.adjusted() + 4))
        return valeur.quantize(CENTIME, rounding=ROUND_HALF_UP, context=contexte)
    exacte = Fraction(valeur) * 100
    centimes = (abs(exacte.numerator) * 2 + exacte.denominator) // (2 * exacte.denominator)
    return Decimal(centimes if exacte >= 0 else -centimes).scaleb(-2)


def _motif_de_refus(valeur: object) -> str | None:
    """Why `valeur` is not yet money (None when it is): the one check behind exiger_centimes and
    EurosEntrant's Python inputs."""
    if not isinstance(valeur, Decimal) or not valeur.is_finite():
        return f"montant décimal fini attendu ({valeur!r})"
    if abs(valeur) > MONTANT_MAX:
        return f"montant hors des bornes (au plus {MONTANT_MAX} €) ({valeur})"
    if valeur != valeur.quantize(CENTIME):  # bounded above: quantize cannot overflow
        return f"montant au centime attendu, au plus deux décimales ({valeur})"
    return None


def exiger_centimes(valeur: Decimal, champ: str, *, signe: Signe = "quelconque") -> Decimal:
    """`valeur` with exactly two decimals when it already is money: a finite Decimal with at most
    two decimals, within MONTANT_MAX, of the required `signe`; else RegleMetierError naming
    `champ`. Never rounds: money reaching a rule was rounded once already, anything finer than a
    cent is a bug upstream or a wrong input."""
    motif = _motif_de_refus(valeur)
    if motif is not None:
        raise RegleMetierError(f"{champ} : {motif}", champ)
    if signe == "positif" and valeur < 0:
        raise RegleMetierError(f"{champ} ne peut pas être négatif ({valeur})", champ)
    if signe == "strictement_positif" and valeur <= 0:
        raise RegleMetierError(f"{champ} doit être strictement positif ({valeur})", champ)
    return valeur.quantize(CENTIME)


def _en_texte(valeur: Decimal) -> str:
    # The amount is expected exact already (the rules round once); arrondi_centime only decides how a
    # stray sub-cent value would print (half up, where the former f"{v:.2f}" rounded half even).
    # -0.00 prints as 0.00; copy_abs, unlike `+` or abs(), never rounds to the context's precision.
    arrondi = arrondi_centime(valeur)
    return f"{arrondi.copy_abs() if arrondi.is_zero() else arrondi:f}"


def _entrant(valeur: Any) -> Decimal:
    # Returns the amount with exactly two decimals; raises ValueError (a 422 naming the field).
    if isinstance(valeur, float):
        raise ValueError('montant attendu sous forme de chaîne décimale (ex. "30000.00") : un nombre à'
                         " virgule JSON a déjà été arrondi en binaire")
    if isinstance(valeur, bool):
        raise ValueError('montant attendu sous forme de chaîne décimale (ex. "30000.00")')
    if isinstance(valeur, str):
        if not _TEXTE.fullmatch(valeur):
            if re.fullmatch(r"-?[0-9]+\.[0-9]{3,}", valeur):
                raise ValueError(f"montant au centime attendu : au plus deux décimales ({valeur!r})")
            raise ValueError('montant attendu sous forme de chaîne décimale, au plus 12 chiffres avant la'
                             f' virgule et deux après (ex. "30000.00") ; reçu {valeur!r}')
        return Decimal(valeur).quantize(CENTIME)
    if isinstance(valeur, int):
        valeur = Decimal(valeur)
    if isinstance(valeur, Decimal):
        # Python callers (events built in code, tests): the same rule as the JSON string.
        motif = _motif_de_refus(valeur)
        if motif is not None:
            raise ValueError(motif)
        return valeur.quantize(CENTIME)
    raise ValueError('montant attendu sous forme de chaîne décimale (ex. "30000.00")')


_SCHEMA_EUROS = {"type": "string", "pattern": r"^-?[0-9]+\.[0-9]{2}$", "examples": ["30000.00"],
                 "description": "euros, chaîne décimale à deux décimales"}

Euros = Annotated[Decimal, PlainSerializer(_en_texte, return_type=str)]
"""An amount the platform emits: JSON `"1234.50"`, exactly two decimals, never a float."""

EurosEntrant = Annotated[
    Decimal,
    BeforeValidator(_entrant),
    PlainSerializer(_en_texte, return_type=str),
    WithJsonSchema({
        "anyOf": [{"type": "string", "pattern": _MOTIF_TEXTE}, {"type": "integer"}],
        "examples": ["30000.00"],
        "description": "euros : chaîne décimale, au plus deux décimales (ou entier JSON) ; jamais un"
                       " nombre à virgule",
    }, mode="validation"),
    WithJsonSchema(_SCHEMA_EUROS, mode="serialization"),
]
"""An amount the platform receives (request body, event payload): see the module's rule. The
value is the exact Decimal with two decimals; it serialises as `Euros`."""
