"""Pure rules of the referentiel establishments (FINESS, secteur, region, eligibility, maille).

Tables come from the service's own data files (plain file reads, no infrastructure); the
eligibility cases are crafted establishments so that each rule is exercised on purpose.
"""

from __future__ import annotations

import dataclasses
from collections import defaultdict
from decimal import Decimal

import pytest

from hopen_common.finess import FinessInvalide, cle_finess_valide, verifier_finess
from hopen_referentiel.etablissements import (
    CodeRegle,
    DepartementInconnu,
    DonneesIncoherentes,
    Etablissement,
    FinessPmsi,
    Maille,
    NiveauFiness,
    RoleGht,
    Secteur,
    StatutJuridiqueInconnu,
    TerritoireHorsPerimetre,
    TypeMaille,
    activite_combinee_pmsi,
    agregat_de_categorie,
    donnees,
    eligibilite_phase1,
    est_structure_dialyse,
    finess_pmsi,
    maille_candidature_phase1,
    region_du_departement,
    secteur,
    supports_des_ght,
)

SECTEURS = donnees.table_secteurs()
GEO = donnees.table_geographique()
CRITERES = donnees.criteres_phase1()
DIALYSE = donnees.categories_dialyse()
AGREGATS = donnees.table_agregats()

# --- check key ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("finess", "attendu"),
    [
        ("210780581", True),  # CHU Dijon (EJ)
        ("750721334", True),  # Croix-Rouge francaise (EJ)
        ("010000024", True),  # leading zero kept
        ("210780582", False),  # last digit changed
        ("210780518", False),  # two digits swapped
        ("21078058", False),  # 8 characters
        ("2107805810", False),  # 10 characters
        ("", False),
        ("21078058X", False),
        (" 21078058", False),
        ("２10780581", False),  # full-width digit: isdigit() would accept it
        # Corsica: 2A -> 21, 2B -> 22 before the Luhn computation
        ("2A0002614", True),  # CH de Sartene (EG)
        ("2A0002606", True),  # CH de Sartene (EJ)
        ("2B0005359", True),  # CH Calvi (EG)
        ("2B0005342", True),  # CH Calvi (EJ)
        ("2B0002606", False),  # same body, other Corsica letter
        ("2A0005342", False),
        ("2a0002606", False),  # FINESS letters are upper case
        ("2C0002606", False),
        ("200002606", False),
        # overseas
        ("970400024", True),  # CHU de La Reunion site Felix Guyon
        ("970102596", True),  # Clinique de Choisy, Guadeloupe
        ("980500011", True),  # CHM, Mayotte
        ("980500012", False),
    ],
)
def test_cle_finess(finess: str, attendu: bool) -> None:
    assert cle_finess_valide(finess) is attendu


def test_verifier_finess_dit_pourquoi() -> None:
    assert verifier_finess("2B0005342") == "2B0005342"
    with pytest.raises(FinessInvalide, match="9 caracteres"):
        verifier_finess("21078058")
    with pytest.raises(FinessInvalide, match="cle de controle"):
        verifier_finess("210780582")


# --- secteur --------------------------------------------------------------------------------

PUBLIC = ["01", "10", "11", "12", "13", "14", "15", "29"]
LUCRATIF = ["70", "71", "72", "73", "75", "78", "79", "85", "88", "91", "95"]
NON_LUCRATIF = ["40", "41", "47", "49", "60", "61", "62", "63", "64", "65", "89"]


@pytest.mark.parametrize(
    ("statut", "attendu"),
    [(c, Secteur.PUBLIC) for c in PUBLIC]
    + [(c, Secteur.PRIVE_LUCRATIF) for c in LUCRATIF]
    + [(c, Secteur.PRIVE_NON_LUCRATIF) for c in NON_LUCRATIF],
)
def test_secteur_par_statut(statut: str, attendu: Secteur) -> None:
    assert secteur(statut, SECTEURS) is attendu


def test_table_des_secteurs_complete() -> None:
    assert set(SECTEURS) == set(PUBLIC + LUCRATIF + NON_LUCRATIF)


