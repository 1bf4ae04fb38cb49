"""What a dossier must hold before its deposit (issue 8 item 4), from the programme's pieces data and
the GHT criteria. Pure: the deposited pieces come in as (type, finess_ej) pairs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

from hopen_common.problemes import CRITERES_GHT_INVALIDES, PIECES_MANQUANTES, ProblemError
from hopen_common.programme.criteres_ght import CritereInvalide, CriteresGht, criteres_invalides
from hopen_common.programme.pieces import DossierVu, ProgrammePieces, exigences, manquantes


def ght_phase1(dispositif: str, perimetre: Sequence[Mapping[str, Any]] | None) -> bool:
    """The dossiers annex 4 applies to: a phase-1 candidature of a GHT support (it has a perimeter)."""
    return dispositif == "phase1" and perimetre is not None


def dossier_candidature(dispositif: str, perimetre: Sequence[Mapping[str, Any]] | None,
                        criteres: CriteresGht | None) -> DossierVu:
    if dispositif not in ("phase1", "hospiconnect"):
        raise ValueError(f"dispositif de candidature inconnu : {dispositif}")
    return DossierVu(
        dispositif="phase1" if dispositif == "phase1" else "hospiconnect",
        membres_ght=None if perimetre is None else tuple(m["finess_ej"] for m in perimetre),
        referentiel_identite_unique=None if criteres is None else criteres.referentiel_identite_unique,
        preuve_capacite=None if criteres is None else criteres.preuve_capacite)


def dossier_projet(*, lettres_partenaires: bool, participants_publics_ght: Iterable[str]) -> DossierVu:
    return DossierVu(dispositif="aap", lettres_partenaires=lettres_partenaires,
                     participants_publics_ght=tuple(participants_publics_ght))


def refus_du_depot(dossier: DossierVu, programme: ProgrammePieces, *,
                   deposees: Iterable[tuple[str, str | None]] | None,
                   criteres: CriteresGht | None, avec_criteres: bool, depot_le: date) -> ProblemError | None:
    """The one problem answering a deposit that lacks something, or None. Every missing piece (by code
    and EJ) and every failing GHT criterion (by field) are listed at once, so that one answer tells
    the applicant everything left to do. `deposees` None: no source of pieces (not checked)."""
    absentes = [] if deposees is None else manquantes(exigences(dossier, programme), deposees)
    invalides: list[CritereInvalide] = criteres_invalides(
        criteres, depot_le=depot_le, sdsi_anciennete_max_mois=programme.sdsi_anciennete_max_mois
    ) if avec_criteres else []
    liste_criteres = [{"champ": i.champ, "message": i.message} for i in invalides]
    if absentes:
        pieces = [{"code": m.code, "libelle": m.libelle, "finess_ej": m.finess_ej, "types": list(m.types)}
                  for m in absentes]
        noms = ", ".join(m.code if m.finess_ej is None else f"{m.code} ({m.finess_ej})" for m in absentes)
        return PIECES_MANQUANTES.erreur(f"dépôt impossible, pièce(s) manquante(s) : {noms}", champ="pieces",
                                        extra={"pieces": pieces, "criteres": liste_criteres})
    if invalides:
        return CRITERES_GHT_INVALIDES.erreur(
            "dépôt impossible, critère(s) GHT non rempli(s) : " + " ; ".join(i.message for i in invalides),
            champ=invalides[0].champ, extra={"pieces": [], "criteres": liste_criteres})
    return None
