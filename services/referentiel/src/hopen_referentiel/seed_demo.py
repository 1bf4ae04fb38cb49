"""`python -m hopen_referentiel.seed_demo`: load the demonstration establishments (data/demo/).

Idempotent: `make up` runs it at every start; an unchanged file writes the same facts again
and publishes nothing. Facts, fiches and their events commit in one transaction.
"""

from __future__ import annotations

import asyncio
import csv
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rich.console import Console

from hopen_common.auth import Principal, Role
from hopen_common.db import build_engine, build_sessionmaker, session_scope
from hopen_common.finess import departement_du_finess
from hopen_common.problemes import HABILITATION_EXISTANTE, ProblemError
from hopen_referentiel.etablissements import donnees, repository
from hopen_referentiel.etablissements.rules import (
    Etablissement,
    est_structure_dialyse,
    finess_pmsi,
    secteur,
)
from hopen_referentiel.etablissements.service import RapportPublication, recalculer_et_publier
from hopen_referentiel.habilitations import service as habilitations
from hopen_referentiel.habilitations.schemas import NouvelleHabilitation
from hopen_referentiel.models import (
    ActiviteCombinee,
    DomaineSunEs,
    EffectifSae,
    EntiteJuridique,
    EtablissementGeographique,
    Ght,
    MembreGht,
)
from hopen_referentiel.settings import ReferentielSettings

SOURCE = "demo"
CAMPAGNE_PHASE1 = 2022
ANNEE_EFFECTIFS_DEMO = 2024


@dataclass(frozen=True)
class FaitsDemo:
    entites: list[dict[str, Any]]
    etablissements: list[dict[str, Any]]
    ghts: list[dict[str, Any]]
    membres: list[dict[str, Any]]
    activites: list[dict[str, Any]]
    effectifs: list[dict[str, Any]]
    domaines: list[dict[str, Any]]


def _csv(chemin: Path) -> list[dict[str, str]]:
    with chemin.open(encoding="utf-8", newline="") as fichier:
        return list(csv.DictReader(fichier, delimiter=";"))


def faits_demo(repertoire: Path | None = None) -> FaitsDemo:
    """The demo files as fact rows. The AC and SUN-ES domains sit on the row of the FINESS
    PMSI they belong to (data/README.md): they are keyed on that FINESS here."""
    base = (repertoire or donnees.REPERTOIRE_DONNEES) / "demo"
    lignes = donnees.lire_etablissements(base / "etablissements.csv")
    noms = {ligne["finess_ej"]: ligne["raison_sociale"] for ligne in _csv(base / "entites_juridiques.csv")}
    secteurs = donnees.table_secteurs()
    par_ej: dict[str, list[Etablissement]] = {}
    for etab in lignes:
        par_ej.setdefault(etab.finess_ej, []).append(etab)

    entites, membres, activites, domaines = [], {}, [], []
    for finess_ej, egs in par_ej.items():
        entites.append({"finess": finess_ej, "raison_sociale": noms[finess_ej],
                        "statut_juridique": egs[0].statut_juridique,
                        "departement": departement_du_finess(finess_ej), "date_fermeture": None,
                        "ferme": False, "source": SOURCE})
        dialyse = est_structure_dialyse(egs, donnees.categories_dialyse())
        secteur_ej = secteur(egs[0].statut_juridique, secteurs)
        for etab in egs:
            if etab.ght_code and etab.ght_role:
                membres[finess_ej] = {"finess_ej": finess_ej, "ght_code": etab.ght_code,
                                      "role": etab.ght_role.value, "source": SOURCE}
            pmsi = finess_pmsi(etab, secteur_ej=secteur_ej, structure_dialyse=dialyse,
                               exceptions=donnees.exceptions_finess_pmsi()).finess
            if etab.activite_combinee_2022 is not None:
                activites.append({"finess_pmsi": pmsi, "campagne": CAMPAGNE_PHASE1,
                                  "valeur": etab.activite_combinee_2022, "origine": "importee",
                                  "composantes": None, "source": SOURCE})
            domaines += [{"finess": pmsi, "domaine": d, "source": SOURCE} for d in etab.domaines_sun_es]
    return FaitsDemo(
        entites=entites,
        etablissements=[{"finess": e.finess_eg, "finess_ej": e.finess_ej, "raison_sociale": e.raison_sociale,
                         "categorie": e.categorie, "agregat_categorie": e.agregat_categorie,
                         "departement": e.departement, "date_fermeture": None, "ferme": e.ferme,
                         "source": SOURCE} for e in lignes],
        ghts=[{"code": g["code"], "libelle": g["libelle"], "actif": True, "source": SOURCE}
              for g in _csv(base / "ght.csv")],
        membres=list(membres.values()),
        activites=activites,
        effectifs=[{"finess_eg": e.finess_eg, "annee": ANNEE_EFFECTIFS_DEMO, "effectif": e.effectifs_sae_2024,
                    "source": SOURCE} for e in lignes if e.effectifs_sae_2024 is not None],
        domaines=domaines,
    )