@pytest.mark.parametrize("statut", ["02", "21", "74", "99", "1", "013", ""])
def test_secteur_statut_inconnu(statut: str) -> None:
    with pytest.raises(StatutJuridiqueInconnu, match="statut juridique"):
        secteur(statut, SECTEURS)


# --- region ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("departement", "region"),
    [
        ("01", "84"),
        ("21", "27"),
        ("52", "44"),
        ("75", "11"),
        ("2A", "94"),
        ("2B", "94"),
        ("9A", "01"),
        ("9B", "02"),
        ("9C", "03"),
        ("9D", "04"),
        ("9F", "06"),
    ],
)
def test_region_du_departement(departement: str, region: str) -> None:
    assert region_du_departement(departement, GEO).code == region


def test_dix_huit_regions_toutes_atteintes() -> None:
    atteintes = {region_du_departement(code, GEO).code for code in GEO.departements}
    assert atteintes == set(GEO.regions)
    assert len(atteintes) == 18


@pytest.mark.parametrize(
    ("code", "libelle"),
    [
        ("9E", "Saint-Pierre-et-Miquelon"),
        ("975", "Saint-Pierre-et-Miquelon"),
        ("986", "Wallis-et-Futuna"),
        ("987", "Polynésie française"),
        ("988", "Nouvelle-Calédonie"),
    ],
)
def test_territoire_hors_perimetre(code: str, libelle: str) -> None:
    with pytest.raises(TerritoireHorsPerimetre) as erreur:
        region_du_departement(code, GEO)
    assert erreur.value.libelle == libelle
    assert erreur.value.motif
    assert "hors perimetre" in str(erreur.value)


@pytest.mark.parametrize("code", ["20", "971", "976", "9G", "", "2a"])
def test_departement_inconnu(code: str) -> None:
    # 971/976 are INSEE codes: the FINESS coding (9A, 9F) is required.
    with pytest.raises(DepartementInconnu):
        region_du_departement(code, GEO)


# --- crafted establishments -----------------------------------------------------------------


def eg(
    finess_eg: str,
    finess_ej: str,
    statut: str,
    categorie: str,
    ac: str | None = None,
    *,
    ght: str | None = None,
    role: RoleGht | None = None,
    ferme: bool = False,
) -> Etablissement:
    return Etablissement(
        finess_eg=finess_eg,
        finess_ej=finess_ej,
        raison_sociale=f"ETAB {finess_eg}",
        statut_juridique=statut,
        categorie=categorie,
        agregat_categorie=AGREGATS[categorie],
        departement=finess_eg[:2],
        region="00",
        ght_code=ght,
        ght_role=role,
        activite_combinee_2022=None if ac is None else Decimal(ac),
        ferme=ferme,
    )


# public EJ in a GHT: support (2 EG) and a member (1 EG)
CHU_1 = eg("210986089", "210780581", "13", "101", "612480", ght="BFC-03", role=RoleGht.SUPPORT)
CHU_2 = eg("210987558", "210780581", "13", "101", ght="BFC-03", role=RoleGht.SUPPORT)
MEMBRE = eg("520000027", "520780032", "13", "355", "95310", ght="BFC-03", role=RoleGht.MEMBRE)
# public EJ outside any GHT
HORS_GHT = eg("2B0005359", "2B0005342", "13", "355", "18530")
# private lucratif EJ with several EG (PMSI per EG)
PL_MCO = eg("800009920", "800003071", "73", "365", "62180")
PL_SSR = eg("800012528", "800003071", "73", "109", "14020")
PL_HAD = eg("800016768", "800003071", "73", "127", "0")  # zero activity
# EBNL EJ with several EG
NL_MCO = eg("750150377", "750721334", "61", "365", "41270")
NL_FERME = eg("600100309", "750721334", "61", "109", "13470", ferme=True)
NL_RADIO = eg("830100582", "750721334", "61", "698", "2500")  # catégorie not in the list
# private dialysis structure (PMSI and maille at the EJ)
DIA_1 = eg("770016087", "770016137", "73", "141", "9820")
DIA_2 = eg("770809028", "770016137", "73", "146")
# a clinic that also runs a dialysis unit stays a clinic
MIXTE_MCO = eg("330000001", "330000134", "95", "365", "30000")
MIXTE_DIA = eg("330000002", "330000134", "95", "141", "4000")

