"""Who may grant which rights, and what a habilitation must hold (pure rules, no I/O; ADR 0022).

- The DNS names ARS agents (their profiles and the référent of each region), DNS persons, experts and
  establishments' staff.
- The référent of a region names the agents of its region and their profiles (instructeur,
  valideur); it names no référent and touches no agent of another region.
- Ops names the technical accounts (role ops) and nothing else.
- Nobody changes their own rights (`auto-habilitation`): a person who could grant themselves the
  valideur profile would defeat the two-person rule.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date
from typing import Any

from hopen_common.auth import Principal, Profil, Role
from hopen_common.auth.tokens import ISSUER_DEV
from hopen_common.problemes import (
    AUTO_HABILITATION,
    HORS_PERIMETRE,
    REGLE_METIER,
    ROLE_INTERDIT,
    ProblemError,
)
from hopen_common.region import REGIONS, RegionProgramme

ROLES_NOMMES_PAR_LA_DNS = frozenset({Role.ARS, Role.DNS, Role.EXPERT, Role.ETABLISSEMENT})


@dataclass(frozen=True)
class EtatHabilitation:
    """The rights of one habilitation at one version (what is published and kept in the history)."""

    emetteur: str
    sujet: str
    role: Role
    region: str | None = None
    finess: tuple[str, ...] = ()
    profils: frozenset[Profil] = frozenset()
    referent: bool = False
    actif: bool = True

    def en_json(self) -> dict[str, Any]:
        valeur = asdict(self)
        valeur.update(role=self.role.value, finess=list(self.finess),
                      profils=sorted(p.value for p in self.profils))
        return valeur


def verifier_etat(etat: EtatHabilitation) -> None:
    """422 naming the field when the rights do not fit the role (the FINESS and region formats are
    checked by the schemas): an establishment acts for FINESS numbers, an ARS agent for one region
    with profiles, the other roles for neither."""
    if etat.emetteur == ISSUER_DEV:
        raise REGLE_METIER.erreur(f"{ISSUER_DEV} est l'émetteur de développement : ses jetons portent leurs"
                                  " droits, il n'a pas d'habilitation", champ="emetteur")
    if etat.role is Role.ETABLISSEMENT:
        if not etat.finess:
            raise REGLE_METIER.erreur("un établissement agit pour au moins un FINESS", champ="finess")
    elif etat.finess:
        raise REGLE_METIER.erreur(f"le rôle {etat.role} ne porte pas de FINESS", champ="finess")
    if etat.role is Role.ARS:
        if etat.region is None:
            raise REGLE_METIER.erreur("un agent d'ARS appartient à une région", champ="region")
    else:
        if etat.region is not None:
            raise REGLE_METIER.erreur(f"le rôle {etat.role} ne porte pas de région", champ="region")
        if etat.profils:
            raise REGLE_METIER.erreur("les profils instructeur et valideur sont ceux des agents d'ARS",
                                      champ="profils")
        if etat.referent:
            raise REGLE_METIER.erreur("le référent du programme est un agent d'ARS", champ="referent")


def _refus_pour(gestionnaire: Principal, etat: EtatHabilitation) -> ProblemError | None:
    if gestionnaire.role is Role.DNS:
        if etat.role not in ROLES_NOMMES_PAR_LA_DNS:
            return ROLE_INTERDIT.erreur(f"la DNS ne gère pas les comptes {etat.role} (ops les gère)",
                                        champ="role")
        return None
    if gestionnaire.role is Role.OPS:
        if etat.role is not Role.OPS:
            return ROLE_INTERDIT.erreur("ops ne gère que les comptes techniques (rôle ops)", champ="role")
        return None
    if gestionnaire.role is Role.ARS:
        if not gestionnaire.referent:
            return ROLE_INTERDIT.erreur("seul le référent du programme de la région nomme ses agents")
        if etat.role is not Role.ARS:
            return ROLE_INTERDIT.erreur(f"une ARS ne nomme que ses agents (rôle ars), pas {etat.role}",
                                        champ="role")
        if etat.region != gestionnaire.region:
            return HORS_PERIMETRE.erreur(f"région {etat.region} hors de votre périmètre", champ="region")
        if etat.referent:
            return ROLE_INTERDIT.erreur("la DNS nomme les référents du programme", champ="referent")
        return None
    return ROLE_INTERDIT.erreur(f"le rôle {gestionnaire.role} ne gère pas les habilitations")


def refus_de_gestion(gestionnaire: Principal, *, avant: EtatHabilitation | None,
                     apres: EtatHabilitation) -> ProblemError | None:
    """Why `gestionnaire` may not take a habilitation from `avant` (None: it does not exist yet) to
    `apres`, or None when it may. Both states must be within the manager's reach: an ARS référent may
    not revoke its region's référent nor move an agent to another region."""
    if gestionnaire.emetteur == apres.emetteur and gestionnaire.subject == apres.sujet:
        return AUTO_HABILITATION.erreur("personne ne modifie ses propres habilitations : demandez-le à un"
                                        " autre gestionnaire")
    for etat in (avant, apres):
        if etat is not None and (refus := _refus_pour(gestionnaire, etat)) is not None:
            return refus
    return None


def peut_lire(lecteur: Principal, etat: EtatHabilitation) -> bool:
    """The DNS reads every habilitation, ops the technical accounts, an ARS agent its region's agents
    (who instructs and who validates with them); nobody else."""
    if lecteur.role is Role.DNS:
        return True
    if lecteur.role is Role.OPS:
        return etat.role is Role.OPS
    if lecteur.role is Role.ARS:
        return etat.role is Role.ARS and etat.region == lecteur.region
    return False


@dataclass(frozen=True)
class ReferentsManquants:
    echeance: date  # annex 3: "avant la fin de la période de candidature de la première phase"
    jours_restants: int  # negative once the deadline is past
    regions: list[RegionProgramme] = field(default_factory=list)


def referents_manquants(regions_avec_referent: Iterable[str], *, echeance: date,
                        aujourd_hui: date) -> ReferentsManquants:
    """The regions (of the 18, in their file's order) with no active référent of the programme."""
    nommees = set(regions_avec_referent)
    return ReferentsManquants(echeance=echeance, jours_restants=(echeance - aujourd_hui).days,
                              regions=[r for code, r in REGIONS.items() if code not in nommees])
