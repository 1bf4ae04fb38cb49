"""Eligible-base CSV/XLSX: the documented examples read cleanly; every bad value is a line rejection."""

from __future__ import annotations

import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl
import pytest

import hopen_referentiel.imports as imports
from hopen_referentiel.etablissements.rules import NiveauFiness
from hopen_referentiel.imports import (
    COLONNES,
    ActiviteCombinee,
    CodeAvertissement,
    CodeErreurFichier,
    CodeRejet,
    ComposantesActivite,
    DomaineSunEs,
    EffectifsSae,
    ErreurFichier,
    ExceptionFinessPmsi,
    GroupementGht,
    OrigineActivite,
    RattachementGhu,
    TypeDonnees,
    collecter,
    lire_base_eligible_csv,
    lire_base_eligible_xlsx,
)

README = Path(imports.__file__).with_name("README.md")
ENTETE_AC = ";".join(COLONNES[TypeDonnees.ACTIVITE_COMBINEE])


def csv_de(type_donnees: TypeDonnees, *lignes: str, entete: str | None = None) -> io.BytesIO:
    texte = "\n".join((entete or ";".join(COLONNES[type_donnees]), *lignes)) + "\n"
    return io.BytesIO(texte.encode("utf-8"))


def lire(type_donnees: TypeDonnees, *lignes: str) -> imports.Collecte:
    return collecter(lire_base_eligible_csv(csv_de(type_donnees, *lignes), type_donnees))


def exemples_du_readme() -> dict[TypeDonnees, str]:
    texte = README.read_text(encoding="utf-8")
    blocs = re.findall(r"### `(\w+)`.*?```csv\n(.*?)```", texte, flags=re.DOTALL)
    return {TypeDonnees(nom): bloc for nom, bloc in blocs}


def test_readme_documents_one_example_per_kind() -> None:
    assert set(exemples_du_readme()) == set(TypeDonnees)


@pytest.mark.parametrize("type_donnees", list(TypeDonnees))
def test_readme_examples_read_without_rejection(type_donnees: TypeDonnees) -> None:
    exemple = exemples_du_readme()[type_donnees]
    collecte = collecter(lire_base_eligible_csv(io.BytesIO(exemple.encode()), type_donnees))
    assert collecte.rejets == []
    assert collecte.enregistrements


# --- activite combinee ------------------------------------------------------------------------


def test_ac_is_computed_from_components_with_the_domain_weights() -> None:
    # 1000 MCO days + 200 sessions x 0.5 + 100 ambulatory x 1.5 + 50 other day hospital
    # + (100 SMR + 3 PSY + 20 HAD + 1 USLD) x 0.5 = 1000 + 100 + 150 + 50 + 62 = 1362
    (ac,) = lire(TypeDonnees.ACTIVITE_COMBINEE, "210780581;2022;;1000;200;100;50;100;3;20;1").enregistrements
    assert isinstance(ac, ActiviteCombinee)
    assert ac.activite_combinee == Decimal("1362.0")
    assert ac.origine is OrigineActivite.CALCULEE
    assert ac.activite_calculee == ac.activite_combinee
    assert ac.composantes == ComposantesActivite(
        *(Decimal(v) for v in ("1000", "200", "100", "50", "100", "3", "20", "1"))
    )


def test_imported_ac_wins_and_the_difference_is_reported() -> None:
    collecte = lire(TypeDonnees.ACTIVITE_COMBINEE, "210780581;2022;1400,25;1000;200;100;50;100;3;20;1")
    (ac,) = collecte.enregistrements
    assert isinstance(ac, ActiviteCombinee)
    assert (ac.activite_combinee, ac.origine, ac.activite_calculee) == (
        Decimal("1400.25"),
        OrigineActivite.IMPORTEE,
        Decimal("1362.0"),
    )
    (avertissement,) = collecte.avertissements
    assert avertissement.code is CodeAvertissement.ECART_ACTIVITE_COMBINEE
    assert "38.25" in avertissement.message


