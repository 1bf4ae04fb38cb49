"""Pure domain rules of the referentiel: FINESS, secteur, region, phase-1 eligibility and maille.

No I/O here: every table (statuts, departements, lists) is passed in, so the rules can be
tested on crafted data and the programme data can change without touching code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from functools import lru_cache

from hopen_common.region import RegionProgramme

# --- errors -------------------------------------------------------------------------------


class ErreurReferentiel(ValueError):
    """Base of the referentiel's domain errors (a ValueError so callers can map it to 422)."""


class StatutJuridiqueInconnu(ErreurReferentiel):
    pass


class CategorieInconnue(ErreurReferentiel):
    pass


class DepartementInconnu(ErreurReferentiel):
    pass


class TerritoireHorsPerimetre(ErreurReferentiel):
    def __init__(self, code: str, libelle: str, motif: str) -> None:
        super().__init__(f"territoire {code} ({libelle}) hors perimetre : {motif}")
        self.code = code
        self.libelle = libelle
        self.motif = motif


class DonneesIncoherentes(ErreurReferentiel):
    """Reference data contradict each other (e.g. a GHT without support)."""


# --- enums and value objects ----------------------------------------------------------------


class Secteur(StrEnum):
    PUBLIC = "public"
    PRIVE_LUCRATIF = "prive_lucratif"
    PRIVE_NON_LUCRATIF = "prive_non_lucratif"


class NiveauFiness(StrEnum):
    EJ = "EJ"
    EG = "EG"


class RoleGht(StrEnum):
    SUPPORT = "S"
    MEMBRE = "M"


class TypeMaille(StrEnum):
    EG = "EG"
    EJ = "EJ"
    GHT = "GHT"
    GHU = "GHU"  # AP-HP, phase 2: each GHU applies for its EG


class Dispositif(StrEnum):
    PHASE1 = "phase1"
    HOSPICONNECT = "hospiconnect"
    AAP = "aap"


class CodeRegle(StrEnum):
    OUVERT = "P1.E1"
    ACTIVITE_2022 = "P1.E2"
    AGREGAT_EJ = "P1.E3"
    CATEGORIE_EG = "P1.E4"
    SECTEUR = "P1.E0"
    HC_OUVERT = "HC.E1"
    HC_ACTIVITE = "HC.E2"
    HC_AGREGAT_EJ = "HC.E3"
    HC_CATEGORIE_EG = "HC.E4"
    HC_SECTEUR = "HC.E0"
    AAP_OUVERT = "AAP.E1"
    AAP_ACTIVITE = "AAP.E2"
    AAP_AGREGAT_EJ = "AAP.E3"
    AAP_CATEGORIE_EG = "AAP.E4"
    AAP_SECTEUR = "AAP.E0"


@dataclass(frozen=True)
class CodesDispositif:
    """The rule codes of one dispositif, in the order of domain 2.1 (secteur first)."""

    secteur: CodeRegle
    ouvert: CodeRegle
    activite: CodeRegle
    agregat: CodeRegle
    categorie: CodeRegle
    annee_activite: int


CODES_DISPOSITIF: Mapping[Dispositif, CodesDispositif] = {
    Dispositif.PHASE1: CodesDispositif(
        CodeRegle.SECTEUR, CodeRegle.OUVERT, CodeRegle.ACTIVITE_2022, CodeRegle.AGREGAT_EJ,
        CodeRegle.CATEGORIE_EG, 2022,
    ),
    Dispositif.HOSPICONNECT: CodesDispositif(
        CodeRegle.HC_SECTEUR, CodeRegle.HC_OUVERT, CodeRegle.HC_ACTIVITE, CodeRegle.HC_AGREGAT_EJ,
        CodeRegle.HC_CATEGORIE_EG, 2024,
    ),
    # Domain 2.1: the AAP list of annex 3 is built on 2022 activity, like phase 1.
    Dispositif.AAP: CodesDispositif(
        CodeRegle.AAP_SECTEUR, CodeRegle.AAP_OUVERT, CodeRegle.AAP_ACTIVITE, CodeRegle.AAP_AGREGAT_EJ,
        CodeRegle.AAP_CATEGORIE_EG, 2022,
    ),
}

