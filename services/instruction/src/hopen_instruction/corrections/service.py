"""Targeted corrections (issue 9 item 2, ADR 0013): the ARS asks for named pieces and fields by a due
date; the establishment's re-deposit (CandidatureRedeposee) answers every open request; the diff shows
what changed since each request, piece by piece and field by field."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.contracts import (
    CandidatureRedeposee,
    CorrectionDemandee,
    CorrectionProjetDemandee,
    PieceDemandee,
)
from hopen_common.events import Evenement
from hopen_common.problemes import introuvable
from hopen_common.programme.pieces import types_de_pieces
from hopen_instruction.corrections import rules
from hopen_instruction.corrections.schemas import CorrectionDemande
from hopen_instruction.dossiers.service import verifier_instructeur
from hopen_instruction.etats import rules as etats
from hopen_instruction.etats.repository import enregistrer_transition
from hopen_instruction.etats.rules import TypeDossier
from hopen_instruction.etats.service import charger as charger_objet
from hopen_instruction.etats.service import publier_transition
from hopen_instruction.models import DemandeCorrection, Dossier, PieceRecue, Projet, ReponseCorrection


async def demander(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                   demande: CorrectionDemande, *, aujourd_hui: date, maintenant: datetime
                   ) -> DemandeCorrection:
    verifier_instructeur(principal)
    dossier = await charger_objet(session, principal, dossier_type, dossier_id, verrou=True)
    de = dossier.statut
    vers = etats.verifier_transition(dossier_type, dossier.id, de, "demander_correction")
    pieces = [(p.type, p.finess_ej) for p in demande.pieces]
    if isinstance(dossier, Dossier):
        membres = None if dossier.perimetre is None else [m["finess_ej"] for m in dossier.perimetre]
        types, criteres = types_de_pieces(dossier.dispositif), dossier.criteres_ght is not None
    else:  # an AAP project: its pieces (per participant when the piece is), never a field
        membres, types, criteres = list(dossier.participants), types_de_pieces("aap"), False
    rules.verifier_demande(pieces=pieces, champs=demande.champs, echeance=demande.echeance,
                           aujourd_hui=aujourd_hui, types_connus=types, membres=membres,
                           criteres_ght=criteres)
    correction = DemandeCorrection(
        id=str(uuid.uuid4()), dossier_type=dossier_type, dossier_id=dossier.id,
        pieces=[{"type": t, "finess_ej": ej} for t, ej in pieces], champs=list(demande.champs),
        motivation=demande.motivation, echeance=demande.echeance, demandee_par=principal.subject,
        demandee_le=maintenant)
    session.add(correction)
    await session.flush()
    classe = CorrectionDemandee if dossier_type == "candidature" else CorrectionProjetDemandee
    evenement = classe(
        transition_id="", dossier_type=dossier_type, dossier_id=dossier.id, finess=dossier.finess,
        region=dossier.region, statut_precedent=de, statut=vers, par=principal.subject, le=maintenant,
        motivation=demande.motivation, correction_id=correction.id,
        pieces=[PieceDemandee(type=t, finess_ej=ej) for t, ej in pieces], champs=list(demande.champs),
        echeance=demande.echeance)
    await publier_transition(session, principal, dossier, dossier_type, action="demander_correction", de=de,
                             vers=vers, maintenant=maintenant, motivation=demande.motivation,
                             correction=evenement, details={"correction_id": correction.id})
    return correction


async def lister(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                 limit: int, offset: int
                 ) -> tuple[list[tuple[DemandeCorrection, ReponseCorrection | None]], int]:
    dossier = await charger_objet(session, principal, dossier_type, dossier_id)
    query = (select(DemandeCorrection, ReponseCorrection)
             .outerjoin(ReponseCorrection, ReponseCorrection.correction_id == DemandeCorrection.id)
             .where(DemandeCorrection.dossier_type == dossier_type,
                    DemandeCorrection.dossier_id == dossier.id))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    rows = await session.execute(query.order_by(DemandeCorrection.demandee_le, DemandeCorrection.id)
                                 .limit(limit).offset(offset))
    return [(d, r) for d, r in rows], total


async def charger(session: AsyncSession, principal: Principal, dossier_type: TypeDossier, dossier_id: str,
                  correction_id: str) -> tuple[DemandeCorrection, ReponseCorrection | None]:
    dossier = await charger_objet(session, principal, dossier_type, dossier_id)
    correction = await session.get(DemandeCorrection, correction_id)
    if correction is None or correction.dossier_id != dossier.id or correction.dossier_type != dossier_type:
        raise introuvable("demande de correction", correction_id)
    return correction, await session.get(ReponseCorrection, correction.id)


async def diff(session: AsyncSession, correction: DemandeCorrection, reponse: ReponseCorrection | None
               ) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    """(pieces, fields) changed since the request: pieces from what instruction received (PieceDeposee),
    fields from the answer's before/after."""
    recues = await session.scalars(select(PieceRecue).where(
        PieceRecue.dossier_type == correction.dossier_type, PieceRecue.dossier_id == correction.dossier_id))
    versions = [rules.Version(p.piece_id, p.type, p.finess_ej, p.version, p.sha256, p.nom, p.depose_le)
                for p in recues]
    pieces = rules.diff_pieces([(p["type"], p.get("finess_ej")) for p in correction.pieces], versions,
                               depuis=correction.demandee_le,
                               jusqu_a=None if reponse is None else reponse.repondue_le)
    champs = [] if reponse is None else [c for c in reponse.champs if c["champ"] in correction.champs]
    return pieces, champs


