"""DREES SAE identification file: a third real source of establishments."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from hopen_common.finess import cle_finess_valide
from hopen_referentiel.etablissements.rules import Secteur
from hopen_referentiel.imports import (
    CodeAvertissement,
    CodeErreurFichier,
    CodeRejet,
    ErreurFichier,
    EtablissementSae,
    collecter,
    lire_sae_identification,
)

SAE_2023 = Path(__file__).parents[2] / "fixtures" / "sae" / "ID_2023r.csv"
ENTETE = "bor;an;fi;rs;rscom;fi_ej;grp;stj;stjr;cat;catr;espic;mft;ccr;nat;sir;reg;dep"
FLEYRIAT = "ID;2023;010000024;CH DE FLEYRIAT;;010780054;04;13;1;355;PUB2;1;0;;0;26010004500012;84;01"


def test_every_sae_2023_finess_passes_the_check_key() -> None:
    with SAE_2023.open(encoding="iso-8859-1", newline="") as fichier:
        lignes = list(csv.DictReader(fichier, delimiter=";"))
    assert len(lignes) == 3975
    numeros = {ligne["fi"] for ligne in lignes} | {ligne["fi_ej"] for ligne in lignes}
    assert len(numeros) > 6000  # 3 975 EG and 2 176 EJ, a few EJ answering for themselves
    assert [numero for numero in numeros if not cle_finess_valide(numero)] == []
    assert {numero[:2] for numero in numeros} >= {"2A", "2B", "97", "98"}


def test_sae_2023_reads_without_a_rejection() -> None:
    collecte = collecter(lire_sae_identification(SAE_2023))
    assert collecte.rejets == []
    assert collecte.avertissements == []
    etablissements = collecte.de_type(EtablissementSae)
    assert len(etablissements) == 3975
    assert {e.annee for e in etablissements} == {2023}
    assert len({e.region for e in etablissements}) == 18
    fleyriat = next(e for e in etablissements if e.finess == "010000024")
    assert (fleyriat.finess_ej, fleyriat.statut_juridique, fleyriat.secteur) == (
        "010780054",
        "13",
        Secteur.PUBLIC,
    )
    assert (fleyriat.categorie, fleyriat.agregat_categorie, fleyriat.region) == ("355", "1102", "84")
    sans_categorie = [e for e in etablissements if e.categorie is None]
    assert len(sans_categorie) == 6
    assert all(e.finess == e.finess_ej for e in sans_categorie)


def _lire(*lignes: str) -> list[object]:
    return list(lire_sae_identification(io.BytesIO("\n".join((ENTETE, *lignes)).encode("iso-8859-1"))))


@pytest.mark.parametrize(
    ("ligne", "code"),
    [
        (FLEYRIAT.replace("010000024", "010000025"), CodeRejet.FINESS_CLE),
        (FLEYRIAT.replace(";13;1;", ";99;1;"), CodeRejet.STATUT_JURIDIQUE_INCONNU),
        (FLEYRIAT.replace(";355;", ";999;"), CodeRejet.CATEGORIE_INCONNUE),  # 999 only where fi = fi_ej
        (FLEYRIAT.replace(";84;01", ";84;9E"), CodeRejet.TERRITOIRE_HORS_PERIMETRE),
        (FLEYRIAT.replace("ID;2023", "ID;23"), CodeRejet.ANNEE_INVALIDE),
        (FLEYRIAT.rsplit(";", 2)[0], CodeRejet.LIGNE_TRONQUEE),
    ],
)
def test_bad_rows_are_rejected_with_their_line(ligne: str, code: CodeRejet) -> None:
    bugey = FLEYRIAT.replace("010000024", "010000032").replace("010780054", "010780062")
    collecte = collecter(_lire(bugey, ligne))
    (rejet,) = collecte.rejets
    assert (rejet.code, rejet.position.ligne) == (code, 3)
    assert len(collecte.enregistrements) == 1


def test_duplicate_and_region_mismatch() -> None:
    elements = collecter(_lire(FLEYRIAT.replace(";84;01", ";11;01"), FLEYRIAT))
    assert [a.code for a in elements.avertissements] == [CodeAvertissement.REGION_DIFFERENTE]
    assert [(r.code, r.position.ligne) for r in elements.rejets] == [(CodeRejet.DOUBLON, 3)]
    assert elements.de_type(EtablissementSae)[0].region == "84"


def test_missing_columns_reject_the_file() -> None:
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_sae_identification(io.BytesIO(b"bor;an;fi\nID;2023;010000024\n")))
    assert erreur.value.code is CodeErreurFichier.COLONNES_INVALIDES
