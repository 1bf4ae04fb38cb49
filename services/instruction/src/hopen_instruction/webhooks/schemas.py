"""Webhooks API bodies and answers (issue 11): /v1/webhooks, /v1/livraisons, /v1/evenements."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from hopen_common.pagination import Page
from hopen_common.region import CodeRegion

Url = Annotated[str, Field(min_length=8, max_length=2000, examples=["https://si.ars.example/hopen"])]
TypeEvenement = Annotated[str, Field(min_length=1, max_length=100, examples=["CandidatureDeposee"])]
Types = Annotated[list[TypeEvenement], Field(min_length=1, max_length=100)]
Description = Annotated[str, Field(max_length=1000)]


class WebhookDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url
    types: Types = Field(description="CloudEvents types of docs/asyncapi.json (an unknown one: 422)")
    description: Description | None = None
    region: CodeRegion | None = Field(
        default=None, description="an ARS's subscription is always its region's (another one: 403);"
                                  " the DNS may name a region, or none: national")


class WebhookModification(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: Url | None = None
    types: Types | None = None
    description: Description | None = None
    actif: bool | None = Field(default=None, description="true re-enables a disabled subscription")


class ComptesLivraisons(BaseModel):
    en_attente: int = 0
    livree: int = 0
    echouee: int = 0
    annulee: int = 0


class WebhookLu(BaseModel):
    id: str
    url: str
    types: list[str]
    description: str | None
    region: str | None = Field(description="None: national (DNS)")
    actif: bool
    desactive_le: datetime | None
    desactive_motif: str | None
    cree_par: str
    cree_le: datetime
    livraisons: ComptesLivraisons


class WebhookCree(WebhookLu):
    secret: str = Field(description="whsec_...: shown once, never again; keep it to verify signatures")


class SecretTourne(BaseModel):
    model_config = ConfigDict(extra="forbid")
    recouvrement_secondes: float | None = Field(
        default=None, ge=0, le=7 * 86400,
        description="how long the former secrets still sign; default: the service's setting")


class SecretNouveau(BaseModel):
    id: str
    secret: str = Field(description="the new whsec_ secret, shown once")
    anciens_expirent_le: datetime


class TentativeLue(BaseModel):
    numero: int
    debut_le: datetime
    duree_ms: int
    statut_http: int | None
    erreur: str | None
    extrait: str | None = Field(description="at most the first 200 characters of the answer")


class LivraisonLue(BaseModel):
    id: str
    abonnement_id: str
    evenement_id: str = Field(description="the CloudEvent's id: the webhook-id header")
    type: str
    origine: Literal["flux", "rejeu", "test"]
    statut: Literal["en_attente", "livree", "echouee", "annulee"]
    tentatives: list[TentativeLue]
    prochaine_le: datetime | None = Field(description="next attempt (en_attente only)")
    cree_le: datetime
    termine_le: datetime | None


LivraisonsPage = Page[LivraisonLue]
WebhooksPage = Page[WebhookLu]


class RejeuDemande(BaseModel):
    model_config = ConfigDict(extra="forbid")
    depuis: AwareDatetime = Field(description="every event of the subscription's types and region since"
                                              " this time (the event's time), in order")


class RejeuLance(BaseModel):
    livraisons: int = Field(description="deliveries queued, one per event, same webhook-id as before")


class TestLance(BaseModel):
    livraison_id: str
    evenement_id: str


class Flux(BaseModel):
    items: list[dict[str, Any]] = Field(description="CloudEvents, the same JSON as the webhooks' bodies")
    suivant: str = Field(description="opaque cursor: pass it as `apres` for what follows")
