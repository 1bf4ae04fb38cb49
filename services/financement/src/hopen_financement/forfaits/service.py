"""Phase-1 amounts from ARS decisions (domain.md 3.4).

On CandidatureValidee: the amorcage of every (EJ, objective) applied to, on each EJ's frozen AC
(a GHT applies through its support ES, which is paid; the forfait is computed on each member EJ's
AC). On the last objective decision of the candidature: the solde (or reprise) of every line.
One notification per EJ, so that every line of a notification has its own (objective, nature).
"""

from __future__ import annotations

from dataclasses import asdict
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    CandidatureRefusee,
    CandidatureValidee,
    ObjectifAtteint,
    ObjectifNonAtteint,
    PerimetreEj,
)
from hopen_common.events import Evenement
from hopen_common.inbox import EvenementRefuse
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.candidatures.repository import (
    decision_candidature_courante,
    enregistrer_decision_candidature,
)
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.etablissements.models import EtablissementConnu
from hopen_financement.etablissements.repository import activite_combinee_max_nationale
from hopen_financement.forfaits.models import (
    CandidatureFinancee,
    ObjectifDecide,
    PerimetreFinance,
)
from hopen_financement.forfaits.rules import CalculForfait, calculer_forfait_phase1, cible_solde
from hopen_financement.hospiconnect import service as hospiconnect
from hopen_financement.notifications import repository as lignes_payees
from hopen_financement.notifications.cles import cle_phase1
from hopen_financement.notifications.models import LigneFinancement
from hopen_financement.notifications.service import exiger_cles_libres, notifier
from hopen_financement.notifications.succession import (
    MAILLE_INVALIDE,
    PAIEMENT_EN_DOUBLE,
    Courante,
    verifier_succession,
)

DISPOSITIF = "phase1"


def explication(calcul: CalculForfait) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(calcul).items()}


def _perimetre(e: CandidatureValidee) -> list[PerimetreEj]:
    if e.perimetre is None:
        return [PerimetreEj(finess_ej=e.finess, raison_sociale="", activite_combinee=None,
                            objectifs=e.objectifs)]
    if not e.perimetre:
        raise RegleMetierError("périmètre GHT vide", "perimetre")
    vus = [p.finess_ej for p in e.perimetre]
    if len(set(vus)) != len(vus):
        raise RegleMetierError("EJ présente deux fois dans le périmètre", "perimetre")
    return list(e.perimetre)


async def _activite(session: AsyncSession, membre: PerimetreEj) -> tuple[Decimal, str, str]:
    """AC of an EJ: the referentiel's copy first, else the producer's value; never a guess."""
    etab = await session.get(EtablissementConnu, membre.finess_ej)
    if etab is not None and etab.activite_combinee is not None:
        return etab.activite_combinee, "referentiel", etab.raison_sociale
    if membre.activite_combinee is not None:
        ac = membre.activite_combinee
        # Stored as NUMERIC(14, 2): a finer value would be rounded in the table but not in the forfait.
        if not ac.is_finite() or ac != ac.quantize(Decimal("0.01")):
            raise RegleMetierError(f"activité combinée {ac} de {membre.finess_ej} : deux décimales au plus",
                                   "perimetre.activite_combinee")
        return ac, "candidature", membre.raison_sociale
    raise DonneeManquante(f"activité combinée inconnue pour {membre.finess_ej}")


async def _finess_pmsi(session: AsyncSession, e: CandidatureValidee, membre: PerimetreEj) -> str:
    """The FINESS an (EJ, objective) is paid on: the referentiel's FINESS PMSI of the EJ (ADR 0008),
    the EJ itself when the copy does not say. An applicant that is not its own phase-1 maille (an EG
    of an EJ whose PMSI is declared at EJ level, a public GHT member applying alone) is refused:
    its activity is someone else's to claim."""
    etab = await session.get(EtablissementConnu, membre.finess_ej)
    if etab is None or etab.finess_pmsi is None:
        return membre.finess_ej
    if e.perimetre is None and etab.maille_phase1 != e.finess:
        raise EvenementRefuse(MAILLE_INVALIDE, (
            f"{e.finess} n'est pas le candidat de la phase 1 pour son activité : la maille est"
            f" {etab.maille_phase1 or 'chacun de ses établissements géographiques'} (FINESS PMSI"
            f" {etab.finess_pmsi}) ; la candidature {e.candidature_id} n'est pas payée"))
    return etab.finess_pmsi


