"""Idempotency-Key on the POSTs that create or decide (architecture.md, HTTP conventions).

A client that did not get an answer (timeout, dropped connection) sends the same request
again with the same key: it gets the first answer back and nothing happens twice. The stored
answer commits in the same transaction as the effect, so either both exist or neither does;
a failed request stores nothing and may be retried. A key is scoped to its caller, the person
(issuer, subject): two identity providers (or the development issuer and an IdP) may hand out the
same `sub` to two persons, and the development tokens of every region share subjects. The route is
in the fingerprint: the same key sent to another route is 422 `idempotency-key-reutilisee`.

A replay skips `executer`, hence the use case's own scope checks (region, FINESS): only the route's
dependencies (token, role) run before it. So the scope also holds the caller's rights (role, region,
FINESS, profiles: `droits`): the same subject with other rights (every region's development tokens
share their subjects; a person moved to another region) is another scope, whose request runs, with
its own checks (403/404), instead of being handed the answer the first rights were given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Awaitable, Callable

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth.principal import Principal
from hopen_common.db.messaging import RequeteIdempotente
from hopen_common.problemes import IDEMPOTENCY_KEY_INVALIDE, IDEMPOTENCY_KEY_REUTILISEE

ENTETE = "Idempotency-Key"
LONGUEUR_MAX = 200


def droits(principal: Principal) -> str:
    """The caller's rights as part of a key's scope (sha256 hex): what the use case's checks read."""
    parties: list[object] = [principal.role.value, principal.region, sorted(principal.finess),
                             sorted(p.value for p in principal.profils)]
    if principal.referent:  # appended only when set: the keys stored before the flag existed still match
        parties.append("referent")
    valeur = json.dumps(parties)
    return hashlib.sha256(valeur.encode()).hexdigest()


async def idempotent(
    session: AsyncSession,
    request: Request,
    appelant: Principal,
    executer: Callable[[], Awaitable[BaseModel]],
    statut: int = 201,
) -> JSONResponse:
    """Run `executer` once per (caller's issuer, caller's subject, key); replay its stored answer for
    the same key."""
    cle = request.headers.get(ENTETE)
    if cle is None:
        return JSONResponse((await executer()).model_dump(mode="json"), status_code=statut)
    if not 0 < len(cle) <= LONGUEUR_MAX or not cle.isprintable():
        raise IDEMPOTENCY_KEY_INVALIDE.erreur(f"1 à {LONGUEUR_MAX} caractères imprimables attendus",
                                              champ=ENTETE)
    route = f"{request.method} {request.url.path}"
    empreinte = hashlib.sha256(route.encode() + b"\n" + await request.body()).hexdigest()
    # Two concurrent requests with the same key: the second waits for the first to commit,
    # then finds its answer, instead of executing a second time.
    emetteur, sujet, portee = appelant.emetteur, appelant.subject, droits(appelant)
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"{emetteur}\n{sujet}\n{portee}\n{cle}"})
    deja = await session.get(RequeteIdempotente, (cle, emetteur, sujet, portee))
    if deja is not None:
        if deja.empreinte != empreinte:
            raise IDEMPOTENCY_KEY_REUTILISEE.erreur("cette clé a servi à une autre requête", champ=ENTETE)
        return JSONResponse(deja.reponse, status_code=deja.statut, headers={"Idempotent-Replayed": "true"})
    corps = (await executer()).model_dump(mode="json")
    session.add(RequeteIdempotente(cle=cle, emetteur=emetteur, appelant=sujet, droits=portee, route=route,
                                   empreinte=empreinte, statut=statut, reponse=corps))
    await session.flush()
    return JSONResponse(corps, status_code=statut)
