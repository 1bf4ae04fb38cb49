"""SMTP settings of a service that sends mail (candidature, instruction), mixed into its settings."""

from __future__ import annotations

from pydantic import BaseModel


class ReglagesCourriel(BaseModel):
    # Empty host: no sender loop (mails still queue in the courriel table, sent once it is set).
    smtp_hote: str = ""
    smtp_port: int = 25
    smtp_utilisateur: str = ""
    smtp_mot_de_passe: str = ""
    smtp_starttls: bool = False
    smtp_delai_secondes: float = 10.0
    courriel_expediteur: str = "HOP'EN 2 <ne-pas-repondre@hopen.sante.gouv.fr>"
    courriel_domaine: str = "hopen.sante.gouv.fr"  # right-hand side of the Message-IDs
    courriel_intervalle_secondes: float = 2.0
    courriel_bail_secondes: float = 120.0  # a claimed row not marked sent by then is claimed again
    courriel_tentatives_max: int = 10
    # ARS regional functional mailboxes, by INSEE region code (ADR 0017: no agent table yet, issue 10);
    # a region absent from the map gets `courriel_ars_defaut` with {region} replaced.
    courriels_ars: dict[str, str] = {}
    courriel_ars_defaut: str = "ars-{region}@hopen.localhost"

    def courriel_ars(self, region: str) -> str:
        return self.courriels_ars.get(region) or self.courriel_ars_defaut.format(region=region)