TOUS = [
    CHU_1, CHU_2, MEMBRE, HORS_GHT, PL_MCO, PL_SSR, PL_HAD, NL_MCO, NL_FERME, NL_RADIO,
    DIA_1, DIA_2, MIXTE_MCO, MIXTE_DIA,
]  # fmt: skip


def de_l_ej(etab: Etablissement) -> list[Etablissement]:
    return [e for e in TOUS if e.finess_ej == etab.finess_ej]


def contexte(etab: Etablissement) -> tuple[Secteur, bool]:
    return (
        secteur(etab.statut_juridique, SECTEURS),
        est_structure_dialyse(de_l_ej(etab), DIALYSE),
    )


@pytest.mark.parametrize(
    ("etab", "attendu"),
    [
        (CHU_1, FinessPmsi(NiveauFiness.EJ, "210780581")),
        (CHU_2, FinessPmsi(NiveauFiness.EJ, "210780581")),
        (MEMBRE, FinessPmsi(NiveauFiness.EJ, "520780032")),
        (HORS_GHT, FinessPmsi(NiveauFiness.EJ, "2B0005342")),
        (PL_MCO, FinessPmsi(NiveauFiness.EG, "800009920")),
        (PL_SSR, FinessPmsi(NiveauFiness.EG, "800012528")),
        (NL_MCO, FinessPmsi(NiveauFiness.EG, "750150377")),
        (NL_RADIO, FinessPmsi(NiveauFiness.EG, "830100582")),
        (DIA_1, FinessPmsi(NiveauFiness.EJ, "770016137")),
        (DIA_2, FinessPmsi(NiveauFiness.EJ, "770016137")),
        (MIXTE_DIA, FinessPmsi(NiveauFiness.EG, "330000002")),
    ],
)
def test_finess_pmsi(etab: Etablissement, attendu: FinessPmsi) -> None:
    secteur_ej, dialyse = contexte(etab)
    resultat = finess_pmsi(etab, secteur_ej=secteur_ej, structure_dialyse=dialyse, exceptions={})
    assert resultat == attendu


def test_finess_pmsi_exception_en_donnees() -> None:
    # an EBNL listed as declaring its PMSI at the EJ
    exceptions = {"750721334": NiveauFiness.EJ}
    resultat = finess_pmsi(
        NL_MCO,
        secteur_ej=Secteur.PRIVE_NON_LUCRATIF,
        structure_dialyse=False,
        exceptions=exceptions,
    )
    assert resultat == FinessPmsi(NiveauFiness.EJ, "750721334")


@pytest.mark.parametrize(
    ("etab", "attendu"),
    [
        (CHU_1, Maille(TypeMaille.GHT, "210780581", "BFC-03")),
        (CHU_2, Maille(TypeMaille.GHT, "210780581", "BFC-03")),
        (MEMBRE, Maille(TypeMaille.GHT, "210780581", "BFC-03")),
        (HORS_GHT, Maille(TypeMaille.EJ, "2B0005342")),
        (PL_MCO, Maille(TypeMaille.EG, "800009920")),
        (PL_HAD, Maille(TypeMaille.EG, "800016768")),
        (NL_MCO, Maille(TypeMaille.EG, "750150377")),
        (DIA_1, Maille(TypeMaille.EJ, "770016137")),
        (DIA_2, Maille(TypeMaille.EJ, "770016137")),
        (MIXTE_MCO, Maille(TypeMaille.EG, "330000001")),
        (MIXTE_DIA, Maille(TypeMaille.EG, "330000002")),
    ],
)
def test_maille_candidature_phase1(etab: Etablissement, attendu: Maille) -> None:
    secteur_ej, dialyse = contexte(etab)
    pmsi = finess_pmsi(etab, secteur_ej=secteur_ej, structure_dialyse=dialyse, exceptions={})
    maille = maille_candidature_phase1(
        pmsi, secteur_ej=secteur_ej, ght_code=etab.ght_code, supports_ght=supports_des_ght(TOUS)
    )
    assert maille == attendu


