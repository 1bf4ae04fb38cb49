"""The GHT criteria of a phase-1 GHT candidature (annex 4 of DNS/2024/123), pure rules.

A GHT support gives them as fields (and the matching pieces, `pieces.py`): the GHT DSI named and
validated by the support's director, the medical project validated, the SDSI dated less than two years
before the deposit or being updated, the SI convergence information, whether the GHT has one shared
identity repository (which decides P1.P3, annex 1), and its capacity proof. A draft may hold them
incomplete (`verifier_saisie` refuses only what is wrong now); the deposit needs them all
(`criteres_invalides` lists every failing one by field).
"""

from __future__ import annotations

import calendar
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from hopen_common.programme.erreurs import RegleMetierError

__all__ = ["CritereInvalide", "CriteresGht", "criteres_de", "criteres_invalides", "verifier_saisie"]

PreuveCapacite = Literal["convention", "costrat", "engagement"]


@dataclass(frozen=True)
class CriteresGht:
    dsi_nom: str | None = None
    dsi_valide: bool = False
    projet_medical_valide: bool = False
    sdsi_date: date | None = None
    sdsi_en_cours_de_mise_a_jour: bool = False
    convergence: str | None = None
    referentiel_identite_unique: bool | None = None
    preuve_capacite: PreuveCapacite | None = None
    a_regulariser_le: date | None = None  # the commitment letter's due date (engagement only)


@dataclass(frozen=True)
class CritereInvalide:
    champ: str  # under criteres_ght, e.g. "criteres_ght.sdsi_date"
    message: str


def _jour(valeur: object) -> date | None:
    return None if valeur is None else date.fromisoformat(str(valeur))


def criteres_de(bloc: Mapping[str, Any] | None) -> CriteresGht | None:
    """The criteria from their JSON block (`{dsi_ght: {nom, valide}, projet_medical_valide, sdsi_date,
    ...}`: the API's, the stored one, the CandidatureDeposee field's), as these rules read them."""
    if bloc is None:
        return None
    dsi = bloc.get("dsi_ght") or {}
    return CriteresGht(
        dsi_nom=dsi.get("nom"), dsi_valide=bool(dsi.get("valide")),
        projet_medical_valide=bool(bloc.get("projet_medical_valide")), sdsi_date=_jour(bloc.get("sdsi_date")),
        sdsi_en_cours_de_mise_a_jour=bool(bloc.get("sdsi_en_cours_de_mise_a_jour")),
        convergence=bloc.get("convergence"),
        referentiel_identite_unique=bloc.get("referentiel_identite_unique"),
        preuve_capacite=bloc.get("preuve_capacite"), a_regulariser_le=_jour(bloc.get("a_regulariser_le")))


def _mois_avant(jour: date, mois: int) -> date:
    """`jour` minus `mois` calendar months, the day clamped to the month's last (31 -> 30, 29 Feb -> 28)."""
    annee, m = divmod(jour.year * 12 + jour.month - 1 - mois, 12)
    return date(annee, m + 1, min(jour.day, calendar.monthrange(annee, m + 1)[1]))


def verifier_saisie(c: CriteresGht, *, aujourd_hui: date) -> None:
    """What is wrong whatever the deposit date: a due date without a commitment letter, a due date
    already past, an SDSI dated in the future."""
    if c.a_regulariser_le is not None and c.preuve_capacite != "engagement":
        raise RegleMetierError("a_regulariser_le ne vaut que pour la lettre d'engagement"
                               " (preuve_capacite = engagement)", "criteres_ght.a_regulariser_le")
    if c.preuve_capacite == "engagement" and c.a_regulariser_le is None:
        raise RegleMetierError("la lettre d'engagement est à régulariser : donnez la date de la réunion"
                               " de l'instance (a_regulariser_le)", "criteres_ght.a_regulariser_le")
    if c.a_regulariser_le is not None and c.a_regulariser_le < aujourd_hui:
        raise RegleMetierError(f"a_regulariser_le ({c.a_regulariser_le.isoformat()}) est déjà passée",
                               "criteres_ght.a_regulariser_le")
    if c.sdsi_date is not None and c.sdsi_date > aujourd_hui:
        raise RegleMetierError(f"le SDSI ne peut pas être daté du futur ({c.sdsi_date.isoformat()})",
                               "criteres_ght.sdsi_date")


def criteres_invalides(c: CriteresGht | None, *, depot_le: date, sdsi_anciennete_max_mois: int
                       ) -> list[CritereInvalide]:
    """Every criterion a GHT support's deposit does not meet, by field (empty: all met)."""
    if c is None:
        return [CritereInvalide("criteres_ght", "critères GHT de l'annexe 4 non renseignés")]
    invalides: list[CritereInvalide] = []

    def refuser(champ: str, message: str) -> None:
        invalides.append(CritereInvalide(f"criteres_ght.{champ}", message))

    if not (c.dsi_nom or "").strip():
        refuser("dsi_ght.nom", "DSI de GHT non nommé")
    if not c.dsi_valide:
        refuser("dsi_ght.valide", "nomination du DSI de GHT non validée par le directeur du support")
    if not c.projet_medical_valide:
        refuser("projet_medical_valide", "projet médical du GHT non validé")
    if not c.sdsi_en_cours_de_mise_a_jour:
        limite = _mois_avant(depot_le, sdsi_anciennete_max_mois)
        if c.sdsi_date is None:
            refuser("sdsi_date", "SDSI non daté (ou déclarez son actualisation en cours)")
        elif not limite < c.sdsi_date <= depot_le:
            refuser("sdsi_date", f"SDSI du {c.sdsi_date.isoformat()} : il doit dater de moins de"
                                 f" {sdsi_anciennete_max_mois} mois au dépôt (après le {limite.isoformat()})"
                                 " ou être en cours d'actualisation")
    if not (c.convergence or "").strip():
        refuser("convergence", "information sur la convergence SI du GHT non saisie")
    if c.referentiel_identite_unique is None:
        refuser("referentiel_identite_unique",
                "dites si le GHT partage un référentiel d'identité unique (il décide de la procédure P1.P3)")
    if c.preuve_capacite is None:
        refuser("preuve_capacite", "preuve de capacité du support non choisie (convention, costrat ou"
                                   " engagement)")
    elif c.preuve_capacite == "engagement" and c.a_regulariser_le is None:
        refuser("a_regulariser_le", "date de régularisation de la lettre d'engagement manquante")
    return invalides
