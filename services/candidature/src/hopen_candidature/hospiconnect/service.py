"""HospiConnect use cases of the candidature service: declared eligible expenses and evidence, each
written with its event (and audit row) in the caller's transaction."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures import rules as regles_candidature
from hopen_candidature.candidatures.service import SOURCE, charger_pour
from hopen_candidature.hospiconnect import rules
from hopen_candidature.hospiconnect.schemas import DepensesDeclaration, PreuveDepot
from hopen_candidature.models import Candidature, DeclarationDepenses, Piece, PreuveHospiconnect
from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_portee_etablissement
from hopen_common.contracts import DepensesDeclarees, DocumentPreuve, PreuveHospiconnectDeposee, Topics
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import CANDIDATURE_NON_DEPOSEE, DEJA_DECLAREE, DISPOSITIF_DIFFERENT, ProblemError
from hopen_common.programme.hospiconnect import ProgrammeHospiconnect
from hopen_common.programme.perimetre import ej_visee


async def _candidature_hospiconnect(session: AsyncSession, principal: Principal, candidature_id: str,
                                    quoi: str) -> Candidature:
    # Locked: two corrections of the same declaration are checked one after the other.
    candidature = await charger_pour(session, principal, candidature_id, verrou=True)
    exiger_portee_etablissement(principal, candidature.finess)
    if candidature.dispositif != "hospiconnect":
        raise DISPOSITIF_DIFFERENT.erreur(f"{quoi} concernent une candidature HospiConnect ; celle-ci est"
                                          f" {candidature.dispositif}")
    if candidature.statut not in regles_candidature.STATUTS_DE_PREUVE:
        raise CANDIDATURE_NON_DEPOSEE.erreur(f"{quoi} se déposent sur une candidature déposée ou validée ;"
                                             f" celle-ci est {candidature.statut}")
    return candidature


async def _declaration_courante(session: AsyncSession, candidature_id: str, finess_ej: str,
                                annee: int) -> DeclarationDepenses | None:
    remplacees = select(DeclarationDepenses.remplace).where(DeclarationDepenses.remplace.is_not(None))
    declaration: DeclarationDepenses | None = await session.scalar(select(DeclarationDepenses).where(
        DeclarationDepenses.candidature_id == candidature_id, DeclarationDepenses.finess_ej == finess_ej,
        DeclarationDepenses.annee == annee, DeclarationDepenses.id.not_in(remplacees.scalar_subquery())))
    return declaration


def _deja_declaree(courante: DeclarationDepenses) -> ProblemError:
    return DEJA_DECLAREE.erreur(
        f"les dépenses {courante.annee} de {courante.finess_ej} sont déclarées ({courante.montant} €,"
        f" déclaration {courante.id}) : une correction nomme la déclaration qu'elle remplace",
        champ="remplace", extra={"declaration_id": courante.id})


async def declarer_depenses(
    session: AsyncSession, principal: Principal, candidature_id: str, demande: DepensesDeclaration,
    programme: ProgrammeHospiconnect, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
) -> DeclarationDepenses:
    candidature = await _candidature_hospiconnect(session, principal, candidature_id,
                                                  "les dépenses déclarées")
    regles_candidature.verifier_fenetre(rules.fenetre_depenses(demande.annee, programme), aujourd_hui,
                                        ouvert=calendrier_ouvert,
                                        quoi=f"la déclaration des dépenses {demande.annee} est")
    finess_ej = ej_visee(demande.finess_ej, candidature.perimetre, candidature.finess)
    montant = rules.verifier_montant(demande.montant)
    if demande.remplace is None:
        # One current declaration per (candidature, EJ, year): the year's eligible expenses, corrected
        # by naming it, never added to (ADR 0010). The partial unique index holds it under a race.
        courante = await _declaration_courante(session, candidature.id, finess_ej, demande.annee)
        if courante is not None:
            raise _deja_declaree(courante)
    else:
        ancienne = await session.scalar(select(DeclarationDepenses).where(
            DeclarationDepenses.id == demande.remplace, DeclarationDepenses.candidature_id == candidature.id))
        remplacee_par = await session.scalar(select(DeclarationDepenses.id).where(
            DeclarationDepenses.remplace == demande.remplace))
        rules.verifier_remplacement(None if ancienne is None else (ancienne.finess_ej, ancienne.annee),
                                    remplacee_par, finess_ej, demande.annee, demande.remplace)
    declaration = DeclarationDepenses(
        id=str(uuid.uuid4()), candidature_id=candidature.id, finess_ej=finess_ej, annee=demande.annee,
        montant=montant, remplace=demande.remplace, declare_par=principal.subject, declare_le=maintenant)
    try:
        async with session.begin_nested():
            session.add(declaration)
            await session.flush()
    except IntegrityError:
        # A concurrent first declaration committed between the check and the insert.
        courante = await _declaration_courante(session, candidature.id, finess_ej, demande.annee)
        if courante is None:
            raise
        raise _deja_declaree(courante) from None
    evenement = nouvel_evenement(
        DepensesDeclarees(
            declaration_id=declaration.id, candidature_id=candidature.id, finess=candidature.finess,
            finess_ej=finess_ej, region=candidature.region, annee=demande.annee, montant=montant,
            declare_par=principal.subject, declare_le=maintenant, remplace=demande.remplace),
        source=SOURCE, subject=f"candidature/{candidature.id}")
    await publier(session, Topics.CANDIDATURE, candidature.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="declarer_depenses",
                             objet_type="declaration_depenses", objet_id=declaration.id,
                             region=candidature.region,
                             details={"candidature_id": candidature.id, "finess_ej": finess_ej,
                                      "annee": demande.annee, "montant": str(montant),
                                      "remplace": demande.remplace, "event_id": evenement.id}))
    await session.flush()
    return declaration


async def declarations(session: AsyncSession, candidature_id: str) -> list[tuple[DeclarationDepenses, bool]]:
    """Every declaration, oldest first, with whether it is current (not replaced)."""
    lignes = list(await session.scalars(select(DeclarationDepenses).where(
        DeclarationDepenses.candidature_id == candidature_id).order_by(DeclarationDepenses.declare_le,
                                                                       DeclarationDepenses.id)))
    remplacees = {d.remplace for d in lignes if d.remplace}
    return [(d, d.id not in remplacees) for d in lignes]


async def deposer_preuve(
    session: AsyncSession, principal: Principal, candidature_id: str, depot: PreuveDepot,
    programme: ProgrammeHospiconnect, aujourd_hui: date, calendrier_ouvert: bool, maintenant: datetime,
) -> PreuveHospiconnect:
    candidature = await _candidature_hospiconnect(session, principal, candidature_id, "les preuves")
    nature = rules.verifier_preuve(depot.objectif, depot.annee, programme,
                                   document=depot.piece_id is not None,
                                   numerateur=depot.numerateur, denominateur=depot.denominateur)
    regles_candidature.verifier_fenetre(rules.fenetre_preuves(depot.annee, programme), aujourd_hui,
                                        ouvert=calendrier_ouvert,
                                        quoi=f"le dépôt des preuves HospiConnect {depot.annee} est")
    finess_ej = ej_visee(depot.finess_ej, candidature.perimetre, candidature.finess)
    doc: Piece | None = None
    if depot.piece_id is not None:
        # Only this candidature's pieces: an id of another dossier is refused like an unknown one.
        doc = await session.scalar(select(Piece).where(
            Piece.id == depot.piece_id, Piece.dossier_type == "candidature",
            Piece.dossier_id == candidature.id))
        rules.verifier_piece_de_preuve(doc is not None, doc.finess_ej if doc else None, depot.piece_id,
                                       finess_ej)
    preuve = PreuveHospiconnect(
        id=str(uuid.uuid4()), candidature_id=candidature.id, finess_ej=finess_ej, annee=depot.annee,
        objectif=depot.objectif, nature=nature,
        document_nom=doc.nom if doc else None, document_type=doc.type if doc else None,
        document_sha256=doc.sha256 if doc else None, piece_id=doc.id if doc else None,
        numerateur=depot.numerateur, denominateur=depot.denominateur,
        depose_par=principal.subject, depose_le=maintenant)
    session.add(preuve)
    evenement = nouvel_evenement(
        PreuveHospiconnectDeposee(
            preuve_id=preuve.id, candidature_id=candidature.id, finess=candidature.finess,
            finess_ej=finess_ej, region=candidature.region, annee=depot.annee, objectif=depot.objectif,
            nature=nature,
            document=None if doc is None else DocumentPreuve(nom=doc.nom, type=doc.type, sha256=doc.sha256,
                                                             piece_id=doc.id),
            numerateur=depot.numerateur, denominateur=depot.denominateur,
            depose_par=principal.subject, depose_le=maintenant),
        source=SOURCE, subject=f"candidature/{candidature.id}")
    await publier(session, Topics.CANDIDATURE, candidature.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="deposer_preuve",
                             objet_type="preuve_hospiconnect", objet_id=preuve.id, region=candidature.region,
                             details={"candidature_id": candidature.id, "finess_ej": finess_ej,
                                      "annee": depot.annee, "objectif": depot.objectif,
                                      "piece_id": depot.piece_id, "event_id": evenement.id}))
    await session.flush()
    return preuve


async def preuves(session: AsyncSession, candidature_id: str) -> list[PreuveHospiconnect]:
    return list(await session.scalars(select(PreuveHospiconnect).where(
        PreuveHospiconnect.candidature_id == candidature_id).order_by(PreuveHospiconnect.depose_le,
                                                                      PreuveHospiconnect.id)))
