"""Fiches computed from the demo facts: who is eligible, through which FINESS PMSI, who applies."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal

import pytest

from hopen_referentiel.etablissements import fiches as f
from hopen_referentiel.etablissements.fiches import Fiche, calculer_fiches, effectif_retenu
from hopen_referentiel.etablissements.rules import CodeRegle, NiveauFiness, RoleGht, TypeMaille
from hopen_referentiel.etablissements.service import tables_du_programme
from hopen_referentiel.seed_demo import faits_demo


def _parc() -> f.Parc:
    faits = faits_demo()
    membres = {m["finess_ej"]: (m["ght_code"], RoleGht(m["role"])) for m in faits.membres}
    entites = {e["finess"]: f.EntiteJuridique(e["finess"], e["raison_sociale"], e["statut_juridique"],
                                              e["departement"], e["ferme"]) for e in faits.entites}
    from hopen_referentiel.etablissements.rules import Etablissement

    etablissements = [
        Etablissement(finess_eg=e["finess"], finess_ej=e["finess_ej"], raison_sociale=e["raison_sociale"],
                      statut_juridique=entites[e["finess_ej"]].statut_juridique, categorie=e["categorie"],
                      agregat_categorie=e["agregat_categorie"], departement=e["departement"], region="",
                      ferme=e["ferme"])
        for e in faits.etablissements
    ]
    effectifs: dict[str, dict[int, int]] = defaultdict(dict)
    for e in faits.effectifs:
        effectifs[e["finess_eg"]][e["annee"]] = e["effectif"]
    domaines: dict[str, set[str]] = defaultdict(set)
    for d in faits.domaines:
        domaines[d["finess"]].add(d["domaine"])
    return f.Parc(entites, f.avec_ght(etablissements, membres),
                  {a["finess_pmsi"]: a["valeur"] for a in faits.activites}, effectifs,
                  {k: frozenset(v) for k, v in domaines.items()})


@pytest.fixture(scope="module")
def fiches() -> dict[str, Fiche]:
    return {fiche.finess: fiche for fiche in calculer_fiches(_parc(), tables_du_programme())}


def test_un_fiche_par_ej_et_par_eg(fiches: dict[str, Fiche]) -> None:
    faits = faits_demo()
    assert set(fiches) == {e["finess"] for e in faits.entites} | {e["finess"] for e in faits.etablissements}


def test_membre_de_ght_candidate_par_le_support(fiches: dict[str, Fiche]) -> None:
    chaumont = fiches["520780032"]  # EJ member of BFC-03, Grand Est
    assert chaumont.niveau is NiveauFiness.EJ
    assert chaumont.finess_pmsi == "520780032"
    assert chaumont.activite_combinee == Decimal("95310")
    assert (chaumont.type_maille_phase1, chaumont.maille_phase1) == (TypeMaille.GHT, "210780581")
    assert chaumont.region == "44"
    support = fiches["210780581"]
    assert (support.ght_role, support.maille_phase1) == (RoleGht.SUPPORT, "210780581")


def test_prive_candidate_par_eg_et_l_ej_n_a_pas_de_maille(fiches: dict[str, Fiche]) -> None:
    pauchet_ej = fiches["800003071"]
    assert pauchet_ej.maille_phase1 is None
    assert pauchet_ej.niveau_pmsi is NiveauFiness.EG
    assert pauchet_ej.eligible_phase1  # through one of its EG
    assert pauchet_ej.eligible_via in pauchet_ej.liens
    butler = fiches["800009920"]
    assert (butler.finess_pmsi, butler.maille_phase1) == ("800009920", "800009920")


def test_dialyse_a_la_maille_juridique(fiches: dict[str, Fiche]) -> None:
    avon = fiches["770809028"]  # second dialysis EG: AC and funding at the EJ
    assert (avon.finess_pmsi, avon.maille_phase1, avon.type_maille_phase1) == (
        "770016137", "770016137", TypeMaille.EJ)
    assert avon.activite_combinee == Decimal("9820")


def test_etablissement_ferme_et_categorie_hors_liste(fiches: dict[str, Fiche]) -> None:
    lamorlaye = fiches["600100309"]
    assert not lamorlaye.eligible_phase1
    assert {r.code for r in lamorlaye.eligibilite_phase1.non_satisfaites} == {CodeRegle.OUVERT}
    # Catégorie 698, AC 0; its EJ (Croix-Rouge) has other EG in the list, so criterion 3 holds.
    radiotherapie = fiches["830100582"]
    assert {r.code for r in radiotherapie.eligibilite_phase1.non_satisfaites} == {
        CodeRegle.ACTIVITE_2022, CodeRegle.CATEGORIE_EG}


def test_effectifs_de_l_ej_somme_de_ses_eg(fiches: dict[str, Fiche]) -> None:
    assert fiches["210780581"].effectifs == 8650 + 610
    assert fiches["210987558"].effectifs == 610


@pytest.mark.parametrize(("par_annee", "attendu"), [
    ({2024: 10, 2023: 20, 2022: 30}, 10), ({2023: 20, 2022: 30}, 20), ({2022: 30}, 30), ({}, 0),
    (None, 0), ({2024: 0, 2023: 20}, 0),  # 2024 filled in with 0 is a value, not a gap
])
def test_effectif_retenu_repli_par_annee(par_annee: dict[int, int] | None, attendu: int) -> None:
    assert effectif_retenu(par_annee) == attendu
