"""Who may call a route, read from the route itself (issue 12 point 4, ADR 0029).

Every route declares its callers through its dependencies, and this module reads that declaration
back by walking `route.dependant`, so that a test can enumerate every route of a service and know
what each principal must get without a hand-kept list:

- `exiger_roles(Role.X, ...)`: those roles (the checker carries them as `roles_autorises`);
- `CurrentPrincipal` (`principal_de_la_plateforme`): every role but the expert;
- `PrincipalAuthentifie` (`principal_courant`) on the endpoint itself: every authenticated role;
- `route_publique`: no token at all (health probes, the audit public key).

A route with none of these, or whose own dependency reads the principal without declaring roles
(a hand-written role check), has no readable declaration: `declaration_de` raises
`DeclarationManquante`, and the authorization matrix test fails on it."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute
from starlette.convertors import Convertor

from hopen_common.auth.principal import Role, principal_courant, principal_de_la_plateforme


def route_publique() -> None:
    """Dependency of a route open without a token: the declaration that it is public on purpose."""


class Acces(StrEnum):
    """The kind of a route's declaration."""

    PUBLIC = "public"  # no token
    AUTHENTIFIE = "authentifie"  # any valid token, the expert's included
    PLATEFORME = "plateforme"  # any role but the expert (CurrentPrincipal)
    ROLES = "roles"  # the roles named by exiger_roles


@dataclass(frozen=True)
class Declaration:
    acces: Acces
    roles: frozenset[Role]  # empty for a public route

    def admet(self, role: Role) -> bool:
        return role in self.roles


class DeclarationManquante(Exception):
    """A route whose callers cannot be read from its dependencies."""


@dataclass(frozen=True)
class RouteDeclaree:
    methode: str
    chemin: str  # as OpenAPI writes it: /v1/habilitations/{habilitation_id}, without the convertor
    dependant: Dependant
    # The path parameters' Starlette convertors by name (uuid, region, str...): what a caller must
    # put there for the route to match at all.
    convertisseurs: dict[str, Convertor[Any]] = field(default_factory=dict)


def routes_de(app: FastAPI) -> Iterator[RouteDeclaree]:
    """Every (method, path) of `app`'s API routes, those of included routers too, at any depth
    (FastAPI 0.165 mounts an included router as a branch of contexts rather than copying its routes,
    and a router included in an included router is a branch of that branch). Starlette's own routes
    (/openapi.json, /docs) are not API routes and are not listed."""

    def parcourir(routes: Iterable[object]) -> Iterator[RouteDeclaree]:
        for route in routes:
            if isinstance(route, APIRoute):
                for methode in sorted(route.methods or ()):
                    yield RouteDeclaree(methode, route.path_format, route.dependant,
                                        dict(route.param_convertors))
                continue
            candidats = getattr(route, "effective_candidates", None)
            if candidats is not None:  # an included router's branch
                yield from parcourir(candidats())
                continue
            dependant = getattr(route, "dependant", None)
            if isinstance(dependant, Dependant):  # an included route's context
                for methode in sorted(getattr(route, "methods", None) or ()):
                    yield RouteDeclaree(methode, str(getattr(route, "path_format", "")), dependant,
                                        dict(getattr(route, "param_convertors", None) or {}))

    yield from parcourir(app.routes)


def _roles_de(appel: object) -> frozenset[Role] | None:
    roles = getattr(appel, "roles_autorises", None)
    return frozenset(roles) if roles is not None else None


def declaration_de(route: RouteDeclaree) -> Declaration:
    """The route's declared callers: the intersection of the roles every dependency on the path to
    the token declares (a route that names both CurrentPrincipal and exiger_roles admits the
    roles both admit)."""
    roles: frozenset[Role] | None = None
    acces = Acces.PUBLIC
    publique = False
    rang = {Acces.PUBLIC: 0, Acces.AUTHENTIFIE: 1, Acces.PLATEFORME: 2, Acces.ROLES: 3}

    def visiter(dependant: Dependant, *, racine: bool) -> None:
        nonlocal roles, acces, publique
        for sous in dependant.dependencies:
            appel = sous.call
            if appel is route_publique:
                publique = True
                continue
            declares = _roles_de(appel)
            if appel is principal_courant:
                if not racine and _roles_de(dependant.call) is None:
                    # A dependency of the route reads the token but states no roles: a hand-written
                    # check nobody can read back.
                    lecteur = getattr(dependant.call, "__qualname__", dependant.call)
                    raise DeclarationManquante(f"{route.methode} {route.chemin}: {lecteur} lit le principal"
                                               " sans déclarer ses rôles (exiger_roles)")
                genre = Acces.AUTHENTIFIE
            elif declares is not None:
                genre = Acces.PLATEFORME if appel is principal_de_la_plateforme else Acces.ROLES
            else:
                visiter(sous, racine=False)
                continue
            assert declares is not None
            roles = declares if roles is None else roles & declares
            if rang[genre] > rang[acces]:
                acces = genre
            visiter(sous, racine=False)

    visiter(route.dependant, racine=True)
    if roles is None:
        if not publique:
            raise DeclarationManquante(f"{route.methode} {route.chemin}: ni rôles déclarés ni route_publique")
        return Declaration(Acces.PUBLIC, frozenset())
    if publique:
        raise DeclarationManquante(f"{route.methode} {route.chemin}: publique et authentifiée à la fois")
    return Declaration(acces, roles)
