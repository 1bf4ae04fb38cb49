"""AAP project rules (domain.md 5, instruction DNS/2025/180 chapter 3 and annex 3). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from hopen_candidature.candidatures.rules import finess_inconnu
from hopen_candidature.pieces.rules import TYPE_LETTRE_PARTENAIRE
from hopen_common.monnaie import exiger_centimes
from hopen_common.programme.aap import ProgrammeAap, ThemeAap
from hopen_common.programme.erreurs import RegleMetierError


@dataclass(frozen=True)
class EsAap:
    """What the local referentiel copy says of a FINESS named in a project."""

    finess: str
    finess_ej: str
    niveau: str  # EJ | EG
    eligible_aap: bool | None
    maille_aap: str | None
    finess_pmsi_phase2: str | None
    ferme: bool


def verifier_theme(theme: str, programme: ProgrammeAap) -> ThemeAap:
    try:
        return programme.themes[theme]
    except KeyError:
        raise RegleMetierError(
            f"thématique inconnue : {theme} (attendu : {', '.join(programme.themes)})", "theme") from None


def verifier_objectifs(objectifs: Sequence[str]) -> list[str]:
    """One or more objectives of the theme that prove success in June 2027; free text, since the
    programme guide listing each theme's objectives is not in the texts we have."""
    propres = [o.strip() for o in objectifs]
    if not propres:
        raise RegleMetierError("au moins un objectif est requis", "objectifs")
    for i, o in enumerate(propres):
        if not o:
            raise RegleMetierError("objectif vide", f"objectifs.{i}")
        if o.casefold() in {p.casefold() for p in propres[:i]}:
            raise RegleMetierError(f"objectif en double : {o}", f"objectifs.{i}")
    return propres


def verifier_equipe(responsables: Sequence[bool]) -> None:
    if not responsables:
        raise RegleMetierError("l'équipe projet compte au moins une personne", "equipe")
    if sum(responsables) != 1:
        raise RegleMetierError("l'équipe projet a exactement un porteur responsable", "equipe")


def verifier_depenses(depenses: Sequence[tuple[int, Decimal]], programme: ProgrammeAap) -> dict[int, Decimal]:
    """The forecast covers each year of the dispositif once (2026 and 2027), to the cent, > 0 in all."""
    par_annee: dict[int, Decimal] = {}
    for i, (annee, montant) in enumerate(depenses):
        if annee not in programme.annees_depenses:
            raise RegleMetierError(f"année {annee} hors de l'appel à projets"
                                   f" ({', '.join(map(str, programme.annees_depenses))})",
                                   f"depenses_prevues.{i}.annee")
        if annee in par_annee:
            raise RegleMetierError(f"année {annee} en double", f"depenses_prevues.{i}.annee")
        par_annee[annee] = exiger_centimes(montant, f"depenses_prevues.{i}.montant", signe="positif")
    manquantes = [a for a in programme.annees_depenses if a not in par_annee]
    if manquantes:
        raise RegleMetierError(f"prévisionnel de dépenses manquant pour {', '.join(map(str, manquantes))}",
                               "depenses_prevues")
    if sum(par_annee.values()) <= 0:
        raise RegleMetierError("le prévisionnel de dépenses est nul", "depenses_prevues")
    return {a: par_annee[a] for a in programme.annees_depenses}


def verifier_participant(es: EsAap | None, finess: str, champ: str) -> EsAap:
    """An ES takes part by its FINESS PMSI (the referentiel's maille_aap) and must be eligible."""
    if es is None:
        raise finess_inconnu(finess, champ)
    if es.ferme:
        raise RegleMetierError(f"l'établissement {finess} est fermé", champ)
    if es.eligible_aap is None:
        raise RegleMetierError(f"éligibilité à l'appel à projets de {finess} inconnue", champ)
    if not es.eligible_aap:
        raise RegleMetierError(f"l'établissement {finess} n'est pas éligible à l'appel à projets", champ)
    if es.maille_aap != finess:
        cible = f" : FINESS PMSI {es.maille_aap}" if es.maille_aap else ""
        raise RegleMetierError(f"{finess} n'est pas un FINESS PMSI de l'appel à projets{cible}", champ)
    return es


