"""Phase-1 candidature rules (instruction 2024/123, domain.md 3.3). Pure: no I/O."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from hopen_common.programme.erreurs import RegleMetierError

DISPOSITIFS_OUVERTS = ("phase1", "hospiconnect")


@dataclass(frozen=True)
class EtablissementVu:
    """What the candidature service knows of an establishment (local copy)."""

    finess: str
    eligible_phase1: bool
    maille_phase1: str | None
    ferme: bool
    ght_code: str | None
    ght_role: str | None = None
    eligible_hospiconnect: bool | None = None
    maille_hospiconnect: str | None = None


@dataclass(frozen=True)
class MembreGht:
    """A member EJ of the applicant's GHT, as the local copy of the referentiel knows it."""

    finess_ej: str
    raison_sociale: str
    eligible_phase1: bool
    ferme: bool
    activite_combinee: Decimal | None
    domaines_sun_es: tuple[str, ...]


@dataclass(frozen=True)
class MembreRetenu:
    membre: MembreGht
    objectifs: tuple[str, ...]


@dataclass(frozen=True)
class Fenetre:
    debut: date | None  # None: open since the programme started (HospiConnect gives no start date)
    fin: date  # included: a deadline day is included (domain.md 6)

    def contient(self, jour: date) -> bool:
        return (self.debut is None or self.debut <= jour) and jour <= self.fin


def finess_inconnu(finess: str, champ: str) -> RegleMetierError:
    # The local copy holds the programme's establishments only (health establishments, ADR 0030):
    # an EHPAD is "unknown" here, not "ineligible".
    return RegleMetierError(f"FINESS {finess} inconnu du référentiel, ou hors du périmètre du programme"
                            " (les établissements de santé)", champ)


def verifier_dispositif(dispositif: str) -> None:
    if dispositif not in DISPOSITIFS_OUVERTS:
        raise RegleMetierError(f"dispositif {dispositif!r} non ouvert aux candidatures", "dispositif")


def verifier_fenetre(fenetre: Fenetre, jour: date, *, ouvert: bool, quoi: str) -> None:
    if not ouvert and not fenetre.contient(jour):
        debut = "" if fenetre.debut is None else f" du {fenetre.debut.isoformat()}"
        raise RegleMetierError(
            f"{quoi} possible{debut} jusqu'au {fenetre.fin.isoformat()} inclus ;"
            f" nous sommes le {jour.isoformat()}",
            "date",
        )


def verifier_objectifs(objectifs: Sequence[str], connus: set[str], champ: str = "objectifs") -> None:
    if not objectifs:
        raise RegleMetierError("au moins un objectif est requis", champ)
    inconnus = [o for o in objectifs if o not in connus]
    if inconnus:
        raise RegleMetierError(f"objectif(s) inconnu(s) : {', '.join(inconnus)}", champ)
    if len(set(objectifs)) != len(objectifs):
        raise RegleMetierError("un objectif figure deux fois", champ)


def verifier_eligibilite_et_maille(etab: EtablissementVu) -> None:
    if etab.ferme:
        raise RegleMetierError(f"l'établissement {etab.finess} est fermé", "finess")
    if not etab.eligible_phase1:
        raise RegleMetierError(f"l'établissement {etab.finess} n'est pas éligible à la phase 1", "finess")
    if etab.maille_phase1 is None:
        raise RegleMetierError(
            f"maille de candidature : l'entité {etab.finess} est privée, chacun de ses établissements"
            " géographiques candidate sous son propre FINESS", "finess")
    if etab.maille_phase1 != etab.finess:
        raise RegleMetierError(
            f"maille de candidature : pour {etab.finess}, la phase 1 se candidate au FINESS"
            f" {etab.maille_phase1}" + (f" (support du GHT {etab.ght_code})" if etab.ght_code else ""),
            "finess",
        )


