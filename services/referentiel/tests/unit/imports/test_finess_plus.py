"""FINESS+ JSON feed: the real sample imports cleanly; every rejection is per record."""

from __future__ import annotations

import copy
import gzip
import io
import json
from pathlib import Path
from typing import Any

import pytest

from hopen_referentiel.etablissements.rules import Secteur
from hopen_referentiel.imports import (
    Avertissement,
    CodeAvertissement,
    CodeErreurFichier,
    CodeRejet,
    EntiteJuridique,
    ErreurFichier,
    EtablissementGeographique,
    GroupementGht,
    Rejet,
    collecter,
    lire_finess_plus,
)

ECHANTILLON = Path(__file__).parents[2] / "fixtures" / "finess" / "finess-structures-echantillon_json.gz"

# Real numbers (FINESS+ sample / DREES SAE 2023), so every crafted record has valid check keys.
EJ_DIJON, EG_DIJON = "210780581", "210987558"
EJ_FLEYRIAT, EG_FLEYRIAT = "010780054", "010000024"
EJ_CROIX_ROUGE, EG_LAMORLAYE = "750721334", "600100309"


def adresse(cog: str | None, usage: str = "03") -> dict[str, Any]:
    return {"usageAdresse": usage, "cogCommune": cog, "codePostal": "00000"}


def ege(
    finess: str | None, categorie: str | None = "355", cog: str | None = "21231", **infos: Any
) -> dict[str, Any]:
    return {
        "informationsGeneralesEGE": {
            "egeId": "1",
            "numFinessEge": finess,
            "nomEgeCourt": f"EG {finess}",
            "nomEgeLong": f"ETABLISSEMENT {finess}",
            "dateOuverture": "1990-01-01",
            "dateFermeture": None,
            **infos,
        },
        "categorieentiteGeographiqueExercice": categorie,
        "adresse": [adresse(cog)] if cog is not None else [],
        "etatObjet": "A",
        "dateDerniereMaj": "2026-01-01 00:00:00",
    }


def pmej(
    finess: str | None,
    *etablissements: dict[str, Any],
    statut: str | None = "13",
    cog: str | None = "21231",
    id_pm: str = "0",
    **infos: Any,
) -> dict[str, Any]:
    return {
        "informationsGeneralesPMEJ": {
            "pmSmsseId": id_pm,
            "numFinessPm": finess,
            "statutJuridique": statut,
            "denominationPm": f"EJ {finess}",
            "denominationLonguePmSmsse": f"ENTITE {finess}",
            "dateCreation": "1990-01-01",
            "dateFermeture": None,
            "typePersonneMorale": "01",
            **infos,
        },
        "adresse": [adresse(cog, "02")] if cog is not None else [],
        "evenement": [],
        "ege": list(etablissements),
        "etatObjet": "A",
        "dateDerniereMaj": "2026-01-01 00:00:00",
    }


def gcc(identifiant: str, *roles: tuple[str, str], type_gcc: str = "001") -> dict[str, Any]:
    return {
        "gccId": identifiant,
        "nomGcc": f"GHT {identifiant}",
        "typeGcc": type_gcc,
        "numFinessGcc": "49800000000",
        "pmejDuGcc": [{"pmSmsseId": id_pm, "typeRoleEntiteGroupe": role} for id_pm, role in roles],
        "etatObjet": "A",
        "dateDerniereMaj": "2026-01-01 00:00:00",
    }


def flux(
    pmejs: list[dict[str, Any]], gccs: list[dict[str, Any]] | None = None, *, gz: bool = True
) -> io.BytesIO:
    document = {
        "schemaVersion": "v1.0.0",
        "generatedAt": "2026-08-13T00:00:00Z",
        "gco": [],
        "gcc": gccs or [],
    }
    document["pmej"] = pmejs
    texte = json.dumps(document).encode()
    return io.BytesIO(gzip.compress(texte) if gz else texte)


def rejets_de(source: io.BytesIO) -> list[Rejet]:
    return collecter(lire_finess_plus(source)).rejets


# --- the real sample -------------------------------------------------------------------------


@pytest.fixture(scope="module")
def echantillon() -> Any:
    return collecter(lire_finess_plus(ECHANTILLON))


def test_real_sample_imports_without_a_single_rejection(echantillon: Any) -> None:
    assert echantillon.rejets == []
    assert echantillon.avertissements == []
    assert len(echantillon.de_type(EntiteJuridique)) == 30
    assert len(echantillon.de_type(EtablissementGeographique)) == 1753
    ej = {e.finess for e in echantillon.de_type(EntiteJuridique)}
    assert all(eg.finess_ej in ej for eg in echantillon.de_type(EtablissementGeographique))


