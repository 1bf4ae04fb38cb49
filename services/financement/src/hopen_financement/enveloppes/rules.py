"""Envelope ledger rules (domain.md 5). Pure: totals in, verdicts out.

alloue = allocations + transfers in - transfers out; engage = engagements - releases;
consomme = payments - reprises (a paid amount taken back, issue 9);
disponible = alloue - engage. Invariants: 0 <= consomme <= engage <= alloue.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from hopen_common.monnaie import exiger_centimes
from hopen_common.programme.erreurs import RegleMetierError

ZERO = Decimal("0.00")


class EnveloppeInsuffisante(RegleMetierError):
    """The entry would break an invariant of the account (engaged above allocated, ...)."""


@dataclass(frozen=True)
class Situation:
    alloue: Decimal
    engage: Decimal
    consomme: Decimal

    @property
    def disponible(self) -> Decimal:
        return self.alloue - self.engage

    def valide(self) -> bool:
        return ZERO <= self.consomme <= self.engage <= self.alloue


def situation(totaux: Mapping[str, Decimal]) -> Situation:
    """Figures of an account from the sum of its entries per nature."""
    def t(nature: str) -> Decimal:
        return totaux.get(nature, ZERO)

    return Situation(
        alloue=t("allocation") + t("transfert_entrant") - t("transfert_sortant"),
        engage=t("engagement") - t("desengagement"),
        consomme=t("paiement") - t("reprise"),
    )


def apres(avant: Situation, nature: str, montant: Decimal) -> Situation:
    """The account after one more entry; refuses any entry that breaks an invariant."""
    montant = exiger_centimes(montant, "montant", signe="strictement_positif")
    effets = {
        "allocation": (montant, ZERO, ZERO),
        "transfert_entrant": (montant, ZERO, ZERO),
        "transfert_sortant": (-montant, ZERO, ZERO),
        "engagement": (ZERO, montant, ZERO),
        "desengagement": (ZERO, -montant, ZERO),
        "paiement": (ZERO, ZERO, montant),
        "reprise": (ZERO, ZERO, -montant),
    }
    if nature not in effets:
        raise RegleMetierError(f"nature d'écriture inconnue : {nature}", "nature")
    da, de, dc = effets[nature]
    resultat = Situation(avant.alloue + da, avant.engage + de, avant.consomme + dc)
    if resultat.engage > resultat.alloue:
        raise EnveloppeInsuffisante(
            f"{nature} de {montant} € refusé : engagé {resultat.engage} € dépasserait l'alloué"
            f" {resultat.alloue} € (disponible {avant.disponible} €)", "montant")
    if resultat.consomme > resultat.engage or resultat.engage < 0 or resultat.consomme < 0:
        raise EnveloppeInsuffisante(
            f"{nature} de {montant} € refusé : consommé {resultat.consomme} € dépasserait l'engagé"
            f" {resultat.engage} €", "montant")
    return resultat
