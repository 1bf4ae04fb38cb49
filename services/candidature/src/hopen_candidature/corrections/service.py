"""The establishment answers the ARS's correction requests (ADR 0013): it edits only the fields they
name, uploads new versions of the pieces they name (pieces slice), then re-deposits: the dossier is
`deposee` again and CandidatureRedeposee tells instruction what changed since the requests."""

from __future__ import annotations

from datetime import date, datetime

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.candidatures.schemas import CriteresGhtDemande
from hopen_candidature.candidatures.service import SOURCE, changer_statut, charger_pour
from hopen_candidature.corrections import rules
from hopen_candidature.corrections.schemas import ChampsDemande
from hopen_candidature.etats.service import corrections_de, pieces_depuis, valeurs_des_champs
from hopen_candidature.models import Candidature, ProjetAap
from hopen_candidature.projets.service import charger_pour as charger_projet
from hopen_common.auth import Principal
from hopen_common.auth.portee import exiger_portee_etablissement
from hopen_common.contracts import CandidatureRedeposee, ChampModifie, PieceModifiee, Topics
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.outbox import publier
from hopen_common.problemes import PIECES_MANQUANTES, TRANSITION_INTERDITE, VALIDATION, ProblemError
from hopen_common.programme.criteres_ght import criteres_de, verifier_saisie


def _pas_en_correction(candidature: Candidature, action: str) -> ProblemError:
    return TRANSITION_INTERDITE.erreur(
        f"candidature {candidature.id} : « {action} » est possible quand une correction est demandée ;"
        f" elle est {candidature.statut}", champ="statut",
        extra={"statut": candidature.statut, "transition": action})


async def _en_correction(session: AsyncSession, principal: Principal, candidature_id: str, action: str
                         ) -> Candidature:
    candidature = await charger_pour(session, principal, candidature_id, verrou=True)
    exiger_portee_etablissement(principal, candidature.finess)
    if candidature.statut != "correction_demandee":
        raise _pas_en_correction(candidature, action)
    return candidature


async def modifier_champs(session: AsyncSession, principal: Principal, candidature_id: str,
                          demande: ChampsDemande, *, aujourd_hui: date) -> Candidature:
    """Edits the named fields only (`criteres_ght.<cle>`): any other is 422 `champ-non-demande` naming
    it; a wrong value is 422 naming it too; nothing is written then."""
    candidature = await _en_correction(session, principal, candidature_id, "modifier_champs")
    ouvertes = await corrections_de(session, "candidature", candidature.id, ouvertes=True)
    rules.verifier_champs_demandes(demande.champs, {c for d in ouvertes for c in d.champs})
    criteres = dict(candidature.criteres_ght or {})
    for champ, valeur in demande.champs.items():
        criteres[champ.partition(".")[2]] = valeur
    try:
        stocke = CriteresGhtDemande.model_validate(criteres).model_dump(mode="json")
    except ValidationError as exc:
        erreur = exc.errors()[0]
        champ = "criteres_ght." + str(erreur["loc"][0]) if erreur["loc"] else "champs"
        raise VALIDATION.erreur(f"{champ} : {erreur['msg']}", champ=champ) from None
    verifiables = criteres_de(stocke)
    assert verifiables is not None
    verifier_saisie(verifiables, aujourd_hui=aujourd_hui)
    avant = valeurs_des_champs(candidature, list(demande.champs))
    candidature.criteres_ght = stocke
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="corriger_champs",
                             objet_type="candidature", objet_id=candidature.id, region=candidature.region,
                             details={"avant": avant, "apres": valeurs_des_champs(candidature,
                                                                                 list(demande.champs))}))
    await session.flush()
    return candidature


