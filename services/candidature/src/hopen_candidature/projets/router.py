from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_candidature.corrections import service as corrections
from hopen_candidature.corrections.router import demande_lue
from hopen_candidature.etats import service as etats
from hopen_candidature.exigences.repository import SourcePiecesDep
from hopen_candidature.models import DecisionProjetConnue, ProjetAap
from hopen_candidature.projets import preuves, service
from hopen_candidature.projets.schemas import (
    DecisionArsLue,
    DepensePrevueLue,
    LettrePartenaireDemande,
    PreuveAapDepot,
    PreuveAapLue,
    ProjetCreation,
    ProjetLu,
    TransitionLue,
)
from hopen_common.auth import CurrentPrincipal, Etablissement
from hopen_common.calendrier import aujourd_hui, aujourd_hui_paris
from hopen_common.db import SessionDep
from hopen_common.idempotence import idempotent
from hopen_common.pagination import Page, PaginationDep, page_de
from hopen_common.programme.aap import charger_programme_aap

router = APIRouter(prefix="/v1/projets", tags=["appel à projets"])


def _ouvert(request: Request) -> bool:
    return bool(request.app.state.settings.calendrier_ouvert)


def _lu(p: ProjetAap, depenses: dict[int, Decimal], decisions: list[DecisionProjetConnue] | None = None
        ) -> ProjetLu:
    return ProjetLu(
        id=p.id, finess=p.finess, region=p.region, statut=p.statut, theme=p.theme, titre=p.titre,
        description=p.description, objectifs=p.objectifs, participants=p.participants, perimetre=p.perimetre,
        equipe=p.equipe, depenses_prevues=[DepensePrevueLue(annee=a, montant=m) for a, m in depenses.items()],
        depenses_prevues_total=sum(depenses.values(), Decimal("0.00")),
        lettres_partenaires=p.lettres_partenaires, sans_versement_usage=p.sans_versement_usage,
        cree_par=p.cree_par, cree_le=p.cree_le, deposee_par=p.deposee_par, deposee_le=p.deposee_le,
        decisions_ars=[DecisionArsLue.model_validate(d, from_attributes=True) for d in decisions or []])


async def _lu_de(session: AsyncSession, p: ProjetAap) -> ProjetLu:
    lu = _lu(p, await service.depenses_de(session, p.id), await service.decisions_ars(session, p.id))
    lu.historique = [TransitionLue.model_validate(t, from_attributes=True)
                     for t in await etats.transitions_de(session, "projet", p.id)]
    lu.demandes_correction = [demande_lue(d) for d in await etats.corrections_de(session, "projet", p.id)]
    return lu


@router.post("/{projet_id}/redepot", response_model=ProjetLu)
async def redeposer(projet_id: str, session: SessionDep, principal: Etablissement,
                    request: Request) -> JSONResponse:
    """Issue 9: the lead answers every open correction request (new versions of the named pieces,
    POST /v1/projets/{id}/pieces) and re-deposits: back to `depose`, CandidatureRedeposee
    (dossier_type projet). 422 `pieces-manquantes`, 409 `transition-interdite` as for a candidature.
    Accepts an Idempotency-Key."""
    async def executer() -> ProjetLu:
        projet = await corrections.redeposer_projet(session, principal, projet_id,
                                                    maintenant=datetime.now(UTC))
        return await _lu_de(session, projet)
    return await idempotent(session, request, principal, executer, statut=200)


@router.post("", status_code=201, response_model=ProjetLu)
async def creer(demande: ProjetCreation, session: SessionDep, principal: Etablissement,
                request: Request) -> JSONResponse:
    """A lead ES (its FINESS PMSI, in its token) drafts an AAP project: theme and its eligibility,
    participants (FINESS PMSI), perimeter (EG), team with one responsible person, objectives, forecast
    expenses 2026 and 2027 (partner letters: pieces of the created project, joined by POST
    .../lettres-partenaires). Every rule is checked now and again at deposit. Role etablissement.
    Accepts an Idempotency-Key."""
    async def executer() -> ProjetLu:
        projet, depenses = await service.creer_projet(
            session, principal, demande, charger_programme_aap(), aujourd_hui_paris(), _ouvert(request),
            datetime.now(UTC))
        return _lu(projet, depenses)
    return await idempotent(session, request, principal, executer)