def test_imported_ac_equal_to_the_computed_one_is_silent() -> None:
    collecte = lire(TypeDonnees.ACTIVITE_COMBINEE, "210780581;2022;1362;1000;200;100;50;100;3;20;1")
    assert collecte.avertissements == []


def test_decimals_stay_exact() -> None:
    (ac,) = lire(TypeDonnees.ACTIVITE_COMBINEE, "210780581;2022;;0.1;0.2;0;0;0;0;0;0").enregistrements
    assert isinstance(ac, ActiviteCombinee)
    assert ac.activite_combinee == Decimal("0.2")  # 0.1 + 0.2 x 0.5, no binary rounding


@pytest.mark.parametrize(
    ("ligne", "code", "champ"),
    [
        ("210780581;2022;abc;;;;;;;;", CodeRejet.NOMBRE_INVALIDE, "activite_combinee"),
        ("210780581;2022;1 000;;;;;;;;", CodeRejet.NOMBRE_INVALIDE, "activite_combinee"),
        ("210780581;2022;1e3;;;;;;;;", CodeRejet.NOMBRE_INVALIDE, "activite_combinee"),
        ("210780581;2022;-5;;;;;;;;", CodeRejet.NOMBRE_NEGATIF, "activite_combinee"),
        ("210780581;2022;;1000;-1;0;0;0;0;0;0", CodeRejet.NOMBRE_NEGATIF, "seances_mco"),
        ("21078058;2022;5;;;;;;;;", CodeRejet.FINESS_FORMAT, "finess_pmsi"),
        ("210780582;2022;5;;;;;;;;", CodeRejet.FINESS_CLE, "finess_pmsi"),
        (";2022;5;;;;;;;;", CodeRejet.FINESS_ABSENT, "finess_pmsi"),
        ("210780581;22;5;;;;;;;;", CodeRejet.ANNEE_INVALIDE, "annee"),
        ("210780581;2022;;;;;;;;;", CodeRejet.VALEUR_ABSENTE, "activite_combinee"),
        ("210780581;2022;;1000;;;;;;;", CodeRejet.COMPOSANTES_INCOMPLETES, "seances_mco"),
        ("210780581;2022;5;;;", CodeRejet.LIGNE_TRONQUEE, None),
        ("210780581;2022;5;;;;;;;;;;", CodeRejet.CHAMPS_EN_TROP, None),
    ],
)
def test_bad_ac_lines_are_rejected_with_their_line_number(
    ligne: str, code: CodeRejet, champ: str | None
) -> None:
    collecte = lire(
        TypeDonnees.ACTIVITE_COMBINEE, "010780054;2022;88450.5;;;;;;;;", ligne, "520780032;2022;12;;;;;;;;"
    )
    (rejet,) = collecte.rejets
    assert (rejet.code, rejet.position.ligne) == (code, 3)
    if champ is not None:
        assert rejet.champ == champ
    assert [e.finess_pmsi for e in collecte.de_type(ActiviteCombinee)] == ["010780054", "520780032"]


def test_duplicate_key_is_rejected_but_another_year_is_not() -> None:
    collecte = lire(
        TypeDonnees.ACTIVITE_COMBINEE,
        "210780581;2022;5;;;;;;;;",
        "210780581;2024;6;;;;;;;;",
        "210780581;2022;7;;;;;;;;",
    )
    assert [(r.code, r.position.ligne) for r in collecte.rejets] == [(CodeRejet.DOUBLON, 4)]
    assert [e.annee for e in collecte.de_type(ActiviteCombinee)] == [2022, 2024]


# --- the other kinds --------------------------------------------------------------------------


def test_staff_counts() -> None:
    collecte = lire(
        TypeDonnees.EFFECTIFS_SAE,
        "210986089;2024;5210;5105;105",
        "210987558;2024;100;90;5",
        "010000024;2024;10.5;;",
        "520780032;2024;;;",
    )
    assert [(r.code, r.position.ligne) for r in collecte.rejets] == [
        (CodeRejet.TOTAL_INCOHERENT, 3),
        (CodeRejet.NOMBRE_INVALIDE, 4),
        (CodeRejet.VALEUR_ABSENTE, 5),
    ]
    assert collecte.enregistrements == [EffectifsSae("210986089", 2024, 5210, 5105, 105)]


