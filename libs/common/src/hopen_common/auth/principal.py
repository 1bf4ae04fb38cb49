"""Who is calling, with what role and scope; checked on every request."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from hopen_common.auth.jetons import (
    Identite,
    JetonInvalide,
    Politique,
    authentifier,
    politique_des_reglages,
    verifier_jeton,
)
from hopen_common.auth.tokens import ISSUER_DEV
from hopen_common.finess import FORMAT_FINESS, cle_finess_valide
from hopen_common.problemes import JETON_INVALIDE, ROLE_INTERDIT, SANS_HABILITATION
from hopen_common.region import CODES_REGION

__all__ = ["Identite", "JetonInvalide", "Principal", "Profil", "Role", "principal_courant",
           "principal_des_claims", "verifier_jeton"]


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
class Principal:
    subject: str
    role: Role
    finess: tuple[str, ...] = ()
    region: str | None = None
    # ARS agents only (issue 10): instructeur and/or valideur.
    profils: frozenset[Profil] = frozenset()
    # The token's issuer: a subject is unique only within its issuer.
    emetteur: str = ISSUER_DEV
    # ARS agents only (issue 10, annex 3): the programme's référent for its region, who names the
    # region's agents and their profiles (ADR 0022).
    referent: bool = False

    def a_profil(self, profil: Profil) -> bool:
        return profil in self.profils

    def __post_init__(self) -> None:
        if self.role is Role.ETABLISSEMENT and not self.finess:
            raise ValueError("an etablissement token needs at least one FINESS")
        if self.role is Role.ARS and not self.region:
            raise ValueError("an ars token needs its region")


_bearer = HTTPBearer(auto_error=False)

# What `principal_courant` awaits for an identity provider's token: installed by the service on
# `app.state.resoudre_principal` (ADR 0022: our own rights tables say what the person may do).
ResolveurPrincipal = Callable[[Identite], Awaitable["Principal"]]


def _liste_de_chaines(claims: Any, nom: str) -> list[str]:
    valeur = claims.get(nom)
    if valeur is None:
        return []
    if not isinstance(valeur, list) or not all(isinstance(v, str) for v in valeur):
        raise JetonInvalide(f"{nom} : liste de chaines attendue")
    return valeur


def principal_des_claims(identite: Identite) -> Principal:
    """A development token (`hopen token`, issuer hopen-dev) carries its rights as claims, each
    type-checked here (a list where a region is expected is a 401, not a 500); an identity
    provider's token does not (ADR 0022: its rights are read from our own tables)."""
    claims = identite.claims
    role = claims.get("role")
    if not isinstance(role, str) or role not in Role.__members__.values():
        raise JetonInvalide(f"role {str(role)[:40]!r} inconnu")
    region = claims.get("region")
    if region is not None and (not isinstance(region, str) or region not in CODES_REGION):
        raise JetonInvalide(f"region {str(region)[:40]!r} : un code de region du programme attendu")
    finess = _liste_de_chaines(claims, "finess")
    for numero in finess:
        if not FORMAT_FINESS.fullmatch(numero) or not cle_finess_valide(numero):
            raise JetonInvalide(f"finess {numero[:20]!r} invalide")
    profils = _liste_de_chaines(claims, "profils")
    for profil in profils:
        if profil not in Profil.__members__.values():
            raise JetonInvalide(f"profil {profil[:40]!r} inconnu")
    referent = claims.get("referent", False)
    if not isinstance(referent, bool):
        raise JetonInvalide("referent : booleen attendu")
    try:
        return Principal(subject=identite.sujet, role=Role(role), finess=tuple(finess), region=region,
                         profils=frozenset(Profil(p) for p in profils), emetteur=identite.emetteur,
                         referent=referent)
    except ValueError as exc:  # an establishment without FINESS, an ARS without region
        raise JetonInvalide(str(exc)) from exc


