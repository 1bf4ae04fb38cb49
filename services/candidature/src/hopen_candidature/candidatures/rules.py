"""Phase-1 candidature rules (instruction 2024/123, domain.md 3.3). Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hopen_common.programme.erreurs import RegleMetierError

DISPOSITIFS_OUVERTS = ("phase1",)


@dataclass(frozen=True)
class EtablissementVu:
    """What the candidature service knows of an establishment (local copy)."""

    finess: str
    eligible_phase1: bool
    maille_phase1: str | None
    ferme: bool
    ght_code: str | None


@dataclass(frozen=True)
class Fenetre:
    debut: date
    fin: date  # included: a deadline day is included (domain.md 6)

    def contient(self, jour: date) -> bool:
        return self.debut <= jour <= self.fin


def verifier_dispositif(dispositif: str) -> None:
    if dispositif not in DISPOSITIFS_OUVERTS:
        raise RegleMetierError(f"dispositif {dispositif!r} non ouvert aux candidatures", "dispositif")


def verifier_fenetre(fenetre: Fenetre, jour: date, *, ouvert: bool, quoi: str) -> None:
    if not ouvert and not fenetre.contient(jour):
        raise RegleMetierError(
            f"{quoi} possible du {fenetre.debut.isoformat()} au {fenetre.fin.isoformat()} inclus ;"
            f" nous sommes le {jour.isoformat()}",
            "date",
        )


def verifier_objectifs(objectifs: list[str], connus: set[str]) -> None:
    if not objectifs:
        raise RegleMetierError("au moins un objectif est requis", "objectifs")
    inconnus = [o for o in objectifs if o not in connus]
    if inconnus:
        raise RegleMetierError(f"objectif(s) inconnu(s) : {', '.join(inconnus)}", "objectifs")
    if len(set(objectifs)) != len(objectifs):
        raise RegleMetierError("un objectif figure deux fois", "objectifs")


def verifier_eligibilite_et_maille(etab: EtablissementVu) -> None:
    if etab.ferme:
        raise RegleMetierError(f"l'établissement {etab.finess} est fermé", "finess")
    if not etab.eligible_phase1:
        raise RegleMetierError(f"l'établissement {etab.finess} n'est pas éligible à la phase 1", "finess")
    if etab.maille_phase1 != etab.finess:
        raise RegleMetierError(
            f"maille de candidature : pour {etab.finess}, la phase 1 se candidate au FINESS"
            f" {etab.maille_phase1}" + (f" (support du GHT {etab.ght_code})" if etab.ght_code else ""),
            "finess",
        )


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