async def sur_candidature_validee(session: AsyncSession, cause: Evenement, e: CandidatureValidee) -> None:
    if e.dispositif != DISPOSITIF:
        # HospiConnect pays per year on the ARS yearly decisions, not on validation; the validation
        # is kept (a correction may name it) and a refusal corrected back restores the years' amounts.
        await enregistrer_decision_candidature(session, e, validee=True)
        if e.remplace is not None:
            await hospiconnect.recalculer_candidature(session, cause, e.candidature_id)
        return
    programme = charger_programme_phase1()
    perimetre = _perimetre(e)
    for membre in perimetre:
        if not membre.objectifs or len(set(membre.objectifs)) != len(membre.objectifs):
            raise RegleMetierError(f"objectifs vides ou en double pour {membre.finess_ej}", "objectifs")
        for objectif in membre.objectifs:
            programme.objectif(objectif)  # unknown objective: a RegleMetierError naming it
    deja = await session.get(CandidatureFinancee, e.candidature_id)
    if deja is not None and e.remplace is None:
        raise EvenementRefuse(PAIEMENT_EN_DOUBLE, (
            f"candidature {e.candidature_id} déjà validée dans financement (décision {deja.decision_id}) :"
            f" la décision {e.decision_id} ne paie pas un second amorçage"))
    await enregistrer_decision_candidature(session, e, validee=True)
    if deja is not None:
        # A refusal corrected back to a validation: the amorçage stays paid (its key is paid once);
        # what the refusal took back (the reprise on the solde keys) is cancelled (ADR 0014).
        await _reconcilier_soldes(session, cause, deja, decision_id=e.decision_id, decide_par=e.decide_par,
                                  motif=f"validation rétablie : la décision {e.decision_id} remplace"
                                        f" {e.remplace} ({e.motivation})", decision_remplacee=e.remplace)
        return
    # Before anything is written: an (EJ, objective) already paid by another candidature (an EJ
    # applied alone then in a GHT perimeter, a second candidature, two EG sharing one FINESS PMSI...)
    # is never paid again.
    pmsi = {m.finess_ej: await _finess_pmsi(session, e, m) for m in perimetre}
    await exiger_cles_libres(
        session, [cle_phase1(pmsi[m.finess_ej], o, "amorcage") for m in perimetre for o in m.objectifs],
        quoi=f"amorçage de la candidature {e.candidature_id}")
    maximum = await activite_combinee_max_nationale(session)
    if maximum is None:
        raise DonneeManquante("base des établissements éligibles vide : maximum national inconnu")
    session.add(CandidatureFinancee(
        candidature_id=e.candidature_id, dispositif=e.dispositif, finess=e.finess, region=e.region,
        objectifs=e.objectifs, ght=e.perimetre is not None, activite_combinee_max=maximum,
        programme_version=programme.version, decision_id=e.decision_id, validee_le=e.decide_le,
    ))
    await session.flush()
    for membre in perimetre:
        ac, source, raison_sociale = await _activite(session, membre)
        session.add(PerimetreFinance(
            candidature_id=e.candidature_id, finess_ej=membre.finess_ej, finess_pmsi=pmsi[membre.finess_ej],
            raison_sociale=membre.raison_sociale or raison_sociale, activite_combinee=ac,
            source_activite=source, objectifs=membre.objectifs))
        lignes = []
        for objectif in membre.objectifs:
            calcul = calculer_forfait_phase1(ac, objectif, maximum, programme)
            lignes.append(LigneFinancement(
                finess_ej=membre.finess_ej, objectif=objectif, nature="amorcage",
                cle_metier=cle_phase1(pmsi[membre.finess_ej], objectif, "amorcage"), montant=calcul.amorcage,
                forfait=calcul.forfait,
                calcul={**explication(calcul), "finess_ej": membre.finess_ej,
                        "finess_pmsi": pmsi[membre.finess_ej], "source_activite": source,
                        "formule_amorcage": "arrondi_centime(forfait x taux_amorcage)"},
            ))
        await session.flush()
        await notifier(
            session, cause, dispositif=DISPOSITIF, candidature_id=e.candidature_id, finess=e.finess,
            finess_ej=membre.finess_ej, region=e.region, nature="amorcage", lignes=lignes,
            decision_id=e.decision_id, decide_par=e.decide_par,
            motif=f"amorçage de {programme.taux_amorcage * 100:.0f} % sur validation de la candidature"
                  f" ({e.motivation})",
        )