def test_real_sample_ght_has_its_support_and_eight_members(echantillon: Any) -> None:
    (ght,) = echantillon.de_type(GroupementGht)
    assert ght.nom == "21-52 Côte d'Or-Haute-Marne"
    assert ght.finess_support == EJ_DIJON
    assert set(ght.finess_membres) == {
        "210012142",
        "210780607",
        "210780631",
        "210780672",
        "210780706",
        "520780024",
        "520780032",
        "520780057",
    }
    assert ght.actif
    assert ght.type_groupement == "001"


def test_real_sample_derives_departement_region_and_secteur(echantillon: Any) -> None:
    entites = {e.finess: e for e in echantillon.de_type(EntiteJuridique)}
    dijon = entites[EJ_DIJON]
    assert (dijon.departement, dijon.region, dijon.statut_juridique) == ("21", "27", "13")
    assert dijon.secteur is Secteur.PUBLIC
    assert not dijon.ferme
    assert entites["010000016"].ferme  # closed EJ: produced, marked closed, not rejected
    assert entites["010000016"].secteur is None  # statut 21 is a FINESS statut outside the programme
    etablissements = {e.finess: e for e in echantillon.de_type(EtablissementGeographique)}
    lamorlaye = etablissements[EG_LAMORLAYE]
    assert lamorlaye.ferme
    assert str(lamorlaye.date_fermeture) == "2024-12-11"
    assert (lamorlaye.categorie, lamorlaye.agregat_categorie, lamorlaye.region) == ("109", "1107", "32")
    mayotte = [e for e in etablissements.values() if e.departement == "9F"]
    assert mayotte
    assert {e.region for e in mayotte} == {"06"}


def test_records_come_with_their_ej_first_and_ght_last() -> None:
    elements = list(lire_finess_plus(ECHANTILLON))
    vus: set[str] = set()
    for element in elements:
        if isinstance(element, EntiteJuridique):
            vus.add(element.finess)
        elif isinstance(element, EtablissementGeographique):
            assert element.finess_ej in vus
    assert isinstance(elements[-1], GroupementGht)


# --- crafted rejections ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finess", "code"),
    [
        ("210780580", CodeRejet.FINESS_CLE),
        ("21078058", CodeRejet.FINESS_FORMAT),
        ("2107805811", CodeRejet.FINESS_FORMAT),
        ("2C0000000", CodeRejet.FINESS_FORMAT),
        (None, CodeRejet.FINESS_ABSENT),
    ],
)
def test_bad_ej_finess_rejects_the_ej_and_its_eg_but_not_the_others(
    finess: str | None, code: CodeRejet
) -> None:
    collecte = collecter(
        lire_finess_plus(
            flux([pmej(finess, ege(EG_DIJON)), pmej(EJ_FLEYRIAT, ege(EG_FLEYRIAT, cog="01451"))])
        )
    )
    assert [(r.code, r.position.chemin) for r in collecte.rejets] == [
        (code, "pmej[0]"),
        (CodeRejet.EJ_ABSENTE, "pmej[0].ege[0]"),
    ]
    assert collecte.rejets[0].champ == "numFinessPm"
    assert collecte.rejets[0].finess == finess  # reported as written
    assert collecte.rejets[1].finess == EG_DIJON
    assert EG_DIJON in collecte.rejets[1].message
    assert [e.finess for e in collecte.enregistrements] == [EJ_FLEYRIAT, EG_FLEYRIAT]


def test_corsican_finess_key_is_computed_after_2a_21() -> None:
    collecte = collecter(lire_finess_plus(flux([pmej("2A0000154", cog="2A004")])))
    assert collecte.rejets == []
    (entite,) = collecte.enregistrements
    assert isinstance(entite, EntiteJuridique)
    assert (entite.departement, entite.region) == ("2A", "94")


@pytest.mark.parametrize(
    ("statut", "code"),
    [
        ("99", CodeRejet.STATUT_JURIDIQUE_INCONNU),
        (None, CodeRejet.STATUT_JURIDIQUE_ABSENT),
        ("", CodeRejet.STATUT_JURIDIQUE_ABSENT),
    ],
)
def test_statut_juridique_must_be_in_tre_r72(statut: str | None, code: CodeRejet) -> None:
    (rejet, _) = rejets_de(flux([pmej(EJ_DIJON, ege(EG_DIJON), statut=statut)]))
    assert (rejet.code, rejet.finess, rejet.champ) == (code, EJ_DIJON, "statutJuridique")
    assert EJ_DIJON in rejet.message
    assert "statutJuridique" in rejet.message


