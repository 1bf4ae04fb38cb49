"""The two-person rule, once for every service (issue 10, ADR 0023).

A decision that moves money is first a proposal by one person; another person confirms it (or
rejects it, with a motivation). These are the pure checks both instruction (dossier decisions, lots)
and financement (the DNS's envelope transfers) apply before anything else; each service keeps its own
proposal table and what a confirmation executes."""

from __future__ import annotations

from enum import StrEnum

from hopen_common.auth.principal import Principal, Profil, Role
from hopen_common.problemes import PROPOSITION_DEJA_TRAITEE, QUATRE_YEUX, ROLE_INTERDIT


class StatutProposition(StrEnum):
    EN_ATTENTE = "en_attente"
    CONFIRMEE = "confirmee"
    REJETEE = "rejetee"


def exiger_proposeur(principal: Principal) -> None:
    """403 unless `principal` may propose: an ARS instructeur (its region is checked by the caller,
    with the resource), or a DNS person for a national decision (an envelope transfer)."""
    if principal.role is Role.DNS:
        return
    if principal.role is not Role.ARS or not principal.a_profil(Profil.INSTRUCTEUR):
        raise ROLE_INTERDIT.erreur("seul un instructeur de l'ARS propose une décision qui engage des fonds")


def exiger_confirmateur(principal: Principal, *, proposee_par: str, emetteur_proposeur: str,
                        region: str | None, statut: StatutProposition) -> None:
    """The checks of a confirmation or a rejection, in the order an auditor expects: who (a valideur
    of the proposal's region, or a DNS person for a national proposal), not the proposer (even holding
    the valideur profile), then the proposal's state (a second confirmation is 409)."""
    if region is None:
        if principal.role is not Role.DNS:
            raise ROLE_INTERDIT.erreur("une proposition nationale est confirmée par une autre personne"
                                       " de la DNS")
    else:
        if principal.role is not Role.ARS or principal.region != region:
            raise ROLE_INTERDIT.erreur(f"seul un valideur de l'ARS de la région {region} confirme")
        if not principal.a_profil(Profil.VALIDEUR):
            raise ROLE_INTERDIT.erreur("profil valideur requis pour confirmer ou rejeter")
    if (principal.emetteur, principal.subject) == (emetteur_proposeur, proposee_par):
        raise QUATRE_YEUX.erreur("vous avez fait cette proposition : une autre personne la confirme")
    if statut is not StatutProposition.EN_ATTENTE:
        raise PROPOSITION_DEJA_TRAITEE.erreur(f"proposition {statut.value}", champ="proposition_id")