async def redeposer(session: AsyncSession, principal: Principal, candidature_id: str, *,
                    maintenant: datetime) -> Candidature:
    """Answers every open request at once: each named piece needs a new version since its request
    (422 `pieces-manquantes` listing the missing ones); the named fields may or may not have changed
    (the ARS may have asked to confirm). A late answer is accepted: instruction shows it late."""
    candidature = await _en_correction(session, principal, candidature_id, "redeposer")
    await _repondre(session, principal, "candidature", candidature, maintenant=maintenant)
    await changer_statut(session, candidature, "deposee")
    await session.flush()
    return candidature


async def redeposer_projet(session: AsyncSession, principal: Principal, projet_id: str, *,
                           maintenant: datetime) -> ProjetAap:
    """The project's lead answers its open requests (pieces only) and re-deposits: `depose` again."""
    projet = await charger_projet(session, principal, projet_id, verrou=True)
    exiger_portee_etablissement(principal, projet.finess)
    if projet.statut != "correction_demandee":
        raise TRANSITION_INTERDITE.erreur(
            f"projet {projet.id} : « redeposer » est possible quand une correction est demandée ; il est"
            f" {projet.statut}", champ="statut", extra={"statut": projet.statut, "transition": "redeposer"})
    await _repondre(session, principal, "projet", projet, maintenant=maintenant)
    projet.statut = "depose"
    await session.flush()
    return projet


async def _repondre(session: AsyncSession, principal: Principal, dossier_type: TypeDossier,
                    dossier: Candidature | ProjetAap, *, maintenant: datetime) -> None:
    """The answer to every open request of the dossier: checks, marks them answered, publishes
    CandidatureRedeposee (what changed) and the audit row."""
    ouvertes = await corrections_de(session, dossier_type, dossier.id, ouvertes=True)
    nouvelles = await pieces_depuis(session, dossier_type, dossier.id, ouvertes)
    manquantes = []
    for d in ouvertes:
        for p in d.pieces:
            if not any(n.type == p["type"] and n.finess_ej == p.get("finess_ej")
                       and n.depose_le > d.demandee_le for n in nouvelles):
                manquantes.append({"type": p["type"], "finess_ej": p.get("finess_ej"),
                                   "correction_id": d.correction_id})
    if manquantes:
        raise PIECES_MANQUANTES.erreur(
            "une nouvelle version de chaque pièce demandée est attendue avant le redépôt : "
            + ", ".join(m["type"] for m in manquantes), champ="pieces", extra={"manquantes": manquantes})
    champs: list[dict[str, object]] = []
    if isinstance(dossier, Candidature):
        avant: dict[str, object] = {}
        for d in ouvertes:  # the value at the earliest request naming the field
            for champ, valeur in d.valeurs_avant.items():
                avant.setdefault(champ, valeur)
        champs = rules.champs_modifies(avant, valeurs_des_champs(dossier, list(avant)))
    dernieres = {(p.type, p.finess_ej): p for p in nouvelles}  # ordered by deposit: the latest wins
    for d in ouvertes:
        d.repondue_le = maintenant
    evenement = nouvel_evenement(
        CandidatureRedeposee(
            dossier_type=dossier_type, dossier_id=dossier.id, finess=dossier.finess,
            region=dossier.region, corrections=[d.correction_id for d in ouvertes],
            champs=[ChampModifie(**c) for c in champs],
            pieces=[PieceModifiee(piece_id=p.id, type=p.type, finess_ej=p.finess_ej, version=p.version,
                                  sha256=p.sha256) for p in dernieres.values()],
            redeposee_par=principal.subject, redeposee_le=maintenant),
        source=SOURCE, subject=f"{dossier_type}/{dossier.id}")
    await publier(session, Topics.CANDIDATURE, dossier.id, evenement)
    session.add(JournalAudit(acteur=principal.subject, role=principal.role, action="redeposer",
                             objet_type=dossier_type, objet_id=dossier.id, region=dossier.region,
                             details={"event_id": evenement.id,
                                      "corrections": [d.correction_id for d in ouvertes],
                                      "champs": champs, "pieces": [p.id for p in dernieres.values()]}))
