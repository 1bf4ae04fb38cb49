"""AAP amounts (domain.md 5): on selection, check the granted amount against both ceilings, engage
it on the regional envelope, notify and pay the first half; on the 2027 attainment decision, notify
and pay the second half, or release it from the envelope when the objectives are not reached."""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import AtteinteProjetAapDecidee, ProjetAapNonRetenu, ProjetAapSelectionne
from hopen_common.events import Evenement
from hopen_common.inbox import EvenementRefuse
from hopen_common.programme.aap import charger_enveloppes_aap, charger_programme_aap
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.aap.models import AtteinteProjetAap, ProjetAap
from hopen_financement.aap.rules import Tranche, decider_montant, tranches
from hopen_financement.enveloppes import service as enveloppes
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.notifications.cles import cle_aap
from hopen_financement.notifications.models import LigneFinancement
from hopen_financement.notifications.service import exiger_cles_libres, notifier
from hopen_financement.notifications.succession import CORRECTION_A_REGULARISER, PAIEMENT_EN_DOUBLE

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


async def _payer(session: AsyncSession, cause: Evenement, projet: ProjetAap, tranche: Tranche,
                 decision_id: str, decide_par: str, motif: str) -> None:
    ligne = LigneFinancement(
        finess_ej=projet.finess, objectif=f"AAP.{tranche.annee}", nature=tranche.nature,
        cle_metier=cle_aap(projet.projet_id, tranche.nature),
        montant=tranche.montant, forfait=projet.montant_accorde,
        calcul={**projet.calcul, "tranche": _texte(asdict(tranche)),
                "formule_tranche": "dernière tranche = montant accordé - tranches précédentes ;"
                                   " les autres : arrondi_centime(montant accordé x taux)"})
    notification = await notifier(
        session, cause, dispositif=DISPOSITIF, candidature_id=projet.projet_id, finess=projet.finess,
        finess_ej=projet.finess, region=projet.region, nature=tranche.nature, annee=tranche.annee,
        lignes=[ligne], decision_id=decision_id, decide_par=decide_par, motif=motif)
    if tranche.montant > 0:
        await enveloppes.consommer(
            session, cause, dispositif=DISPOSITIF, region=projet.region, montant=tranche.montant,
            projet_id=projet.projet_id, notification_id=notification.id, tranche=tranche.nature,
            motif=motif, ecrit_par=SYSTEME)


def _correction_non_calculee(e: ProjetAapSelectionne | ProjetAapNonRetenu | AtteinteProjetAapDecidee
                             ) -> EvenementRefuse:
    return EvenementRefuse(CORRECTION_A_REGULARISER, (
        f"décision {e.decision_id} du projet {e.projet_id} : correction de la décision {e.remplace} ;"
        " le complément ou la reprise AAP et l'ajustement de l'enveloppe ne sont pas encore calculés"
        " (ADR 0014) : à régulariser, rien n'est payé ni repris"))


async def sur_projet_non_retenu(session: AsyncSession, cause: Evenement, e: ProjetAapNonRetenu) -> None:
    """A first refusal engages nothing; a selection corrected to not retained is parked (ADR 0014)."""
    if e.remplace is not None:
        raise _correction_non_calculee(e)


async def sur_projet_selectionne(session: AsyncSession, cause: Evenement, e: ProjetAapSelectionne) -> None:
    if e.remplace is not None:
        raise _correction_non_calculee(e)
    deja = await session.get(ProjetAap, e.projet_id)
    if deja is not None:
        raise EvenementRefuse(PAIEMENT_EN_DOUBLE, (
            f"projet {e.projet_id} déjà retenu (décision {deja.decision_id}, {deja.montant_accorde} €) :"
            f" la décision {e.decision_id} n'engage ni ne paie une seconde fois"))
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
    projet = ProjetAap(
        projet_id=e.projet_id, decision_id=e.decision_id, finess=e.finess, region=e.region, theme=e.theme,
        objectifs=e.objectifs, participants=_texte([p.model_dump() for p in e.participants]),
        perimetre=e.perimetre, activite_combinee_cumulee=cumul, depenses_prevues=decision.depenses_prevues,
        maximum_theorique=decision.maximum.maximum, montant_accorde=decision.montant_accorde, calcul=calcul,
        decide_par=e.decide_par, decide_le=e.decide_le, motivation=e.motivation)
    session.add(projet)
    await session.flush()
    # Refused (EnveloppeInsuffisante) when the region's envelope cannot take it: the event is parked
    # until the DNS transfers money or the ARS corrects its selection.
    await enveloppes.engager(
        session, cause, dispositif=DISPOSITIF, region=e.region, montant=decision.montant_accorde,
        projet_id=e.projet_id, decision_id=e.decision_id, motif=f"projet {e.projet_id} retenu ({e.theme})",
        ecrit_par=e.decide_par)
    premiere = decision.tranches[0]
    await _payer(session, cause, projet, premiere, e.decision_id, e.decide_par,
                 f"AAP : {premiere.taux * 100:.0f} % du montant accordé ({decision.montant_accorde} €) à"
                 f" l'acceptation du projet")


async def sur_atteinte_decidee(session: AsyncSession, cause: Evenement, e: AtteinteProjetAapDecidee) -> None:
    if e.remplace is not None:
        raise _correction_non_calculee(e)
    projet = await session.get(ProjetAap, e.projet_id)
    if projet is None:
        raise DonneeManquante(f"projet {e.projet_id} non retenu dans financement")
    deja = await session.get(AtteinteProjetAap, e.projet_id)
    if deja is not None:
        raise EvenementRefuse(PAIEMENT_EN_DOUBLE, (
            f"atteinte du projet {e.projet_id} déjà décidée ({deja.decision_id}) : la décision"
            f" {e.decision_id} ne paie pas une seconde tranche"))
    session.add(AtteinteProjetAap(projet_id=e.projet_id, decision_id=e.decision_id, atteint=e.atteint,
                                  decide_par=e.decide_par, decide_le=e.decide_le, motivation=e.motivation))
    await session.flush()
    # The halves of the version the amount was decided with, even if a later one was shipped since.
    programme = charger_programme_aap(projet.calcul["parametres_version"])
    suivantes = tranches(projet.montant_accorde, programme)[1:]
    await exiger_cles_libres(session, [cle_aap(projet.projet_id, t.nature) for t in suivantes],
                             quoi=f"tranche du projet {projet.projet_id}")
    if e.atteint:
        for tranche in suivantes:
            await _payer(session, cause, projet, tranche, e.decision_id, e.decide_par,
                         f"AAP : tranche {tranche.annee} de {tranche.montant} € sur atteinte des objectifs"
                         f" ({e.motivation})")
        return
    # Not reached: nothing more is paid (a zero amount is notified, so the ES is told) and the
    # engaged remainder goes back to the envelope's available money, for the DNS to reallocate.
    for tranche in suivantes:
        await _payer(session, cause, projet, Tranche(tranche.nature, tranche.annee, tranche.taux,
                                                     Decimal("0.00")),
                     e.decision_id, e.decide_par,
                     f"AAP : objectifs non atteints, tranche {tranche.annee} non versée ({e.motivation})")
    reste = sum((t.montant for t in suivantes), Decimal("0.00"))
    if reste > 0:
        await enveloppes.desengager(
            session, cause, dispositif=DISPOSITIF, region=projet.region, montant=reste,
            projet_id=projet.projet_id, decision_id=e.decision_id,
            motif=f"objectifs du projet {projet.projet_id} non atteints : {reste} € libérés",
            ecrit_par=e.decide_par)
