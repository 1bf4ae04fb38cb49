"""Pure domain rules of the referentiel: FINESS, secteur, region, phase-1 eligibility and maille.

No I/O here: every table (statuts, departements, lists) is passed in, so the rules can be
tested on crafted data and the programme data can change without touching code.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

# --- errors -------------------------------------------------------------------------------


class ErreurReferentiel(ValueError):
    """Base of the referentiel's domain errors (a ValueError so callers can map it to 422)."""


class FinessInvalide(ErreurReferentiel):
    pass


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


class CodeRegle(StrEnum):
    OUVERT = "P1.E1"
    ACTIVITE_2022 = "P1.E2"
    AGREGAT_EJ = "P1.E3"
    CATEGORIE_EG = "P1.E4"


LIBELLES_REGLES: Mapping[CodeRegle, str] = {
    CodeRegle.OUVERT: "Autorisation en cours (fiche FINESS ouverte)",
    CodeRegle.ACTIVITE_2022: "Activite PMSI non nulle en 2022",
    CodeRegle.AGREGAT_EJ: "Categorie FINESS (agregat) du FINESS juridique dans la liste",
    CodeRegle.CATEGORIE_EG: "Categorie du FINESS geographique dans la liste",
}


@dataclass(frozen=True)
class Region:
    code: str
    libelle: str
    ars: str


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
    agregat_categorie: str
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


# --- FINESS ---------------------------------------------------------------------------------

# Corsica's letters are replaced before the Luhn computation (checked on 6 106 real numbers).
_CORSE = {"2A": "21", "2B": "22"}


def cle_finess_valide(finess: str) -> bool:
    """True when `finess` has 9 characters and a valid Luhn check digit (9th over the 8 first)."""
    if len(finess) != 9:
        return False
    chiffres = _CORSE.get(finess[:2], finess[:2]) + finess[2:]
    if not chiffres.isascii() or not chiffres.isdigit():
        return False
    total = 0
    # Luhn: from the right of the 8-digit body, double every other digit starting with the last.
    for rang, caractere in enumerate(reversed(chiffres[:8])):
        chiffre = int(caractere)
        if rang % 2 == 0:
            chiffre *= 2
            if chiffre > 9:
                chiffre -= 9
        total += chiffre
    return (10 - total % 10) % 10 == int(chiffres[8])


# Overseas FINESS numbers carry the INSEE code on 4 characters; FINESS writes the departement
# itself as 9A..9F (domain 2).
_OUTRE_MER = {"9701": "9A", "9702": "9B", "9703": "9C", "9704": "9D", "9805": "9F"}


def departement_du_finess(finess: str) -> str:
    """The departement (FINESS coding) a FINESS number was issued in: its leading characters."""
    if finess[:2] in ("97", "98"):
        try:
            return _OUTRE_MER[finess[:4]]
        except KeyError:
            raise DepartementInconnu(f"FINESS {finess!r} : territoire {finess[:4]} inconnu") from None
    return finess[:2]


def verifier_finess(finess: str) -> str:
    """Return `finess` unchanged when valid, else raise FinessInvalide with the reason."""
    if len(finess) != 9:
        raise FinessInvalide(f"FINESS {finess!r} : 9 caracteres attendus, {len(finess)} recus")
    if not cle_finess_valide(finess):
        raise FinessInvalide(f"FINESS {finess!r} : cle de controle (9e caractere) invalide")
    return finess


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


def maille_candidature_phase1(
    etab: Etablissement,
    *,
    secteur_ej: Secteur,
    structure_dialyse: bool,
    supports_ght: Mapping[str, str],
) -> Maille:
    """Who applies in phase 1 (domain 3.3).

    private -> the EG (dialysis structure -> the EJ); public in a GHT -> the GHT through its
    support's EJ; public outside a GHT -> the EJ.
    """
    if secteur_ej is not Secteur.PUBLIC:
        if structure_dialyse:
            return Maille(TypeMaille.EJ, etab.finess_ej)
        return Maille(TypeMaille.EG, etab.finess_eg)
    if etab.ght_code is None:
        return Maille(TypeMaille.EJ, etab.finess_ej)
    support = supports_ght.get(etab.ght_code)
    if support is None:
        raise DonneesIncoherentes(f"GHT {etab.ght_code} sans etablissement support connu")
    return Maille(TypeMaille.GHT, support, etab.ght_code)


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
    agregats = sorted({e.agregat_categorie for e in entite.values() if not e.ferme or e is etab})
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
