"""Every amount decided becomes an immutable notification, published as FinancementNotifie in the
same transaction (outbox), with its audit row. A correction is a new notification that `remplace`
the previous one; nothing is ever edited."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import FinancementNotifie, Topics
from hopen_common.contracts import LigneFinancement as LigneEvenement
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.inbox import EvenementRefuse
from hopen_common.outbox import publier
from hopen_financement.notifications import repository
from hopen_financement.notifications.models import LigneFinancement, Notification
from hopen_financement.notifications.succession import CORRECTION_PERIMEE, PAIEMENT_EN_DOUBLE

SOURCE = "/hopen/financement"


def montant_net(lignes: list[LigneFinancement]) -> Decimal:
    # A reprise is owed back by the ES: it counts negative in the net.
    return sum((-ligne.montant if ligne.nature == "reprise" else ligne.montant for ligne in lignes),
               Decimal("0.00"))


# Park motives (EvenementRefuse.motif), the codes operators filter and count dead letters by. The
# second payment is the catalogue's type, declared once; a stale correction is a park motive only.


def refus_paiement_en_double(cle: str, existante: LigneFinancement, *, quoi: str) -> EvenementRefuse:
    """The event is parked (never retried) with a reason an operator can read, naming what was paid."""
    return EvenementRefuse(
        PAIEMENT_EN_DOUBLE,
        f"{quoi} : {cle} est déjà payé (ligne {existante.id} version {existante.version},"
        f" notification {existante.notification_id}, candidature ou projet {existante.candidature_id},"
        f" {existante.montant} €) ; une correction nomme la décision qu'elle remplace")


async def exiger_cles_libres(session: AsyncSession, cles: list[str], *, quoi: str) -> None:
    """Refuse, before anything is written, an event whose first amounts would pay a key twice."""
    for cle in cles:
        existante = await repository.ligne_courante(session, cle)
        if existante is not None:
            raise refus_paiement_en_double(cle, existante, quoi=quoi)


async def _versionner(session: AsyncSession, ligne: LigneFinancement, *, quoi: str
                     ) -> LigneFinancement | None:
    """Give the line its version under its business key: 1 for a first amount, n + 1 for a
    correction of version n (`version_precedente` says which version the caller corrects)."""
    courante = await repository.ligne_courante(session, ligne.cle_metier)
    if ligne.version_precedente is None:
        if courante is not None:
            raise refus_paiement_en_double(ligne.cle_metier, courante, quoi=quoi)
        ligne.version = 1
        return None
    if courante is None or courante.version != ligne.version_precedente:
        actuelle = "aucune" if courante is None else str(courante.version)
        raise EvenementRefuse(
            CORRECTION_PERIMEE,
            f"{quoi} : la correction de {ligne.cle_metier} porte sur la version {ligne.version_precedente},"
            f" la version courante est {actuelle}")
    ligne.version = courante.version + 1
    return courante


async def _notification_remplacee(session: AsyncSession, remplacees: list[LigneFinancement | None],
                                  ) -> str | None:
    """The notification these lines wholly supersede (every line of it, and nothing else), when no
    other supersedes it yet: the notification then says what it replaces (issue 9). A correction of
    some lines only names none (their lines' versions say what they supersede): a notification's
    `remplace` must keep meaning that all of it is superseded, which reporting relies on."""
    if not remplacees or any(ligne is None for ligne in remplacees):
        return None
    ids = {ligne.notification_id for ligne in remplacees if ligne is not None}
    if len(ids) != 1:
        return None
    (notification_id,) = ids
    if len(await repository.lignes_de(session, notification_id)) != len(remplacees):
        return None
    if await repository.remplacee_par(session, notification_id) is not None:
        return None
    return notification_id


async def notifier(
    session: AsyncSession, cause: Evenement, *, dispositif: str, candidature_id: str, finess: str,
    finess_ej: str, region: str, nature: str, lignes: list[LigneFinancement], decision_id: str,
    decide_par: str, motif: str, annee: int | None = None, remplace: Notification | None = None,
) -> Notification:
    """Store the notification and its lines, publish FinancementNotifie, audit; flush only.

    Each line names its business key (`cle_metier`) and, for a correction, the version it supersedes
    (`version_precedente`); a first amount of a key already paid is refused here (EvenementRefuse:
    the event is parked as `paiement-en-double`), and by the key's unique index under a race."""
    maintenant = datetime.now(UTC)
    remplacees = [await _versionner(session, ligne, quoi=f"{dispositif} {nature} de {finess_ej}")
                  for ligne in lignes]
    remplace_id = remplace.id if remplace else await _notification_remplacee(session, remplacees)
    net = montant_net(lignes)
    notification = Notification(
        id=str(uuid.uuid4()), dispositif=dispositif, candidature_id=candidature_id, finess=finess,
        finess_ej=finess_ej, region=region, nature=nature, annee=annee, montant_net=net,
        decision_id=decision_id, decide_par=decide_par, motif=motif[:500], cause_evenement=cause.id,
        notifie_le=maintenant, remplace=remplace_id,
    )
    session.add(notification)
    await session.flush()
    for ligne in lignes:
        ligne.notification_id = notification.id
        ligne.dispositif = dispositif
        ligne.candidature_id = candidature_id
        ligne.finess = finess
        ligne.region = region
        ligne.annee = annee
        ligne.cree_le = maintenant
        session.add(ligne)
    evenement = nouvel_evenement(
        FinancementNotifie(
            notification_id=notification.id, candidature_id=candidature_id, finess=finess, region=region,
            dispositif=dispositif, nature=nature, montant_net=net, decision_id=decision_id,
            notifie_le=maintenant, remplace=notification.remplace, finess_ej=finess_ej, annee=annee,
            decide_par=decide_par, motif=notification.motif,
            lignes=[LigneEvenement(objectif=ligne.objectif, nature=ligne.nature, montant=ligne.montant,
                                   forfait=ligne.forfait, finess_ej=ligne.finess_ej,
                                   cle_metier=ligne.cle_metier, version=ligne.version) for ligne in lignes],
        ),
        source=SOURCE, subject=f"candidature/{candidature_id}", causation=cause,
    )
    await publier(session, Topics.FINANCEMENT, candidature_id, evenement)
    session.add(JournalAudit(acteur="financement", role="systeme", action=f"notifier_{nature}",
                             objet_type=dispositif, objet_id=candidature_id, motivation=motif, region=region,
                             details={"notification_id": notification.id, "montant_net": str(net),
                                      "finess_ej": finess_ej, "remplace": notification.remplace,
                                      "decide_par": decide_par, "decision_id": decision_id,
                                      "cause": cause.id, "event_id": evenement.id}))
    # Every amount is its own audit row (issue 10), under its business key, in this transaction:
    # who reads the journal of one key (`?objet=<cle_metier>`) gets each version of that amount.
    for ligne in lignes:
        session.add(JournalAudit(acteur="financement", role="systeme", action=f"montant_{ligne.nature}",
                                 objet_type="ligne_financement", objet_id=ligne.cle_metier, region=region,
                                 details={"notification_id": notification.id,
                                          "candidature_id": candidature_id,
                                          "dispositif": dispositif, "finess_ej": ligne.finess_ej,
                                          "objectif": ligne.objectif, "annee": annee,
                                          "version": ligne.version,
                                          "version_precedente": ligne.version_precedente,
                                          "montant": str(ligne.montant), "forfait": str(ligne.forfait),
                                          "decision_id": decision_id}))
    await session.flush()
    return notification