def test_maille_ght_sans_support() -> None:
    pmsi = FinessPmsi(NiveauFiness.EJ, MEMBRE.finess_ej)
    with pytest.raises(DonneesIncoherentes, match="sans etablissement support"):
        maille_candidature_phase1(pmsi, secteur_ej=Secteur.PUBLIC, ght_code="BFC-03", supports_ght={})


EJ, EG = NiveauFiness.EJ, NiveauFiness.EG
GHT_BFC = Maille(TypeMaille.GHT, "210780581", "BFC-03")


@pytest.mark.parametrize(
    ("etab", "exceptions", "pmsi", "maille"),
    [
        # public outside a GHT: the EJ is the FINESS PMSI and applies
        (HORS_GHT, {}, FinessPmsi(EJ, "2B0005342"), Maille(TypeMaille.EJ, "2B0005342")),
        # public in a GHT, member and support: FINESS PMSI the EJ, applying through the support
        (MEMBRE, {}, FinessPmsi(EJ, "520780032"), GHT_BFC),
        (CHU_2, {}, FinessPmsi(EJ, "210780581"), GHT_BFC),
        # private lucratif and EBNL: each EG
        (PL_SSR, {}, FinessPmsi(EG, "800012528"), Maille(TypeMaille.EG, "800012528")),
        (NL_MCO, {}, FinessPmsi(EG, "750150377"), Maille(TypeMaille.EG, "750150377")),
        # ATIH exception at the EJ (an EBNL, a clinic): every EG names the EJ, none applies alone
        (NL_MCO, {"750721334": EJ}, FinessPmsi(EJ, "750721334"), Maille(TypeMaille.EJ, "750721334")),
        (NL_RADIO, {"750721334": EJ}, FinessPmsi(EJ, "750721334"), Maille(TypeMaille.EJ, "750721334")),
        (PL_MCO, {"800003071": EJ}, FinessPmsi(EJ, "800003071"), Maille(TypeMaille.EJ, "800003071")),
        # dialysis structure: the EJ; declared per EG to the ATIH: each EG
        (DIA_2, {}, FinessPmsi(EJ, "770016137"), Maille(TypeMaille.EJ, "770016137")),
        (DIA_1, {"770016137": EG}, FinessPmsi(EG, "770016087"), Maille(TypeMaille.EG, "770016087")),
        # a closed EG keeps the maille of its FINESS PMSI (eligibility fails on P1.E1, not here)
        (NL_FERME, {}, FinessPmsi(EG, "600100309"), Maille(TypeMaille.EG, "600100309")),
        (NL_FERME, {"750721334": EJ}, FinessPmsi(EJ, "750721334"), Maille(TypeMaille.EJ, "750721334")),
        # [reading] a public EJ declared per EG: outside a GHT its EG apply; in a GHT, the support
        (HORS_GHT, {"2B0005342": EG}, FinessPmsi(EG, "2B0005359"), Maille(TypeMaille.EG, "2B0005359")),
        (MEMBRE, {"520780032": EG}, FinessPmsi(EG, "520000027"), GHT_BFC),
    ],
)
def test_maille_phase1_suit_le_finess_pmsi(
    etab: Etablissement, exceptions: dict[str, NiveauFiness], pmsi: FinessPmsi, maille: Maille
) -> None:
    secteur_ej, dialyse = contexte(etab)
    obtenu = finess_pmsi(etab, secteur_ej=secteur_ej, structure_dialyse=dialyse, exceptions=exceptions)
    assert obtenu == pmsi
    m = maille_candidature_phase1(
        obtenu, secteur_ej=secteur_ej, ght_code=etab.ght_code, supports_ght=supports_des_ght(TOUS)
    )
    assert m == maille
    # The one rule (ADR 0008): outside the GHT clause, the maille is the FINESS PMSI at its level.
    if m.type is not TypeMaille.GHT:
        assert (m.type.value, m.finess) == (obtenu.niveau.value, obtenu.finess)


def test_deux_supports_pour_un_ght() -> None:
    autre = dataclasses.replace(MEMBRE, ght_role=RoleGht.SUPPORT)
    with pytest.raises(DonneesIncoherentes, match="deux supports"):
        supports_des_ght([CHU_1, autre])


