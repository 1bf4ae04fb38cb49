"""French mail templates: one file per template in `modeles/` (`<nom>.txt`), first line
`Objet : ...`, a blank line, then the body; `$variable` placeholders (string.Template). Adding a
mail is a template file plus a mapping entry in the sending service."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from string import Template

log = logging.getLogger(__name__)
ABSENT = "(non précisé)"
_MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre",
         "octobre", "novembre", "décembre")


def _noms() -> tuple[str, ...]:
    dossier = resources.files("hopen_common.courriel").joinpath("modeles")
    return tuple(sorted(e.name[:-4] for e in dossier.iterdir() if e.name.endswith(".txt")))


MODELES = _noms()


@cache
def _modele(nom: str) -> tuple[Template, Template]:
    if nom not in MODELES:
        raise KeyError(f"modèle de courriel inconnu : {nom}")
    texte = resources.files("hopen_common.courriel").joinpath("modeles", f"{nom}.txt").read_text("utf-8")
    entete, _, corps = texte.partition("\n\n")
    if not entete.startswith("Objet : "):
        raise ValueError(f"modèle {nom} : la première ligne doit être « Objet : ... »")
    return Template(entete.removeprefix("Objet : ").strip()), Template(corps)


def en_francais(valeur: object) -> str:
    """Dates as "29 mai 2026", amounts with a comma and a euro sign, lists joined."""
    if isinstance(valeur, datetime):
        return f"{valeur.day} {_MOIS[valeur.month - 1]} {valeur.year}"
    if isinstance(valeur, date):
        return f"{valeur.day} {_MOIS[valeur.month - 1]} {valeur.year}"
    if isinstance(valeur, Decimal):
        return f"{valeur:,.2f} €".replace(",", "\u202f").replace(".", ",")
    if isinstance(valeur, bool):
        return "oui" if valeur else "non"
    if isinstance(valeur, list | tuple):
        return ", ".join(en_francais(v) for v in valeur) or "aucun"
    if isinstance(valeur, dict):
        # A small record in a list (a piece asked: its type and EJ): its given values, in order.
        return " ".join(en_francais(v) for v in valeur.values() if v is not None)
    if valeur is None:
        return ABSENT
    return str(valeur)


class _Variables(dict[str, str]):
    """A placeholder the payload does not have renders as "(non précisé)" (logged), so a payload that
    evolves never stops the consumer on a mail."""

    def __missing__(self, cle: str) -> str:
        log.warning("variable de courriel absente : %s", cle)
        return ABSENT


def rendre(nom: str, variables: Mapping[str, object]) -> tuple[str, str]:
    """(subject, body) of template `nom` with `variables` written in French."""
    sujet, corps = _modele(nom)
    valeurs = _Variables({k: en_francais(v) for k, v in variables.items()})
    return sujet.substitute(valeurs), corps.substitute(valeurs)