async def ouvertes(session: AsyncSession, dossier_type: str, dossier_id: str) -> Sequence[DemandeCorrection]:
    return list(await session.scalars(
        select(DemandeCorrection)
        .outerjoin(ReponseCorrection, ReponseCorrection.correction_id == DemandeCorrection.id)
        .where(DemandeCorrection.dossier_type == dossier_type, DemandeCorrection.dossier_id == dossier_id,
               ReponseCorrection.correction_id.is_(None))))


async def candidature_redeposee(session: AsyncSession, evenement: Evenement, e: CandidatureRedeposee) -> None:
    """The establishment's answer: each request it names is answered (once: a redelivery writes
    nothing), the fields it changed are applied to the dossier, and the dossier is back to `deposee`
    once no request is left open. A dossier the ARS closed meanwhile keeps its state (the ARS wins;
    candidature follows its event)."""
    modele = Dossier if e.dossier_type == "candidature" else Projet
    dossier: Dossier | Projet | None = await session.get(modele, e.dossier_id, with_for_update=True)
    if dossier is None:
        raise LookupError(f"{e.dossier_type} {e.dossier_id} inconnu")  # same key: the deposit precedes it
    nouvelles = 0
    for correction_id in e.corrections:
        if await session.get(DemandeCorrection, correction_id) is None:
            raise LookupError(f"demande de correction {correction_id} inconnue")  # a bug to park
        resultat = await session.execute(insert(ReponseCorrection).values(
            correction_id=correction_id, event_id=evenement.id,
            champs=[c.model_dump(mode="json") for c in e.champs],
            pieces=[p.model_dump(mode="json") for p in e.pieces],
            repondue_par=e.redeposee_par, repondue_le=e.redeposee_le,
        ).on_conflict_do_nothing(index_elements=["correction_id"]).returning(ReponseCorrection.correction_id))
        nouvelles += resultat.first() is not None
    if not nouvelles:
        return  # a redelivery
    if e.champs and isinstance(dossier, Dossier):
        criteres = dict(dossier.criteres_ght or {})
        for c in e.champs:
            _, _, cle = c.champ.partition(".")
            criteres[cle] = c.apres
        dossier.criteres_ght = criteres
    if dossier.statut == "correction_demandee" and not await ouvertes(session, e.dossier_type, dossier.id):
        vers = etats.verifier_transition(e.dossier_type, dossier.id, dossier.statut, "redeposer")
        await enregistrer_transition(session, e.dossier_type, dossier.id, de=dossier.statut, vers=vers,
                                     par=e.redeposee_par, le=e.redeposee_le, identifiant=evenement.id)
        dossier.statut = vers
    await session.flush()
