"""etalab CSV extraction: per-line rejections with line numbers, whole-file header errors."""

from __future__ import annotations

import io
from datetime import date

import pytest

from hopen_referentiel.imports import (
    Avertissement,
    CodeAvertissement,
    CodeErreurFichier,
    CodeRejet,
    EnteteEtalab,
    ErreurFichier,
    EtablissementGeographique,
    Rejet,
    collecter,
    lire_finess_etalab,
)
from hopen_referentiel.imports.finess_etalab import CHAMPS_STRUCTUREET

ENTETE = b"finess;etalab;95;2024-07-03\n"


def structureet(**valeurs: str) -> str:
    """A 32-field structureet line of the real CH de Fleyriat (DREES SAE 2023), overridable."""
    champs = dict.fromkeys(CHAMPS_STRUCTUREET, "")
    champs.update(
        structureet="structureet",
        nofinesset="010000024",
        nofinessej="010780054",
        rs="CH DE FLEYRIAT",
        rslongue="CENTRE HOSPITALIER DE BOURG-EN-BRESSE FLEYRIAT",
        commune="451",
        departement="01",
        libdepartement="AIN",
        categetab="355",
        libcategetab="Centre Hospitalier (C.H.)",
        categagretab="1102",
        libcategagretab="Centres Hospitaliers",
        siret="26010004500012",
        dateouv="1979-02-13",
        datemaj="2024-06-01",
    )
    champs.update(valeurs)
    return ";".join(champs.values())


def fichier(*lignes: str | bytes, entete: bytes = ENTETE) -> io.BytesIO:
    corps = b"".join(
        (ligne if isinstance(ligne, bytes) else ligne.encode("latin-1")) + b"\r\n" for ligne in lignes
    )
    return io.BytesIO(entete + corps)


def test_header_then_establishments_then_geolocation() -> None:
    collecte = collecter(
        lire_finess_etalab(
            fichier(
                structureet(),
                structureet(nofinesset="210987558", nofinessej="210780581", commune="231", departement="21"),
                "geolocalisation;010000024;882408.3;6543019.6;1,ATLASANTE,100,IGN,BD_ADRESSE,V2.2,LAMBERT_93;2024-06-01",
            )
        )
    )
    assert collecte.rejets == []
    assert collecte.avertissements == []
    entete, fleyriat, dijon = collecte.enregistrements
    assert entete == EnteteEtalab(numero="95", date_extraction=date(2024, 7, 3))
    assert isinstance(fleyriat, EtablissementGeographique)
    assert (fleyriat.finess, fleyriat.finess_ej, fleyriat.commune, fleyriat.departement, fleyriat.region) == (
        "010000024",
        "010780054",
        "01451",
        "01",
        "84",
    )
    assert (fleyriat.categorie, fleyriat.agregat_categorie, fleyriat.date_ouverture) == (
        "355",
        "1102",
        date(1979, 2, 13),
    )
    assert not fleyriat.ferme
    assert isinstance(dijon, EtablissementGeographique)
    assert (dijon.commune, dijon.region) == ("21231", "27")


def test_older_extraction_without_numuai_and_with_french_dates() -> None:
    ligne = structureet(dateouv="13/02/1979").rsplit(";", 1)[0]
    (_, etablissement) = collecter(lire_finess_etalab(fichier(ligne))).enregistrements
    assert isinstance(etablissement, EtablissementGeographique)
    assert etablissement.date_ouverture == date(1979, 2, 13)


def test_latin1_names_and_windows_apostrophe_are_decoded() -> None:
    ligne = structureet(rs="CRÈCHE").encode("latin-1").replace(b"CR\xc8CHE", b"CR\xc8CHE L\x92ARC")
    (_, etablissement) = collecter(lire_finess_etalab(fichier(ligne))).enregistrements
    assert isinstance(etablissement, EtablissementGeographique)
    assert etablissement.raison_sociale == "CRÈCHE L\u2019ARC"


def test_overseas_commune_code_is_rebuilt_from_the_insee_departement() -> None:
    ligne = structureet(nofinesset="970100491", nofinessej="970100491", commune="101", departement="9A")
    (_, etablissement) = collecter(lire_finess_etalab(fichier(ligne))).enregistrements
    assert isinstance(etablissement, EtablissementGeographique)
    assert (etablissement.commune, etablissement.region) == ("97101", "01")