def test_activite_combinee_pmsi() -> None:
    assert activite_combinee_pmsi(FinessPmsi(NiveauFiness.EJ, "210780581"), [CHU_1, CHU_2]) == Decimal(
        "612480"
    )
    assert activite_combinee_pmsi(FinessPmsi(NiveauFiness.EG, "800012528"), de_l_ej(PL_SSR)) == (
        Decimal("14020")
    )
    assert activite_combinee_pmsi(FinessPmsi(NiveauFiness.EJ, "210780581"), [CHU_2]) is None
    doublon = dataclasses.replace(CHU_2, activite_combinee_2022=Decimal(1))
    with pytest.raises(DonneesIncoherentes, match="plusieurs"):
        activite_combinee_pmsi(FinessPmsi(NiveauFiness.EJ, "210780581"), [CHU_1, doublon])


# --- eligibility ----------------------------------------------------------------------------

# The four criteria of `eligibilite_phase1` (domain 2.1); the secteur rule and the phase-2 codes
# belong to `eligibilite`.
TOUTES = {CodeRegle.OUVERT, CodeRegle.ACTIVITE_2022, CodeRegle.AGREGAT_EJ, CodeRegle.CATEGORIE_EG}


@pytest.mark.parametrize(
    ("etab", "echecs"),
    [
        (CHU_1, set()),
        (CHU_2, set()),  # the EJ's AC (carried by CHU_1) applies to every EG
        (MEMBRE, set()),
        (HORS_GHT, set()),
        (PL_MCO, set()),
        (PL_SSR, set()),
        (PL_HAD, {CodeRegle.ACTIVITE_2022}),
        (NL_MCO, set()),
        (NL_FERME, {CodeRegle.OUVERT}),
        (NL_RADIO, {CodeRegle.CATEGORIE_EG}),  # agrégat 1205 is listed, catégorie 698 is not
        (DIA_1, set()),
        (DIA_2, set()),
    ],
)
def test_eligibilite_phase1(etab: Etablissement, echecs: set[CodeRegle]) -> None:
    secteur_ej, dialyse = contexte(etab)
    pmsi = finess_pmsi(etab, secteur_ej=secteur_ej, structure_dialyse=dialyse, exceptions={})
    verdict = eligibilite_phase1(
        etab,
        etablissements_de_l_ej=de_l_ej(etab),
        activite_combinee_2022=activite_combinee_pmsi(pmsi, de_l_ej(etab)),
        criteres=CRITERES,
    )
    assert {r.code for r in verdict.non_satisfaites} == echecs
    assert {r.code for r in verdict.satisfaites} == TOUTES - echecs
    assert verdict.eligible is (not echecs)
    assert all(r.libelle for r in verdict.satisfaites + verdict.non_satisfaites)


def test_activite_inconnue_non_eligible() -> None:
    verdict = eligibilite_phase1(
        PL_MCO, etablissements_de_l_ej=[PL_MCO], activite_combinee_2022=None, criteres=CRITERES
    )
    assert [r.code for r in verdict.non_satisfaites] == [CodeRegle.ACTIVITE_2022]
    assert "aucune activite" in verdict.non_satisfaites[0].detail


def test_agregat_de_l_ej_hors_liste() -> None:
    # an EJ whose only open EG is outside the sanitary agrégats fails criteria 3 and 4
    centre_sante = dataclasses.replace(NL_RADIO, categorie="124", agregat_categorie="2206")
    verdict = eligibilite_phase1(
        centre_sante,
        etablissements_de_l_ej=[centre_sante, NL_FERME],  # the listed EG is closed
        activite_combinee_2022=Decimal(100),
        criteres=CRITERES,
    )
    assert {r.code for r in verdict.non_satisfaites} == {
        CodeRegle.AGREGAT_EJ,
        CodeRegle.CATEGORIE_EG,
    }
    # an open listed EG of the same EJ makes the EJ pass criterion 3
    verdict = eligibilite_phase1(
        centre_sante,
        etablissements_de_l_ej=[centre_sante, NL_MCO],
        activite_combinee_2022=Decimal(100),
        criteres=CRITERES,
    )
    assert {r.code for r in verdict.non_satisfaites} == {CodeRegle.CATEGORIE_EG}