_LIBELLE_SECTEUR = "Statut juridique de l'EJ dans un secteur du programme (public, prive lucratif, EBNL)"
_LIBELLE_OUVERT = "Autorisation en cours (fiche FINESS ouverte)"
_LIBELLE_AGREGAT = "Categorie FINESS (agregat) du FINESS juridique dans la liste"
_LIBELLE_CATEGORIE = "Categorie du FINESS geographique dans la liste"

LIBELLES_REGLES: Mapping[CodeRegle, str] = {
    CodeRegle.SECTEUR: _LIBELLE_SECTEUR,
    CodeRegle.OUVERT: _LIBELLE_OUVERT,
    CodeRegle.ACTIVITE_2022: "Activite PMSI non nulle en 2022",
    CodeRegle.AGREGAT_EJ: _LIBELLE_AGREGAT,
    CodeRegle.CATEGORIE_EG: _LIBELLE_CATEGORIE,
    CodeRegle.HC_SECTEUR: _LIBELLE_SECTEUR,
    CodeRegle.HC_OUVERT: _LIBELLE_OUVERT,
    CodeRegle.HC_ACTIVITE: (
        "Activite PMSI non nulle en 2024, ou activite nulle mais dans la base eligible 2022 avec des "
        "effectifs SAE"
    ),
    CodeRegle.HC_AGREGAT_EJ: _LIBELLE_AGREGAT,
    CodeRegle.HC_CATEGORIE_EG: _LIBELLE_CATEGORIE,
    CodeRegle.AAP_SECTEUR: _LIBELLE_SECTEUR,
    CodeRegle.AAP_OUVERT: _LIBELLE_OUVERT,
    CodeRegle.AAP_ACTIVITE: "Activite PMSI non nulle en 2022 (liste de l'annexe 3)",
    CodeRegle.AAP_AGREGAT_EJ: _LIBELLE_AGREGAT,
    CodeRegle.AAP_CATEGORIE_EG: _LIBELLE_CATEGORIE,
}


# A region is the kernel's (hopen_common.region): the 18 regions, one list for every service.
Region = RegionProgramme


@dataclass(frozen=True)
class Departement:
    code_finess: str
    code_insee: str
    libelle: str
    code_region: str


@dataclass(frozen=True)
class TerritoireExclu:
    code: str
    libelle: str
    motif: str


@dataclass(frozen=True)
class TableGeographique:
    regions: Mapping[str, Region]
    departements: Mapping[str, Departement]  # keyed on the FINESS code (2A, 9A...)
    territoires_exclus: Mapping[str, TerritoireExclu]


@dataclass(frozen=True)
class CriteresEligibilitePhase1:
    agregats_ej: frozenset[str]
    categories_eg: frozenset[str]


@dataclass(frozen=True)
class Etablissement:
    """One FINESS geographique (EG) record with the identity of its EJ."""

    finess_eg: str
    finess_ej: str
    raison_sociale: str
    statut_juridique: str
    categorie: str
    agregat_categorie: str | None
    departement: str
    region: str
    ght_code: str | None = None
    ght_role: RoleGht | None = None
    activite_combinee_2022: Decimal | None = None
    effectifs_sae_2024: int | None = None
    domaines_sun_es: tuple[str, ...] = ()
    ferme: bool = False


@dataclass(frozen=True)
class FinessPmsi:
    niveau: NiveauFiness
    finess: str


@dataclass(frozen=True)
class Maille:
    type: TypeMaille
    finess: str  # the FINESS that applies: the EG, the EJ, or the GHT support's EJ
    ght_code: str | None = None


@dataclass(frozen=True)
class ResultatRegle:
    code: CodeRegle
    libelle: str
    detail: str


@dataclass(frozen=True)
class Verdict:
    satisfaites: tuple[ResultatRegle, ...]
    non_satisfaites: tuple[ResultatRegle, ...]

    @property
    def eligible(self) -> bool:
        return not self.non_satisfaites