async def charger_demo(database_url: str) -> RapportPublication:
    faits = faits_demo()
    engine = build_engine(database_url)
    try:
        async with session_scope(build_sessionmaker(engine)) as session:
            await repository.upsert(session, EntiteJuridique, faits.entites, ["finess"])
            await repository.upsert(session, EtablissementGeographique, faits.etablissements, ["finess"])
            await repository.upsert(session, Ght, faits.ghts, ["code"])
            await repository.upsert(session, MembreGht, faits.membres, ["finess_ej"])
            await repository.upsert(session, ActiviteCombinee, faits.activites, ["finess_pmsi", "campagne"])
            await repository.upsert(session, EffectifSae, faits.effectifs, ["finess_eg", "annee"])
            await repository.upsert(session, DomaineSunEs, faits.domaines, ["finess", "domaine"])
            return await recalculer_et_publier(session, datetime.now(UTC))
    finally:
        await engine.dispose()


# The demo's persons at the dev stack's identity provider (`hopen oidc-token --subject alice`): what
# the README's walk-through does with development tokens, with real provider tokens (ADR 0022).
PERSONNES_DEMO: tuple[dict[str, object], ...] = (
    {"sujet": "dns-demo", "role": "dns", "nom": "Délégation au numérique en santé (démo)"},
    {"sujet": "corinne", "role": "ars", "region": "94", "profils": ["valideur"], "referent": True,
     "nom": "Corinne, référente HOP'EN 2 de l'ARS de Corse (démo)"},
    {"sujet": "alice", "role": "ars", "region": "94", "profils": ["instructeur"], "nom": "Alice (démo)"},
    {"sujet": "bruno", "role": "ars", "region": "94", "profils": ["valideur"], "nom": "Bruno (démo)"},
    {"sujet": "calvi-dsi", "role": "etablissement", "finess": ["2B0005342"],
     "nom": "DSI du CH de Calvi (démo)"},
)


async def habiliter_demo(database_url: str, emetteurs: frozenset[str]) -> int:
    """Grant the demo persons at each trusted provider, through the API's own use case (history,
    audit, event), as the development DNS; the ones already granted are left as they are."""
    gestionnaire = Principal(subject="seed-demo", role=Role.DNS)
    engine = build_engine(database_url)
    accordees = 0
    try:
        for emetteur in sorted(emetteurs):
            for personne in PERSONNES_DEMO:
                corps = NouvelleHabilitation.model_validate(
                    {"emetteur": emetteur, "motivation": "données de démonstration", **personne})
                try:
                    async with session_scope(build_sessionmaker(engine)) as session:
                        await habilitations.creer(session, corps, gestionnaire,
                                                  emetteurs_de_confiance=emetteurs)
                    accordees += 1
                except ProblemError as exc:
                    if exc.code != HABILITATION_EXISTANTE.code:
                        raise
    finally:
        await engine.dispose()
    return accordees


def main() -> None:
    settings = ReferentielSettings()
    rapport = asyncio.run(charger_demo(settings.database_url))
    Console(stderr=True).print(
        f"demo: {rapport.fiches} fiches, {rapport.creees} created, {rapport.modifiees} updated, "
        f"{rapport.inchangees} unchanged; {rapport.publiees} EtablissementPublie in the outbox"
    )
    emetteurs = frozenset(settings.emetteurs_de_confiance())
    if emetteurs:
        accordees = asyncio.run(habiliter_demo(settings.database_url, emetteurs))
        Console(stderr=True).print(
            f"demo: {accordees} habilitations granted at {', '.join(sorted(emetteurs))}")


if __name__ == "__main__":
    main()