def perimetre_ght(
    etab: EtablissementVu, membres: Sequence[MembreGht], demande: Sequence[tuple[str, Sequence[str]]] | None,
    objectifs: Sequence[str],
) -> list[MembreRetenu] | None:
    """The member EJ a GHT candidature covers and the objectives of each (domain 3.3, annex 4).

    Only the GHT's support applies for the GHT. Without an explicit perimeter, every open and
    eligible member EJ applies to every objective of the candidature. With one, each listed EJ
    must be an open, eligible member, with objectives taken from the candidature's, and every
    objective of the candidature must be applied to by at least one EJ. None: not a GHT candidature.
    """
    support_de_ght = etab.ght_code is not None and etab.ght_role == "S"
    if not support_de_ght:
        if demande is not None:
            raise RegleMetierError("le périmètre est réservé à l'établissement support d'un GHT", "perimetre")
        return None
    connus = {m.finess_ej: m for m in membres}
    if demande is None:
        tous = [MembreRetenu(m, tuple(objectifs)) for _, m in sorted(connus.items())
                if m.eligible_phase1 and not m.ferme]
        if not tous:
            raise RegleMetierError(f"aucun membre éligible dans le GHT {etab.ght_code}", "perimetre")
        return tous
    if not demande:
        raise RegleMetierError("le périmètre, s'il est donné, liste au moins une entité juridique",
                               "perimetre")
    retenus: list[MembreRetenu] = []
    vus: set[str] = set()
    couverts: set[str] = set()
    for rang, (finess_ej, objectifs_ej) in enumerate(demande):
        champ = f"perimetre.{rang}"
        membre = connus.get(finess_ej)
        if membre is None:
            raise RegleMetierError(f"{finess_ej} n'est pas une entité juridique du GHT {etab.ght_code}",
                                   f"{champ}.finess_ej")
        if finess_ej in vus:
            raise RegleMetierError(f"{finess_ej} figure deux fois dans le périmètre", f"{champ}.finess_ej")
        if membre.ferme or not membre.eligible_phase1:
            raise RegleMetierError(f"{finess_ej} n'est pas éligible à la phase 1", f"{champ}.finess_ej")
        verifier_objectifs(objectifs_ej, set(objectifs), f"{champ}.objectifs")
        vus.add(finess_ej)
        couverts |= set(objectifs_ej)
        retenus.append(MembreRetenu(membre, tuple(objectifs_ej)))
    orphelins = [o for o in objectifs if o not in couverts]
    if orphelins:
        raise RegleMetierError(
            f"objectif(s) sans entité juridique dans le périmètre : {', '.join(orphelins)}", "objectifs")
    return retenus


def indicateur_vise(objectif: str, indicateur: str | None, indicateurs: list[str],
                    objectifs_candidature: list[str]) -> str:
    """Which indicator a deposit is for; may be omitted for a single-indicator objective."""
    if objectif not in objectifs_candidature:
        raise RegleMetierError(f"l'objectif {objectif} ne fait pas partie de la candidature", "objectif")
    if indicateur is None:
        if len(indicateurs) != 1:
            raise RegleMetierError(
                f"l'objectif {objectif} a plusieurs indicateurs ({', '.join(indicateurs)}) : précisez-le",
                "indicateur",
            )
        return indicateurs[0]
    if indicateur not in indicateurs:
        raise RegleMetierError(
            f"indicateur {indicateur!r} inconnu pour {objectif} (attendu : {', '.join(indicateurs)})",
            "indicateur",
        )
    return indicateur


def verifier_mesure(numerateur: int, denominateur: int) -> None:
    if denominateur <= 0:
        raise RegleMetierError("le dénominateur doit être strictement positif", "denominateur")
    if numerateur < 0 or numerateur > denominateur:
        raise RegleMetierError("le numérateur doit être compris entre 0 et le dénominateur", "numerateur")


# --- HospiConnect (domain.md 4.2, instruction DNS/2025/180 annex 2) ----------------------------

