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

from hopen_common.contracts import CandidatureValidee, ObjectifAtteint, ObjectifNonAtteint, PerimetreEj
from hopen_common.events import Evenement
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.etablissements.models import EtablissementConnu
from hopen_financement.etablissements.repository import activite_combinee_max_nationale
from hopen_financement.forfaits.models import CandidatureFinancee, ObjectifDecide, PerimetreFinance
from hopen_financement.forfaits.rules import CalculForfait, calculer_forfait_phase1, solder_objectif
from hopen_financement.notifications.models import LigneFinancement
from hopen_financement.notifications.service import notifier

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


async def sur_candidature_validee(session: AsyncSession, cause: Evenement, e: CandidatureValidee) -> None:
    if e.dispositif != DISPOSITIF:
        return  # HospiConnect pays per year on the ARS yearly decision, not on validation
    programme = charger_programme_phase1()
    perimetre = _perimetre(e)
    for membre in perimetre:
        if not membre.objectifs or len(set(membre.objectifs)) != len(membre.objectifs):
            raise RegleMetierError(f"objectifs vides ou en double pour {membre.finess_ej}", "objectifs")
        for objectif in membre.objectifs:
            programme.objectif(objectif)  # unknown objective: a RegleMetierError naming it
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
            candidature_id=e.candidature_id, finess_ej=membre.finess_ej,
            raison_sociale=membre.raison_sociale or raison_sociale, activite_combinee=ac,
            source_activite=source, objectifs=membre.objectifs))
        lignes = []
        for objectif in membre.objectifs:
            calcul = calculer_forfait_phase1(ac, objectif, maximum, programme)
            lignes.append(LigneFinancement(
                finess_ej=membre.finess_ej, objectif=objectif, nature="amorcage", version=1,
                montant=calcul.amorcage, forfait=calcul.forfait,
                calcul={**explication(calcul), "finess_ej": membre.finess_ej, "source_activite": source,
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
    session.add(ObjectifDecide(candidature_id=e.candidature_id, finess_ej=finess_ej, objectif=e.objectif,
                               atteint=isinstance(e, ObjectifAtteint), decision_id=e.decision_id,
                               decide_par=e.decide_par, decide_le=e.decide_le))
    await session.flush()
    membres = list(await session.scalars(
        select(PerimetreFinance).where(PerimetreFinance.candidature_id == e.candidature_id)
        .order_by(PerimetreFinance.finess_ej)))
    decides = {(o.finess_ej, o.objectif): o for o in await session.scalars(
        select(ObjectifDecide).where(ObjectifDecide.candidature_id == e.candidature_id))}
    attendus = {(m.finess_ej, o) for m in membres for o in m.objectifs}
    if set(decides) != attendus:
        return  # the solde is computed once, when every (EJ, objective) is decided
    amorcages = {(ligne.finess_ej, ligne.objectif): ligne for ligne in await session.scalars(
        select(LigneFinancement).where(LigneFinancement.candidature_id == e.candidature_id,
                                       LigneFinancement.nature == "amorcage"))}
    for m in membres:
        lignes = []
        for objectif in m.objectifs:
            amorcage = amorcages[(m.finess_ej, objectif)]
            decision = decides[(m.finess_ej, objectif)]
            nature, montant = solder_objectif(amorcage.forfait, amorcage.montant, decision.atteint)
            lignes.append(LigneFinancement(
                finess_ej=m.finess_ej, objectif=objectif, nature=nature, version=1, montant=montant,
                forfait=amorcage.forfait,
                calcul={**amorcage.calcul, "atteint": decision.atteint,
                        "amorcage_recu": str(amorcage.montant), "decision_objectif": decision.decision_id,
                        "formule_solde": "forfait - amorcage_recu si atteint, sinon reprise de l'amorcage"},
            ))
        await notifier(
            session, cause, dispositif=DISPOSITIF, candidature_id=e.candidature_id, finess=candidature.finess,
            finess_ej=m.finess_ej, region=candidature.region, nature="solde", lignes=lignes,
            decision_id=e.decision_id, decide_par=e.decide_par,
            motif="solde après décision sur chaque objectif (Σ forfaits atteints − amorçage reçu)",
        )