def verifier_participants(lead: str, autres: Sequence[str]) -> list[str]:
    """The lead first, then the other participants; each once."""
    vus = {lead}
    for i, f in enumerate(autres):
        if f in vus:
            raise RegleMetierError(f"{f} figure deux fois parmi les établissements du projet",
                                   f"participants.{i}")
        vus.add(f)
    return [lead, *autres]


def verifier_perimetre(perimetre: Sequence[str], egs: Mapping[str, EsAap | None],
                       participants: Sequence[str]) -> None:
    """Every EG of the perimeter is an open EG of a participating ES (its FINESS PMSI), and every
    participant has at least one EG in the perimeter."""
    if not perimetre:
        raise RegleMetierError("le périmètre compte au moins un établissement géographique", "perimetre")
    couverts: set[str] = set()
    for i, f in enumerate(perimetre):
        champ = f"perimetre.{i}"
        if f in perimetre[:i]:
            raise RegleMetierError(f"{f} figure deux fois dans le périmètre", champ)
        eg = egs.get(f)
        if eg is None:
            raise finess_inconnu(f, champ)
        if eg.niveau != "EG":
            raise RegleMetierError(f"{f} n'est pas un établissement géographique", champ)
        if eg.ferme:
            raise RegleMetierError(f"l'établissement {f} est fermé", champ)
        pmsi = eg.finess_pmsi_phase2
        if pmsi is None or pmsi not in participants:
            raise RegleMetierError(f"{f} relève du FINESS PMSI {pmsi}, qui ne participe pas au projet", champ)
        couverts.add(pmsi)
    for i, p in enumerate(participants):
        if p not in couverts:
            champ = "finess" if i == 0 else f"participants.{i - 1}"
            raise RegleMetierError(f"{p} participe sans établissement géographique dans le périmètre", champ)


def verifier_condition_theme(theme: ThemeAap, sans_versement_usage: bool | None,
                             participants: Sequence[EsAap], ej_valides: set[str]) -> None:
    """Rattrapage: the lead declares it received no usage payment (SUN-ES, phase 1), the ARS checks it.
    The three other themes: every participating ES has a validated HospiConnect candidature (its EJ,
    or the GHU itself, is covered by one)."""
    if theme.condition == "sans_versement_usage":
        if sans_versement_usage is not True:
            raise RegleMetierError(
                f"thématique {theme.libelle} : réservée aux établissements sans versement d'usage"
                " (SUN-ES, HOP'EN 2 phase 1) ; déclarez-le (sans_versement_usage: true)",
                "sans_versement_usage")
        return
    if sans_versement_usage is not None:
        raise RegleMetierError(f"sans_versement_usage ne concerne que le rattrapage, pas {theme.id}",
                               "sans_versement_usage")
    for i, es in enumerate(participants):
        if es.finess not in ej_valides and es.finess_ej not in ej_valides:
            champ = "finess" if i == 0 else f"participants.{i - 1}"
            raise RegleMetierError(
                f"thématique {theme.libelle} : {es.finess} n'a pas de candidature HospiConnect validée",
                champ)


def verifier_participations(participants: Sequence[str], deja: Mapping[str, int], maximum: int) -> None:
    """One FINESS PMSI takes part (lead or participant) in at most `maximum` deposited projects."""
    for i, p in enumerate(participants):
        if deja.get(p, 0) >= maximum:
            champ = "finess" if i == 0 else f"participants.{i - 1}"
            raise RegleMetierError(
                f"{p} participe déjà à {deja[p]} projet(s) déposé(s) : {maximum} au plus par FINESS PMSI",
                champ)


def verifier_lettre(type_piece: str | None, piece_id: str, deja: Collection[str]) -> None:
    """A partner letter is a piece of type AAP.LETTRE of this project (`type_piece` None: no piece of
    the project has that id), named once."""
    if type_piece is None:
        raise RegleMetierError(f"la pièce {piece_id} n'est pas une pièce de ce projet : déposez-la d'abord"
                               " (POST /v1/projets/{id}/pieces)", "piece_id")
    if type_piece != TYPE_LETTRE_PARTENAIRE:
        raise RegleMetierError(f"la pièce {piece_id} est de type {type_piece} : une lettre de partenaire est"
                               f" une pièce {TYPE_LETTRE_PARTENAIRE}", "piece_id")
    if piece_id in deja:
        raise RegleMetierError(f"la pièce {piece_id} est déjà une lettre de ce projet", "piece_id")
