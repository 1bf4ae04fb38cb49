"""Reader of the eligible-base files: CSV (one kind per file) or XLSX (one sheet per kind).

The format is specified in README.md next to this module. Quantities are exact: a CSV cell is
parsed as a Decimal (`.` or `,` as decimal separator, no thousands separator); an XLSX numeric
cell, which Excel stores as a binary double, is read through its shortest decimal
representation (`repr`), i.e. the number that was typed. No float takes part in a computation.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from pathlib import Path
from typing import IO

import openpyxl
from openpyxl.utils.exceptions import InvalidFileException

from hopen_referentiel.etablissements.rules import NiveauFiness, RoleGht
from hopen_referentiel.imports.controles import controler_finess
from hopen_referentiel.imports.enregistrements import (
    ActiviteCombinee,
    ComposantesActivite,
    DomaineSunEs,
    EffectifsSae,
    ExceptionFinessPmsi,
    GroupementGht,
    OrigineActivite,
    RattachementGhu,
)
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

Cellule = str | int | float | Decimal | bool | date | datetime | None
ElementBase = (
    ActiviteCombinee
    | EffectifsSae
    | GroupementGht
    | RattachementGhu
    | ExceptionFinessPmsi
    | DomaineSunEs
    | Rejet
    | Avertissement
)


class TypeDonnees(StrEnum):
    ACTIVITE_COMBINEE = "activite_combinee"
    EFFECTIFS_SAE = "effectifs_sae"
    GHT = "ght"
    GHU_APHP = "ghu_aphp"
    EXCEPTIONS_FINESS_PMSI = "exceptions_finess_pmsi"
    DOMAINES_SUN_ES = "domaines_sun_es"


COMPOSANTES = (
    "journees_mco",
    "seances_mco",
    "hdj_chirurgie_ambulatoire",
    "hdj_autres",
    "journees_smr",
    "journees_psy",
    "journees_had",
    "journees_usld",
)

COLONNES: Mapping[TypeDonnees, tuple[str, ...]] = {
    TypeDonnees.ACTIVITE_COMBINEE: ("finess_pmsi", "annee", "activite_combinee", *COMPOSANTES),
    TypeDonnees.EFFECTIFS_SAE: (
        "finess_eg",
        "annee",
        "effectifs_total",
        "effectifs_salaries",
        "effectifs_liberaux",
    ),
    TypeDonnees.GHT: ("code_ght", "nom_ght", "finess_ej", "role"),
    TypeDonnees.GHU_APHP: ("finess_eg", "finess_ghu", "libelle_ghu"),
    TypeDonnees.EXCEPTIONS_FINESS_PMSI: ("finess_ej", "niveau_pmsi", "motif"),
    TypeDonnees.DOMAINES_SUN_ES: ("finess_pmsi", "domaine"),
}

# Years a campaign can refer to: the programme runs on 2022..2028 data; the bounds only catch typos.
ANNEE_MINIMUM, ANNEE_MAXIMUM = 2000, 2100

_NOMBRE = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


# --- cell conversions ------------------------------------------------------------------------


def _texte(valeur: Cellule) -> str:
    if valeur is None:
        return ""
    if isinstance(valeur, bool):
        return str(valeur)
    if isinstance(valeur, float) and valeur.is_integer():
        # A FINESS or a year typed in a numeric cell comes back as 210780581.0.
        return str(int(valeur))
    return str(valeur).strip()


def _decimal(valeur: Cellule, champ: str, finess: str) -> Decimal | None:
    if valeur is None or (isinstance(valeur, str) and not valeur.strip()):
        return None
    if isinstance(valeur, bool) or isinstance(valeur, date | datetime):
        nombre = None
    elif isinstance(valeur, int | Decimal):
        nombre = Decimal(valeur)
    elif isinstance(valeur, float):
        # repr() is the shortest text that reads back as the same double: the typed number.
        nombre = Decimal(repr(valeur)) if valeur == valeur and abs(valeur) != float("inf") else None
    else:
        texte = valeur.strip()
        nombre = Decimal(texte.replace(",", ".")) if _NOMBRE.fullmatch(texte) else None
    if nombre is None:
        raise ProblemeChamp(
            CodeRejet.NOMBRE_INVALIDE,
            f"FINESS {finess} : {champ} = {_texte(valeur)!r} n'est pas un nombre "
            "(chiffres et un seul separateur decimal . ou , ; pas de separateur de milliers)",
            champ=champ,
            valeur=_texte(valeur),
        )
    if nombre < 0:
        raise ProblemeChamp(
            CodeRejet.NOMBRE_NEGATIF,
            f"FINESS {finess} : {champ} = {nombre} est negatif",
            champ=champ,
            valeur=_texte(valeur),
        )
    return nombre


def _entier(valeur: Cellule, champ: str, finess: str) -> int | None:
    nombre = _decimal(valeur, champ, finess)
    if nombre is None:
        return None
    if nombre != nombre.to_integral_value():
        raise ProblemeChamp(
            CodeRejet.NOMBRE_INVALIDE,
            f"FINESS {finess} : {champ} = {nombre} n'est pas un nombre entier",
            champ=champ,
            valeur=_texte(valeur),
        )
    return int(nombre)


def _requis(valeur: Cellule, champ: str, finess: str) -> str:
    texte = _texte(valeur)
    if not texte:
        raise ProblemeChamp(
            CodeRejet.VALEUR_ABSENTE, f"FINESS {finess} : {champ} est vide", champ=champ, valeur=None
        )
    return texte


def _annee(valeur: Cellule, finess: str) -> int:
    texte = _texte(valeur)
    if not texte.isdigit() or not ANNEE_MINIMUM <= int(texte) <= ANNEE_MAXIMUM:
        raise ProblemeChamp(
            CodeRejet.ANNEE_INVALIDE,
            f"FINESS {finess} : annee {texte!r} invalide ({ANNEE_MINIMUM}..{ANNEE_MAXIMUM} attendu)",
            champ="annee",
            valeur=texte,
        )
    return int(texte)


# --- per-kind row readers --------------------------------------------------------------------

Ligne = Mapping[str, Cellule]


@dataclass
class _MembreGht:
    position: Position
    finess_ej: str
    role: RoleGht
    nom: str


@dataclass
class _Lecteur:
    """Reads the rows of one kind; `cles` detects duplicates, `ght` groups GHT rows until the end."""

    tables: TablesImport
    type_donnees: TypeDonnees
    cles: set[tuple[object, ...]] = field(default_factory=set)
    ght: dict[str, list[_MembreGht]] = field(default_factory=dict)
    ght_de_l_ej: dict[str, str] = field(default_factory=dict)

    def lignes(self, lignes: Iterable[tuple[Position, Ligne]]) -> Iterator[ElementBase]:
        lire: Callable[[Position, Ligne], Iterator[ElementBase]] = getattr(
            self, f"_{self.type_donnees.value}"
        )
        for position, ligne in lignes:
            try:
                yield from lire(position, ligne)
            except ProblemeChamp as probleme:
                yield probleme.rejet(position, _texte(ligne.get(COLONNES[self.type_donnees][0])) or None)
        if self.type_donnees is TypeDonnees.GHT:
            yield from self._fin_ght()

    def _unique(self, cle: tuple[object, ...], description: str, champ: str, finess: str) -> None:
        if cle in self.cles:
            raise ProblemeChamp(
                CodeRejet.DOUBLON,
                f"FINESS {finess} : {description} en double (deja present plus haut)",
                champ=champ,
                valeur=finess,
            )
        self.cles.add(cle)

    def _activite_combinee(self, position: Position, ligne: Ligne) -> Iterator[ElementBase]:
        finess = controler_finess(_texte(ligne["finess_pmsi"]), "finess_pmsi")
        annee = _annee(ligne["annee"], finess)
        importee = _decimal(ligne["activite_combinee"], "activite_combinee", finess)
        valeurs = {nom: _decimal(ligne[nom], nom, finess) for nom in COMPOSANTES}
        donnees = [nom for nom, valeur in valeurs.items() if valeur is not None]
        composantes: ComposantesActivite | None = None
        calculee: Decimal | None = None
        if donnees and len(donnees) < len(COMPOSANTES):
            manquantes = [nom for nom in COMPOSANTES if valeurs[nom] is None]
            raise ProblemeChamp(
                CodeRejet.COMPOSANTES_INCOMPLETES,
                f"FINESS {finess} ({annee}) : composantes de l'activite combinee incompletes, "
                f"{', '.join(manquantes)} vides (toutes ou aucune ; 0 pour une activite nulle)",
                champ=manquantes[0],
                valeur=None,
            )
        if donnees:
            composantes = ComposantesActivite(**{nom: valeurs[nom] or Decimal(0) for nom in COMPOSANTES})
            calculee = sum(
                (valeurs[nom] or Decimal(0)) * self.tables.ponderations_activite[nom] for nom in COMPOSANTES
            ) or Decimal(0)
        if importee is None and calculee is None:
            raise ProblemeChamp(
                CodeRejet.VALEUR_ABSENTE,
                f"FINESS {finess} ({annee}) : ni activite_combinee ni ses composantes",
                champ="activite_combinee",
                valeur=None,
            )
        self._unique((finess, annee), f"activite combinee {annee}", "finess_pmsi", finess)
        if importee is not None and calculee is not None and importee != calculee:
            yield Avertissement(
                CodeAvertissement.ECART_ACTIVITE_COMBINEE,
                f"FINESS {finess} ({annee}) : activite combinee importee {importee}, calculee {calculee} "
                f"depuis les composantes (ecart {importee - calculee}) ; la valeur importee est retenue",
                position,
                finess=finess,
                champ="activite_combinee",
                valeur=str(importee),
            )
        yield ActiviteCombinee(
            finess_pmsi=finess,
            annee=annee,
            activite_combinee=importee if importee is not None else calculee or Decimal(0),
            origine=OrigineActivite.IMPORTEE if importee is not None else OrigineActivite.CALCULEE,
            composantes=composantes,
            activite_calculee=calculee,
        )

    def _effectifs_sae(self, position: Position, ligne: Ligne) -> Iterator[ElementBase]:
        finess = controler_finess(_texte(ligne["finess_eg"]), "finess_eg")
        annee = _annee(ligne["annee"], finess)
        total = _entier(ligne["effectifs_total"], "effectifs_total", finess)
        salaries = _entier(ligne["effectifs_salaries"], "effectifs_salaries", finess)
        liberaux = _entier(ligne["effectifs_liberaux"], "effectifs_liberaux", finess)
        if total is None:
            raise ProblemeChamp(
                CodeRejet.VALEUR_ABSENTE,
                f"FINESS {finess} ({annee}) : effectifs_total est vide",
                champ="effectifs_total",
                valeur=None,
            )
        if salaries is not None and liberaux is not None and salaries + liberaux != total:
            raise ProblemeChamp(
                CodeRejet.TOTAL_INCOHERENT,
                f"FINESS {finess} ({annee}) : effectifs_total {total} different de salaries {salaries} + "
                f"liberaux {liberaux}",
                champ="effectifs_total",
                valeur=str(total),
            )
        self._unique((finess, annee), f"effectifs SAE {annee}", "finess_eg", finess)
        yield EffectifsSae(finess, annee, total, salaries, liberaux)

    def _ght(self, position: Position, ligne: Ligne) -> Iterator[ElementBase]:
        finess = controler_finess(_texte(ligne["finess_ej"]), "finess_ej")
        code = _requis(ligne["code_ght"], "code_ght", finess)
        nom = _requis(ligne["nom_ght"], "nom_ght", finess)
        role = _texte(ligne["role"]).upper()
        if role not in (RoleGht.SUPPORT.value, RoleGht.MEMBRE.value):
            raise ProblemeChamp(
                CodeRejet.ROLE_GHT_INCONNU,
                f"FINESS {finess} : role {role!r} dans le GHT {code}, S (support) ou M (membre) attendu",
                champ="role",
                valeur=role,
            )
        self._unique((code, finess), f"appartenance au GHT {code}", "finess_ej", finess)
        autre = self.ght_de_l_ej.setdefault(finess, code)
        if autre != code:
            raise ProblemeChamp(
                CodeRejet.EJ_PLUSIEURS_GHT,
                f"FINESS {finess} : deja membre du GHT {autre}, ne peut pas appartenir aussi au GHT {code}",
                champ="code_ght",
                valeur=code,
            )
        self.ght.setdefault(code, []).append(_MembreGht(position, finess, RoleGht(role), nom))
        yield from ()

    def _fin_ght(self) -> Iterator[ElementBase]:
        for code, membres in self.ght.items():
            nom = membres[0].nom
            for membre in membres[1:]:
                if membre.nom != nom:
                    yield Avertissement(
                        CodeAvertissement.GHT_NOM_DIFFERENT,
                        f"GHT {code} : nom {membre.nom!r} different de {nom!r} (premiere ligne), garde",
                        membre.position,
                        finess=membre.finess_ej,
                        champ="nom_ght",
                        valeur=membre.nom,
                    )
            supports = [m for m in membres if m.role is RoleGht.SUPPORT]
            if len(supports) != 1:
                code_rejet = CodeRejet.GHT_SANS_SUPPORT if not supports else CodeRejet.GHT_PLUSIEURS_SUPPORTS
                detail = (
                    "aucune ligne de role S"
                    if not supports
                    else f"{len(supports)} supports ({', '.join(m.finess_ej for m in supports)})"
                )
                for membre in membres:
                    yield Rejet(
                        code_rejet,
                        f"GHT {code} : {detail}, un seul etablissement support attendu ; "
                        f"ligne de l'EJ {membre.finess_ej} non importee",
                        membre.position,
                        finess=membre.finess_ej,
                        champ="role",
                        valeur=membre.role.value,
                    )
                continue
            yield GroupementGht(
                code=code,
                nom=nom,
                finess_support=supports[0].finess_ej,
                finess_membres=tuple(m.finess_ej for m in membres if m.role is RoleGht.MEMBRE),
            )

    def _ghu_aphp(self, position: Position, ligne: Ligne) -> Iterator[ElementBase]:
        finess = controler_finess(_texte(ligne["finess_eg"]), "finess_eg")
        ghu = controler_finess(_texte(ligne["finess_ghu"]), "finess_ghu")
        libelle = _requis(ligne["libelle_ghu"], "libelle_ghu", finess)
        self._unique((finess,), "rattachement a un GHU", "finess_eg", finess)
        yield RattachementGhu(finess, ghu, libelle)

    def _exceptions_finess_pmsi(self, position: Position, ligne: Ligne) -> Iterator[ElementBase]:
        finess = controler_finess(_texte(ligne["finess_ej"]), "finess_ej")
        niveau = _texte(ligne["niveau_pmsi"]).upper()
        if niveau not in (NiveauFiness.EJ.value, NiveauFiness.EG.value):
            raise ProblemeChamp(
                CodeRejet.NIVEAU_PMSI_INCONNU,
                f"FINESS {finess} : niveau_pmsi {niveau!r} inconnu, EJ ou EG attendu",
                champ="niveau_pmsi",
                valeur=niveau,
            )
        motif = _requis(ligne["motif"], "motif", finess)
        self._unique((finess,), "exception FINESS PMSI", "finess_ej", finess)
        yield ExceptionFinessPmsi(finess, NiveauFiness(niveau), motif)

    def _domaines_sun_es(self, position: Position, ligne: Ligne) -> Iterator[ElementBase]:
        finess = controler_finess(_texte(ligne["finess_pmsi"]), "finess_pmsi")
        domaine = _requis(ligne["domaine"], "domaine", finess).upper()
        if domaine not in self.tables.domaines_sun_es:
            raise ProblemeChamp(
                CodeRejet.DOMAINE_INCONNU,
                f"FINESS {finess} : domaine SUN-ES {domaine!r} inconnu "
                f"({', '.join(sorted(self.tables.domaines_sun_es))} attendus)",
                champ="domaine",
                valeur=domaine,
            )
        self._unique((finess, domaine), f"domaine SUN-ES {domaine}", "finess_pmsi", finess)
        yield DomaineSunEs(finess, domaine)


def _verifier_colonnes(entete: list[str], type_donnees: TypeDonnees, position: Position) -> None:
    attendues = COLONNES[type_donnees]
    absentes = [colonne for colonne in attendues if colonne not in entete]
    inconnues = [colonne for colonne in entete if colonne and colonne not in attendues]
    doublees = sorted({colonne for colonne in entete if colonne and entete.count(colonne) > 1})
    if absentes or inconnues or doublees:
        details = []
        if absentes:
            details.append(f"absentes : {', '.join(absentes)}")
        if inconnues:
            details.append(f"inconnues : {', '.join(inconnues)}")
        if doublees:
            details.append(f"en double : {', '.join(doublees)}")
        raise ErreurFichier(
            CodeErreurFichier.COLONNES_INVALIDES,
            f"{type_donnees.value} : colonnes {' ; '.join(details)} (attendues : {', '.join(attendues)})",
            position,
        )


# --- CSV -------------------------------------------------------------------------------------


def lire_base_eligible_csv(
    source: Path | IO[bytes], type_donnees: TypeDonnees, tables: TablesImport | None = None
) -> Iterator[ElementBase]:
    """Rows of one kind from a `;`-separated UTF-8 CSV with a header line (BOM tolerated)."""
    lecteur = _Lecteur(tables or tables_import(), type_donnees)
    flux = source.open("rb") if isinstance(source, Path) else source
    try:
        # utf-8-sig: spreadsheets write a BOM in front of UTF-8 CSV; it is not part of the header.
        texte = io.TextIOWrapper(flux, encoding="utf-8-sig", newline="")
        yield from lecteur.lignes(_lignes_csv(texte, type_donnees))
        texte.detach()
    except UnicodeDecodeError as exc:
        raise ErreurFichier(
            CodeErreurFichier.ENCODAGE_INVALIDE,
            f"fichier non UTF-8 (octet 0x{exc.object[exc.start]:02X}) : enregistrer le CSV en UTF-8",
        ) from exc
    finally:
        if isinstance(source, Path):
            flux.close()


def _lignes_csv(texte: IO[str], type_donnees: TypeDonnees) -> Iterator[tuple[Position, Ligne]]:
    lecteur = csv.reader(texte, delimiter=";")
    entete = [colonne.strip() for colonne in next(lecteur, [])]
    _verifier_colonnes(entete, type_donnees, Position(ligne=1))
    for cellules in lecteur:
        if not any(cellule.strip() for cellule in cellules):
            continue
        position = Position(ligne=lecteur.line_num)
        if len(cellules) != len(entete):
            # A short line would silently shift nothing but empty its last values: say it.
            yield position, _LigneTronquee(len(cellules), len(entete), type_donnees)
            continue
        yield position, dict(zip(entete, cellules, strict=True))


class _LigneTronquee(dict[str, Cellule]):
    """Placeholder row whose reading raises the rejection, so it flows through the same path."""

    def __init__(self, recues: int, attendues: int, type_donnees: TypeDonnees) -> None:
        super().__init__()
        self.recues, self.attendues, self.type_donnees = recues, attendues, type_donnees

    def __missing__(self, cle: str) -> Cellule:
        code = CodeRejet.LIGNE_TRONQUEE if self.recues < self.attendues else CodeRejet.CHAMPS_EN_TROP
        raise ProblemeChamp(
            code,
            f"{self.type_donnees.value} : {self.recues} champs au lieu de {self.attendues}",
            champ=cle,
            valeur=None,
        )


# --- XLSX ------------------------------------------------------------------------------------


def lire_base_eligible_xlsx(
    source: Path | IO[bytes], tables: TablesImport | None = None
) -> Iterator[ElementBase]:
    """Every known sheet of a workbook (sheet name = kind); other sheets are skipped with a warning."""
    tables = tables or tables_import()
    try:
        classeur = openpyxl.load_workbook(source, read_only=True, data_only=True)
    except (zipfile.BadZipFile, InvalidFileException, KeyError, OSError) as exc:
        raise ErreurFichier(CodeErreurFichier.FORMAT_INVALIDE, f"classeur XLSX illisible : {exc}") from exc
    try:
        for feuille in classeur.worksheets:
            try:
                type_donnees = TypeDonnees(feuille.title.strip())
            except ValueError:
                yield Avertissement(
                    CodeAvertissement.FEUILLE_IGNOREE,
                    f"feuille {feuille.title!r} ignoree : le nom d'une feuille doit etre un type de donnees "
                    f"({', '.join(t.value for t in TypeDonnees)})",
                    Position(feuille=feuille.title),
                )
                continue
            lignes = feuille.iter_rows(values_only=True)
            entete = [_texte(cellule) for cellule in next(lignes, ())]
            while entete and not entete[-1]:
                entete.pop()  # read_only sheets may report trailing empty columns
            _verifier_colonnes(entete, type_donnees, Position(feuille=feuille.title, ligne=1))
            yield from _Lecteur(tables, type_donnees).lignes(_lignes_feuille(feuille.title, entete, lignes))
    finally:
        classeur.close()


def _lignes_feuille(
    nom: str, entete: list[str], lignes: Iterator[tuple[Cellule, ...]]
) -> Iterator[tuple[Position, Ligne]]:
    for numero, cellules in enumerate(lignes, start=2):
        if all(cellule is None or (isinstance(cellule, str) and not cellule.strip()) for cellule in cellules):
            continue
        valeurs = list(cellules[: len(entete)]) + [None] * (len(entete) - len(cellules))
        yield Position(feuille=nom, ligne=numero), dict(zip(entete, valeurs, strict=True))