# --- secteur, categorie, region -------------------------------------------------------------


def secteur(statut_juridique: str, table: Mapping[str, Secteur]) -> Secteur:
    try:
        return table[statut_juridique]
    except KeyError:
        raise StatutJuridiqueInconnu(
            f"statut juridique {statut_juridique!r} absent de la table des secteurs"
        ) from None


def agregat_de_categorie(categorie: str, table: Mapping[str, str]) -> str:
    try:
        return table[categorie]
    except KeyError:
        raise CategorieInconnue(f"categorie d'etablissement {categorie!r} sans agregat connu") from None


def region_du_departement(code_finess_departement: str, table: TableGeographique) -> Region:
    """Region (ARS) of a departement written in FINESS coding; excluded territories raise."""
    exclu = table.territoires_exclus.get(code_finess_departement)
    if exclu is not None:
        raise TerritoireHorsPerimetre(exclu.code, exclu.libelle, exclu.motif)
    departement = table.departements.get(code_finess_departement)
    if departement is None:
        raise DepartementInconnu(f"departement FINESS {code_finess_departement!r} inconnu")
    region = table.regions.get(departement.code_region)
    if region is None:
        raise DonneesIncoherentes(
            f"departement {code_finess_departement} rattache a la region inconnue {departement.code_region!r}"
        )
    return region


# --- FINESS PMSI and maille -----------------------------------------------------------------


def est_structure_dialyse(
    etablissements_de_l_ej: Iterable[Etablissement], categories_dialyse: frozenset[str]
) -> bool:
    """An EJ is a dialysis structure when all its open EG are dialysis categories.

    [reading] A clinic that also runs a dialysis unit (26 such private EJ in SAE 2023) stays a
    clinic: its EG keep their own FINESS PMSI, so one EJ never mixes the two levels.
    Closed EG are ignored unless the EJ has no open EG left.
    """
    tous = list(etablissements_de_l_ej)
    ouverts = [e for e in tous if not e.ferme] or tous
    return bool(ouverts) and all(e.categorie in categories_dialyse for e in ouverts)


def finess_pmsi(
    etab: Etablissement,
    *,
    secteur_ej: Secteur,
    structure_dialyse: bool,
    exceptions: Mapping[str, NiveauFiness],
) -> FinessPmsi:
    """Identifier the PMSI activity (and the funding) is attached to (domain 2.2, phase 1).

    `exceptions` maps a FINESS EJ to the level its PMSI is declared at, overriding the rule.
    """
    niveau = exceptions.get(etab.finess_ej)
    if niveau is None:
        if secteur_ej is Secteur.PUBLIC or structure_dialyse:
            niveau = NiveauFiness.EJ
        else:
            niveau = NiveauFiness.EG
    return FinessPmsi(niveau, etab.finess_ej if niveau is NiveauFiness.EJ else etab.finess_eg)


def supports_des_ght(etablissements: Iterable[Etablissement]) -> dict[str, str]:
    """GHT code -> FINESS EJ of its support, checking there is exactly one support per GHT."""
    supports: dict[str, str] = {}
    for etab in etablissements:
        if etab.ght_code is None or etab.ght_role is not RoleGht.SUPPORT:
            continue
        connu = supports.setdefault(etab.ght_code, etab.finess_ej)
        if connu != etab.finess_ej:
            raise DonneesIncoherentes(f"GHT {etab.ght_code} : deux supports ({connu}, {etab.finess_ej})")
    return supports


def maille_du_finess_pmsi(pmsi: FinessPmsi) -> Maille:
    """The FINESS PMSI applying for itself, at its own level (EJ or EG)."""
    return Maille(TypeMaille.EJ if pmsi.niveau is NiveauFiness.EJ else TypeMaille.EG, pmsi.finess)