@router.get("", response_model=Page[ProjetLu])
async def lister(session: SessionDep, principal: CurrentPrincipal,
                 pagination: PaginationDep) -> Page[ProjetLu]:
    """An establishment: the projects it leads or takes part in; an ARS: its region's; the DNS: all."""
    projets, total = await service.lister(session, principal, pagination.limit, pagination.offset)
    return Page(items=[await _lu_de(session, p) for p in projets], total=total, limit=pagination.limit,
                offset=pagination.offset)


@router.get("/{projet_id}", response_model=ProjetLu)
async def lire(projet_id: str, session: SessionDep, principal: CurrentPrincipal) -> ProjetLu:
    """Its participants, the ARS of its region, the DNS; anyone else gets 404."""
    return await _lu_de(session, await service.charger_pour(session, principal, projet_id))


@router.post("/{projet_id}/depot", response_model=ProjetLu)
async def deposer(projet_id: str, session: SessionDep, principal: Etablissement,
                  request: Request, source: SourcePiecesDep) -> JSONResponse:
    """The lead submits the project to the ARS of its region (ProjetAapDepose), until 29 May 2026.
    Refused (422 `pieces-manquantes`, champ `pieces`, every missing one listed) until the team piece,
    the partner letters it declares and the GHT validation of each public GHT member are there.
    Role etablissement (the lead). Accepts an Idempotency-Key."""
    async def executer() -> ProjetLu:
        projet = await service.deposer(session, principal, projet_id, charger_programme_aap(),
                                       aujourd_hui_paris(), _ouvert(request), datetime.now(UTC),
                                       source_pieces=source)
        return await _lu_de(session, projet)
    return await idempotent(session, request, principal, executer, statut=200)


@router.post("/{projet_id}/lettres-partenaires", status_code=201, response_model=ProjetLu)
async def joindre_lettre(projet_id: str, demande: LettrePartenaireDemande, session: SessionDep,
                         principal: Etablissement, request: Request) -> JSONResponse:
    """The lead joins an optional partner commitment letter to its draft: `piece_id` names an
    AAP.LETTRE piece uploaded on this project (POST /v1/projets/{id}/pieces). Accepts an
    Idempotency-Key."""
    async def executer() -> ProjetLu:
        return await _lu_de(session, await service.ajouter_lettre(session, principal, projet_id, demande))
    return await idempotent(session, request, principal, executer)


@router.post("/{projet_id}/preuves", status_code=201, response_model=PreuveAapLue)
async def deposer_preuve(projet_id: str, depot: PreuveAapDepot, session: SessionDep,
                         principal: Etablissement, request: Request) -> JSONResponse:
    """The lead of a selected project deposits the evidence that one objective is reached: a piece of
    the project (POST /v1/projets/{id}/pieces), until the AAP evidence deadline (30 June 2027,
    inclusive); after it 422 `echeance-depassee` naming the date (PreuveAtteinteAapDeposee to
    instruction). Accepts an Idempotency-Key."""
    reglages = request.app.state.settings

    async def executer() -> PreuveAapLue:
        preuve = await preuves.deposer_preuve(
            session, principal, projet_id, depot, charger_programme_aap(),
            jour=aujourd_hui(reglages.date_du_jour), ouvert=reglages.calendrier_ouvert,
            maintenant=datetime.now(UTC))
        return PreuveAapLue.model_validate(preuve, from_attributes=True)
    return await idempotent(session, request, principal, executer)


@router.get("/{projet_id}/preuves", response_model=Page[PreuveAapLue])
async def lister_preuves(projet_id: str, session: SessionDep,
                         principal: CurrentPrincipal, pagination: PaginationDep) -> Page[PreuveAapLue]:
    """Its participants, the ARS of its region, the DNS."""
    projet = await service.charger_pour(session, principal, projet_id)
    return page_de([PreuveAapLue.model_validate(p, from_attributes=True)
            for p in await preuves.preuves_de(session, projet.id)], pagination)