@pytest.mark.parametrize(
    ("ligne", "code"),
    [
        (
            structureet().encode("latin-1").replace(b"FLEYRIAT;", "FLEYRIÂT;".encode()),
            CodeRejet.ENCODAGE_INVALIDE,
        ),
        (
            structureet().encode("latin-1").replace(b"FLEYRIAT;", b"FLEY\x81RIAT;"),
            CodeRejet.ENCODAGE_INVALIDE,
        ),
        (
            structureet().encode("latin-1").replace(b"FLEYRIAT;", b"FLEY\x00RIAT;"),
            CodeRejet.ENCODAGE_INVALIDE,
        ),
        (";".join(structureet().split(";")[:20]), CodeRejet.LIGNE_TRONQUEE),
        (structureet() + ";EN TROP", CodeRejet.CHAMPS_EN_TROP),
        ("structurepm;010000024;x", CodeRejet.TYPE_ENREGISTREMENT_INCONNU),
        ("geolocalisation;010000024;1;2", CodeRejet.LIGNE_TRONQUEE),
        (structureet(nofinesset="010000025"), CodeRejet.FINESS_CLE),
        (structureet(nofinessej="01078005"), CodeRejet.FINESS_FORMAT),
        (structureet(nofinesset=""), CodeRejet.FINESS_ABSENT),
        (structureet(categetab="998"), CodeRejet.CATEGORIE_INCONNUE),
        (structureet(categetab=""), CodeRejet.CATEGORIE_ABSENTE),
        (structureet(departement="9E"), CodeRejet.TERRITOIRE_HORS_PERIMETRE),
        (structureet(departement="9Z"), CodeRejet.DEPARTEMENT_INCONNU),
        (structureet(dateouv="1979-02-31"), CodeRejet.DATE_INVALIDE),
        (structureet(rs="", rslongue=""), CodeRejet.ENREGISTREMENT_INVALIDE),
    ],
)
def test_each_bad_line_is_rejected_with_its_line_number_and_the_others_kept(
    ligne: str | bytes, code: CodeRejet
) -> None:
    bonne = structureet(nofinesset="210987558", nofinessej="210780581", commune="231", departement="21")
    collecte = collecter(lire_finess_etalab(fichier(bonne, ligne, bonne.replace("210987558", "210986089"))))
    (rejet,) = collecte.rejets
    assert (rejet.code, rejet.position.ligne) == (code, 3)
    assert "ligne 3" in str(rejet.position)
    assert [e.finess for e in collecte.de_type(EtablissementGeographique)] == ["210987558", "210986089"]


def test_rejection_names_the_finess_and_the_field() -> None:
    (rejet,) = collecter(lire_finess_etalab(fichier(structureet(categetab="998")))).rejets
    assert rejet.finess == "010000024"
    assert rejet.champ == "categetab"
    assert "010000024" in rejet.message
    assert "998" in rejet.message


def test_utf8_line_is_explained() -> None:
    ligne = structureet(rs="CRÈCHE").encode("utf-8")
    (rejet,) = collecter(lire_finess_etalab(fichier(ligne))).rejets
    assert "UTF-8" in rejet.message


def test_duplicate_establishment_is_rejected() -> None:
    collecte = collecter(lire_finess_etalab(fichier(structureet(), structureet())))
    assert [(r.code, r.position.ligne) for r in collecte.rejets] == [(CodeRejet.DOUBLON, 3)]


def test_ej_unknown_to_the_referentiel_is_rejected_when_the_known_ej_are_given() -> None:
    autre = structureet(nofinesset="210987558", nofinessej="210780581", commune="231", departement="21")
    collecte = collecter(lire_finess_etalab(fichier(structureet(), autre), ej_connues={"210780581"}))
    assert [(r.code, r.finess) for r in collecte.rejets] == [(CodeRejet.EJ_ABSENTE, "010000024")]
    assert [e.finess for e in collecte.de_type(EtablissementGeographique)] == ["210987558"]


def test_agregat_differing_from_the_table_is_kept_with_a_warning() -> None:
    collecte = collecter(lire_finess_etalab(fichier(structureet(categagretab="1101"))))
    (avertissement,) = collecte.avertissements
    assert avertissement.code is CodeAvertissement.AGREGAT_DIFFERENT
    assert collecte.de_type(EtablissementGeographique)[0].agregat_categorie == "1101"


def test_missing_departement_is_deduced_from_the_finess() -> None:
    collecte = collecter(lire_finess_etalab(fichier(structureet(departement="", commune=""))))
    assert [a.code for a in collecte.avertissements] == [CodeAvertissement.DEPARTEMENT_DEDUIT_DU_FINESS]
    assert collecte.de_type(EtablissementGeographique)[0].region == "84"


def test_geolocation_of_an_unknown_establishment_is_a_warning() -> None:
    elements = list(lire_finess_etalab(fichier("geolocalisation;010000024;1;2;source;2024-06-01")))
    assert [e.code for e in elements if isinstance(e, Avertissement)] == [
        CodeAvertissement.GEOLOCALISATION_SANS_ETABLISSEMENT
    ]
    assert not [e for e in elements if isinstance(e, Rejet)]


def test_blank_lines_are_skipped() -> None:
    collecte = collecter(lire_finess_etalab(fichier(structureet(), "", "   ")))
    assert collecte.rejets == []
    assert len(collecte.de_type(EtablissementGeographique)) == 1


@pytest.mark.parametrize(
    ("contenu", "code"),
    [
        (b"", CodeErreurFichier.ENTETE_INVALIDE),
        (b"structureet;010000024\n", CodeErreurFichier.ENTETE_INVALIDE),
        (b"finess;etalab;95\n", CodeErreurFichier.ENTETE_INVALIDE),
        (b"finess;etalab;95;2024-02-31\n", CodeErreurFichier.ENTETE_INVALIDE),
        (b"\xef\xbb\xbffiness;etalab;95;2024-07-03\n", CodeErreurFichier.ENCODAGE_INVALIDE),
    ],
)
def test_bad_first_line_rejects_the_whole_file(contenu: bytes, code: CodeErreurFichier) -> None:
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_finess_etalab(io.BytesIO(contenu + structureet().encode())))
    assert erreur.value.code is code
    assert erreur.value.position.ligne == 1


def test_header_with_french_date_and_trailing_separator() -> None:
    (entete,) = collecter(lire_finess_etalab(io.BytesIO(b"finess;etalab;95;03/07/2024;\n"))).enregistrements
    assert entete == EnteteEtalab("95", date(2024, 7, 3))