def test_structure_dialyse() -> None:
    assert est_structure_dialyse([DIA_1, DIA_2], DIALYSE)
    assert not est_structure_dialyse([MIXTE_MCO, MIXTE_DIA], DIALYSE)
    # a closed non-dialysis EG does not change what the EJ is today
    ancien = dataclasses.replace(MIXTE_MCO, finess_ej="770016137", ferme=True)
    assert est_structure_dialyse([DIA_1, DIA_2, ancien], DIALYSE)
    assert not est_structure_dialyse([], DIALYSE)


# --- demo data ------------------------------------------------------------------------------

DEMO = donnees.etablissements_demo()


@pytest.mark.parametrize("etab", DEMO, ids=lambda e: e.finess_eg)
def test_ligne_demo_valide(etab: Etablissement) -> None:
    assert cle_finess_valide(etab.finess_eg)
    assert cle_finess_valide(etab.finess_ej)
    assert etab.categorie in donnees.categories_connues()
    assert agregat_de_categorie(etab.categorie, AGREGATS) == etab.agregat_categorie
    assert region_du_departement(etab.departement, GEO).code == etab.region
    assert etab.finess_eg[:2] == etab.departement or etab.departement.startswith("9")
    secteur(etab.statut_juridique, SECTEURS)  # known statut
    assert (etab.ght_code is None) == (etab.ght_role is None)


def test_demo_couvre_les_cas() -> None:
    par_ej: dict[str, list[Etablissement]] = defaultdict(list)
    for etab in DEMO:
        par_ej[etab.finess_ej].append(etab)
    assert len(DEMO) >= 30
    assert len({e.region for e in DEMO}) >= 3
    assert len({e.finess_eg for e in DEMO}) == len(DEMO)
    supports = supports_des_ght(DEMO)
    assert supports == {"BFC-03": "210780581"}

    secteurs = {ej: secteur(entite[0].statut_juridique, SECTEURS) for ej, entite in par_ej.items()}
    assert any(e.ght_code is None and secteurs[e.finess_ej] is Secteur.PUBLIC for e in DEMO)
    assert any(s is Secteur.PRIVE_LUCRATIF and len(par_ej[ej]) > 1 for ej, s in secteurs.items())
    assert Secteur.PRIVE_NON_LUCRATIF in secteurs.values()
    assert any(est_structure_dialyse(entite, DIALYSE) for entite in par_ej.values())

    # one AC per FINESS PMSI, on the row that carries it; tranches A to D represented
    acs: list[Decimal] = []
    for etab in DEMO:
        entite = par_ej[etab.finess_ej]
        pmsi = finess_pmsi(
            etab,
            secteur_ej=secteurs[etab.finess_ej],
            structure_dialyse=est_structure_dialyse(entite, DIALYSE),
            exceptions=donnees.exceptions_finess_pmsi(),
        )
        ac = activite_combinee_pmsi(pmsi, entite)
        assert ac is not None, etab.finess_eg
        if pmsi.niveau is NiveauFiness.EG or etab.activite_combinee_2022 is not None:
            acs.append(ac)
    assert max(acs) >= 230_000
    assert any(a < 7_000 for a in acs)
    assert any(7_000 <= a < 22_500 for a in acs)
    assert any(22_500 <= a < 230_000 for a in acs)


def test_demo_eligibilite() -> None:
    par_ej: dict[str, list[Etablissement]] = defaultdict(list)
    for etab in DEMO:
        par_ej[etab.finess_ej].append(etab)
    non_eligibles = set()
    for etab in DEMO:
        entite = par_ej[etab.finess_ej]
        s = secteur(etab.statut_juridique, SECTEURS)
        dialyse = est_structure_dialyse(entite, DIALYSE)
        pmsi = finess_pmsi(etab, secteur_ej=s, structure_dialyse=dialyse, exceptions={})
        verdict = eligibilite_phase1(
            etab,
            etablissements_de_l_ej=entite,
            activite_combinee_2022=activite_combinee_pmsi(pmsi, entite),
            criteres=CRITERES,
        )
        if not verdict.eligible:
            non_eligibles.add(etab.finess_eg)
    # the closed SSR CRF Lamorlaye and the radiotherapy centre (catégorie 698)
    assert non_eligibles == {"600100309", "830100582"}
