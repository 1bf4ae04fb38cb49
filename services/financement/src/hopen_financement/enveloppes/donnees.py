"""The regional AAP envelopes (instruction DNS/2025/180, annex 3), from a versioned data file."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache

from hopen_financement.donnees import DonneesProgrammeInvalides, decimal_exact, lire

MILLE = Decimal(1000)


@dataclass(frozen=True)
class EnveloppeRegionale:
    code: str  # INSEE region code, as in the referentiel
    libelle: str
    quote_part_pct: Decimal  # published share, rounded: informative only
    montant: Decimal  # euros (the published k€ x 1000): the truth


@dataclass(frozen=True)
class EnveloppesAap:
    version: str
    reference: str
    dispositif: str
    total: Decimal  # euros
    regions: tuple[EnveloppeRegionale, ...]
    dispositifs_de_transfert: tuple[str, ...]

    def region(self, code: str) -> EnveloppeRegionale | None:
        return next((r for r in self.regions if r.code == code), None)


@cache
def charger_enveloppes_aap(version: str | None = None) -> EnveloppesAap:
    donnees = lire("enveloppes_aap", version)
    regions = tuple(
        EnveloppeRegionale(
            code=str(r["code"]), libelle=str(r["libelle"]),
            quote_part_pct=decimal_exact(r["quote_part_pct"], f"{r['code']}.quote_part_pct"),
            montant=decimal_exact(r["montant_keur"], f"{r['code']}.montant_keur") * MILLE,
        )
        for r in donnees["regions"]
    )
    total = decimal_exact(donnees["total_keur"], "total_keur") * MILLE
    # The amounts are the truth: they must add up to the published total (87 200 k€), one per region.
    if sum((r.montant for r in regions), Decimal(0)) != total:
        raise DonneesProgrammeInvalides("enveloppes : la somme des régions diffère du total publié")
    if len({r.code for r in regions}) != len(regions) or any(r.montant <= 0 for r in regions):
        raise DonneesProgrammeInvalides("enveloppes : région en double ou montant non positif")
    dispositif = str(donnees["dispositif"])
    transferts = tuple(str(d) for d in donnees["dispositifs_de_transfert"])
    if dispositif not in transferts:
        raise DonneesProgrammeInvalides("enveloppes : le dispositif doit être un dispositif de transfert")
    return EnveloppesAap(
        version=str(donnees["version"]), reference=str(donnees["source"]["reference"]),
        dispositif=dispositif, total=total, regions=regions, dispositifs_de_transfert=transferts,
    )