@pytest.mark.parametrize(
    ("categorie", "code"), [("998", CodeRejet.CATEGORIE_INCONNUE), (None, CodeRejet.CATEGORIE_ABSENTE)]
)
def test_categorie_must_be_in_tre_r66(categorie: str | None, code: CodeRejet) -> None:
    collecte = collecter(lire_finess_plus(flux([pmej(EJ_DIJON, ege(EG_DIJON, categorie), ege("210012472"))])))
    (rejet,) = collecte.rejets
    assert (rejet.code, rejet.finess, rejet.position.chemin) == (code, EG_DIJON, "pmej[0].ege[0]")
    assert [e.finess for e in collecte.enregistrements] == [EJ_DIJON, "210012472"]


def test_categories_beyond_the_2021_pdf_nomenclature_are_known() -> None:
    # 405 and 608 are carried by real EG of the sample; the 274-code file lacked them.
    collecte = collecter(
        lire_finess_plus(flux([pmej(EJ_DIJON, ege(EG_DIJON, "405"), ege("210012472", "608"))]))
    )
    assert collecte.rejets == []


@pytest.mark.parametrize(
    ("cog", "territoire"),
    [
        ("98735", "Polyn"),
        ("98818", "Nouvelle-Cal"),
        ("98611", "Wallis"),
        ("97502", "Saint-Pierre"),
    ],
)
def test_out_of_scope_territories_are_rejected_with_that_reason(cog: str, territoire: str) -> None:
    rejets = rejets_de(flux([pmej(EJ_DIJON, ege(EG_DIJON, cog=cog))]))
    (rejet,) = rejets
    assert rejet.code is CodeRejet.TERRITOIRE_HORS_PERIMETRE
    assert territoire in rejet.message
    assert EG_DIJON in rejet.message
    assert rejet.champ == "adresse.cogCommune"


def test_saint_martin_belongs_to_guadeloupe() -> None:
    collecte = collecter(lire_finess_plus(flux([pmej("970100491", cog="97801")])))
    (entite,) = collecte.enregistrements
    assert isinstance(entite, EntiteJuridique)
    assert (entite.departement, entite.region) == ("9A", "01")


@pytest.mark.parametrize(
    ("cog", "code"),
    [
        ("96001", CodeRejet.DEPARTEMENT_INCONNU),
        ("ABCDE", CodeRejet.COMMUNE_INVALIDE),
        ("2101", CodeRejet.COMMUNE_INVALIDE),
    ],
)
def test_unusable_commune_is_rejected(cog: str, code: CodeRejet) -> None:
    (rejet, _) = rejets_de(flux([pmej(EJ_DIJON, ege(EG_DIJON), cog=cog)]))
    assert (rejet.code, rejet.finess, rejet.valeur) == (code, EJ_DIJON, cog)


def test_missing_address_falls_back_on_the_finess_departement_with_a_warning() -> None:
    collecte = collecter(lire_finess_plus(flux([pmej(EJ_DIJON, ege(EG_DIJON, cog=None))])))
    assert collecte.rejets == []
    (avertissement,) = collecte.avertissements
    assert avertissement.code is CodeAvertissement.DEPARTEMENT_DEDUIT_DU_FINESS
    assert avertissement.finess == EG_DIJON
    etablissement = collecte.de_type(EtablissementGeographique)[0]
    assert (etablissement.departement, etablissement.region, etablissement.commune) == ("21", "27", None)


def test_missing_address_and_silent_finess_is_rejected() -> None:
    (rejet,) = rejets_de(flux([pmej("970900007", cog=None)]))
    assert rejet.code is CodeRejet.COMMUNE_ABSENTE


def test_eg_geographic_address_is_preferred_over_the_reception_one() -> None:
    etablissement = ege(EG_DIJON)
    etablissement["adresse"] = [adresse("01451", "06"), adresse("21231", "03")]
    collecte = collecter(lire_finess_plus(flux([pmej(EJ_DIJON, etablissement)])))
    assert collecte.de_type(EtablissementGeographique)[0].departement == "21"


def test_duplicate_finess_is_rejected_and_the_first_kept() -> None:
    collecte = collecter(
        lire_finess_plus(
            flux([pmej(EJ_DIJON, ege(EG_DIJON)), pmej(EJ_DIJON), pmej(EJ_FLEYRIAT, ege(EG_DIJON))])
        )
    )
    assert [(r.code, r.position.chemin, r.finess) for r in collecte.rejets] == [
        (CodeRejet.DOUBLON, "pmej[1]", EJ_DIJON),
        (CodeRejet.DOUBLON, "pmej[2].ege[0]", EG_DIJON),
    ]
    assert [e.finess for e in collecte.enregistrements] == [EJ_DIJON, EG_DIJON, EJ_FLEYRIAT]


