"""The business key of every amount financement can pay (issue 7: pay once). Pure: no I/O.

An amount is paid at most once per key; a correction is the next version of the same key, never a
second key. The keys never contain the candidature id: two candidatures covering the same EJ would
otherwise each get their own "first" amorçage.

- phase 1: (EJ, objective, poste) where poste is `amorcage` or `solde` (a reprise is the solde
  when negative: the same key, so an EJ never gets both a solde and a reprise for one objective);
- HospiConnect: (EJ, year);
- AAP: (project, tranche): a lead ES takes part in up to two projects (domain.md 5), so the key
  is the project, not the lead's FINESS.

The EJ is the FINESS the amount is computed for: a GHT member EJ, the applicant's own FINESS
otherwise (its FINESS PMSI: an EG for a private establishment).
"""

from __future__ import annotations

from typing import Literal

PosteFinancement = Literal["amorcage", "solde"]
_SEPARATEUR = "/"


def poste_phase1(nature: str) -> PosteFinancement:
    """The key's poste of a phase-1 line: a reprise is a negative solde."""
    if nature == "amorcage":
        return "amorcage"
    if nature in ("solde", "reprise"):
        return "solde"
    raise ValueError(f"nature de ligne de la phase 1 inconnue : {nature!r}")


def cle_phase1(finess_ej: str, objectif: str, poste: PosteFinancement) -> str:
    return _SEPARATEUR.join(("phase1", finess_ej, objectif, poste))


def cle_hospiconnect(finess_ej: str, annee: int) -> str:
    return _SEPARATEUR.join(("hospiconnect", finess_ej, str(annee)))


def cle_aap(projet_id: str, tranche: str) -> str:
    return _SEPARATEUR.join(("aap", projet_id, tranche))
