"""AAP amounts (domain.md 5): on selection, check the granted amount against both ceilings, engage
it on the regional envelope, notify and pay the first half; on the 2027 attainment decision, notify
and pay the second half, or release it from the envelope when the objectives are not reached.

Every decision is stored (`decision_projet_aap`) and checked with `verifier_succession`; after each,
the project is brought to what its current decisions say (`rules.cible`): a tranche key whose amount
differs gets its next version (complement or reprise of the difference, in `calcul`), the envelope is
engaged / released / paid / restituted by exactly the difference (issue 9, ADR 0014)."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import AtteinteProjetAapDecidee, ProjetAapNonRetenu, ProjetAapSelectionne
from hopen_common.events import Evenement
from hopen_common.programme.aap import charger_enveloppes_aap, charger_programme_aap
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.aap.models import AtteinteProjetAap, DecisionProjetAapRecue, ProjetAap
from hopen_financement.aap.rules import ZERO, Tranche, cible, decider_montant
from hopen_financement.enveloppes import service as enveloppes
from hopen_financement.enveloppes.repository import totaux_projet
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.notifications.cles import cle_aap
from hopen_financement.notifications.models import LigneFinancement
from hopen_financement.notifications.repository import ligne_courante
from hopen_financement.notifications.service import exiger_cles_libres, notifier
from hopen_financement.notifications.succession import Courante, verifier_succession

DISPOSITIF = "aap"
SYSTEME = "financement"


def _texte(valeur: Any) -> Any:
    if isinstance(valeur, Decimal):
        return str(valeur)
    if isinstance(valeur, dict):
        return {k: _texte(v) for k, v in valeur.items()}
    if isinstance(valeur, list | tuple):
        return [_texte(v) for v in valeur]
    return valeur


async def _decision_courante(session: AsyncSession, projet_id: str,
                             objet: str) -> DecisionProjetAapRecue | None:
    remplacees = select(DecisionProjetAapRecue.remplace).where(DecisionProjetAapRecue.remplace.is_not(None))
    decision: DecisionProjetAapRecue | None = await session.scalar(select(DecisionProjetAapRecue).where(
        DecisionProjetAapRecue.projet_id == projet_id, DecisionProjetAapRecue.objet == objet,
        DecisionProjetAapRecue.decision_id.not_in(remplacees.scalar_subquery())))
    return decision


async def _enregistrer(session: AsyncSession,
                       e: ProjetAapSelectionne | ProjetAapNonRetenu | AtteinteProjetAapDecidee, *,
                       objet: str, retenu: bool, montant: Decimal | None = None,
                       calcul: dict[str, Any] | None = None) -> None:
    """Store the decision; a second first decision, or a correction of a decision already replaced,
    is refused (parked) before anything is engaged, paid or taken back."""
    courante = await _decision_courante(session, e.projet_id, objet)
    ancienne = None if e.remplace is None else await session.get(DecisionProjetAapRecue, e.remplace)
    libelle = "la sélection" if objet == "selection" else "l'atteinte"
    verifier_succession(
        objet=f"{libelle} du projet {e.projet_id}", decision_id=e.decision_id,
        deja_recue=await session.get(DecisionProjetAapRecue, e.decision_id) is not None, remplace=e.remplace,
        courante=None if courante is None else Courante(courante.decision_id, courante.decision_id),
        remplacee_connue=ancienne is not None,
        meme_objet=ancienne is not None and (ancienne.projet_id, ancienne.objet) == (e.projet_id, objet),
        exigence_meme_objet=f"une correction porte sur {libelle} du même projet")
    session.add(DecisionProjetAapRecue(
        decision_id=e.decision_id, projet_id=e.projet_id, objet=objet, retenu=retenu, montant_accorde=montant,
        calcul=calcul, remplace=e.remplace, decide_par=e.decide_par, decide_le=e.decide_le))
    await session.flush()


def _verifier_selection(e: ProjetAapSelectionne) -> tuple[Decimal, dict[str, Any], Decimal]:
    """Check a selection (first or corrected) against the ceilings: (amount, how, cumulated AC)."""
    programme = charger_programme_aap()
    if charger_enveloppes_aap().region(e.region) is None:
        raise RegleMetierError(f"région inconnue : {e.region}", "region")
    if not e.participants or e.finess not in {p.finess for p in e.participants}:
        raise RegleMetierError("le chef de file fait partie des participants", "participants")
    for p in e.participants:
        ac = p.activite_combinee
        # Stored as NUMERIC(14, 2): refuse what the table would round silently.
        if not ac.is_finite() or ac < 0 or ac != ac.quantize(Decimal("0.01")):
            raise RegleMetierError(f"activité combinée de {p.finess} invalide ({ac})",
                                   "participants.activite_combinee")
    cumul = sum((p.activite_combinee for p in e.participants), Decimal(0))
    decision = decider_montant(cumul, e.objectifs, e.theme, e.depenses_prevues, e.montant_accorde, programme)
    calcul = _texte({
        "parametres_version": programme.version, "activite_combinee_cumulee": cumul,
        "participants": [p.model_dump() for p in e.participants], "nombre_objectifs": len(e.objectifs),
        "maximum_theorique": asdict(decision.maximum), "depenses_prevues": decision.depenses_prevues,
        "plafond": decision.plafond, "montant_accorde": decision.montant_accorde,
        "formule": "montant accordé ≤ min(maximum théorique(AC cumulée, nombre d'objectifs),"
                   " dépenses prévues)",
    })
    return decision.montant_accorde, calcul, cumul


async def _exiger_atteinte_non_decidee(session: AsyncSession, projet_id: str) -> None:
    """A selection is no longer corrected once the attainment is decided (ADR 0014, as instruction)."""
    if await _decision_courante(session, projet_id, "atteinte") is not None:
        raise RegleMetierError(f"l'atteinte du projet {projet_id} est décidée : corriger l'atteinte,"
                               " plus la sélection", "remplace")


async def sur_projet_non_retenu(session: AsyncSession, cause: Evenement, e: ProjetAapNonRetenu) -> None:
    """A first refusal engages nothing (it is kept: a correction may name it). A selection corrected
    to not retained releases everything engaged and takes back everything paid."""
    await _exiger_atteinte_non_decidee(session, e.projet_id)
    await _enregistrer(session, e, objet="selection", retenu=False)
    projet = await session.get(ProjetAap, e.projet_id)
    if projet is None:
        return  # never retained: nothing was engaged or paid
    await _reconcilier(session, cause, projet, decision_id=e.decision_id, decide_par=e.decide_par,
                       remplace=e.remplace,
                       motif=f"sélection corrigée en non-retenu : la décision {e.decision_id} remplace"
                             f" {e.remplace} ({e.motivation})")


async def sur_projet_selectionne(session: AsyncSession, cause: Evenement, e: ProjetAapSelectionne) -> None:
    montant, calcul, cumul = _verifier_selection(e)
    await _exiger_atteinte_non_decidee(session, e.projet_id)
    await _enregistrer(session, e, objet="selection", retenu=True, montant=montant, calcul=calcul)
    projet = await session.get(ProjetAap, e.projet_id)
    if projet is None:
        # The first retained selection (possibly correcting a first non-retention) describes the project.
        projet = ProjetAap(
            projet_id=e.projet_id, decision_id=e.decision_id, finess=e.finess, region=e.region, theme=e.theme,
            objectifs=e.objectifs, participants=_texte([p.model_dump() for p in e.participants]),
            perimetre=e.perimetre, activite_combinee_cumulee=cumul,
            depenses_prevues=Decimal(calcul["depenses_prevues"]),
            maximum_theorique=Decimal(calcul["maximum_theorique"]["maximum"]), montant_accorde=montant,
            calcul=calcul, decide_par=e.decide_par, decide_le=e.decide_le, motivation=e.motivation)
        session.add(projet)
        await session.flush()
    motif = (f"projet {e.projet_id} retenu ({e.theme}) : {montant} € accordés" if e.remplace is None
             else f"sélection corrigée : la décision {e.decision_id} remplace {e.remplace},"
                  f" {montant} € accordés ({e.motivation})")
    # Refused (EnveloppeInsuffisante) when the region's envelope cannot take it: the event is parked
    # until the DNS transfers money or the ARS corrects its selection.
    await _reconcilier(session, cause, projet, decision_id=e.decision_id, decide_par=e.decide_par,
                       remplace=e.remplace, motif=motif)


async def sur_atteinte_decidee(session: AsyncSession, cause: Evenement, e: AtteinteProjetAapDecidee) -> None:
    projet = await session.get(ProjetAap, e.projet_id)
    if projet is None:
        raise DonneeManquante(f"projet {e.projet_id} non retenu dans financement")
    selection = await _decision_courante(session, e.projet_id, "selection")
    if selection is None or not selection.retenu:
        raise RegleMetierError(f"le projet {e.projet_id} n'est pas retenu : pas d'atteinte à décider",
                               "projet_id")
    if e.remplace is None:
        programme = charger_programme_aap((selection.calcul or projet.calcul)["parametres_version"])
        await exiger_cles_libres(session, [cle_aap(projet.projet_id, v.nature)
                                           for v in programme.versements[1:]],
                                 quoi=f"tranche du projet {projet.projet_id}")
    await _enregistrer(session, e, objet="atteinte", retenu=e.atteint)
    if e.remplace is None:
        session.add(AtteinteProjetAap(projet_id=e.projet_id, decision_id=e.decision_id, atteint=e.atteint,
                                      decide_par=e.decide_par, decide_le=e.decide_le,
                                      motivation=e.motivation))
        await session.flush()
    etat = "atteints" if e.atteint else "non atteints"
    motif = (f"objectifs {etat} ({e.motivation})" if e.remplace is None
             else f"atteinte corrigée : la décision {e.decision_id} remplace {e.remplace}, objectifs {etat}"
                  f" ({e.motivation})")
    await _reconcilier(session, cause, projet, decision_id=e.decision_id, decide_par=e.decide_par,
                       remplace=e.remplace, motif=motif)


async def _reconcilier(session: AsyncSession, cause: Evenement, projet: ProjetAap, *, decision_id: str,
                       decide_par: str, remplace: str | None, motif: str) -> None:
    """Bring the project to what its current decisions say (rules.cible). Engagement raised first and
    released last, payments and reprises in between, so that paid <= engaged at every entry; a key
    already right writes nothing (an unchanged correction pays nothing)."""
    selection = await _decision_courante(session, projet.projet_id, "selection")
    atteinte = await _decision_courante(session, projet.projet_id, "atteinte")
    assert selection is not None  # stored by the caller
    retenu = selection.retenu and selection.montant_accorde is not None
    calcul_selection = selection.calcul if retenu and selection.calcul else projet.calcul
    programme = charger_programme_aap(calcul_selection["parametres_version"])
    montant = selection.montant_accorde if retenu else None
    visee = cible(montant, None if atteinte is None else atteinte.retenu, programme)
    totaux = await totaux_projet(session, projet.projet_id)
    engage = totaux.get("engagement", ZERO) - totaux.get("desengagement", ZERO)
    common: dict[str, Any] = {
        "dispositif": DISPOSITIF, "region": projet.region, "projet_id": projet.projet_id,
        "decision_id": decision_id, "ecrit_par": decide_par,
        "correction": None if remplace is None else decision_id}
    if visee.engage > engage:
        await enveloppes.engager(session, cause, montant=visee.engage - engage,
                                 motif=f"{motif} : {visee.engage - engage} € engagés", **common)
    for v in programme.versements:
        due = visee.tranches.get(v.nature)
        if due is None:
            continue
        cle = cle_aap(projet.projet_id, v.nature)
        precedente = await ligne_courante(session, cle)
        if precedente is not None and precedente.montant == due:
            continue
        avant = ZERO if precedente is None else precedente.montant
        await _notifier_tranche(session, cause, projet, Tranche(v.nature, v.annee, v.taux, due),
                                precedente=precedente, decision_id=decision_id, decide_par=decide_par,
                                motif=motif, montant_accorde=montant, calcul_selection=calcul_selection,
                                difference=due - avant, remplace=remplace)
    if visee.engage < engage:
        await enveloppes.desengager(session, cause, montant=engage - visee.engage,
                                    motif=f"{motif} : {engage - visee.engage} € libérés", **common)


async def _notifier_tranche(session: AsyncSession, cause: Evenement, projet: ProjetAap, tranche: Tranche, *,
                            precedente: LigneFinancement | None, decision_id: str, decide_par: str,
                            motif: str,
                            montant_accorde: Decimal | None, calcul_selection: dict[str, Any],
                            difference: Decimal, remplace: str | None) -> None:
    """The tranche key's next version (its amount now), then the envelope moved by the difference."""
    calcul: dict[str, Any] = {
        **calcul_selection, "tranche": _texte(asdict(tranche)),
        "formule_tranche": "dernière tranche = montant accordé - tranches précédentes ;"
                           " les autres : arrondi_centime(montant accordé x taux) ; non retenu ou"
                           " objectifs non atteints : 0 pour les tranches dues",
        "retenu": montant_accorde is not None}
    if precedente is not None:
        calcul.update({
            "corrige": {"version": precedente.version, "montant": str(precedente.montant),
                        "notification": precedente.notification_id, "decision_remplacee": remplace},
            "difference": str(difference),
            "sens": "complement" if difference > 0 else "reprise"})
    if precedente is None:
        texte = f"AAP : tranche {tranche.annee} ({tranche.nature}) de {tranche.montant} €"
    elif difference > 0:
        texte = f"AAP : complément de {difference} € sur la tranche {tranche.annee} ({tranche.nature})"
    else:
        texte = f"AAP : reprise de {-difference} € sur la tranche {tranche.annee} ({tranche.nature})"
    ligne = LigneFinancement(
        finess_ej=projet.finess, objectif=f"AAP.{tranche.annee}", nature=tranche.nature,
        cle_metier=cle_aap(projet.projet_id, tranche.nature),
        version_precedente=None if precedente is None else precedente.version,
        montant=tranche.montant, forfait=montant_accorde if montant_accorde is not None else ZERO,
        calcul=_texte(calcul))
    notification = await notifier(
        session, cause, dispositif=DISPOSITIF, candidature_id=projet.projet_id, finess=projet.finess,
        finess_ej=projet.finess, region=projet.region, nature=tranche.nature, annee=tranche.annee,
        lignes=[ligne], decision_id=decision_id, decide_par=decide_par, motif=f"{texte} ; {motif}")
    commun: dict[str, Any] = {
        "dispositif": DISPOSITIF, "region": projet.region, "projet_id": projet.projet_id,
        "notification_id": notification.id, "tranche": tranche.nature, "ecrit_par": SYSTEME}
    if difference > 0:
        await enveloppes.consommer(session, cause, montant=difference, motif=texte,
                                   correction=None if remplace is None else decision_id, **commun)
    elif difference < 0:
        await enveloppes.restituer(session, cause, montant=-difference, decision_id=decision_id,
                                   motif=texte, **commun)
