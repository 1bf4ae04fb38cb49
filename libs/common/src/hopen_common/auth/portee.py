"""Who sees what, once for every service (domain 1, architecture.md Security).

An ARS sees its region, an establishment its FINESS (the EJ and EG of its token), the DNS every
region. Two answers, on purpose:

- a resource out of scope answers 404 `introuvable`, exactly as a missing one: no existence leak
  (`exiger_region`, `exiger_finess`, `exiger_acces`);
- a list filter or a write out of scope answers 403 `hors-perimetre`: the caller named the scope
  itself, there is nothing to leak and a clear refusal helps (`filtre_liste`,
  `exiger_portee_etablissement`).

OPS (issue 12): ops sees operations (dead letters, replays, imports, orphan pieces: the routes that
name Role.OPS), not business data. It is not national: `voit` is False for it (404), `restreindre`
gives it no row and `filtre_liste` refuses its filters (403), so a route open to any authenticated
caller (CurrentPrincipal) shows ops nothing of a candidature, a dossier or an amount.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, false

from hopen_common.auth.principal import Principal, Role
from hopen_common.problemes import HORS_PERIMETRE, introuvable

_T = TypeVar("_T")

# Roles that see every region and every FINESS (not ops: see the module's note).
_NATIONAL = frozenset({Role.DNS})
# Roles with a business scope (a region, FINESS numbers, every region); the others (ops) read no list.
_AVEC_PERIMETRE = frozenset({Role.DNS, Role.ARS, Role.ETABLISSEMENT})


def _liste(finess: str | Iterable[str]) -> tuple[str, ...]:
    # A bare string is one FINESS, not nine characters.
    return (finess,) if isinstance(finess, str) else tuple(finess)


def voit(principal: Principal, *, region: str | None, finess: str | Iterable[str] = ()) -> bool:
    """True when `principal` may see a resource of `region` concerning `finess` (any one of them)."""
    if principal.role in _NATIONAL:
        return True
    if principal.role is Role.ARS:
        return region is not None and principal.region == region
    if principal.role is Role.ETABLISSEMENT:
        return any(f in principal.finess for f in _liste(finess))
    return False


def exiger_region(principal: Principal, region: str, *, ressource: str, identifiant: str) -> None:
    """404 unless `principal` sees `region`: the DNS, or the ARS of that region. An
    establishment never passes: its scope is FINESS numbers, use `exiger_acces`."""
    if not voit(principal, region=region):
        raise introuvable(ressource, identifiant)


def exiger_finess(principal: Principal, *finess: str, ressource: str, identifiant: str) -> None:
    """404 unless `principal` sees one of `finess`: the DNS, or an establishment whose
    token covers one of them. An ARS never passes on a FINESS alone (its scope is a region the
    FINESS does not carry): for a resource with a region, use `exiger_acces`."""
    if not voit(principal, region=None, finess=finess):
        raise introuvable(ressource, identifiant)


def exiger_acces(principal: Principal, *, region: str, finess: str | Iterable[str] = (),
                 ressource: str, identifiant: str) -> None:
    """404 unless `principal` may see this resource: the DNS all, an ARS its `region`,
    an establishment one of the resource's `finess` (applicant, participants, members...)."""
    if not voit(principal, region=region, finess=finess):
        raise introuvable(ressource, identifiant)


def filtre_liste(principal: Principal, *, finess: str | None, region: str | None) -> None:
    """403 when a list's filter lies outside the caller's scope (the query is then restricted to
    the scope by the caller): an establishment must name one FINESS of its token, an ARS may only
    name its own region; the DNS filters freely; ops (no business scope) reads no list."""
    if principal.role not in _AVEC_PERIMETRE:
        raise HORS_PERIMETRE.erreur(f"le rôle {principal.role.value} voit les opérations, pas les données"
                                    " métier")
    if principal.role is Role.ETABLISSEMENT and (finess is None or finess not in principal.finess):
        raise HORS_PERIMETRE.erreur("un établissement lit ses propres données : précisez un FINESS de"
                                    " votre jeton", champ="finess")
    if principal.role is Role.ARS and region not in (None, principal.region):
        raise HORS_PERIMETRE.erreur(f"région {region} hors de votre périmètre", champ="region")


def exiger_portee_etablissement(principal: Principal, finess: str) -> None:
    """403 unless `principal` is an establishment whose token covers `finess`: the check of the
    writes an establishment makes for itself (create, deposit, declare). No other role writes on
    an establishment's behalf, not even the DNS."""
    if principal.role is not Role.ETABLISSEMENT or finess not in principal.finess:
        raise HORS_PERIMETRE.erreur(f"votre jeton ne couvre pas le FINESS {finess}", champ="finess")


def region_de_lecture(principal: Principal, region: str | None) -> str | None:
    """The region a list or an export is restricted to: an ARS reads its own whatever it asked (a
    foreign filter was refused by `filtre_liste`, or answers 404 on a resource), the others what
    they asked (None: every region)."""
    return principal.region if principal.role is Role.ARS else region


def restreindre(query: Select[_T], principal: Principal, *, region: ColumnElement[str] | Any,
                finess: Callable[[Sequence[str]], ColumnElement[bool]] | None = None) -> Select[_T]:
    """A list restricted to what the caller sees, the same way everywhere: the DNS every
    row, an ARS the rows of its region (`region`: the column), an establishment the rows whose
    FINESS is one of its token's (`finess`: builds the condition from the token's FINESS; None: the
    list is not an establishment's to read, it gets no row). Any other role (ops) gets no row."""
    if principal.role in _NATIONAL:
        return query
    if principal.role is Role.ARS:
        return query.where(region == principal.region)
    if principal.role is Role.ETABLISSEMENT and finess is not None:
        return query.where(finess(principal.finess))
    return query.where(false())
