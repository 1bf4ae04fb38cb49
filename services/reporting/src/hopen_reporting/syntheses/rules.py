"""How notified amounts add up into a synthesis. Pure: no I/O.

A reprise is owed back by the establishment: it counts negative in the net. Natures
(FinancementNotifie lines): amorcage, solde, reprise (phase 1), hospiconnect (yearly),
aap_acceptation, aap_atteinte (AAP halves).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")
NATURES = ("amorcage", "solde", "reprise", "hospiconnect", "aap_acceptation", "aap_atteinte")


class NatureInconnue(ValueError):
    """A nature this read model does not know: refuse to add it anywhere rather than guess."""


@dataclass
class Totaux:
    par_nature: dict[str, Decimal] = field(default_factory=lambda: dict.fromkeys(NATURES, ZERO))

    def ajouter(self, nature: str, montant: Decimal) -> None:
        if nature not in self.par_nature:
            raise NatureInconnue(nature)
        self.par_nature[nature] += montant

    @property
    def net_phase1(self) -> Decimal:
        n = self.par_nature
        return n["amorcage"] + n["solde"] - n["reprise"]

    @property
    def total(self) -> Decimal:
        """What the establishments keep in all: phase 1 net, HospiConnect, both AAP halves."""
        n = self.par_nature
        return self.net_phase1 + n["hospiconnect"] + n["aap_acceptation"] + n["aap_atteinte"]


def totaliser(lignes: Iterable[tuple[str, Decimal]]) -> Totaux:
    totaux = Totaux()
    for nature, montant in lignes:
        totaux.ajouter(nature, montant)
    return totaux


def par_cle(lignes: Iterable[tuple[str, str, Decimal]]) -> dict[str, Totaux]:
    """(key, nature, amount) -> totals per key (secteur, dispositif...)."""
    resultat: dict[str, Totaux] = {}
    for cle, nature, montant in lignes:
        resultat.setdefault(cle, Totaux()).ajouter(nature, montant)
    return resultat
