"""API types shared by the slices: exact decimals on the wire, never floats."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator, PlainSerializer


def _pas_de_flottant(valeur: Any) -> Any:
    # A JSON float has already been rounded in binary: amounts and AC travel as decimal strings.
    if isinstance(valeur, float):
        raise ValueError("nombre décimal attendu sous forme de chaîne (ex. \"15000.5\")")
    if isinstance(valeur, bool):
        raise ValueError("nombre décimal attendu")
    return valeur


DecimalTexte = Annotated[Decimal, BeforeValidator(_pas_de_flottant), PlainSerializer(str, return_type=str)]