def test_a_rejected_record_does_not_block_a_later_copy_of_its_number() -> None:
    # The first copy is rejected for its statut: the second one is the only good one, not a duplicate.
    collecte = collecter(lire_finess_plus(flux([pmej(EJ_DIJON, statut="99"), pmej(EJ_DIJON)])))
    assert [r.code for r in collecte.rejets] == [CodeRejet.STATUT_JURIDIQUE_INCONNU]
    assert [e.finess for e in collecte.enregistrements] == [EJ_DIJON]


@pytest.mark.parametrize(
    "objet",
    [
        {"adresse": []},
        {"informationsGeneralesPMEJ": "texte"},
        pmej(EJ_DIJON, denominationPm=None, denominationLonguePmSmsse=None),
        pmej(EJ_DIJON, numFinessPm=210780581),
    ],
)
def test_invalid_records_are_rejected(objet: dict[str, Any]) -> None:
    (rejet,) = rejets_de(flux([objet, pmej(EJ_FLEYRIAT, cog="01451")]))
    assert rejet.code is CodeRejet.ENREGISTREMENT_INVALIDE
    assert rejet.position.chemin == "pmej[0]"


def test_invalid_eg_record_is_rejected_alone() -> None:
    collecte = collecter(
        lire_finess_plus(
            flux([pmej(EJ_DIJON, {"categorieentiteGeographiqueExercice": "355"}, ege(EG_DIJON))])
        )
    )
    assert [(r.code, r.position.chemin) for r in collecte.rejets] == [
        (CodeRejet.ENREGISTREMENT_INVALIDE, "pmej[0].ege[0]")
    ]
    assert [e.finess for e in collecte.enregistrements] == [EJ_DIJON, EG_DIJON]


def test_invalid_date_is_rejected() -> None:
    (rejet,) = rejets_de(flux([pmej(EJ_DIJON, ege(EG_DIJON, dateFermeture="2024-13-45"))]))
    assert (rejet.code, rejet.champ, rejet.valeur) == (CodeRejet.DATE_INVALIDE, "dateFermeture", "2024-13-45")


def test_inactive_state_without_date_is_closed() -> None:
    entite = pmej(EJ_DIJON)
    entite["etatObjet"] = "I"
    (ej,) = collecter(lire_finess_plus(flux([entite]))).enregistrements
    assert isinstance(ej, EntiteJuridique)
    assert ej.ferme
    assert ej.date_fermeture is None


# --- GHT ----------------------------------------------------------------------------------------


def _ght_elements(*roles: tuple[str, str], type_gcc: str = "001") -> list[object]:
    pmejs = [
        pmej(EJ_DIJON, id_pm="1"),
        pmej(EJ_FLEYRIAT, cog="01451", id_pm="2"),
        pmej("210012142", id_pm="3"),
    ]
    return list(lire_finess_plus(flux(pmejs, [gcc("7", *roles, type_gcc=type_gcc)])))


def test_ght_members_are_resolved_from_pm_ids() -> None:
    (ght,) = [e for e in _ght_elements(("1", "S"), ("2", "M"), ("3", "M")) if isinstance(e, GroupementGht)]
    assert (ght.code, ght.finess_support, ght.finess_membres) == ("7", EJ_DIJON, (EJ_FLEYRIAT, "210012142"))


def test_ght_without_support_is_rejected() -> None:
    elements = _ght_elements(("2", "M"), ("3", "M"))
    assert not [e for e in elements if isinstance(e, GroupementGht)]
    (rejet,) = [e for e in elements if isinstance(e, Rejet)]
    assert rejet.code is CodeRejet.GHT_SANS_SUPPORT
    assert rejet.position.chemin == "gcc[0]"


def test_ght_whose_support_ej_is_rejected_has_no_support() -> None:
    pmejs = [pmej(EJ_DIJON, id_pm="1", statut="99"), pmej(EJ_FLEYRIAT, cog="01451", id_pm="2")]
    rejets = collecter(lire_finess_plus(flux(pmejs, [gcc("7", ("1", "S"), ("2", "M"))]))).rejets
    assert [r.code for r in rejets] == [CodeRejet.STATUT_JURIDIQUE_INCONNU, CodeRejet.GHT_SANS_SUPPORT]


def test_ght_with_two_supports_is_rejected() -> None:
    elements = _ght_elements(("1", "S"), ("2", "S"), ("3", "M"))
    assert [e.code for e in elements if isinstance(e, Rejet)] == [CodeRejet.GHT_PLUSIEURS_SUPPORTS]
    assert not [e for e in elements if isinstance(e, GroupementGht)]


