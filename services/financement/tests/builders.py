"""Small builders of the producers' events, as the referentiel, candidature and instruction send them."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal

from hopen_common.contracts import (
    AtteinteProjetAapDecidee,
    CandidatureRefusee,
    CandidatureValidee,
    DepensesDeclarees,
    EtablissementPublie,
    HospiconnectAnneeDecidee,
    ObjectifAtteint,
    ObjectifNonAtteint,
    ParticipantAap,
    PerimetreEj,
    ProjetAapNonRetenu,
    ProjetAapSelectionne,
)
from hopen_common.events import Evenement, nouvel_evenement


def _ev(payload, sujet: str) -> Evenement:  # type: ignore[no-untyped-def]
    return nouvel_evenement(payload, source="/test", subject=sujet)


def etablissement(finess: str, region: str, ac: str | None, *, effectifs: int | None = None,
                  eligible: bool = True, raison_sociale: str | None = None, finess_ej: str | None = None,
                  finess_pmsi: str | None = None, maille_phase1: str | None = None) -> Evenement:
    """An EJ applying for itself by default; an EG of `finess_ej` with its FINESS PMSI and maille."""
    return _ev(EtablissementPublie(
        finess=finess, finess_ej=finess_ej or finess, raison_sociale=raison_sociale or f"CH {finess}",
        region=region, departement="2B", secteur="public", categorie="1101",
        niveau="EJ" if finess_ej is None else "EG", ght_code=None, ght_role=None,
        finess_pmsi=finess_pmsi or finess, activite_combinee=Decimal(ac) if ac is not None else None,
        eligible_phase1=eligible, maille_phase1=maille_phase1 or finess, domaines_sun_es=[], ferme=False,
        effectifs=effectifs,
    ), f"etablissement/{finess}")


def validee(candidature_id: str, finess: str, region: str, objectifs: list[str], *,
            perimetre: list[PerimetreEj] | None = None, dispositif: str = "phase1",
            remplace: str | None = None) -> Evenement:
    return _ev(CandidatureValidee(
        decision_id=str(uuid.uuid4()), candidature_id=candidature_id, finess=finess, region=region,
        decide_par="instructeur", decide_le=datetime.now(UTC), motivation="prérequis fournis",
        dispositif=dispositif, objectifs=objectifs, perimetre=perimetre, remplace=remplace),
        f"candidature/{candidature_id}")


def refusee(candidature_id: str, finess: str, region: str, *, remplace: str | None = None,
            dispositif: str = "phase1") -> Evenement:
    return _ev(CandidatureRefusee(
        decision_id=str(uuid.uuid4()), candidature_id=candidature_id, finess=finess, region=region,
        decide_par="instructeur", decide_le=datetime.now(UTC), motivation="maille erronée",
        dispositif=dispositif, remplace=remplace), f"candidature/{candidature_id}")


def objectif(candidature_id: str, finess: str, region: str, obj: str, atteint: bool, objectifs: list[str],
             finess_ej: str | None = None, *, remplace: str | None = None) -> Evenement:
    modele = ObjectifAtteint if atteint else ObjectifNonAtteint
    return _ev(modele(
        decision_id=str(uuid.uuid4()), candidature_id=candidature_id, finess=finess, region=region,
        decide_par="instructeur", decide_le=datetime.now(UTC), motivation="mesure vérifiée", objectif=obj,
        objectifs_candidature=objectifs, finess_ej=finess_ej, remplace=remplace),
        f"candidature/{candidature_id}")


def annee_hc(candidature_id: str, finess: str, finess_ej: str, region: str, annee: int, atteints: list[str],
             *, remplace: str | None = None, effectifs: int | None = None) -> Evenement:
    return _ev(HospiconnectAnneeDecidee(
        decision_id=str(uuid.uuid4()), candidature_id=candidature_id, finess=finess, finess_ej=finess_ej,
        region=region, annee=annee, objectifs_atteints=atteints, decide_par="valideur",
        decide_le=datetime.now(UTC), motivation="preuves validées", remplace=remplace, effectifs=effectifs,
    ), f"candidature/{candidature_id}")


def depenses(candidature_id: str, finess: str, finess_ej: str, region: str, annee: int, montant: str,
             *, remplace: str | None = None) -> Evenement:
    return _ev(DepensesDeclarees(
        declaration_id=str(uuid.uuid4()), candidature_id=candidature_id, finess=finess, finess_ej=finess_ej,
        region=region, annee=annee, montant=Decimal(montant), declare_par="daf", declare_le=datetime.now(UTC),
        remplace=remplace), f"candidature/{candidature_id}")


def projet(projet_id: str, finess: str, region: str, montant: str, *, depenses_prevues: str | None = None,
           ac: str = "40000", objectifs: tuple[str, ...] = ("o1", "o2"), remplace: str | None = None
           ) -> Evenement:
    return _ev(ProjetAapSelectionne(
        decision_id=str(uuid.uuid4()), projet_id=projet_id, finess=finess, region=region,
        theme="desengorgement_urgences", objectifs=list(objectifs),
        participants=[ParticipantAap(finess=finess, activite_combinee=Decimal(ac))], perimetre=[finess],
        depenses_prevues=Decimal(depenses_prevues or montant), montant_accorde=Decimal(montant),
        decide_par="valideur", decide_le=datetime.now(UTC), motivation="projet retenu", remplace=remplace),
        f"projet/{projet_id}")


def non_retenu(projet_id: str, finess: str, region: str, *, remplace: str | None = None) -> Evenement:
    return _ev(ProjetAapNonRetenu(
        decision_id=str(uuid.uuid4()), projet_id=projet_id, finess=finess, region=region,
        decide_par="valideur", decide_le=datetime.now(UTC), motivation="projet non retenu",
        remplace=remplace),
        f"projet/{projet_id}")


def atteinte(projet_id: str, finess: str, region: str, atteint: bool, *, remplace: str | None = None
             ) -> Evenement:
    return _ev(AtteinteProjetAapDecidee(
        decision_id=str(uuid.uuid4()), projet_id=projet_id, finess=finess, region=region, atteint=atteint,
        decide_par="valideur", decide_le=datetime.now(UTC), motivation="jalon 2027", remplace=remplace),
        f"projet/{projet_id}")
