"""HospiConnect yearly attainment per EJ (domain.md 4, instruction DNS/2025/180 annex 1). Pure: no I/O.

Evidence is documents (1.0-1.4) or measured rates (2.1, 2.2, compared with the year's target as exact
rationals, like phase 1's `taux_atteint`); only objectives with a target that year are judged."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.phase1 import taux_atteint


@dataclass(frozen=True)
class PreuveVue:
    objectif: str
    nature: str  # document | taux
    document: Mapping[str, Any] | None
    numerateur: int | None
    denominateur: int | None
    depose_le: datetime


@dataclass(frozen=True)
class EvaluationObjectifHc:
    objectif: str
    libelle: str
    cible: str  # the year's target as annex 1 words it
    preuve: str  # document | taux
    documents: list[dict[str, Any]]  # every document received (they add up)
    numerateur: int | None  # the latest rate deposited (it supersedes the earlier ones)
    denominateur: int | None
    taux: Decimal | None  # shown rounded to 0.01 %; the verdict uses the exact fraction
    cible_taux: Decimal | None
    cible_atteinte: bool | None  # rates: measured >= target; documents: None (the ARS judges them)
    preuve_recue: bool


def evaluer_annee(programme: ProgrammeHospiconnect, annee: int, preuves: Sequence[PreuveVue]
                  ) -> list[EvaluationObjectifHc]:
    """Evidence received for each objective with a target in `annee` (documents, latest rate)."""
    resultat = []
    for oid in programme.objectifs_de(annee):
        objectif = programme.objectifs[oid]
        siennes = sorted((p for p in preuves if p.objectif == oid), key=lambda p: p.depose_le)
        documents = [dict(p.document) for p in siennes if p.nature == "document" and p.document is not None]
        mesures = [p for p in siennes if p.nature == "taux" and p.numerateur is not None and p.denominateur]
        derniere = mesures[-1] if mesures else None
        cible_taux = objectif.cibles_taux.get(annee)
        taux = atteinte = None
        if derniere is not None and derniere.numerateur is not None and derniere.denominateur:
            taux = (Decimal(derniere.numerateur) / Decimal(derniere.denominateur)).quantize(Decimal("0.0001"))
            if cible_taux is not None:
                atteinte = taux_atteint(derniere.numerateur, derniere.denominateur, cible_taux)
        resultat.append(EvaluationObjectifHc(
            objectif=oid, libelle=objectif.libelle, cible=objectif.cibles[annee], preuve=objectif.preuve,
            documents=documents, numerateur=derniere.numerateur if derniere else None,
            denominateur=derniere.denominateur if derniere else None, taux=taux, cible_taux=cible_taux,
            cible_atteinte=atteinte, preuve_recue=bool(documents) if objectif.preuve == "document" else
            derniere is not None))
    return resultat


def verifier_objectifs_atteints(objectifs_atteints: Sequence[str], annee: int,
                                programme: ProgrammeHospiconnect,
                                evaluation: Sequence[EvaluationObjectifHc]) -> list[str]:
    """The objectives the ARS declares reached: known, with a target that year, each once, and backed by
    the evidence received (a document; a rate at or above the target). Returned in programme order.
    The mandatory 1.0 may be missing: nothing is then paid that year (financement's rule)."""
    champ = "objectifs_atteints"
    if len(set(objectifs_atteints)) != len(objectifs_atteints):
        raise RegleMetierError("un objectif figure deux fois", champ)
    de_l_annee = programme.objectifs_de(annee)
    inconnus = [o for o in objectifs_atteints if o not in programme.objectifs]
    if inconnus:
        raise RegleMetierError(f"objectif(s) HospiConnect inconnu(s) : {', '.join(inconnus)}", champ)
    sans_cible = [o for o in objectifs_atteints if o not in de_l_annee]
    if sans_cible:
        raise RegleMetierError(f"objectif(s) sans cible en {annee} : {', '.join(sans_cible)}"
                               f" (cibles {annee} : {', '.join(de_l_annee)})", champ)
    par_objectif = {e.objectif: e for e in evaluation}
    for o in objectifs_atteints:
        e = par_objectif[o]
        if e.preuve == "document" and not e.documents:
            raise RegleMetierError(f"{o} ne peut être déclaré atteint : aucun document reçu pour {annee}",
                                   champ)
        if e.preuve == "taux" and not e.cible_atteinte:
            mesure = "aucun taux reçu" if e.taux is None else f"taux {e.taux} sous la cible {e.cible_taux}"
            raise RegleMetierError(f"{o} ne peut être déclaré atteint : {mesure}", champ)
    return [o for o in de_l_annee if o in objectifs_atteints]


def verifier_fenetre_instruction(programme: ProgrammeHospiconnect, annee: int, jour: date,
                                 ouvert: bool) -> None:
    programme.objectifs_de(annee)  # a year outside the dispositif is refused, naming "annee"
    fin = programme.calendrier.annees[annee].fin_instruction
    if not ouvert and jour > fin:
        raise RegleMetierError(f"l'instruction HospiConnect {annee} est close depuis le {fin.isoformat()}",
                               "date")


def objet_annee(annee: int) -> str:
    return f"hospiconnect.{annee}"
