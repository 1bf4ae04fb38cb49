"""The regional AAP envelopes as published (instruction DNS/2025/180, annex 3), from the data file
instruction ships (the same as financement's): what the local copy of the ledger starts from, before
financement's first Enveloppe* event of a region."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from importlib import resources

from hopen_common.programme.phase1 import DonneesProgrammeInvalides, decimal_exact

MILLE = Decimal(1000)
FICHIER = "enveloppes_aap_v2026.1.json"


@dataclass(frozen=True)
class AllocationInitiale:
    dispositif: str
    region: str
    montant: Decimal  # euros (the published k€ x 1000)
    version: str


def allocations_initiales(fichier: str = FICHIER) -> list[AllocationInitiale]:
    donnees = json.loads(resources.files("hopen_instruction").joinpath("data", fichier).read_text("utf-8"))
    allocations = [
        AllocationInitiale(str(donnees["dispositif"]), str(r["code"]),
                           decimal_exact(r["montant_keur"], f"{r['code']}.montant_keur") * MILLE,
                           str(donnees["version"]))
        for r in donnees["regions"]
    ]
    if sum(a.montant for a in allocations) != decimal_exact(donnees["total_keur"], "total_keur") * MILLE:
        raise DonneesProgrammeInvalides(f"{fichier} : les enveloppes ne totalisent pas le total publié")
    return allocations
