"""Eligibility, FINESS PMSI and maille per dispositif (phase 1, HospiConnect, AAP) on crafted
cases of every kind, against domain.md 2.1, 2.2, 2.4, 3.3, 4.2 and 5. Pure: no database.

FINESS numbers are real ones (DREES SAE 2023) so that they pass the check key; what they are
given here (statut, catégorie, activity, GHT) is crafted for each case.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from hopen_common.contracts import EtablissementPublie
from hopen_common.events import Evenement, enveloppe
from hopen_referentiel.etablissements import fiches as f
from hopen_referentiel.etablissements.fiches import Fiche, calculer_fiches
from hopen_referentiel.etablissements.rules import (
    CodeRegle,
    Dispositif,
    Etablissement,
    NiveauFiness,
    RoleGht,
    Secteur,
    TypeMaille,
)
from hopen_referentiel.etablissements.schemas import FicheLue
from hopen_referentiel.etablissements.service import detail, payload, tables_du_programme

# public, GHT support and member; public outside a GHT
SUPPORT, SUPPORT_EG = "210780581", "210986089"
MEMBRE, MEMBRE_EG = "520780032", "520000316"
HORS_GHT, HORS_GHT_EG = "2B0005342", "2B0005359"
# privé lucratif with two EG; EBNL with two EG in two regions
LUCRATIF, LUCRATIF_EG1, LUCRATIF_EG2 = "800003071", "800000044", "800000036"
EBNL, EBNL_EG1, EBNL_EG2 = "750721334", "600100309", "830100582"
# dialysis structure (only dialysis EG)
DIALYSE, DIALYSE_EG1, DIALYSE_EG2 = "770016137", "770021731", "770809812"
# AP-HP: EJ, two EG in one GHU whose FINESS is the first EG
APHP, APHP_EG1, APHP_EG2 = "750712184", "750100075", "750100042"
# closed EG; zero activity; statut outside the programme (EHPAD association)
FERME, FERME_EG = "210780631", "210000311"
ZERO, ZERO_EG = "2A0002606", "2A0000014"
SOCIAL, SOCIAL_EG = "010000016", "010000024"


def _eg(finess: str, ej: str, statut: str, categorie: str, agregat: str | None, dep: str,
        ferme: bool = False) -> Etablissement:
    return Etablissement(finess_eg=finess, finess_ej=ej, raison_sociale=f"EG {finess}",
                         statut_juridique=statut, categorie=categorie, agregat_categorie=agregat,
                         departement=dep, region="", ferme=ferme)


ENTITES = {
    SUPPORT: f.EntiteJuridique(SUPPORT, "CHU", "13", "21"),
    MEMBRE: f.EntiteJuridique(MEMBRE, "CH membre", "14", "52"),
    HORS_GHT: f.EntiteJuridique(HORS_GHT, "CH hors GHT", "14", "2B"),
    LUCRATIF: f.EntiteJuridique(LUCRATIF, "Clinique", "73", "80"),
    EBNL: f.EntiteJuridique(EBNL, "Association", "60", "75"),
    DIALYSE: f.EntiteJuridique(DIALYSE, "Dialyse", "73", "77"),
    APHP: f.EntiteJuridique(APHP, "AP-HP", "13", "75"),
    FERME: f.EntiteJuridique(FERME, "CH ferme", "14", "21"),
    ZERO: f.EntiteJuridique(ZERO, "CH sans activite", "14", "2A"),
    SOCIAL: f.EntiteJuridique(SOCIAL, "EHPAD", "21", "01"),
}
ETABLISSEMENTS = [
    _eg(SUPPORT_EG, SUPPORT, "13", "101", "1101", "21"),
    _eg(MEMBRE_EG, MEMBRE, "14", "355", "1102", "52"),
    _eg(HORS_GHT_EG, HORS_GHT, "14", "355", "1102", "2B"),
    _eg(LUCRATIF_EG1, LUCRATIF, "73", "365", "1205", "80"),
    _eg(LUCRATIF_EG2, LUCRATIF, "73", "109", "1203", "80"),
    _eg(EBNL_EG1, EBNL, "60", "109", "1203", "60"),
    _eg(EBNL_EG2, EBNL, "60", "698", "1205", "83"),
    _eg(DIALYSE_EG1, DIALYSE, "73", "141", "1205", "77"),
    _eg(DIALYSE_EG2, DIALYSE, "73", "146", "1205", "77"),
    _eg(APHP_EG1, APHP, "13", "101", "1101", "75"),
    _eg(APHP_EG2, APHP, "13", "101", "1101", "75"),
    _eg(FERME_EG, FERME, "14", "355", "1102", "21", ferme=True),
    _eg(ZERO_EG, ZERO, "14", "355", "1102", "2A"),
    _eg(SOCIAL_EG, SOCIAL, "21", "500", None, "01"),
]
AC_2022 = {
    SUPPORT: Decimal("612480"), MEMBRE: Decimal("61250"), HORS_GHT: Decimal("18530"),
    LUCRATIF_EG1: Decimal("20000"), LUCRATIF_EG2: Decimal("15000"), EBNL_EG1: Decimal("9000"),
    EBNL_EG2: Decimal("300"), DIALYSE: Decimal("4000"), APHP: Decimal("3500000"),
    APHP_EG1: Decimal("900000"), FERME: Decimal("5000"), ZERO: Decimal("0"),
}
AC_2024 = {
    SUPPORT: Decimal("620000"), MEMBRE: Decimal("60000"), HORS_GHT: Decimal("18000"),
    LUCRATIF_EG1: Decimal("21000"), LUCRATIF_EG2: Decimal("14000"), EBNL_EG1: Decimal("9500"),
    DIALYSE: Decimal("4100"), APHP_EG1: Decimal("950000"), ZERO: Decimal("0"),
}
EFFECTIFS = {
    SUPPORT_EG: {2024: 8650}, MEMBRE_EG: {2023: 700}, HORS_GHT_EG: {2022: 420},
    LUCRATIF_EG1: {2024: 300}, LUCRATIF_EG2: {2024: 100}, EBNL_EG1: {2024: 150},
    APHP_EG1: {2024: 5000}, APHP_EG2: {2024: 3000}, ZERO_EG: {2024: 90},
}
MEMBRES = {SUPPORT: ("BFC-03", RoleGht.SUPPORT), MEMBRE: ("BFC-03", RoleGht.MEMBRE)}


def _parc(**changes: object) -> f.Parc:
    valeurs: dict[str, object] = {
        "entites": ENTITES, "etablissements": f.avec_ght(ETABLISSEMENTS, MEMBRES), "activites_2022": AC_2022,
        "effectifs": EFFECTIFS, "domaines_sun_es": {SUPPORT: frozenset({"DS1.1"})}, "activites_2024": AC_2024,
        "ghu": {APHP_EG1: APHP_EG1, APHP_EG2: APHP_EG1}, "membres_ght": MEMBRES,
    }
    valeurs.update(changes)
    return f.Parc(**valeurs)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def fiches() -> dict[str, Fiche]:
    return {fiche.finess: fiche for fiche in calculer_fiches(_parc(), tables_du_programme())}


def _vue(fiches: dict[str, Fiche], finess: str, dispositif: Dispositif) -> f.VueDispositif:
    return fiches[finess].dispositifs[dispositif]


def _maille(fiches: dict[str, Fiche], finess: str, dispositif: Dispositif) -> tuple[str, str] | None:
    m = _vue(fiches, finess, dispositif).maille
    return (m.type.value, m.finess) if m else None


P1, HC, AAP = Dispositif.PHASE1, Dispositif.HOSPICONNECT, Dispositif.AAP


@pytest.mark.parametrize(
    ("finess", "pmsi_p1", "maille_p1", "pmsi_p2", "maille_hc", "maille_aap"),
    [
        # public in a GHT: PMSI = EJ; phase 1 and HospiConnect through the support; AAP by itself
        (MEMBRE_EG, MEMBRE, ("GHT", SUPPORT), MEMBRE, ("GHT", SUPPORT), ("EJ", MEMBRE)),
        (SUPPORT_EG, SUPPORT, ("GHT", SUPPORT), SUPPORT, ("GHT", SUPPORT), ("EJ", SUPPORT)),
        # public outside a GHT: the EJ everywhere
        (HORS_GHT_EG, HORS_GHT, ("EJ", HORS_GHT), HORS_GHT, ("EJ", HORS_GHT), ("EJ", HORS_GHT)),
        # private lucratif / EBNL: PMSI = EG; phase 1 by EG, HospiConnect by the EJ for all its EG
        (LUCRATIF_EG2, LUCRATIF_EG2, ("EG", LUCRATIF_EG2), LUCRATIF_EG2, ("EJ", LUCRATIF),
         ("EG", LUCRATIF_EG2)),
        (EBNL_EG1, EBNL_EG1, ("EG", EBNL_EG1), EBNL_EG1, ("EJ", EBNL), ("EG", EBNL_EG1)),
        # dialysis structure: financed and applying at the EJ
        (DIALYSE_EG2, DIALYSE, ("EJ", DIALYSE), DIALYSE, ("EJ", DIALYSE), ("EJ", DIALYSE)),
        # AP-HP: phase 1 as a public EJ (not in a GHT); phase 2 by GHU
        (APHP_EG2, APHP, ("EJ", APHP), APHP_EG1, ("GHU", APHP_EG1), ("GHU", APHP_EG1)),
    ],
)
def test_finess_pmsi_et_maille(fiches: dict[str, Fiche], finess: str, pmsi_p1: str,
                               maille_p1: tuple[str, str], pmsi_p2: str, maille_hc: tuple[str, str],
                               maille_aap: tuple[str, str]) -> None:
    assert _vue(fiches, finess, P1).finess_pmsi == pmsi_p1
    assert _maille(fiches, finess, P1) == maille_p1
    assert _vue(fiches, finess, HC).finess_pmsi == pmsi_p2
    assert _vue(fiches, finess, AAP).finess_pmsi == pmsi_p2
    assert _maille(fiches, finess, HC) == maille_hc
    assert _maille(fiches, finess, AAP) == maille_aap


def test_ej_privee_candidate_par_ses_eg_en_phase1_en_propre_a_hospiconnect(fiches: dict[str, Fiche]) -> None:
    ej = fiches[LUCRATIF]
    assert ej.dispositifs[P1].maille is None
    assert ej.dispositifs[P1].finess_pmsi is None
    assert _maille(fiches, LUCRATIF, HC) == ("EJ", LUCRATIF)
    assert ej.dispositifs[AAP].maille is None  # each EG takes part by its own FINESS PMSI
    assert ej.effectifs == 400  # the sum over its EG (domain 2.4)


def test_aphp_chaque_ghu_candidate_et_porte_ses_effectifs(fiches: dict[str, Fiche]) -> None:
    assert fiches[APHP_EG1].effectifs == 8000  # the GHU's FINESS shows the GHU's staff
    assert fiches[APHP_EG2].effectifs == 3000
    assert fiches[APHP_EG2].ghu == APHP_EG1
    assert _vue(fiches, APHP_EG2, HC).activite_combinee == Decimal("950000")  # AC 2024 of the GHU
    ej = fiches[APHP]
    assert ej.dispositifs[HC].maille is None
    assert ej.dispositifs[AAP].maille is None
    assert _maille(fiches, APHP, P1) == ("EJ", APHP)


def _echecs(fiches: dict[str, Fiche], finess: str, dispositif: Dispositif) -> set[str]:
    return {r.code.value for r in _vue(fiches, finess, dispositif).verdict.non_satisfaites}


@pytest.mark.parametrize(
    ("finess", "echecs_p1", "echecs_hc", "echecs_aap"),
    [
        (SUPPORT_EG, set(), set(), set()),
        (MEMBRE_EG, set(), set(), set()),
        (LUCRATIF_EG1, set(), set(), set()),
        (EBNL_EG2, {"P1.E4"}, {"HC.E2", "HC.E4"}, {"AAP.E4"}),  # catégorie 698 not listed, no AC 2024
        (DIALYSE_EG1, set(), set(), set()),
        (APHP_EG2, set(), set(), set()),  # AC of the EJ (phase 1), of the GHU (phase 2)
        # closed: its own agregat still counts for criterion 3 ("this one included", rules.py)
        (FERME_EG, {"P1.E1"}, {"HC.E1", "HC.E2"}, {"AAP.E1"}),
        # zero activity: out of phase 1 and the AAP; HospiConnect neither (not in the 2022 base)
        (ZERO_EG, {"P1.E2"}, {"HC.E2"}, {"AAP.E2"}),
        (SOCIAL_EG, {"P1.E0", "P1.E2", "P1.E3", "P1.E4"}, {"HC.E0", "HC.E2", "HC.E3", "HC.E4"},
         {"AAP.E0", "AAP.E2", "AAP.E3", "AAP.E4"}),
    ],
)
def test_eligibilite_par_dispositif(fiches: dict[str, Fiche], finess: str, echecs_p1: set[str],
                                    echecs_hc: set[str], echecs_aap: set[str]) -> None:
    assert _echecs(fiches, finess, P1) == echecs_p1
    assert _echecs(fiches, finess, HC) == echecs_hc
    assert _echecs(fiches, finess, AAP) == echecs_aap
    for d in Dispositif:
        vue = _vue(fiches, finess, d)
        assert vue.eligible is (not vue.verdict.non_satisfaites)
        # every rule is reported, passed or failed: secteur, opening, activity, agregat, catégorie
        assert len(vue.verdict.satisfaites) + len(vue.verdict.non_satisfaites) == 5


def test_hospiconnect_admet_l_activite_nulle_de_la_base_2022_avec_effectifs() -> None:
    # ZERO had activity in 2022 (so it is in the 2022 eligible base) but none in 2024.
    parc = _parc(activites_2022={**AC_2022, ZERO: Decimal("1200")})
    fiches = {x.finess: x for x in calculer_fiches(parc, tables_du_programme())}
    assert fiches[ZERO_EG].dispositifs[P1].eligible
    hc = fiches[ZERO_EG].dispositifs[HC]
    assert hc.eligible
    regle = next(r for r in hc.verdict.satisfaites if r.code is CodeRegle.HC_ACTIVITE)
    assert "base eligible 2022" in regle.detail
    assert "90 agents" in regle.detail
    # ... and not without SAE staff.
    sans = _parc(activites_2022={**AC_2022, ZERO: Decimal("1200")}, effectifs={**EFFECTIFS, ZERO_EG: {}})
    fiches = {x.finess: x for x in calculer_fiches(sans, tables_du_programme())}
    assert not fiches[ZERO_EG].dispositifs[HC].eligible


def test_exception_importee_gagne_sur_la_regle() -> None:
    parc = _parc(exceptions_pmsi={EBNL: NiveauFiness.EJ}, activites_2022={**AC_2022, EBNL: Decimal("9300")})
    fiches = {x.finess: x for x in calculer_fiches(parc, tables_du_programme())}
    assert fiches[EBNL_EG1].dispositifs[P1].finess_pmsi == EBNL
    assert fiches[EBNL_EG1].dispositifs[P1].activite_combinee == Decimal("9300")
    assert fiches[EBNL].dispositifs[P1].finess_pmsi == EBNL


def test_ej_fermee_n_est_eligible_a_rien(fiches: dict[str, Fiche]) -> None:
    for d in Dispositif:
        vue = fiches[FERME].dispositifs[d]
        assert not vue.eligible
        assert any(r.code.value.endswith("E1") for r in vue.verdict.non_satisfaites)


def test_perimetre(fiches: dict[str, Fiche]) -> None:
    assert fiches[SUPPORT].dans_le_perimetre
    assert fiches[EBNL_EG2].dans_le_perimetre
    assert not fiches[SOCIAL].dans_le_perimetre
    assert not fiches[SOCIAL_EG].dans_le_perimetre
    assert fiches[SOCIAL_EG].dispositifs[P1].finess_pmsi is None
    seules = {x.finess for x in calculer_fiches(_parc(), tables_du_programme(), hors_perimetre=False)}
    assert SOCIAL not in seules
    assert SOCIAL_EG not in seules
    assert SUPPORT_EG in seules


def test_detail_charge_et_evenement_suivent_leurs_contrats(fiches: dict[str, Fiche]) -> None:
    for fiche in fiches.values():
        lue = FicheLue.model_validate(detail(fiche))
        assert set(lue.dispositifs) == {"phase1", "hospiconnect", "aap"}
        assert all(r.libelle for d in lue.dispositifs.values() for r in d.regles_satisfaites)
        if not fiche.dans_le_perimetre:
            continue
        donnees = payload(fiche)
        publie = EtablissementPublie.model_validate(donnees)
        assert set(donnees) == set(EtablissementPublie.model_fields)
        assert publie.eligible_hospiconnect == fiche.dispositifs[HC].eligible
        evenement = Evenement.model_validate(enveloppe(
            EtablissementPublie, donnees, source="/hopen/referentiel",
            subject=f"etablissement/{fiche.finess}", time=datetime(2026, 11, 26, 10, tzinfo=UTC)))
        assert evenement.dataschema == "EtablissementPublie/v1"
        assert evenement.subject == f"etablissement/{fiche.finess}"
    membre = EtablissementPublie.model_validate(payload(fiches[MEMBRE_EG]))
    assert membre.maille_phase1 == SUPPORT
    assert membre.maille_hospiconnect == SUPPORT
    assert membre.maille_aap == MEMBRE
    assert membre.finess_pmsi_phase2 == MEMBRE
    assert membre.activite_combinee == Decimal("61250")
    assert membre.activite_combinee_2024 == Decimal("60000")
    assert TypeMaille.GHU.value == "GHU"


# --- maille and FINESS PMSI: one rule (ADR 0008) ------------------------------------------------

# ATIH declarations at the EJ for the clinic and the EBNL, per EG for the dialysis structure.
EXCEPTIONS = {LUCRATIF: NiveauFiness.EJ, EBNL: NiveauFiness.EJ, DIALYSE: NiveauFiness.EG}
AC_EJ = {LUCRATIF: Decimal("35000"), EBNL: Decimal("9300"), DIALYSE_EG1: Decimal("2500"),
         DIALYSE_EG2: Decimal("1500")}


@pytest.fixture(scope="module")
def fiches_exceptions() -> dict[str, Fiche]:
    parc = _parc(exceptions_pmsi=EXCEPTIONS, activites_2022={**AC_2022, **AC_EJ})
    return {fiche.finess: fiche for fiche in calculer_fiches(parc, tables_du_programme())}


@pytest.mark.parametrize(
    ("finess", "pmsi", "maille", "ac"),
    [
        # the clinic's EG both name the EJ (before: each its own EG, each with the EJ's AC)
        (LUCRATIF_EG1, LUCRATIF, ("EJ", LUCRATIF), Decimal("35000")),
        (LUCRATIF_EG2, LUCRATIF, ("EJ", LUCRATIF), Decimal("35000")),
        (LUCRATIF, LUCRATIF, ("EJ", LUCRATIF), Decimal("35000")),  # the EJ fiche: the EJ applies
        (EBNL_EG1, EBNL, ("EJ", EBNL), Decimal("9300")),
        (EBNL_EG2, EBNL, ("EJ", EBNL), Decimal("9300")),
        (EBNL, EBNL, ("EJ", EBNL), Decimal("9300")),
        # dialysis declared per EG: each EG applies with its own AC, the EJ is no applicant
        (DIALYSE_EG1, DIALYSE_EG1, ("EG", DIALYSE_EG1), Decimal("2500")),
        (DIALYSE, None, None, None),
    ],
)
def test_exception_atih_la_maille_suit_le_finess_pmsi(
    fiches_exceptions: dict[str, Fiche], finess: str, pmsi: str | None, maille: tuple[str, str] | None,
    ac: Decimal | None,
) -> None:
    vue = _vue(fiches_exceptions, finess, P1)
    assert (vue.finess_pmsi, vue.activite_combinee) == (pmsi, ac)
    assert _maille(fiches_exceptions, finess, P1) == maille
    assert _maille(fiches_exceptions, finess, AAP) == maille  # the AAP reads the same FINESS PMSI


@pytest.mark.parametrize("exceptions", [{}, EXCEPTIONS], ids=["regle", "exceptions"])
def test_maille_phase1_et_finess_pmsi_d_accord_sur_toutes_les_fiches(
    exceptions: dict[str, NiveauFiness],
) -> None:
    parc = _parc(exceptions_pmsi=exceptions, activites_2022={**AC_2022, **AC_EJ})
    fiches = {x.finess: x for x in calculer_fiches(parc, tables_du_programme())}
    for fiche in fiches.values():
        if fiche.secteur is None:
            continue
        vue = fiche.dispositifs[P1]
        if fiche.niveau is NiveauFiness.EG:
            assert vue.maille is not None, fiche.finess  # every EG knows who applies for it
        if vue.maille is None:
            # only an EJ whose EG each have their own FINESS PMSI: they apply, not the EJ
            assert (fiche.niveau, vue.niveau_pmsi) == (NiveauFiness.EJ, NiveauFiness.EG), fiche.finess
        elif vue.maille.type is TypeMaille.GHT:
            assert fiche.secteur is Secteur.PUBLIC, fiche.finess
            assert fiche.ght_support == vue.maille.finess, fiche.finess
        else:
            maille = (vue.maille.type.value, vue.maille.finess)
            assert maille == (vue.niveau_pmsi, vue.finess_pmsi), fiche.finess
        if fiche.niveau is NiveauFiness.EJ and vue.maille is not None:
            # the EJ fiche and its EG fiches name the same applicant
            assert {fiches[eg].dispositifs[P1].maille for eg in fiche.liens} <= {vue.maille}, fiche.finess


def test_eg_d_une_ej_declaree_a_l_ej_publie_l_ej_comme_maille(fiches_exceptions: dict[str, Fiche]) -> None:
    # The values the candidature service's local copy receives; its API test
    # (services/candidature/tests/api/test_maille_pmsi_api.py) seeds exactly these.
    for finess in (LUCRATIF_EG1, LUCRATIF_EG2):
        eg = EtablissementPublie.model_validate(payload(fiches_exceptions[finess]))
        assert (eg.niveau, eg.finess_ej, eg.secteur) == ("EG", LUCRATIF, "prive_lucratif")
        assert (eg.eligible_phase1, eg.finess_pmsi, eg.maille_phase1) == (True, LUCRATIF, LUCRATIF)
        assert eg.activite_combinee == Decimal("35000")
    ej = EtablissementPublie.model_validate(payload(fiches_exceptions[LUCRATIF]))
    assert (ej.niveau, ej.eligible_phase1) == ("EJ", True)
    assert (ej.finess_pmsi, ej.maille_phase1) == (LUCRATIF, LUCRATIF)
    assert ej.activite_combinee == Decimal("35000")
