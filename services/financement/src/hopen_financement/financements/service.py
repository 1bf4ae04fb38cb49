"""Phase-1 amounts decided from ARS decisions (domain.md 3.4): amorcage on validation, solde or
reprise once every objective is decided. Each amount is stored with how it was computed."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    CandidatureValidee,
    FinancementNotifie,
    ObjectifAtteint,
    ObjectifNonAtteint,
    Topics,
)
from hopen_common.contracts import LigneFinancement as LigneEvenement
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_financement.forfaits.rules import CalculForfait, calculer_forfait_phase1, solder_objectif
from hopen_financement.models import (
    CandidatureFinancee,
    EtablissementConnu,
    LigneFinancement,
    Notification,
    ObjectifDecide,
)

SOURCE = "/hopen/financement"


def explication(calcul: CalculForfait) -> dict[str, Any]:
    return {k: (str(v) if isinstance(v, Decimal) else v) for k, v in asdict(calcul).items()}


async def activite_combinee_max_nationale(session: AsyncSession) -> Decimal | None:
    """The largest AC of the eligible base (domain.md 3.4 [reading]): tranche D's upper bound."""
    return await session.scalar(
        select(func.max(EtablissementConnu.activite_combinee)).where(
            EtablissementConnu.eligible_phase1.is_(True))
    )


async def _notifier(
    session: AsyncSession, cause: Evenement, candidature: CandidatureFinancee, nature: str,
    lignes: list[LigneFinancement], decision_id: str, decide_par: str, motif: str,
) -> Notification:
    maintenant = datetime.now(UTC)
    # A reprise is owed back by the ES: it counts negative in the net.
    net = sum(
        (-ligne.montant if ligne.nature == "reprise" else ligne.montant for ligne in lignes),
        Decimal("0.00"),
    )
    notification = Notification(
        id=str(uuid.uuid4()), candidature_id=candidature.candidature_id, finess=candidature.finess,
        region=candidature.region, nature=nature, montant_net=net, decision_id=decision_id,
        decide_par=decide_par, motif=motif, notifie_le=maintenant, remplace=None,
    )
    session.add(notification)
    await session.flush()
    for ligne in lignes:
        ligne.notification_id = notification.id
        ligne.cree_le = maintenant
        session.add(ligne)
    evenement = nouvel_evenement(
        FinancementNotifie(
            notification_id=notification.id, candidature_id=candidature.candidature_id,
            finess=candidature.finess, region=candidature.region, dispositif=candidature.dispositif,
            nature=nature, montant_net=net, decision_id=decision_id, notifie_le=maintenant,
            lignes=[LigneEvenement(objectif=ligne.objectif, nature=ligne.nature, montant=ligne.montant,
                                   forfait=ligne.forfait) for ligne in lignes],
        ),
        source=SOURCE, subject=f"candidature/{candidature.candidature_id}", causation=cause,
    )
    await publier(session, Topics.FINANCEMENT, candidature.candidature_id, evenement)
    session.add(JournalAudit(acteur="financement", role="systeme", action=f"notifier_{nature}",
                             objet_type="candidature", objet_id=candidature.candidature_id,
                             motivation=motif, details={"notification_id": notification.id,
                                                        "montant_net": str(net),
                                                        "cause": cause.id}))
    await session.flush()
    return notification


async def sur_candidature_validee(session: AsyncSession, cause: Evenement,
                                  e: CandidatureValidee) -> None:
    if e.dispositif != "phase1":
        return
    etab = await session.get(EtablissementConnu, e.finess)
    if etab is None or etab.activite_combinee is None:
        # Retried, then parked for an operator: money is never computed on a guess.
        raise LookupError(f"activité combinée inconnue pour {e.finess}")
    maximum = await activite_combinee_max_nationale(session)
    assert maximum is not None  # etab itself is in the base
    programme = charger_programme_phase1()
    candidature = CandidatureFinancee(
        candidature_id=e.candidature_id, dispositif=e.dispositif, finess=e.finess,
        region=e.region, objectifs=e.objectifs, activite_combinee=etab.activite_combinee,
        activite_combinee_max=maximum, programme_version=programme.version, validee_le=e.decide_le,
    )
    session.add(candidature)
    lignes = []
    for objectif in e.objectifs:
        calcul = calculer_forfait_phase1(etab.activite_combinee, objectif, maximum, programme)
        lignes.append(LigneFinancement(
            candidature_id=e.candidature_id, finess=e.finess, region=e.region, objectif=objectif,
            nature="amorcage", montant=calcul.amorcage, forfait=calcul.forfait,
            calcul={**explication(calcul), "programme_version": programme.version},
        ))
    await _notifier(session, cause, candidature, "amorcage", lignes, e.decision_id, e.decide_par,
                    f"amorçage de 30 % sur validation de la candidature ({e.motivation})")


async def sur_objectif_decide(session: AsyncSession, cause: Evenement,
                              e: ObjectifAtteint | ObjectifNonAtteint) -> None:
    candidature = await session.get(CandidatureFinancee, e.candidature_id)
    if candidature is None:
        raise LookupError(f"candidature {e.candidature_id} non validée dans financement")
    session.add(ObjectifDecide(candidature_id=e.candidature_id, objectif=e.objectif,
                               atteint=isinstance(e, ObjectifAtteint), decision_id=e.decision_id,
                               decide_le=e.decide_le))
    await session.flush()
    decides = {o.objectif: o for o in await session.scalars(
        select(ObjectifDecide).where(ObjectifDecide.candidature_id == e.candidature_id))}
    if set(decides) != set(candidature.objectifs):
        return  # the solde is computed once, on the last objective decision
    amorcages = {ligne.objectif: ligne for ligne in await session.scalars(
        select(LigneFinancement).where(LigneFinancement.candidature_id == e.candidature_id,
                                       LigneFinancement.nature == "amorcage"))}
    lignes = []
    for objectif in candidature.objectifs:
        amorcage = amorcages[objectif]
        nature, montant = solder_objectif(amorcage.forfait, amorcage.montant,
                                          decides[objectif].atteint)
        lignes.append(LigneFinancement(
            candidature_id=e.candidature_id, finess=candidature.finess, region=candidature.region,
            objectif=objectif, nature=nature, montant=montant, forfait=amorcage.forfait,
            calcul={**amorcage.calcul, "atteint": decides[objectif].atteint,
                    "amorcage_recu": str(amorcage.montant),
                    "decision_objectif": decides[objectif].decision_id},
        ))
    await _notifier(session, cause, candidature, "solde", lignes, e.decision_id, e.decide_par,
                    "solde après décision sur chaque objectif (Σ forfaits atteints − amorçage reçu)")