def test_ght_membership_and_support() -> None:
    collecte = lire(
        TypeDonnees.GHT,
        "BFC-03;Cote d'Or;210780581;S",
        "BFC-03;Cote d'Or;210012142;m",
        "BFC-03;Autre nom;520780032;M",
        "BFC-03;Cote d'Or;210012142;M",
        "ARA-01;Allier;210780581;M",
        "ARA-01;Allier;010780054;X",
    )
    assert [(r.code, r.position.ligne) for r in collecte.rejets] == [
        (CodeRejet.DOUBLON, 5),
        (CodeRejet.EJ_PLUSIEURS_GHT, 6),
        (CodeRejet.ROLE_GHT_INCONNU, 7),
    ]
    assert [a.code for a in collecte.avertissements] == [CodeAvertissement.GHT_NOM_DIFFERENT]
    assert collecte.de_type(GroupementGht) == [
        GroupementGht("BFC-03", "Cote d'Or", "210780581", ("210012142", "520780032"))
    ]


@pytest.mark.parametrize(
    ("roles", "code"),
    [(("M", "M"), CodeRejet.GHT_SANS_SUPPORT), (("S", "S"), CodeRejet.GHT_PLUSIEURS_SUPPORTS)],
)
def test_ght_needs_exactly_one_support(roles: tuple[str, str], code: CodeRejet) -> None:
    collecte = lire(TypeDonnees.GHT, f"BFC-03;GHT;210780581;{roles[0]}", f"BFC-03;GHT;210012142;{roles[1]}")
    assert [(r.code, r.position.ligne, r.finess) for r in collecte.rejets] == [
        (code, 2, "210780581"),
        (code, 3, "210012142"),
    ]
    assert collecte.de_type(GroupementGht) == []


def test_ghu_exceptions_and_sun_es_domains() -> None:
    ghu = lire(
        TypeDonnees.GHU_APHP, "750100042;750100075;GHU Nord", "750100042;750100075;GHU Nord", "750100042;;GHU"
    )
    assert ghu.enregistrements == [RattachementGhu("750100042", "750100075", "GHU Nord")]
    assert [r.code for r in ghu.rejets] == [CodeRejet.DOUBLON, CodeRejet.FINESS_ABSENT]

    exceptions = lire(
        TypeDonnees.EXCEPTIONS_FINESS_PMSI, "750721334;eg;EBNL", "010780054;EX;?", "520780032;EJ;"
    )
    assert exceptions.enregistrements == [ExceptionFinessPmsi("750721334", NiveauFiness.EG, "EBNL")]
    assert [r.code for r in exceptions.rejets] == [CodeRejet.NIVEAU_PMSI_INCONNU, CodeRejet.VALEUR_ABSENTE]

    domaines = lire(TypeDonnees.DOMAINES_SUN_ES, "210780581;ds1.1", "210780581;DS9.9", "210780581;DS1.1")
    assert domaines.enregistrements == [DomaineSunEs("210780581", "DS1.1")]
    assert [(r.code, r.position.ligne, r.valeur) for r in domaines.rejets] == [
        (CodeRejet.DOMAINE_INCONNU, 3, "DS9.9"),
        (CodeRejet.DOUBLON, 4, "210780581"),
    ]


# --- whole-file errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "entete",
    [
        "finess_pmsi;annee;activite_combinee",
        ENTETE_AC + ";commentaire",
        ENTETE_AC.replace("annee", "finess_pmsi"),
    ],
)
def test_header_must_have_exactly_the_documented_columns(entete: str) -> None:
    source = csv_de(TypeDonnees.ACTIVITE_COMBINEE, "210780581;2022;5", entete=entete)
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_base_eligible_csv(source, TypeDonnees.ACTIVITE_COMBINEE))
    assert erreur.value.code is CodeErreurFichier.COLONNES_INVALIDES