def test_ght_member_missing_from_the_feed_is_a_warning() -> None:
    elements = _ght_elements(("1", "S"), ("2", "M"), ("99", "M"))
    (avertissement,) = [e for e in elements if isinstance(e, Avertissement)]
    assert avertissement.code is CodeAvertissement.GHT_MEMBRE_ABSENT
    assert avertissement.valeur == "99"
    (ght,) = [e for e in elements if isinstance(e, GroupementGht)]
    assert ght.finess_membres == (EJ_FLEYRIAT,)


def test_ght_link_with_unknown_role_is_rejected_and_the_ght_kept() -> None:
    elements = _ght_elements(("1", "S"), ("2", "X"), ("3", "M"))
    (rejet,) = [e for e in elements if isinstance(e, Rejet)]
    assert rejet.code is CodeRejet.ROLE_GHT_INCONNU
    assert rejet.position.chemin == "gcc[0].pmejDuGcc[1]"
    (ght,) = [e for e in elements if isinstance(e, GroupementGht)]
    assert ght.finess_membres == ("210012142",)


def test_grouping_of_an_unknown_type_is_skipped_with_a_warning() -> None:
    elements = _ght_elements(("1", "S"), type_gcc="003")
    assert [e.code for e in elements if isinstance(e, Avertissement)] == [CodeAvertissement.TYPE_GCC_INCONNU]
    assert not [e for e in elements if isinstance(e, GroupementGht)]


def test_psychiatric_ght_type_is_a_ght() -> None:
    elements = _ght_elements(("1", "S"), ("2", "M"), type_gcc="002")
    assert [e.type_groupement for e in elements if isinstance(e, GroupementGht)] == ["002"]


def test_groupings_after_the_legal_entities_are_still_resolved() -> None:
    document = {
        "schemaVersion": "v1.0.0",
        "pmej": [pmej(EJ_DIJON, id_pm="1"), pmej(EJ_FLEYRIAT, cog="01451", id_pm="2")],
        "gcc": [gcc("7", ("1", "S"), ("2", "M"))],
    }
    elements = list(lire_finess_plus(io.BytesIO(json.dumps(document).encode())))
    (ght,) = [e for e in elements if isinstance(e, GroupementGht)]
    assert (ght.finess_support, ght.finess_membres) == (EJ_DIJON, (EJ_FLEYRIAT,))


# --- whole-file errors ---------------------------------------------------------------------------


def test_uncompressed_json_is_accepted() -> None:
    assert len(collecter(lire_finess_plus(flux([pmej(EJ_DIJON)], gz=False))).enregistrements) == 1


def test_truncated_gzip_is_a_whole_file_error() -> None:
    contenu = gzip.compress(ECHANTILLON.read_bytes() and gzip.decompress(ECHANTILLON.read_bytes()))
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_finess_plus(io.BytesIO(contenu[: len(contenu) // 2])))
    assert erreur.value.code is CodeErreurFichier.FICHIER_TRONQUE


def test_truncated_json_is_a_whole_file_error_after_the_good_records() -> None:
    texte = json.dumps({"gcc": [], "pmej": [pmej(EJ_DIJON), pmej(EJ_FLEYRIAT, cog="01451")]})
    lus: list[object] = []
    with pytest.raises(ErreurFichier) as erreur:
        lus.extend(lire_finess_plus(io.BytesIO(texte[: texte.index(EJ_FLEYRIAT)].encode())))
    assert erreur.value.code is CodeErreurFichier.FICHIER_TRONQUE
    assert [e.finess for e in lus if isinstance(e, EntiteJuridique)] == [EJ_DIJON]


@pytest.mark.parametrize(
    "contenu",
    [b"", b"not json at all", b"[1, 2]", b'{"gcc": []}', b'{"schemaVersion": "v2.0.0", "pmej": []}'],
)
def test_unreadable_files_are_whole_file_errors(contenu: bytes) -> None:
    with pytest.raises(ErreurFichier) as erreur:
        list(lire_finess_plus(io.BytesIO(contenu)))
    assert erreur.value.code in (CodeErreurFichier.FORMAT_INVALIDE, CodeErreurFichier.FICHIER_TRONQUE)


def test_sample_records_are_not_mutated_by_reading_twice() -> None:
    premier = collecter(lire_finess_plus(ECHANTILLON)).enregistrements
    second = collecter(lire_finess_plus(ECHANTILLON)).enregistrements
    assert premier == copy.deepcopy(second)