def maille_candidature_phase1(
    pmsi: FinessPmsi,
    *,
    secteur_ej: Secteur,
    ght_code: str | None,
    supports_ght: Mapping[str, str],
) -> Maille:
    """Who applies in phase 1 (domain 3.3), read off the FINESS PMSI (domain 2.2): the FINESS
    PMSI at its level, except a public EJ in a GHT, which applies through its GHT's support.

    One rule rather than two so they cannot disagree (ADR 0008): domain 3.3 (private -> EG,
    dialysis -> EJ, "sauf exception suivant la declaration ATIH") says what 2.2 says. Decided
    apart, a private EJ whose PMSI is declared at the EJ would have one applicant per EG, each
    carrying the whole EJ's activite combinee: every EG could draw a full forfait on the same
    activity. `ght_code` is the EJ's GHT, the same for every fiche of the EJ.
    """
    if secteur_ej is Secteur.PUBLIC and ght_code is not None:
        support = supports_ght.get(ght_code)
        if support is None:
            raise DonneesIncoherentes(f"GHT {ght_code} sans etablissement support connu")
        return Maille(TypeMaille.GHT, support, ght_code)
    return maille_du_finess_pmsi(pmsi)


def activite_combinee_pmsi(
    pmsi: FinessPmsi, etablissements_de_l_ej: Iterable[Etablissement]
) -> Decimal | None:
    """AC 2022 of a FINESS PMSI, read from the one EG record that carries it.

    At EG level it is the EG's own value; at EJ level exactly one EG record of the EJ carries
    the EJ's AC (the others are empty), so two values are a data error.
    """
    if pmsi.niveau is NiveauFiness.EG:
        valeurs = [
            e.activite_combinee_2022
            for e in etablissements_de_l_ej
            if e.finess_eg == pmsi.finess and e.activite_combinee_2022 is not None
        ]
    else:
        valeurs = [
            e.activite_combinee_2022
            for e in etablissements_de_l_ej
            if e.finess_ej == pmsi.finess and e.activite_combinee_2022 is not None
        ]
    if len(valeurs) > 1:
        raise DonneesIncoherentes(f"FINESS PMSI {pmsi.finess} : plusieurs activites combinees")
    return valeurs[0] if valeurs else None


# --- phase-1 eligibility --------------------------------------------------------------------


def _resultat(code: CodeRegle, detail: str) -> ResultatRegle:
    return ResultatRegle(code, LIBELLES_REGLES[code], detail)


def eligibilite_phase1(
    etab: Etablissement,
    *,
    etablissements_de_l_ej: Sequence[Etablissement],
    activite_combinee_2022: Decimal | None,
    criteres: CriteresEligibilitePhase1,
) -> Verdict:
    """Phase-1 eligibility of one EG (domain 2.1), every rule evaluated and reported.

    `activite_combinee_2022` is the AC of the EG's FINESS PMSI (see `activite_combinee_pmsi`):
    for a public EJ or a dialysis structure it is the EJ's activity.

    [reading] Criterion 3 speaks of the "categorie FINESS du FINESS juridique", but FINESS
    records of an EJ carry no categorie: the agregat is carried by each EG record. The EJ
    passes criterion 3 when at least one of its open EG (this one included) has an agregat in
    the list. Since the 25 categories of criterion 4 map onto the 13 agregats, an EG passing
    criterion 4 also makes its EJ pass criterion 3.
    """
    satisfaites: list[ResultatRegle] = []
    non_satisfaites: list[ResultatRegle] = []

    def noter(ok: bool, code: CodeRegle, detail: str) -> None:
        (satisfaites if ok else non_satisfaites).append(_resultat(code, detail))

    noter(
        not etab.ferme,
        CodeRegle.OUVERT,
        "fiche FINESS fermee" if etab.ferme else "fiche FINESS ouverte",
    )

    if activite_combinee_2022 is None:
        noter(False, CodeRegle.ACTIVITE_2022, "aucune activite 2022 connue")
    else:
        noter(
            activite_combinee_2022 > 0,
            CodeRegle.ACTIVITE_2022,
            f"activite combinee 2022 = {activite_combinee_2022}",
        )

    entite = {e.finess_eg: e for e in etablissements_de_l_ej if e.finess_ej == etab.finess_ej}
    entite[etab.finess_eg] = etab
    agregats = sorted(
        {e.agregat_categorie for e in entite.values() if (not e.ferme or e is etab) and e.agregat_categorie}
    )
    retenus = [a for a in agregats if a in criteres.agregats_ej]
    noter(
        bool(retenus),
        CodeRegle.AGREGAT_EJ,
        f"agregats des EG ouverts de l'EJ {etab.finess_ej} : {', '.join(agregats) or 'aucun'}",
    )

    noter(
        etab.categorie in criteres.categories_eg,
        CodeRegle.CATEGORIE_EG,
        f"categorie {etab.categorie}",
    )
    return Verdict(tuple(satisfaites), tuple(non_satisfaites))


