"""Who is calling, with what role and scope; checked on every request."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import jwt
from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hopen_common.auth.tokens import AUDIENCE, ISSUER_DEV
from hopen_common.problemes import ROLE_INTERDIT


class Role(StrEnum):
    ETABLISSEMENT = "etablissement"
    ARS = "ars"
    DNS = "dns"
    OPS = "ops"
    # Issue 9: an expert (e.g. of a GRADeS) invited by an ARS to give an opinion on a dossier; it sees
    # the dossiers it is invited to and nothing else (portee.voit gives it nothing).
    EXPERT = "expert"


class Profil(StrEnum):
    """What an ARS agent may do beyond reading its region (issue 10, ADR 0023): an instructeur proposes
    the decisions that move money, a valideur (another person) confirms or rejects them."""

    INSTRUCTEUR = "instructeur"
    VALIDEUR = "valideur"


@dataclass(frozen=True)
class Identite:
    """Who the identity provider says is calling (`iss`, `sub`), with the token's verified claims.
    What they may do is not here: it is the Principal, resolved from our own rights (ADR 0022)."""

    emetteur: str
    sujet: str
    claims: Mapping[str, Any]


@dataclass(frozen=True)
class Principal:
    subject: str
    role: Role
    finess: tuple[str, ...] = ()
    region: str | None = None
    # ARS agents only (issue 10): instructeur and/or valideur.
    profils: frozenset[Profil] = frozenset()
    # The token's issuer: a subject is unique only within its issuer.
    emetteur: str = ISSUER_DEV

    def a_profil(self, profil: Profil) -> bool:
        return profil in self.profils

    def __post_init__(self) -> None:
        if self.role is Role.ETABLISSEMENT and not self.finess:
            raise ValueError("an etablissement token needs at least one FINESS")
        if self.role is Role.ARS and not self.region:
            raise ValueError("an ars token needs its region")


_bearer = HTTPBearer(auto_error=False)


@lru_cache(maxsize=4)
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url)


def verifier_jeton(token: str, *, secret: str, jwks_url: str) -> Identite:
    """The token's signature and claims checked: who is calling. (Issue 10 hardens it: issuer
    allow-list, exp/nbf, algorithms, type, JWKS rotation.)"""
    if jwks_url:
        key = _jwks_client(jwks_url).get_signing_key_from_jwt(token).key
        claims = jwt.decode(token, key, algorithms=["RS256", "ES256"], audience=AUDIENCE)
    else:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=AUDIENCE)
    return Identite(emetteur=str(claims.get("iss") or ISSUER_DEV), sujet=str(claims["sub"]), claims=claims)


def principal_des_claims(identite: Identite) -> Principal:
    """A development token (`hopen token`, issuer hopen-dev) carries its rights as claims; an identity
    provider's token does not (ADR 0022: its rights are read from our own tables)."""
    claims = identite.claims
    return Principal(
        subject=identite.sujet,
        role=Role(claims["role"]),
        finess=tuple(claims.get("finess") or ()),
        region=claims.get("region"),
        profils=frozenset(Profil(p) for p in claims.get("profils") or ()),
        emetteur=identite.emetteur,
    )


def decode_token(token: str, *, secret: str, jwks_url: str) -> Principal:
    return principal_des_claims(verifier_jeton(token, secret=secret, jwks_url=jwks_url))


async def principal_courant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise HTTPException(401, "Jeton d'authentification manquant", {"WWW-Authenticate": "Bearer"})
    settings = request.app.state.settings
    try:
        return decode_token(credentials.credentials, secret=settings.jwt_secret,
                            jwks_url=settings.jwks_url)
    except (jwt.PyJWTError, KeyError, ValueError) as exc:
        raise HTTPException(401, f"Jeton invalide: {exc}", {"WWW-Authenticate": "Bearer"}) from exc


PrincipalAuthentifie = Annotated[Principal, Depends(principal_courant)]


def principal_de_la_plateforme(principal: PrincipalAuthentifie) -> Principal:
    """Any authenticated caller but an expert: an endpoint open to "every token" (reference data,
    simulations, scope-filtered lists) is open to the platform's own roles. An expert is invited from
    outside for one opinion: it gets only the endpoints that name Role.EXPERT (issue 9, ADR 0015)."""
    if principal.role is Role.EXPERT:
        raise ROLE_INTERDIT.erreur("rôle expert : seuls les avis auxquels vous êtes invité vous sont ouverts")
    return principal


CurrentPrincipal = Annotated[Principal, Depends(principal_de_la_plateforme)]


def exiger_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """Dependency factory: the endpoint states its roles."""
    autorises: Iterable[Role] = frozenset(roles)

    def _verifier(principal: PrincipalAuthentifie) -> Principal:
        if principal.role not in autorises:
            raise ROLE_INTERDIT.erreur(f"rôle {principal.role} ; attendu : {', '.join(sorted(autorises))}")
        return principal

    return _verifier
