"""The region (ARS) code, once for every service: one of the 18 regions in scope (domain 2).

The list is data (`data/regions.csv`, INSEE COG codes, see `data/README.md`), read once at import:
a region code is checked against it, not against a `[0-9]{2}` pattern that would let `99` or
Saint-Pierre-et-Miquelon (`05`, out of scope) through to a query that silently finds nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from types import MappingProxyType
from typing import Annotated

from pydantic import AfterValidator, WithJsonSchema
from starlette.convertors import Convertor, register_url_convertor


@dataclass(frozen=True)
class RegionProgramme:
    code: str  # INSEE region code, 2 digits: "01" Guadeloupe .. "94" Corse
    libelle: str
    ars: str


def _charger() -> Mapping[str, RegionProgramme]:
    texte = (resources.files("hopen_common") / "data" / "regions.csv").read_text(encoding="utf-8")
    regions = {
        ligne["code_region"]: RegionProgramme(ligne["code_region"], ligne["libelle"], ligne["ars"])
        for ligne in csv.DictReader(io.StringIO(texte), delimiter=";")
    }
    if len(regions) != 18:  # domain 2: 13 metropolitan regions (Corse included) + 5 overseas
        raise RuntimeError(f"data/regions.csv : 18 régions attendues, {len(regions)} lues")
    return MappingProxyType(regions)


REGIONS: Mapping[str, RegionProgramme] = _charger()
"""Region code -> region, the 18 regions in scope, in the file's order."""

CODES_REGION: frozenset[str] = frozenset(REGIONS)


def region_valide(code: str) -> bool:
    return code in CODES_REGION


def _valider(code: str) -> str:
    if code not in CODES_REGION:
        raise ValueError(f"région {code!r} inconnue : code INSEE d'une des 18 régions du programme attendu"
                         f" ({', '.join(sorted(CODES_REGION))})")
    return code


CodeRegion = Annotated[
    str,
    AfterValidator(_valider),
    WithJsonSchema({"type": "string", "enum": sorted(CODES_REGION), "examples": ["84"],
                    "description": "code INSEE d'une des 18 régions (ARS) du programme"}),
]
"""A region code in scope; usable as a schema field, a contract field and a path/query parameter."""


class _SegmentRegion(Convertor[str]):
    """`{region:region}` in a route's path: a region is two digits, so that a static sibling
    (`/v1/enveloppes/transferts`) is never taken for a region. GET on a POST-only sibling is then the
    405 it should be, not a 422 "région inconnue"; the code itself is still checked by CodeRegion."""

    regex = "[0-9]{2}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("region", _SegmentRegion())
