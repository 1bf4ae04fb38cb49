"""HospiConnect programme data (phase 2, instruction DNS/2025/180), loaded from a versioned file.

Staff-ceiling pieces, the rate by number of objectives reached, the mandatory
objective, the objectives per year and the calendar all live in
`data/hospiconnect_v<version>.json`; this module parses and checks them into
frozen dataclasses with exact Decimal values.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from types import MappingProxyType
from typing import Any

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import (
    DonneesProgrammeInvalides,
    date_iso,
    decimal_exact,
    lire_donnees,
    versions_disponibles,
)

__all__ = [
    "AnneeHospiconnect",
    "CalendrierHospiconnect",
    "ForfaitFixe",
    "ObjectifHospiconnect",
    "PalierParAgent",
    "ProgrammeHospiconnect",
    "charger_programme_hospiconnect",
]


@dataclass(frozen=True)
class ForfaitFixe:
    """Fixed ceiling for a staff count in [effectif_min, effectif_max] (1..50 agents -> 6 600 EUR)."""

    effectif_min: int
    effectif_max: int
    montant: Decimal


@dataclass(frozen=True)
class PalierParAgent:
    """Each agent ranked du_agent..au_agent (inclusive; None = no upper bound) adds montant_par_agent."""

    du_agent: int
    au_agent: int | None
    montant_par_agent: Decimal


@dataclass(frozen=True)
class ObjectifHospiconnect:
    id: str
    libelle: str
    categorie: str
    preuve: str  # "document" or "taux" (numerator / denominator)
    cibles: Mapping[int, str]  # year -> target text; a year absent means no target that year
    cibles_taux: Mapping[int, Decimal]  # year -> exact rate target, for "taux" objectives


@dataclass(frozen=True)
class AnneeHospiconnect:
    fin_depot_preuves: date  # inclusive
    fin_instruction: date  # inclusive


@dataclass(frozen=True)
class CalendrierHospiconnect:
    fin_candidatures: date  # inclusive
    annees: Mapping[int, AnneeHospiconnect]


@dataclass(frozen=True)
class ProgrammeHospiconnect:
    version: str
    reference: str
    forfait_fixe: ForfaitFixe
    paliers: tuple[PalierParAgent, ...]  # contiguous, ascending, the last one open-ended
    taux_par_nombre_objectifs: Mapping[int, Decimal]  # 1..N; N or more -> rate of N
    objectif_obligatoire: str
    objectifs: Mapping[str, ObjectifHospiconnect]
    calendrier: CalendrierHospiconnect

    @property
    def annees(self) -> tuple[int, ...]:
        return tuple(sorted(self.calendrier.annees))

    def objectifs_de(self, annee: int) -> tuple[str, ...]:
        """Objectives with a target in `annee` (2026: only 1.0)."""
        if annee not in self.calendrier.annees:
            raise RegleMetierError(f"année {annee} hors du dispositif HospiConnect v{self.version}", "annee")
        return tuple(o.id for o in self.objectifs.values() if annee in o.cibles)


def _construire(donnees: Mapping[str, Any]) -> ProgrammeHospiconnect:
    plafond = donnees["plafond"]
    fixe_brut = plafond["forfait_fixe"]
    fixe = ForfaitFixe(int(fixe_brut["effectif_min"]), int(fixe_brut["effectif_max"]),
                       decimal_exact(fixe_brut["montant"], "plafond.forfait_fixe.montant"))
    paliers = tuple(
        PalierParAgent(int(p["du_agent"]), None if p["au_agent"] is None else int(p["au_agent"]),
                       decimal_exact(p["montant_par_agent"], f"plafond.paliers_par_agent[{i}]"))
        for i, p in enumerate(plafond["paliers_par_agent"])
    )
    # Contiguity: agent k is paid by exactly one piece, so the ceiling is well defined for every E.
    attendu = fixe.effectif_max + 1
    for i, p in enumerate(paliers):
        if p.du_agent != attendu or (p.au_agent is not None and p.au_agent < p.du_agent):
            raise DonneesProgrammeInvalides(f"palier {i} : commence à {p.du_agent}, {attendu} attendu")
        if p.montant_par_agent < 0:
            raise DonneesProgrammeInvalides(f"palier {i} : montant négatif")
        if p.au_agent is None and i != len(paliers) - 1:
            raise DonneesProgrammeInvalides("seul le dernier palier peut être ouvert")
        attendu = (p.au_agent or 0) + 1
    if fixe.effectif_min != 1 or not paliers or paliers[-1].au_agent is not None:
        raise DonneesProgrammeInvalides("le barème doit couvrir tous les effectifs à partir de 1")

    taux = {int(k): decimal_exact(v, f"taux[{k}]") for k, v in donnees["taux_par_nombre_objectifs"].items()}
    if sorted(taux) != list(range(1, len(taux) + 1)):
        raise DonneesProgrammeInvalides("taux_par_nombre_objectifs : clés 1..N attendues")
    valeurs = [taux[k] for k in sorted(taux)]
    if any(not 0 < v <= 1 for v in valeurs) or valeurs != sorted(valeurs):
        raise DonneesProgrammeInvalides("taux_par_nombre_objectifs : taux croissants dans ]0, 1] attendus")

    objectifs: dict[str, ObjectifHospiconnect] = {}
    for o in donnees["objectifs"]:
        oid = str(o["id"])
        if oid in objectifs:
            raise DonneesProgrammeInvalides(f"objectif {oid} en double")
        objectifs[oid] = ObjectifHospiconnect(
            id=oid, libelle=str(o["libelle"]), categorie=str(o["categorie"]), preuve=str(o["preuve"]),
            cibles=MappingProxyType({int(a): str(t) for a, t in o["cibles"].items()}),
            cibles_taux=MappingProxyType({
                int(a): decimal_exact(t, f"{oid}.cibles_taux[{a}]")
                for a, t in o.get("cibles_taux", {}).items()
            }),
        )
    obligatoire = str(donnees["objectif_obligatoire"])
    if obligatoire not in objectifs:
        raise DonneesProgrammeInvalides(f"objectif obligatoire {obligatoire} absent de la liste")

    cal = donnees["calendrier"]
    annees = {
        int(a): AnneeHospiconnect(date_iso(v["fin_depot_preuves"], f"{a}.fin_depot_preuves"),
                                  date_iso(v["fin_instruction"], f"{a}.fin_instruction"))
        for a, v in cal["annees"].items()
    }
    for oid, obj in objectifs.items():
        if not set(obj.cibles) <= set(annees) or not set(obj.cibles_taux) <= set(obj.cibles):
            raise DonneesProgrammeInvalides(f"{oid} : cibles pour une année hors calendrier")
    return ProgrammeHospiconnect(
        version=str(donnees["version"]),
        reference=str(donnees["source"]["reference"]),
        forfait_fixe=fixe,
        paliers=paliers,
        taux_par_nombre_objectifs=MappingProxyType(taux),
        objectif_obligatoire=obligatoire,
        objectifs=MappingProxyType(objectifs),
        calendrier=CalendrierHospiconnect(date_iso(cal["fin_candidatures"], "fin_candidatures"),
                                          MappingProxyType(annees)),
    )


@cache
def charger_programme_hospiconnect(version: str | None = None) -> ProgrammeHospiconnect:
    """The HospiConnect programme of `version` ("2026.1"), the latest shipped when None. Cached."""
    if version is None:
        return charger_programme_hospiconnect(versions_disponibles("hospiconnect")[-1])
    return _construire(lire_donnees("hospiconnect", version))