async def _decision_courante(session: AsyncSession, candidature_id: str, finess_ej: str,
                             objectif: str) -> ObjectifDecide | None:
    remplacees = select(ObjectifDecide.remplace).where(ObjectifDecide.remplace.is_not(None))
    decision: ObjectifDecide | None = await session.scalar(select(ObjectifDecide).where(
        ObjectifDecide.candidature_id == candidature_id, ObjectifDecide.finess_ej == finess_ej,
        ObjectifDecide.objectif == objectif, ObjectifDecide.decision_id.not_in(remplacees.scalar_subquery())))
    return decision


async def _enregistrer_decision(session: AsyncSession, e: ObjectifAtteint | ObjectifNonAtteint,
                                finess_ej: str) -> None:
    """Store the decision; a second decision that names none, or a correction of a decision already
    corrected, is refused (parked) instead of paying a second solde."""
    courante = await _decision_courante(session, e.candidature_id, finess_ej, e.objectif)
    ancienne = None if e.remplace is None else await session.get(ObjectifDecide, e.remplace)
    verifier_succession(
        objet=f"{finess_ej} {e.objectif} de la candidature {e.candidature_id}", decision_id=e.decision_id,
        deja_recue=await session.get(ObjectifDecide, e.decision_id) is not None, remplace=e.remplace,
        courante=None if courante is None else Courante(courante.decision_id, courante.decision_id),
        remplacee_connue=ancienne is not None,
        meme_objet=ancienne is not None and (ancienne.candidature_id, ancienne.finess_ej, ancienne.objectif)
        == (e.candidature_id, finess_ej, e.objectif),
        exigence_meme_objet="une correction porte sur la même candidature, EJ et objectif")
    session.add(ObjectifDecide(candidature_id=e.candidature_id, finess_ej=finess_ej, objectif=e.objectif,
                               atteint=isinstance(e, ObjectifAtteint), decision_id=e.decision_id,
                               decide_par=e.decide_par, decide_le=e.decide_le, remplace=e.remplace))
    await session.flush()


def _ligne_solde(amorcage: LigneFinancement, cible: tuple[str, Decimal], *, finess_pmsi: str,
                 precedente: LigneFinancement | None, decision: ObjectifDecide | None,
                 decision_remplacee: str | None) -> LigneFinancement:
    nature, montant = cible
    calcul = {**amorcage.calcul, "amorcage_recu": str(amorcage.montant),
              "formule_solde": "forfait - amorcage_recu si atteint, sinon reprise de l'amorcage ; candidature"
                               " refusée : reprise de l'amorcage"}
    if decision is not None:
        calcul.update({"atteint": decision.atteint, "decision_objectif": decision.decision_id})
    if decision_remplacee is not None:
        calcul["decision_remplacee"] = decision_remplacee
    if precedente is not None:
        # What this version replaces, and the difference to pay (complement) or take back (reprise).
        avant = -precedente.montant if precedente.nature == "reprise" else precedente.montant
        apres = -montant if nature == "reprise" else montant
        calcul.update({"corrige": {"version": precedente.version, "nature": precedente.nature,
                                   "montant": str(precedente.montant),
                                   "notification": precedente.notification_id,
                                   "decision_remplacee": decision_remplacee},
                       "difference": str(apres - avant)})
    return LigneFinancement(
        finess_ej=amorcage.finess_ej, objectif=amorcage.objectif, nature=nature,
        cle_metier=cle_phase1(finess_pmsi, amorcage.objectif, "solde"),
        version_precedente=None if precedente is None else precedente.version,
        montant=montant, forfait=amorcage.forfait, calcul=calcul)


async def sur_candidature_refusee(session: AsyncSession, cause: Evenement, e: CandidatureRefusee) -> None:
    """A refusal. A first one pays nothing (it is kept: a correction may name it). A validation
    corrected to a refusal takes back what was paid: the solde key of every (EJ, objective) becomes a
    reprise of its amorçage (a solde already paid included), the amorçage line is never edited."""
    await enregistrer_decision_candidature(session, e, validee=False)
    if e.dispositif != DISPOSITIF:
        # HospiConnect: a validation corrected to a refusal takes back every year already notified
        # (each (EJ, year) key's next version is 0 €); a first refusal has nothing to take back.
        if e.remplace is not None:
            await hospiconnect.recalculer_candidature(session, cause, e.candidature_id)
        return
    candidature = await session.get(CandidatureFinancee, e.candidature_id)
    if candidature is None:
        return  # never validated: nothing was paid
    await _reconcilier_soldes(session, cause, candidature, decision_id=e.decision_id, decide_par=e.decide_par,
                              motif=f"validation corrigée en refus : la décision {e.decision_id} remplace"
                                    f" {e.remplace} ({e.motivation}) ; reprise de l'amorçage",
                              decision_remplacee=e.remplace)


