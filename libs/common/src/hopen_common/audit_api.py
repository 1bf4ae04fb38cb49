"""``/v1/audit`` on every service (ADR 0024): the journal with what the verifier needs, the signed
checkpoints, the public key; and the workers' task that signs the chain's head every minute.

The DNS reads everything; an ARS reads the rows of its region only (rows without a region are
national: DNS only); every other role gets 403."""

from __future__ import annotations

import asyncio
import base64
import logging
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, FastAPI, Query, Request
from pydantic import BaseModel
from sqlalchemy import Text, func, select

from hopen_common import audit
from hopen_common.auth import Principal, Role, exiger_roles
from hopen_common.auth.declaration import route_publique
from hopen_common.db import SessionDep
from hopen_common.db.messaging import JournalAudit, PointDeControleAudit
from hopen_common.pagination import Page, PaginationDep
from hopen_common.problemes import HORS_PERIMETRE

log = logging.getLogger(__name__)
router = APIRouter(prefix="/v1/audit", tags=["audit"])
Lecteur = Annotated[Principal, Depends(exiger_roles(Role.DNS, Role.ARS))]


class LigneAudit(BaseModel):
    id: int
    sequence: int
    acteur: str
    role: str
    action: str
    objet_type: str
    objet_id: str
    region: str | None
    motivation: str | None
    details: dict[str, Any]
    # What the hash covers, verbatim (jsonb::text; epoch microseconds): a verifier needs no JSON
    # re-serialisation of its own.
    details_canonique: str
    horodatage: datetime
    horodatage_us: int
    hash_precedent: str
    hash: str


class PointDeControle(BaseModel):
    sequence: int
    hash: str
    horodatage: datetime
    horodatage_us: int
    cle_id: str
    signature: str


class CleAudit(BaseModel):
    service: str
    algorithme: str = "Ed25519"
    cle_id: str
    cle_publique: str  # base64 of the raw 32 bytes


def graine(settings: Any, service: str) -> bytes:
    """The service's Ed25519 private key (32-byte seed, base64 in settings); the development
    key otherwise (the settings refuse an empty one in production)."""
    configuree = settings.audit_cle_privee.get_secret_value()
    return base64.b64decode(configuree) if configuree else audit.cle_privee_de_dev(service)


@router.get("", response_model=Page[LigneAudit])
async def lire(session: SessionDep, principal: Lecteur, pagination: PaginationDep,
               objet: Annotated[str | None, Query(max_length=200, description="objet_id")] = None,
               type: Annotated[str | None, Query(max_length=100, description="objet_type")] = None,
               region: Annotated[str | None, Query(max_length=3)] = None,
               ) -> Page[LigneAudit]:
    """Roles dns, ars (its region only). In chain order; each row with its sequence, hashes and
    canonical fields, so that `hopen audit verifier --api` recomputes the chain."""
    requete = select(JournalAudit, JournalAudit.details.cast(Text).label("details_canonique"))
    if principal.role == Role.ARS:
        if region is not None and region != principal.region:
            raise HORS_PERIMETRE.erreur(f"région {region}")
        requete = requete.where(JournalAudit.region == principal.region)
    elif region is not None:
        requete = requete.where(JournalAudit.region == region)
    if objet is not None:
        requete = requete.where(JournalAudit.objet_id == objet)
    if type is not None:
        requete = requete.where(JournalAudit.objet_type == type)
    total = await session.scalar(select(func.count()).select_from(requete.subquery())) or 0
    lignes = (await session.execute(requete.order_by(JournalAudit.sequence)
                                    .limit(pagination.limit).offset(pagination.offset))).all()
    return Page(items=[LigneAudit(
        id=r.id, sequence=r.sequence, acteur=r.acteur, role=r.role, action=r.action, objet_type=r.objet_type,
        objet_id=r.objet_id, region=r.region, motivation=r.motivation, details=r.details,
        details_canonique=texte, horodatage=r.horodatage, horodatage_us=audit.microsecondes(r.horodatage),
        hash_precedent=r.hash_precedent, hash=r.hash) for r, texte in lignes],
        total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/points-de-controle", response_model=Page[PointDeControle])
async def points(session: SessionDep, _: Annotated[Principal, Depends(exiger_roles(Role.DNS))],
                 pagination: PaginationDep) -> Page[PointDeControle]:
    """Role dns. The signed checkpoints, in sequence order."""
    total = await session.scalar(select(func.count()).select_from(PointDeControleAudit)) or 0
    rows = await session.scalars(select(PointDeControleAudit).order_by(PointDeControleAudit.sequence)
                                 .limit(pagination.limit).offset(pagination.offset))
    return Page(items=[PointDeControle(sequence=p.sequence, hash=p.hash, horodatage=p.horodatage,
                                       horodatage_us=audit.microsecondes(p.horodatage), cle_id=p.cle_id,
                                       signature=p.signature) for p in rows],
                total=total, limit=pagination.limit, offset=pagination.offset)


@router.get("/cle", response_model=CleAudit, dependencies=[Depends(route_publique)])
async def cle(request: Request) -> CleAudit:
    """Public: the key that signs this service's checkpoints."""
    service = request.app.state.spec.name
    publique = audit.cle_publique(graine(request.app.state.settings, service))
    return CleAudit(service=service, cle_id=audit.cle_id(publique),
                    cle_publique=base64.b64encode(publique).decode())


async def signer_points_de_controle(app: FastAPI) -> None:
    """Workers' task: sign the head every `audit_intervalle_point_secondes` (60 s by default).
    Two replicas may both sign: the chain's advisory lock makes the second see nothing new."""
    service = app.state.spec.name
    cle_privee = graine(app.state.settings, service)
    while True:
        try:
            async with app.state.sessionmaker() as session, session.begin():
                await audit.poser_point_de_controle(session, service=service, graine=cle_privee)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("point de contrôle d'audit : échec")
        await asyncio.sleep(app.state.settings.audit_intervalle_point_secondes)