# --- phase 2 (HospiConnect, AAP) and every dispositif -----------------------------------------


@dataclass(frozen=True)
class Repechage:
    """HospiConnect (domain 2.1, item 2): zero 2024 activity is admitted for an ES that was in
    the 2022 eligible base and has SAE staff."""

    eligible_2022: bool
    effectifs: int


@lru_cache(maxsize=1 << 16)
def _resultat_regle(code: CodeRegle, detail: str) -> ResultatRegle:
    # The same few thousand (rule, detail) pairs recur over a national parc: built once each.
    return ResultatRegle(code, LIBELLES_REGLES[code], detail)


def agregats_ouverts(etablissements_de_l_ej: Iterable[Etablissement]) -> frozenset[str]:
    """Agregats of the open EG of an EJ (criterion 3), computed once per EJ."""
    return frozenset(
        e.agregat_categorie for e in etablissements_de_l_ej if e.agregat_categorie and not e.ferme
    )


def eligibilite(
    dispositif: Dispositif,
    etab: Etablissement,
    *,
    etablissements_de_l_ej: Sequence[Etablissement] = (),
    secteur_ej: Secteur | None,
    activite_combinee: Decimal | None,
    criteres: CriteresEligibilitePhase1,
    repechage: Repechage | None = None,
    agregats_ej: frozenset[str] | None = None,
) -> Verdict:
    """Eligibility of one EG to `dispositif`, every rule evaluated and reported.

    The four criteria of domain 2.1 are the same for every dispositif; what changes is the
    activity year (2022 for phase 1 and the AAP, 2024 for HospiConnect, with its repechage) and
    the FINESS PMSI whose activity is read (the caller passes that activity). A statut juridique
    outside the programme's secteurs (social, medico-social) fails its own rule: no FINESS PMSI
    or maille can be derived for it. `agregats_ej` (see `agregats_ouverts`) spares recomputing
    criterion 3 for every EG of a large EJ.
    """
    codes = CODES_DISPOSITIF[dispositif]
    satisfaites: list[ResultatRegle] = []
    non_satisfaites: list[ResultatRegle] = []
    (satisfaites if secteur_ej is not None else non_satisfaites).append(_resultat_regle(
        codes.secteur,
        f"statut juridique {etab.statut_juridique} : "
        + (secteur_ej.value if secteur_ej is not None else "hors des secteurs du programme"),
    ))
    if etab.ferme:
        non_satisfaites.append(_resultat_regle(codes.ouvert, "fiche FINESS fermee"))
    else:
        satisfaites.append(_resultat_regle(codes.ouvert, "fiche FINESS ouverte"))
    annee = codes.annee_activite
    if activite_combinee is not None and activite_combinee > 0:
        detail = f"activite combinee {annee} = {activite_combinee}"
        satisfaites.append(_resultat_regle(codes.activite, detail))
    elif repechage is not None and repechage.eligible_2022 and repechage.effectifs > 0:
        satisfaites.append(_resultat_regle(
            codes.activite,
            f"activite {annee} {'nulle' if activite_combinee is not None else 'inconnue'}, mais dans la "
            f"base eligible 2022 avec {repechage.effectifs} agents SAE",
        ))
    else:
        detail = (
            f"aucune activite {annee} connue" if activite_combinee is None
            else f"activite combinee {annee} = {activite_combinee}"
        )
        if repechage is not None:
            detail += ", hors base eligible 2022" if not repechage.eligible_2022 else ", sans effectifs SAE"
        non_satisfaites.append(_resultat_regle(codes.activite, detail))
    if agregats_ej is None:
        agregats_ej = agregats_ouverts(e for e in etablissements_de_l_ej if e.finess_ej == etab.finess_ej)
    if etab.agregat_categorie and etab.agregat_categorie not in agregats_ej:
        agregats_ej = agregats_ej | {etab.agregat_categorie}
    texte = ", ".join(sorted(agregats_ej)) or "aucun"
    (satisfaites if not agregats_ej.isdisjoint(criteres.agregats_ej) else non_satisfaites).append(
        _resultat_regle(codes.agregat, f"agregats des EG ouverts de l'EJ {etab.finess_ej} : {texte}")
    )
    (satisfaites if etab.categorie in criteres.categories_eg else non_satisfaites).append(
        _resultat_regle(codes.categorie, f"categorie {etab.categorie}")
    )
    return Verdict(tuple(satisfaites), tuple(non_satisfaites))


