"""Webhooks API (issue 11, ADR 0026): subscriptions /v1/webhooks, their deliveries and replays, and the
pull feed /v1/evenements. Roles: ars (its region's subscriptions and events), dns (national)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Query, Request, Response

from hopen_common.auth import ArsOuDns
from hopen_common.db import SessionDep
from hopen_common.pagination import LIMITE_MAX, Page, PaginationDep
from hopen_common.problemes import VALIDATION
from hopen_instruction.webhooks import rules, service
from hopen_instruction.webhooks.schemas import (
    Flux,
    LivraisonLue,
    RejeuDemande,
    RejeuLance,
    SecretNouveau,
    SecretTourne,
    TestLance,
    WebhookCree,
    WebhookDemande,
    WebhookLu,
    WebhookModification,
)

router = APIRouter(tags=["webhooks"])
Abonne = ArsOuDns


def _reglages(request: Request) -> service.Reglages:
    return service.Reglages.de(request.app.state.settings)


def _maintenant() -> datetime:
    return datetime.now(UTC)


@router.post("/v1/webhooks", status_code=201, response_model=WebhookCree)
async def creer(demande: WebhookDemande, session: SessionDep, principal: Abonne, request: Request
                ) -> WebhookCree:
    """Subscribe a URL to event types: an ARS for its region, the DNS nationally (or for a region).
    The answer carries the `whsec_` secret, shown this once only. No Idempotency-Key on purpose: a
    stored answer would keep the secret in clear."""
    return await service.creer(session, principal, demande, reglages=_reglages(request),
                               maintenant=_maintenant())


@router.get("/v1/webhooks", response_model=Page[WebhookLu])
async def lister(session: SessionDep, principal: Abonne, pagination: PaginationDep) -> Page[WebhookLu]:
    """The caller's subscriptions (an ARS its region's, the DNS all), with their deliveries per status."""
    return await service.lister(session, principal, pagination)


@router.get("/v1/webhooks/{webhook_id}", response_model=WebhookLu)
async def lire(webhook_id: str, session: SessionDep, principal: Abonne) -> WebhookLu:
    """One subscription (another region's: 404). Its secret is never shown again."""
    return await service.lire(session, principal, webhook_id)


@router.patch("/v1/webhooks/{webhook_id}", response_model=WebhookLu)
async def modifier(webhook_id: str, modification: WebhookModification, session: SessionDep,
                   principal: Abonne, request: Request) -> WebhookLu:
    """Change the URL, the types, the description; `actif` disables or re-enables it."""
    return await service.modifier(session, principal, webhook_id, modification, reglages=_reglages(request),
                                  maintenant=_maintenant())


@router.delete("/v1/webhooks/{webhook_id}", status_code=204)
async def supprimer(webhook_id: str, session: SessionDep, principal: Abonne) -> Response:
    """Nothing more is delivered; pending deliveries are cancelled."""
    await service.supprimer(session, principal, webhook_id, maintenant=_maintenant())
    return Response(status_code=204)


@router.post("/v1/webhooks/{webhook_id}/secret", status_code=201, response_model=SecretNouveau)
async def tourner_secret(webhook_id: str, session: SessionDep, principal: Abonne, request: Request,
                         demande: Annotated[SecretTourne | None, Body()] = None) -> SecretNouveau:
    """A new secret, shown once; the former ones still sign (both signatures in `webhook-signature`)
    until `anciens_expirent_le` (default overlap: the setting, 24 h)."""
    recouvrement = None if demande is None or demande.recouvrement_secondes is None \
        else timedelta(seconds=demande.recouvrement_secondes)
    return await service.tourner_secret(session, principal, webhook_id, recouvrement=recouvrement,
                                        reglages=_reglages(request), maintenant=_maintenant())


@router.post("/v1/webhooks/{webhook_id}/test", status_code=202, response_model=TestLance)
async def tester(webhook_id: str, session: SessionDep, principal: Abonne) -> TestLance:
    """Queue a test event (type WebhookTest) for this subscription; follow it in its deliveries."""
    return await service.tester(session, principal, webhook_id, maintenant=_maintenant())


@router.get("/v1/webhooks/{webhook_id}/livraisons", response_model=Page[LivraisonLue])
async def livraisons(webhook_id: str, session: SessionDep, principal: Abonne, pagination: PaginationDep,
                     statut: Literal["en_attente", "livree", "echouee", "annulee"] | None = None
                     ) -> Page[LivraisonLue]:
    """Deliveries, newest first, each attempt with its time, status code, duration and error."""
    return await service.livraisons(session, principal, webhook_id, pagination, statut=statut)


@router.post("/v1/webhooks/{webhook_id}/rejeu", status_code=202, response_model=RejeuLance)
async def rejouer_depuis(webhook_id: str, demande: RejeuDemande, session: SessionDep, principal: Abonne
                         ) -> RejeuLance:
    """Deliver again every event since `depuis`, in order, each with its own webhook-id as before."""
    nombre = await service.rejouer_depuis(session, principal, webhook_id, depuis=demande.depuis,
                                          maintenant=_maintenant())
    return RejeuLance(livraisons=nombre)


@router.post("/v1/livraisons/{livraison_id}/rejeu", status_code=202, response_model=LivraisonLue)
async def rejouer(livraison_id: str, session: SessionDep, principal: Abonne) -> LivraisonLue:
    """Deliver one event again (a new delivery, same webhook-id)."""
    return await service.rejouer_livraison(session, principal, livraison_id, maintenant=_maintenant())


@router.get("/v1/evenements", response_model=Flux)
async def flux(session: SessionDep, principal: Abonne,
               apres: Annotated[str | None, Query(max_length=200, description="the `suivant` of the"
                                                                              " previous page")] = None,
               types: Annotated[list[str] | None, Query(description="types, repeated or comma-separated")
                                ] = None,
               limit: Annotated[int, Query(ge=1, le=LIMITE_MAX)] = 100) -> Flux:
    """The caller's region's events (the DNS: all), oldest first, the same JSON as the webhooks'
    bodies: a system that cannot receive webhooks, or missed some, catches up from its last cursor."""
    voulus = sorted({t.strip() for v in types or () for t in v.split(",") if t.strip()})
    if inconnus := rules.types_inconnus(voulus):
        raise VALIDATION.erreur(f"types inconnus : {', '.join(inconnus)}", champ="types")
    try:
        return await service.flux(session, principal, apres=apres, types=voulus, limite=limit)
    except rules.CurseurInvalide as exc:
        raise VALIDATION.erreur(str(exc), champ="apres") from None