def _politique(request: Request) -> Politique:
    # Built once per app from its settings (the PyJWKClients it names outlive requests anyway).
    politique: Politique | None = getattr(request.app.state, "politique_jetons", None)
    if politique is None:
        politique = politique_des_reglages(request.app.state.settings)
        request.app.state.politique_jetons = politique
    return politique


def _refus(raison: str) -> Exception:
    # A header is latin-1 and the reason may quote the token: ASCII only, no quote or backslash.
    description = raison.encode("ascii", "replace").decode().replace("\\", "/").replace('"', "'")
    return JETON_INVALIDE.erreur(raison, entetes={
        "WWW-Authenticate": f'Bearer error="invalid_token", error_description="{description}"'})


async def principal_courant(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The caller: a development token's rights from its claims; an identity provider's token
    resolved by `app.state.resoudre_principal` (403 sans-habilitation when there is none)."""
    if credentials is None:
        raise HTTPException(401, "Jeton d'authentification manquant", {"WWW-Authenticate": "Bearer"})
    try:
        identite = await authentifier(credentials.credentials, _politique(request))
        if identite.emetteur == ISSUER_DEV:
            return principal_des_claims(identite)
    except JetonInvalide as exc:
        raise _refus(exc.raison) from exc
    resoudre: ResolveurPrincipal | None = getattr(request.app.state, "resoudre_principal", None)
    if resoudre is None:
        raise SANS_HABILITATION.erreur(f"identite {identite.sujet} ({identite.emetteur}) sans"
                                       " habilitation sur la plateforme")
    return await resoudre(identite)


# What each principal dependency admits, readable by introspection (hopen_common.auth.declaration,
# ADR 0029): the authorization matrix test derives every route's expected answers from it.
principal_courant.roles_autorises = frozenset(Role)  # type: ignore[attr-defined]


PrincipalAuthentifie = Annotated[Principal, Depends(principal_courant)]


def principal_de_la_plateforme(principal: PrincipalAuthentifie) -> Principal:
    """Any authenticated caller but an expert: an endpoint open to "every token" (reference data,
    simulations, scope-filtered lists) is open to the platform's own roles. An expert is invited from
    outside for one opinion: it gets only the endpoints that name Role.EXPERT (issue 9, ADR 0015)."""
    if principal.role is Role.EXPERT:
        raise ROLE_INTERDIT.erreur("rôle expert : seuls les avis auxquels vous êtes invité vous sont ouverts")
    return principal


principal_de_la_plateforme.roles_autorises = frozenset(Role) - {Role.EXPERT}  # type: ignore[attr-defined]
CurrentPrincipal = Annotated[Principal, Depends(principal_de_la_plateforme)]


def exiger_roles(*roles: Role) -> Callable[[Principal], Principal]:
    """Dependency factory: the endpoint states its roles (kept on the checker as `roles_autorises`)."""
    autorises: frozenset[Role] = frozenset(roles)

    def _verifier(principal: PrincipalAuthentifie) -> Principal:
        if principal.role not in autorises:
            raise ROLE_INTERDIT.erreur(f"rôle {principal.role} ; attendu : {', '.join(sorted(autorises))}")
        return principal

    _verifier.roles_autorises = autorises  # type: ignore[attr-defined]
    return _verifier


# The role sets the routers declare, written once (a router may name one for what it means there:
# `Lecteur = ArsOuDns`). The authorization matrix reads them off the checker (`roles_autorises`).
Ars = Annotated[Principal, Depends(exiger_roles(Role.ARS))]
ArsOuDns = Annotated[Principal, Depends(exiger_roles(Role.ARS, Role.DNS))]
Dns = Annotated[Principal, Depends(exiger_roles(Role.DNS))]
Etablissement = Annotated[Principal, Depends(exiger_roles(Role.ETABLISSEMENT))]
Expert = Annotated[Principal, Depends(exiger_roles(Role.EXPERT))]
Ops = Annotated[Principal, Depends(exiger_roles(Role.OPS))]
