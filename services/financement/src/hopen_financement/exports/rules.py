"""Budget-circular table from amount lines. Pure: lines in, rows and totals out.

One row per (region, FINESS paid, dispositif). total = amorcage + solde - reprise + hospiconnect + aap
(what was notified); solde_prevu is the phase-1 solde still to be decided if every objective is reached
(forfait - amorcage of undecided lines), shown apart and never added to the notified total.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

ZERO = Decimal("0.00")
MONTANTS = ("amorcage", "solde", "reprise", "hospiconnect", "aap", "total", "solde_prevu")


@dataclass(frozen=True)
class Source:
    region: str
    finess: str  # who is paid (a GHT's support ES)
    dispositif: str
    objectif: str
    nature: str  # amorcage | solde | reprise | hospiconnect | aap_* | solde_prevu
    montant: Decimal


@dataclass
class Ligne:
    region: str
    finess: str
    raison_sociale: str
    dispositif: str
    objectifs: list[str] = field(default_factory=list)
    amorcage: Decimal = ZERO
    solde: Decimal = ZERO
    reprise: Decimal = ZERO
    hospiconnect: Decimal = ZERO
    aap: Decimal = ZERO
    solde_prevu: Decimal = ZERO

    @property
    def total(self) -> Decimal:
        return self.amorcage + self.solde - self.reprise + self.hospiconnect + self.aap

    def montants(self) -> dict[str, Decimal]:
        return {m: getattr(self, m) for m in MONTANTS}


@dataclass(frozen=True)
class Total:
    libelle: str
    montants: Mapping[str, Decimal]


@dataclass(frozen=True)
class Circulaire:
    lignes: tuple[Ligne, ...]
    sous_totaux: tuple[Total, ...]  # one per region, in region order
    total: Total


def _colonne(nature: str) -> str:
    if nature.startswith("aap"):
        return "aap"
    if nature in ("amorcage", "solde", "reprise", "hospiconnect", "solde_prevu"):
        return nature
    raise ValueError(f"nature de ligne inconnue : {nature}")


def _somme(lignes: Iterable[Ligne]) -> dict[str, Decimal]:
    totaux = dict.fromkeys(MONTANTS, ZERO)
    for ligne in lignes:
        for m, v in ligne.montants().items():
            totaux[m] += v
    return totaux


def construire(sources: Iterable[Source], raisons_sociales: Mapping[str, str],
               libelle_total: str = "TOTAL NATIONAL") -> Circulaire:
    lignes: dict[tuple[str, str, str], Ligne] = {}
    for s in sources:
        cle = (s.region, s.finess, s.dispositif)
        ligne = lignes.get(cle)
        if ligne is None:
            ligne = lignes[cle] = Ligne(s.region, s.finess, raisons_sociales.get(s.finess, ""), s.dispositif)
        colonne = _colonne(s.nature)
        setattr(ligne, colonne, getattr(ligne, colonne) + s.montant)
        if s.objectif not in ligne.objectifs:
            ligne.objectifs.append(s.objectif)
    ordonnees = tuple(sorted(lignes.values(), key=lambda li: (li.region, li.finess, li.dispositif)))
    for ligne in ordonnees:
        ligne.objectifs.sort()
    regions = sorted({li.region for li in ordonnees})
    sous_totaux = tuple(Total(f"TOTAL région {r}", _somme(li for li in ordonnees if li.region == r))
                        for r in regions)
    return Circulaire(ordonnees, sous_totaux, Total(libelle_total, _somme(ordonnees)))