def finess_pmsi_phase2(
    etab: Etablissement,
    *,
    secteur_ej: Secteur,
    structure_dialyse: bool,
    exceptions: Mapping[str, NiveauFiness],
    ghu: Mapping[str, str],
) -> FinessPmsi:
    """Domain 2.2 in phase 2: as in phase 1, except that an AP-HP EG's FINESS PMSI is the FINESS
    geographique of its GHU (`ghu`: FINESS EG -> FINESS of its GHU)."""
    finess_ghu = ghu.get(etab.finess_eg)
    if finess_ghu is not None:
        return FinessPmsi(NiveauFiness.EG, finess_ghu)
    return finess_pmsi(
        etab, secteur_ej=secteur_ej, structure_dialyse=structure_dialyse, exceptions=exceptions
    )


def maille_hospiconnect(
    etab: Etablissement,
    *,
    secteur_ej: Secteur,
    supports_ght: Mapping[str, str],
    ghu: Mapping[str, str],
) -> Maille:
    """Who applies to HospiConnect for this EG (domain 4.2): AP-HP -> its GHU; private (lucratif
    and EBNL) -> the EJ for all its EG; public in a GHT -> the support ES on behalf of every EJ;
    public outside a GHT -> the EJ.

    Not read off the FINESS PMSI, unlike phase 1 and the AAP (ADR 0008): the instruction names
    the EJ whatever its PMSI level, and pays a ceiling per EJ from its staff, not a forfait on an
    activity. The FINESS PMSI only says whose 2024 activity criterion 2 reads, so a private EG
    with its own FINESS PMSI still applies through its EJ, and nothing is paid twice."""
    finess_ghu = ghu.get(etab.finess_eg)
    if finess_ghu is not None:
        return Maille(TypeMaille.GHU, finess_ghu)
    if secteur_ej is not Secteur.PUBLIC or etab.ght_code is None:
        return Maille(TypeMaille.EJ, etab.finess_ej)
    support = supports_ght.get(etab.ght_code)
    if support is None:
        raise DonneesIncoherentes(f"GHT {etab.ght_code} sans etablissement support connu")
    return Maille(TypeMaille.GHT, support, etab.ght_code)


def maille_aap(pmsi: FinessPmsi, *, ghu: bool) -> Maille:
    """AAP (domain 5): an ES takes part, as lead or participant, by its FINESS PMSI (phase-2
    reading, AP-HP -> GHU): the phase-1 rule without its GHT clause (ADR 0008). [reading] A
    public GHT member still applies by its own FINESS PMSI; the GHT-level validation it needs is
    checked with the project, not here."""
    if ghu:
        return Maille(TypeMaille.GHU, pmsi.finess)
    return maille_du_finess_pmsi(pmsi)