async def sur_objectif_decide(session: AsyncSession, cause: Evenement,
                              e: ObjectifAtteint | ObjectifNonAtteint) -> None:
    candidature = await session.get(CandidatureFinancee, e.candidature_id)
    if candidature is None:
        raise DonneeManquante(f"candidature {e.candidature_id} non validée dans financement")
    finess_ej = e.finess_ej or candidature.finess
    membre = await session.get(PerimetreFinance, (e.candidature_id, finess_ej))
    if membre is None:
        raise RegleMetierError(f"{finess_ej} ne fait pas partie de la candidature", "finess_ej")
    if e.objectif not in membre.objectifs:
        raise RegleMetierError(f"{finess_ej} n'a pas candidaté à {e.objectif}", "objectif")
    await _enregistrer_decision(session, e, finess_ej)
    motif = ("solde après décision sur chaque objectif (Σ forfaits atteints − amorçage reçu)"
             if e.remplace is None else f"correction du solde de {e.objectif} : la décision {e.decision_id}"
                                        f" remplace {e.remplace} ({e.motivation})")
    await _reconcilier_soldes(session, cause, candidature, decision_id=e.decision_id, decide_par=e.decide_par,
                              motif=motif, decision_remplacee=e.remplace)


async def _reconcilier_soldes(session: AsyncSession, cause: Evenement, candidature: CandidatureFinancee, *,
                              decision_id: str, decide_par: str, motif: str,
                              decision_remplacee: str | None) -> None:
    """Bring every solde key of the candidature to what its current decisions say (rules.cible_solde):
    a key whose amount differs gets its next version (a first amount: version 1), one notification per
    EJ; a key already right writes nothing, so a replay or an unchanged correction pays nothing."""
    courante = await decision_candidature_courante(session, candidature.candidature_id)
    refusee = courante is not None and not courante.validee
    membres = list(await session.scalars(
        select(PerimetreFinance).where(PerimetreFinance.candidature_id == candidature.candidature_id)
        .order_by(PerimetreFinance.finess_ej)))
    remplacees = {d.remplace for d in await session.scalars(select(ObjectifDecide).where(
        ObjectifDecide.candidature_id == candidature.candidature_id, ObjectifDecide.remplace.is_not(None)))}
    decides = {(o.finess_ej, o.objectif): o for o in await session.scalars(
        select(ObjectifDecide).where(ObjectifDecide.candidature_id == candidature.candidature_id))
        if o.decision_id not in remplacees}
    attendus = {(m.finess_ej, o) for m in membres for o in m.objectifs}
    amorcages = {(ligne.finess_ej, ligne.objectif): ligne for ligne in await session.scalars(
        select(LigneFinancement).where(LigneFinancement.candidature_id == candidature.candidature_id,
                                       LigneFinancement.nature == "amorcage"))}
    for m in membres:
        lignes = []
        for objectif in m.objectifs:
            amorcage = amorcages[(m.finess_ej, objectif)]
            cle = cle_phase1(m.finess_pmsi, objectif, "solde")
            precedente = await lignes_payees.ligne_courante(session, cle)
            decision = decides.get((m.finess_ej, objectif))
            cible = cible_solde(amorcage.forfait, amorcage.montant, refusee=refusee,
                                atteint=None if decision is None else decision.atteint,
                                tous_decides=set(decides) >= attendus, deja_notifie=precedente is not None)
            if cible is None or (precedente is not None and (precedente.nature, precedente.montant) == cible):
                continue
            lignes.append(_ligne_solde(amorcage, cible, finess_pmsi=m.finess_pmsi, precedente=precedente,
                                       decision=decision, decision_remplacee=decision_remplacee))
        if lignes:
            await notifier(
                session, cause, dispositif=DISPOSITIF, candidature_id=candidature.candidature_id,
                finess=candidature.finess, finess_ej=m.finess_ej, region=candidature.region, nature="solde",
                lignes=lignes, decision_id=decision_id, decide_par=decide_par, motif=motif)
