"""HospiConnect yearly amounts (domain.md 4.2), from two facts that arrive in any order: the ARS
decision on one EJ's year and the eligible expenses declared for that year. The amount is computed
once both are known, and recomputed when either is corrected; a recomputation that changes an input
supersedes the previous notification (never edits it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import DepensesDeclarees, HospiconnectAnneeDecidee
from hopen_common.events import Evenement
from hopen_common.monnaie import exiger_centimes
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_financement.candidatures.repository import decision_candidature_courante
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.etablissements.models import EtablissementConnu
from hopen_financement.hospiconnect import repository
from hopen_financement.hospiconnect.models import (
    DecisionHospiconnect,
    DeclarationDepenses,
    MontantHospiconnect,
)
from hopen_financement.hospiconnect.rules import montant_annuel, taux
from hopen_financement.notifications.cles import cle_hospiconnect
from hopen_financement.notifications.models import LigneFinancement, Notification
from hopen_financement.notifications.service import notifier
from hopen_financement.notifications.succession import Courante, verifier_succession

DISPOSITIF = "hospiconnect"


def objectif_ligne(annee: int) -> str:
    return f"HC.{annee}"


def regressions(annee_precedente: Sequence[str] | None, cette_annee: Sequence[str]) -> list[str]:
    """Objectives reached the year before and not this year (domain.md 4.2): reported, not paid."""
    if annee_precedente is None:
        return []
    return sorted(set(annee_precedente) - set(cette_annee))


async def sur_decision_annuelle(session: AsyncSession, cause: Evenement, e: HospiconnectAnneeDecidee) -> None:
    programme = charger_programme_hospiconnect()
    programme.objectifs_de(e.annee)  # a year outside the dispositif is refused, naming "annee"
    if len(set(e.objectifs_atteints)) != len(e.objectifs_atteints):
        raise RegleMetierError("objectif présent deux fois", "objectifs_atteints")
    taux(e.objectifs_atteints, programme, e.annee)  # unknown, or without a target that year: refused
    # Keyed by (EJ, year), not by candidature: an EJ covered by two candidatures (applied alone,
    # then in a GHT support's perimeter) is still decided, and paid, once a year.
    await repository.verrouiller_annee(session, e.finess_ej, e.annee)
    courante = await repository.decision_courante(session, e.finess_ej, e.annee)
    ancienne = None if e.remplace is None else await session.get(DecisionHospiconnect, e.remplace)
    verifier_succession(
        objet=f"{e.finess_ej} {e.annee}", decision_id=e.decision_id,
        deja_recue=await session.get(DecisionHospiconnect, e.decision_id) is not None, remplace=e.remplace,
        courante=None if courante is None else Courante(
            courante.decision_id, f"{courante.decision_id}, candidature {courante.candidature_id}"),
        remplacee_connue=ancienne is not None,
        meme_objet=ancienne is not None and (ancienne.finess_ej, ancienne.annee) == (e.finess_ej, e.annee),
        exigence_meme_objet="une correction porte sur la même EJ et la même année")
    session.add(DecisionHospiconnect(
        decision_id=e.decision_id, candidature_id=e.candidature_id, finess=e.finess, finess_ej=e.finess_ej,
        region=e.region, annee=e.annee, objectifs_atteints=sorted(set(e.objectifs_atteints)),
        effectifs=e.effectifs, decide_par=e.decide_par, decide_le=e.decide_le, motivation=e.motivation,
        remplace=e.remplace))
    await session.flush()
    await recalculer(session, cause, e.finess_ej, e.annee)


async def sur_depenses_declarees(session: AsyncSession, cause: Evenement, e: DepensesDeclarees) -> None:
    programme = charger_programme_hospiconnect()
    programme.objectifs_de(e.annee)
    montant = exiger_centimes(e.montant, "montant", signe="positif")
    await repository.verrouiller_annee(session, e.finess_ej, e.annee)
    # One current declaration per (candidature, EJ, year): the year's eligible expenses, replaced
    # by a correction, never added to (ADR 0010): a second "first" one is the same expense twice.
    courante = await repository.declaration_courante(session, e.candidature_id, e.finess_ej, e.annee)
    ancienne = None if e.remplace is None else await session.get(DeclarationDepenses, e.remplace)
    verifier_succession(
        objet=f"dépenses {e.annee} de {e.finess_ej} (candidature {e.candidature_id})",
        decision_id=e.declaration_id,
        deja_recue=await session.get(DeclarationDepenses, e.declaration_id) is not None,
        remplace=e.remplace,
        courante=None if courante is None else Courante(
            courante.declaration_id, f"{courante.declaration_id}, {courante.montant} €"),
        remplacee_connue=ancienne is not None,
        meme_objet=ancienne is not None and (ancienne.candidature_id, ancienne.finess_ej, ancienne.annee)
        == (e.candidature_id, e.finess_ej, e.annee),
        exigence_meme_objet="une correction porte sur la même candidature, EJ et année")
    session.add(DeclarationDepenses(
        declaration_id=e.declaration_id, candidature_id=e.candidature_id, finess=e.finess,
        finess_ej=e.finess_ej, region=e.region, annee=e.annee, montant=montant,
        declare_par=e.declare_par, declare_le=e.declare_le, remplace=e.remplace))
    await session.flush()
    await recalculer(session, cause, e.finess_ej, e.annee)


async def _effectifs(session: AsyncSession, decision: DecisionHospiconnect) -> tuple[int, str]:
    etab = await session.get(EtablissementConnu, decision.finess_ej)
    if etab is not None and etab.effectifs is not None:
        return etab.effectifs, "referentiel"
    if decision.effectifs is not None:
        return decision.effectifs, "decision"
    raise DonneeManquante(f"effectifs inconnus pour {decision.finess_ej}")


async def recalculer(session: AsyncSession, cause: Evenement, finess_ej: str, annee: int) -> None:
    """(Re)decide the amount of (finess_ej, annee) from the current decision and declarations."""
    decision = await repository.decision_courante(session, finess_ej, annee)
    if decision is None:
        return  # both facts are needed: the amount is decided when the second one arrives
    # Only the expenses declared with the candidature the ARS decided on: a closed candidature's
    # declaration (the EJ applied alone, then within its GHT) pays nothing. A candidature whose
    # validation was corrected to a refusal counts no expense either: its years go back to 0 €.
    candidature = await decision_candidature_courante(session, decision.candidature_id)
    refusee = candidature is not None and not candidature.validee
    declaration = (None if refusee else
                   await repository.declaration_courante(session, decision.candidature_id, finess_ej, annee))
    dernier = await repository.dernier_montant(session, finess_ej, annee)
    if declaration is None and dernier is None:
        return
    # A decision corrected through another candidature that has declared nothing yet: the amount
    # notified on the other candidature's declaration no longer stands; nothing declared, 0 €.
    effectifs, source_effectifs = await _effectifs(session, decision)
    depenses = Decimal("0.00") if declaration is None else declaration.montant
    programme = charger_programme_hospiconnect()
    calcul = montant_annuel(effectifs, decision.objectifs_atteints, depenses, programme, annee)
    precedente = await repository.decision_courante(session, finess_ej, annee - 1)
    perdus = regressions(precedente.objectifs_atteints if precedente else None, decision.objectifs_atteints)
    ids = [] if declaration is None else [declaration.declaration_id]
    if (dernier is not None and dernier.decision_id == decision.decision_id and dernier.declarations == ids
            and dernier.effectifs == effectifs):
        return  # nothing the amount depends on changed
    explication: dict[str, Any] = {
        k: (str(v) if isinstance(v, Decimal) else list(v) if isinstance(v, tuple) else v)
        for k, v in asdict(calcul).items()}
    explication.update({
        "annee": annee, "finess_ej": finess_ej, "source_effectifs": source_effectifs,
        "decision_id": decision.decision_id, "declarations": ids, "regressions": perdus,
        "candidature_refusee": None if not refusee or candidature is None else candidature.decision_id,
        "formule": "min(plafond(effectifs) x taux(nombre d'objectifs atteints, 1.0 obligatoire),"
                   " dépenses éligibles déclarées pour l'année)",
    })
    rang = 1 if dernier is None else dernier.rang + 1
    remplace = None if dernier is None else await session.get(Notification, dernier.notification_id)
    ligne = LigneFinancement(finess_ej=finess_ej, objectif=objectif_ligne(annee), nature=DISPOSITIF,
                             cle_metier=cle_hospiconnect(finess_ej, annee),
                             version_precedente=None if dernier is None else dernier.rang,
                             montant=calcul.montant, forfait=calcul.montant_theorique,
                             calcul=explication)
    motif = (f"HospiConnect {annee} : {calcul.nombre_objectifs} objectif(s) atteint(s), taux {calcul.taux},"
             f" plafond {calcul.plafond} €, dépenses déclarées {depenses} €")
    if perdus:
        motif += f" ; régression : {', '.join(perdus)}"
    if refusee and candidature is not None:
        motif = (f"HospiConnect {annee} : validation de la candidature corrigée en refus (décision"
                 f" {candidature.decision_id}) : reprise de ce qui a été notifié")
    notification = await notifier(
        session, cause, dispositif=DISPOSITIF, candidature_id=decision.candidature_id, finess=decision.finess,
        finess_ej=finess_ej, region=decision.region, nature=DISPOSITIF, annee=annee, lignes=[ligne],
        decision_id=decision.decision_id, decide_par=decision.decide_par,
        motif=motif if remplace is None else f"correction : {motif}", remplace=remplace)
    session.add(MontantHospiconnect(
        finess_ej=finess_ej, annee=annee, rang=rang, candidature_id=decision.candidature_id,
        finess=decision.finess, region=decision.region, decision_id=decision.decision_id, declarations=ids,
        effectifs=effectifs, objectifs_atteints=list(calcul.objectifs_atteints), plafond=calcul.plafond,
        taux=calcul.taux, montant_theorique=calcul.montant_theorique, depenses_eligibles=depenses,
        montant=calcul.montant, regressions=perdus, calcul=explication, notification_id=notification.id,
        cree_le=datetime.now(UTC)))
    await session.flush()


async def recalculer_candidature(session: AsyncSession, cause: Evenement, candidature_id: str) -> None:
    """Every (EJ, year) the ARS decided on this candidature, recomputed after its validation was
    corrected (to a refusal: each amount goes to 0; back to a validation: each is what it was)."""
    annees = (await session.execute(
        select(DecisionHospiconnect.finess_ej, DecisionHospiconnect.annee)
        .where(DecisionHospiconnect.candidature_id == candidature_id).distinct()
        .order_by(DecisionHospiconnect.finess_ej, DecisionHospiconnect.annee))).all()
    for finess_ej, annee in annees:
        await repository.verrouiller_annee(session, finess_ej, annee)
        await recalculer(session, cause, finess_ej, annee)
