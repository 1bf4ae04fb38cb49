"""Reader of the DREES SAE identification file (bordereau ID, e.g. `ID_2023r.csv`).

A third real source of health establishments (about 4 000 EG with their EJ): ISO-8859-1,
`;`-separated, one header line. Columns used (meaning established from the data, see
services/referentiel/tests/fixtures/README.md): `an` year, `fi` FINESS geographique, `fi_ej`
FINESS juridique, `rs` raison sociale, `stj` statut juridique of the EJ (TRE_R72), `cat`
categorie (TRE_R66), `reg` INSEE region, `dep` departement in FINESS coding.

A `cat` of 999 on a row where `fi` = `fi_ej` is the SAE's mark of an EJ answering for itself:
the record is produced with no categorie. The region is recomputed from `dep` with the
referentiel's table; a different `reg` in the file is a warning, not a rejection (the table is
the referentiel's truth).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from hopen_referentiel.imports.controles import (
    EnsembleFiness,
    controler_categorie,
    controler_finess,
    controler_statut_juridique,
    region_de,
)
from hopen_referentiel.imports.enregistrements import EtablissementSae
from hopen_referentiel.imports.rejets import (
    Avertissement,
    CodeAvertissement,
    CodeErreurFichier,
    CodeRejet,
    ErreurFichier,
    Position,
    ProblemeChamp,
    Rejet,
)
from hopen_referentiel.imports.tables import TablesImport, tables_import

ElementSae = EtablissementSae | Rejet | Avertissement

COLONNES_SAE = ("an", "fi", "fi_ej", "rs", "stj", "cat", "reg", "dep")
# The SAE writes `cat` 999 on the rows an EJ answers for itself (`fi` = `fi_ej`, 6 rows in 2023,
# all associations, statut 60 or 61): not a FINESS categorie, and not an error.
_CATEGORIE_ENTITE_JURIDIQUE = "999"


def _annee(valeur: str, finess: str) -> int:
    if len(valeur) != 4 or not valeur.isdigit():
        raise ProblemeChamp(
            CodeRejet.ANNEE_INVALIDE,
            f"FINESS {finess} : annee {valeur!r} (an) invalide",
            champ="an",
            valeur=valeur,
        )
    return int(valeur)


def _ligne(
    ligne: dict[str, str | None], position: Position, tables: TablesImport, vus: EnsembleFiness
) -> Iterator[ElementSae]:
    if any(ligne.get(colonne) is None for colonne in COLONNES_SAE):
        manquantes = [colonne for colonne in COLONNES_SAE if ligne.get(colonne) is None]
        raise ProblemeChamp(
            CodeRejet.LIGNE_TRONQUEE,
            f"{position} : ligne tronquee, colonnes {', '.join(manquantes)} absentes",
            champ=manquantes[0],
            valeur=None,
        )
    valeurs = {colonne: (ligne[colonne] or "").strip() for colonne in COLONNES_SAE}
    finess = controler_finess(valeurs["fi"], "fi")
    finess_ej = controler_finess(valeurs["fi_ej"], "fi_ej")
    statut = controler_statut_juridique(valeurs["stj"], tables, "stj", finess)
    categorie: str | None = None
    if not (valeurs["cat"] == _CATEGORIE_ENTITE_JURIDIQUE and finess == finess_ej):
        categorie = controler_categorie(valeurs["cat"], tables, "cat", finess)
    region = region_de(valeurs["dep"], tables, "dep", finess)
    annee = _annee(valeurs["an"], finess)
    if not vus.ajouter(finess):
        raise ProblemeChamp(
            CodeRejet.DOUBLON,
            f"FINESS {finess} (fi) en double dans le fichier SAE",
            champ="fi",
            valeur=finess,
        )
    if valeurs["reg"] != region.code:
        yield Avertissement(
            CodeAvertissement.REGION_DIFFERENTE,
            f"FINESS {finess} : region {valeurs['reg']!r} (reg) differente de la region {region.code} du "
            f"departement {valeurs['dep']} ; la region du referentiel est gardee",
            position,
            finess=finess,
            champ="reg",
            valeur=valeurs["reg"],
        )
    yield EtablissementSae(
        annee=annee,
        finess=finess,
        finess_ej=finess_ej,
        raison_sociale=valeurs["rs"],
        statut_juridique=statut,
        secteur=tables.secteurs.get(statut),
        categorie=categorie,
        agregat_categorie=tables.agregats.get(categorie) if categorie else None,
        departement=valeurs["dep"],
        region=region.code,
    )


def lire_sae_identification(
    source: Path | IO[bytes], tables: TablesImport | None = None
) -> Iterator[ElementSae]:
    tables = tables or tables_import()
    vus = EnsembleFiness()
    flux = source.open("rb") if isinstance(source, Path) else source
    try:
        texte = io.TextIOWrapper(flux, encoding="iso-8859-1", newline="")
        lecteur = csv.DictReader(texte, delimiter=";")
        colonnes = lecteur.fieldnames or []
        absentes = [colonne for colonne in COLONNES_SAE if colonne not in colonnes]
        if absentes:
            raise ErreurFichier(
                CodeErreurFichier.COLONNES_INVALIDES,
                f"fichier SAE ID : colonnes {', '.join(absentes)} absentes de l'en-tete",
                Position(ligne=1),
            )
        for ligne in lecteur:
            position = Position(ligne=lecteur.line_num)
            try:
                yield from _ligne(ligne, position, tables, vus)
            except ProblemeChamp as probleme:
                fi = (ligne.get("fi") or "").strip() or None
                yield probleme.rejet(position, fi)
        texte.detach()
    finally:
        if isinstance(source, Path):
            flux.close()