@dataclass(frozen=True)
class EjHospiconnect:
    """An EJ (an AP-HP GHU) whose HospiConnect application is carried by some applicant."""

    finess_ej: str
    raison_sociale: str
    eligible_hospiconnect: bool | None
    ferme: bool
    activite_combinee_2024: Decimal | None


def verifier_eligibilite_et_maille_hospiconnect(etab: EtablissementVu) -> None:
    """Who applies is the referentiel's `maille_hospiconnect`: private -> the EJ for all its EG; public
    in a GHT -> the support ES; public outside a GHT -> the EJ; AP-HP -> each GHU."""
    if etab.ferme:
        raise RegleMetierError(f"l'établissement {etab.finess} est fermé", "finess")
    if etab.eligible_hospiconnect is None:
        raise RegleMetierError(
            f"éligibilité HospiConnect de {etab.finess} inconnue : le référentiel ne l'a pas encore publiée",
            "finess")
    if not etab.eligible_hospiconnect:
        raise RegleMetierError(f"l'établissement {etab.finess} n'est pas éligible à HospiConnect", "finess")
    if etab.maille_hospiconnect is None:
        raise RegleMetierError(
            f"maille de candidature : {etab.finess} ne candidate pas à HospiConnect (AP-HP : chaque GHU"
            " candidate sous son propre FINESS)", "finess")
    if etab.maille_hospiconnect != etab.finess:
        raise RegleMetierError(
            f"maille de candidature : pour {etab.finess}, HospiConnect se candidate au FINESS"
            f" {etab.maille_hospiconnect}" + (f" (support du GHT {etab.ght_code})" if etab.ght_code else ""),
            "finess",
        )


def objectifs_hospiconnect(demandes: Sequence[str] | None, tous: Sequence[str]) -> list[str]:
    """An ES applies to the whole dispositif: the objectives, if given, are all of them."""
    if demandes is None:
        return list(tous)
    if len(set(demandes)) != len(demandes):
        raise RegleMetierError("un objectif figure deux fois", "objectifs")
    if set(demandes) != set(tous):
        raise RegleMetierError(
            "HospiConnect : on candidate à l'ensemble du dispositif ; objectifs à omettre ou à donner"
            f" tous ({', '.join(tous)})", "objectifs")
    return list(tous)


def perimetre_hospiconnect(etab: EtablissementVu, portees: Sequence[EjHospiconnect]
                           ) -> list[EjHospiconnect] | None:
    """The EJ a GHT support applies for: every open, eligible EJ whose maille is the support (the
    support's own EJ included). None for any other applicant: the candidature's FINESS is the EJ
    judged. [reading] The support applies "pour le compte de l'ensemble des EJ du GHT" (annex 2):
    the perimeter is not chosen, ineligible or closed members are left out."""
    if etab.ght_code is None or etab.ght_role != "S":
        return None
    retenus = sorted((m for m in portees if m.eligible_hospiconnect and not m.ferme),
                     key=lambda m: m.finess_ej)
    if not retenus:
        raise RegleMetierError(f"aucune entité juridique éligible dans le GHT {etab.ght_code}", "finess")
    return retenus


# Issue 7, "pay once": what a withdrawal may come from (a decided candidature is the ARS's).
STATUTS_DESISTABLES = ("brouillon", "deposee", "en_instruction", "correction_demandee")
# Evidence and expenses go on a deposited candidature, and keep coming once the ARS validated it (the
# indicators are measured, the HospiConnect years instructed, after the validation).
STATUTS_DE_PREUVE = ("deposee", "en_instruction", "correction_demandee", "validee")


def champ_de_l_ej(finess_ej: str, demande: Sequence[str] | None) -> str:
    """The field to name for an EJ already covered: its rank in the perimeter the applicant gave,
    else the applicant's FINESS (the perimeter was computed, or the EJ is the applicant)."""
    if demande is not None and finess_ej in demande:
        return f"perimetre.{list(demande).index(finess_ej)}.finess_ej"
    return "finess"
