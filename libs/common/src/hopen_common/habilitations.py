"""Our own rights tables answer what an identity provider's token may do (issue 10, ADR 0022).

ProConnect and Pro Santé Connect say who calls (`iss`, `sub`) and nothing about HOP'EN: the
referentiel owns the habilitations (role, region, FINESS, profiles, référent) and publishes each
change as `HabilitationModifiee`; every service keeps the last version of each in its table
`habilitation_connue` (`appliquer_habilitation_modifiee`, the handler the consumers install) and
resolves each request's identity against it (`resolveur`, installed by `create_service_app`). An
identity without an active habilitation is 403 `sans-habilitation`, checked before anything else.

The lookup is one primary-key read per request, on purpose not cached: a revocation applies as soon
as its event has reached the service (seconds), not after a cache's lifetime.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.auth.jetons import Identite
from hopen_common.auth.principal import Principal, Profil, ResolveurPrincipal, Role
from hopen_common.contracts.habilitations import HabilitationModifiee
from hopen_common.contracts.topics import Topics
from hopen_common.db.messaging import HabilitationConnue
from hopen_common.events.envelope import Evenement
from hopen_common.inbox.consumer import Handler
from hopen_common.problemes import SANS_HABILITATION

__all__ = ["HANDLERS", "TOPICS", "appliquer_habilitation_modifiee", "principal_de", "resolveur"]


def principal_de(ligne: HabilitationConnue) -> Principal:
    """The request's caller as the habilitation says it."""
    return Principal(subject=ligne.sujet, role=Role(ligne.role), finess=tuple(ligne.finess),
                     region=ligne.region, profils=frozenset(Profil(p) for p in ligne.profils),
                     emetteur=ligne.emetteur, referent=ligne.referent)


async def resoudre(sessionmaker: async_sessionmaker[AsyncSession], identite: Identite) -> Principal:
    async with sessionmaker() as session:
        ligne = await session.get(HabilitationConnue, (identite.emetteur, identite.sujet))
    if ligne is None or not ligne.actif:
        etat = "sans habilitation sur la plateforme" if ligne is None else "dont l'habilitation est revoquee"
        raise SANS_HABILITATION.erreur(f"identite {identite.sujet} ({identite.emetteur}) {etat}")
    return principal_de(ligne)


def resolveur(app: FastAPI) -> ResolveurPrincipal:
    """The resolver of `app`: reads the service's own `habilitation_connue` through the app's
    sessionmaker, looked up at each request (tests install their engine after the app is built)."""

    async def resoudre_identite(identite: Identite) -> Principal:
        return await resoudre(app.state.sessionmaker, identite)

    return resoudre_identite


def valeurs(payload: HabilitationModifiee) -> dict[str, Any]:
    """The columns of `habilitation_connue` for one published state."""
    return {"emetteur": payload.emetteur, "sujet": payload.sujet, "id": payload.habilitation_id,
            "role": payload.role, "region": payload.region, "finess": list(payload.finess),
            "profils": list(payload.profils), "referent": payload.referent, "actif": payload.actif,
            "version": payload.version, "modifie_le": payload.modifie_le}


async def ecrire(session: AsyncSession, payload: HabilitationModifiee) -> None:
    """Insert or replace the row of (emetteur, sujet), unless a later version is already there: the
    referentiel writes its own this way, the consumers theirs (an older event arriving late, or twice,
    changes nothing)."""
    colonnes = valeurs(payload)
    requete = insert(HabilitationConnue).values(**colonnes)
    await session.execute(requete.on_conflict_do_update(
        index_elements=["emetteur", "sujet"], set_=colonnes,
        where=HabilitationConnue.version < requete.excluded.version))


async def appliquer_habilitation_modifiee(session: AsyncSession, evenement: Evenement,
                                          payload: HabilitationModifiee) -> None:
    await ecrire(session, payload)


# What a consuming service adds to its handlers and topics.
HANDLERS: dict[str, Handler] = {"HabilitationModifiee": appliquer_habilitation_modifiee}
TOPICS: tuple[str, ...] = (Topics.HABILITATION.value,)