def test_columns_in_any_order_and_a_bom_are_accepted() -> None:
    texte = "\ufefffiness_pmsi;domaine\n210780581;DS2.1\n"
    collecte = collecter(lire_base_eligible_csv(io.BytesIO(texte.encode()), TypeDonnees.DOMAINES_SUN_ES))
    assert collecte.enregistrements == [DomaineSunEs("210780581", "DS2.1")]
    inverse = csv_de(TypeDonnees.DOMAINES_SUN_ES, "DS2.1;210780581", entete="domaine;finess_pmsi")
    assert collecter(lire_base_eligible_csv(inverse, TypeDonnees.DOMAINES_SUN_ES)).rejets == []


def test_csv_that_is_not_utf8_is_a_whole_file_error() -> None:
    source = io.BytesIO("finess_ej;niveau_pmsi;motif\n750721334;EG;déclaration\n".encode("latin-1"))
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_base_eligible_csv(source, TypeDonnees.EXCEPTIONS_FINESS_PMSI))
    assert erreur.value.code is CodeErreurFichier.ENCODAGE_INVALIDE


# --- XLSX -------------------------------------------------------------------------------------


def test_xlsx_one_sheet_per_kind(tmp_path: Path) -> None:
    classeur = openpyxl.Workbook()
    ac = classeur.active
    assert ac is not None
    ac.title = "activite_combinee"
    ac.append(list(COLONNES[TypeDonnees.ACTIVITE_COMBINEE]))
    ac.append(["210780581", 2022, 1234.5, None, None, None, None, None, None, None, None])
    ac.append(
        [10780054, 2022, 12, None, None, None, None, None, None, None, None]
    )  # FINESS typed as a number
    ac.append([None] * 11)
    ac.append(["520780032", 2022.0, "-3", None, None, None, None, None, None, None, None])
    ac.append(["520780024", 2022, None, 1000, 0.1, 0, 0, 0, 0, 0, 0])
    ght = classeur.create_sheet("ght")
    ght.append(["role", "finess_ej", "code_ght", "nom_ght"])
    ght.append(["S", "210780581", "BFC-03", "Cote d'Or"])
    ght.append(["M", "210012142", "BFC-03", "Cote d'Or"])
    classeur.create_sheet("Notes").append(["free text"])
    chemin = tmp_path / "base.xlsx"
    classeur.save(chemin)

    collecte = collecter(lire_base_eligible_xlsx(chemin))

    assert [(r.code, r.position.feuille, r.position.ligne) for r in collecte.rejets] == [
        (CodeRejet.FINESS_FORMAT, "activite_combinee", 3),
        (CodeRejet.NOMBRE_NEGATIF, "activite_combinee", 5),
    ]
    assert "zero initial" in collecte.rejets[0].message
    assert [a.code for a in collecte.avertissements] == [CodeAvertissement.FEUILLE_IGNOREE]
    activites = collecte.de_type(ActiviteCombinee)
    assert [(a.finess_pmsi, a.activite_combinee) for a in activites] == [
        ("210780581", Decimal("1234.5")),
        ("520780024", Decimal("1000.05")),
    ]
    assert collecte.de_type(GroupementGht) == [
        GroupementGht("BFC-03", "Cote d'Or", "210780581", ("210012142",))
    ]


def test_unreadable_workbook_is_a_whole_file_error() -> None:
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_base_eligible_xlsx(io.BytesIO(b"not a zip")))
    assert erreur.value.code is CodeErreurFichier.FORMAT_INVALIDE


def test_xlsx_sheet_with_wrong_columns_is_a_whole_file_error(tmp_path: Path) -> None:
    classeur = openpyxl.Workbook()
    feuille = classeur.active
    assert feuille is not None
    feuille.title = "domaines_sun_es"
    feuille.append(["finess", "domaine"])
    chemin = tmp_path / "base.xlsx"
    classeur.save(chemin)
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_base_eligible_xlsx(chemin))
    assert erreur.value.code is CodeErreurFichier.COLONNES_INVALIDES
    assert erreur.value.position.feuille == "domaines_sun_es"
