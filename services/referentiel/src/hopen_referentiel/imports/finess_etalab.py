"""Reader of the legacy etalab FINESS extraction of establishments (`etalab-cs1100507-stock-*.csv`).

Format (no column header; found by searching public code that reads these files, nothing
official could be consulted here):
- first line `finess;etalab;<numero>;<date>`;
- `structureet` lines, 32 `;`-separated positions: `structureet;nofinesset;nofinessej;rs;rslongue;
  complrs;compldistrib;numvoie;typvoie;voie;compvoie;lieuditbp;commune;departement;libdepartement;
  ligneacheminement;telephone;telecopie;categetab;libcategetab;categagretab;libcategagretab;siret;
  codeape;codemft;libmft;codesph;libsph;dateouv;dateautor;datemaj;numuai`. Older extractions
  stop before `numuai` (31 positions). Found with the search tool, in public code that reads
  these files (the index quotes the code without naming every repository):
  - an R script that downloads `etalab-cs1100507-stock-20190516-0453.csv` from
    static.data.gouv.fr and names the 31 columns above (read with `encoding = "latin1"`), the
    `geolocalisation` lines having 6 fields;
  - a Python GHT tool whose `FINESS_KEYS` are the 32 names above (with `numuai`) and whose
    `GEOFINESS_KEYS` are `geolocalisation;nofinesset;coordxet;coordyet;sourcecoordet;datemaj`;
  - a Go ingestion of `etalab-cs1100502-stock-20260512-0339.csv` fixing "32 positions" after the
    data.gouv.fr description PDF: `nofinesset` 1, `nofinessej` 2, `commune` 12, `departement`
    13, `categetab` 18, `categagretab` 20, `siret` 22, `dateouv` 28, `datemaj` 30;
  - the npm package `finess` (github.com/damienmarchandfr/finess), interface `Establishment`.
  `commune` is the 3 last digits of the INSEE code and `departement` is in FINESS coding
  (`2A`, `9A`); dates are `AAAA-MM-JJ` (`JJ/MM/AAAA` in old files);
- then `geolocalisation` lines: `geolocalisation;nofinesset;coordxet;coordyet;sourcecoordet;
  datemaj` (6 positions).
The extraction carries no closing date (every EG read here is produced open) and no EJ data
(statut juridique, name): those come from the FINESS+ feed. The EJ extraction
(`etalab-cs1100501-stock-*.csv`, `structureej` lines) is not read here: only partial third-party
descriptions of its columns were found (lists ending in "..."), and a positional format must not
be guessed.

Encoding: the file is declared latin-1. Every byte decodes in latin-1, so "wrong encoding" is
recognised per line instead: a line that is valid UTF-8 with non-ASCII characters (a file
re-saved in UTF-8), NUL bytes, or bytes Windows-1252 leaves undefined are rejected with their
line number. Lines are decoded as Windows-1252, latin-1's superset for printable characters, so
a typographic apostrophe (0x92) stays an apostrophe. A UTF-8 byte order mark, or a first line
that is not `finess;etalab;...`, rejects the whole file.
"""

from __future__ import annotations

import re
from collections.abc import Container, Iterator
from contextlib import contextmanager
from datetime import date, datetime
from pathlib import Path
from typing import IO

from hopen_referentiel.imports.controles import (
    EnsembleFiness,
    controler_categorie,
    controler_finess,
    departement_du_finess,
    lire_date,
    region_de,
)
from hopen_referentiel.imports.enregistrements import EnteteEtalab, EtablissementGeographique
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

ElementEtalab = EnteteEtalab | EtablissementGeographique | Rejet | Avertissement

STRUCTUREET = "structureet"
GEOLOCALISATION = "geolocalisation"
CHAMPS_STRUCTUREET = (
    "structureet nofinesset nofinessej rs rslongue complrs compldistrib numvoie typvoie voie compvoie "
    "lieuditbp commune departement libdepartement ligneacheminement telephone telecopie categetab "
    "libcategetab categagretab libcategagretab siret codeape codemft libmft codesph libsph dateouv "
    "dateautor datemaj numuai"
).split()
CHAMPS_GEOLOCALISATION = "geolocalisation nofinesset coordxet coordyet sourcecoordet datemaj".split()
_RANG = {nom: rang for rang, nom in enumerate(CHAMPS_STRUCTUREET)}
# Extractions before `numuai` was added have one position less.
_MINIMUM_STRUCTUREET = len(CHAMPS_STRUCTUREET) - 1

_BOM_UTF8 = b"\xef\xbb\xbf"
_ENTETE = re.compile(r"finess;etalab;([^;]*);([^;]*);?")
_COMMUNE = re.compile(r"\d{3}")


@contextmanager
def _ouvrir(source: Path | IO[bytes]) -> Iterator[IO[bytes]]:
    if isinstance(source, Path):
        with source.open("rb") as fichier:
            yield fichier
    else:
        yield source


def _lire_entete(brute: bytes) -> EnteteEtalab:
    position = Position(ligne=1)
    if brute.startswith(_BOM_UTF8):
        raise ErreurFichier(
            CodeErreurFichier.ENCODAGE_INVALIDE,
            "le fichier commence par une marque d'ordre d'octets UTF-8 (BOM) : il a ete reenregistre en "
            "UTF-8, l'extraction etalab est en latin-1",
            position,
        )
    texte = brute.rstrip(b"\r\n").decode("cp1252", errors="replace")
    correspondance = _ENTETE.fullmatch(texte)
    if correspondance is None:
        raise ErreurFichier(
            CodeErreurFichier.ENTETE_INVALIDE,
            f"premiere ligne {texte[:60]!r} : 'finess;etalab;<numero>;<date>' attendu "
            "(est-ce bien une extraction etalab FINESS ?)",
            position,
        )
    numero, texte_date = correspondance.groups()
    try:
        if "/" in texte_date:
            date_extraction = datetime.strptime(texte_date, "%d/%m/%Y").date()
        else:
            date_extraction = date.fromisoformat(texte_date)
    except ValueError:
        raise ErreurFichier(
            CodeErreurFichier.ENTETE_INVALIDE,
            f"premiere ligne : date d'extraction {texte_date!r} invalide",
            position,
        ) from None
    return EnteteEtalab(numero=numero, date_extraction=date_extraction)


def _decoder(brute: bytes, position: Position) -> str:
    if b"\x00" in brute:
        raise ProblemeChamp(
            CodeRejet.ENCODAGE_INVALIDE,
            f"{position} : octet nul dans la ligne (fichier binaire ou encodage UTF-16 ?)",
            champ="ligne",
            valeur=None,
        )
    if not brute.isascii():
        try:
            brute.decode("utf-8")
        except UnicodeDecodeError:
            pass
        else:
            raise ProblemeChamp(
                CodeRejet.ENCODAGE_INVALIDE,
                f"{position} : ligne encodee en UTF-8 alors que l'extraction etalab est en latin-1",
                champ="ligne",
                valeur=None,
            )
    try:
        return brute.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ProblemeChamp(
            CodeRejet.ENCODAGE_INVALIDE,
            f"{position} : octet 0x{brute[exc.start]:02X} (colonne {exc.start + 1}) indecodable en latin-1",
            champ="ligne",
            valeur=None,
        ) from None


class _Lecteur:
    def __init__(self, tables: TablesImport, ej_connues: Container[str] | None) -> None:
        self.tables = tables
        self.ej_connues = ej_connues
        self.etablissements = EnsembleFiness()

    def ligne(self, numero: int, brute: bytes) -> Iterator[ElementEtalab]:
        position = Position(ligne=numero)
        champs: list[str] = []
        try:
            champs = _decoder(brute, position).split(";")
            if champs[0] == STRUCTUREET:
                yield from self._structureet(champs, position)
            elif champs[0] == GEOLOCALISATION:
                yield from self._geolocalisation(champs, position)
            else:
                raise ProblemeChamp(
                    CodeRejet.TYPE_ENREGISTREMENT_INCONNU,
                    f"{position} : type d'enregistrement {champs[0][:40]!r} inconnu "
                    f"({STRUCTUREET} ou {GEOLOCALISATION} attendu)",
                    champ="type",
                    valeur=champs[0][:40],
                )
        except ProblemeChamp as probleme:
            finess = champs[1].strip() if len(champs) > 1 and champs[1].strip() else None
            yield probleme.rejet(position, finess)

    @staticmethod
    def _compter(champs: list[str], minimum: int, maximum: int, position: Position) -> None:
        if len(champs) < minimum:
            finess = champs[1] if len(champs) > 1 else "?"
            raise ProblemeChamp(
                CodeRejet.LIGNE_TRONQUEE,
                f"{position} (FINESS {finess}) : ligne {champs[0]} tronquee, {len(champs)} champs au lieu de "
                f"{maximum}",
                champ=(CHAMPS_STRUCTUREET if champs[0] == STRUCTUREET else CHAMPS_GEOLOCALISATION)[
                    len(champs)
                ],
                valeur=None,
            )
        if len(champs) > maximum:
            raise ProblemeChamp(
                CodeRejet.CHAMPS_EN_TROP,
                f"{position} (FINESS {champs[1]}) : ligne {champs[0]} de {len(champs)} champs au lieu de "
                f"{maximum} (point-virgule dans un libelle ?)",
                champ=champs[0],
                valeur=None,
            )

    def _structureet(self, champs: list[str], position: Position) -> Iterator[ElementEtalab]:
        self._compter(champs, _MINIMUM_STRUCTUREET, len(CHAMPS_STRUCTUREET), position)

        def champ(nom: str) -> str:
            return champs[_RANG[nom]].strip()

        finess = controler_finess(champ("nofinesset"), "nofinesset")
        finess_ej = controler_finess(champ("nofinessej"), "nofinessej")
        if self.ej_connues is not None and finess_ej not in self.ej_connues:
            raise ProblemeChamp(
                CodeRejet.EJ_ABSENTE,
                f"FINESS EG {finess} : son EJ {finess_ej} (nofinessej) est inconnue du referentiel",
                champ="nofinessej",
                valeur=finess_ej,
            )
        categorie = controler_categorie(champ("categetab"), self.tables, "categetab", finess)
        avertissements: list[Avertissement] = []
        departement = champ("departement")
        if not departement:
            deduit = departement_du_finess(finess)
            if deduit is None:
                raise ProblemeChamp(
                    CodeRejet.COMMUNE_ABSENTE,
                    f"FINESS {finess} : departement absent et non deductible du numero FINESS",
                    champ="departement",
                    valeur=None,
                )
            departement = deduit
            avertissements.append(
                Avertissement(
                    CodeAvertissement.DEPARTEMENT_DEDUIT_DU_FINESS,
                    f"FINESS {finess} : departement absent, {departement} deduit du numero FINESS",
                    position,
                    finess=finess,
                    champ="departement",
                )
            )
        region = region_de(departement, self.tables, "departement", finess)
        agregat = champ("categagretab") or None
        attendu = self.tables.agregats.get(categorie)
        if agregat is None:
            agregat = attendu
        elif attendu is not None and attendu != agregat:
            avertissements.append(
                Avertissement(
                    CodeAvertissement.AGREGAT_DIFFERENT,
                    f"FINESS {finess} : agregat {agregat} (categagretab) different de l'agregat {attendu} "
                    f"de la categorie {categorie} dans la table HOP'EN ; la valeur du fichier est gardee",
                    position,
                    finess=finess,
                    champ="categagretab",
                    valeur=agregat,
                )
            )
        commune = champ("commune")
        departement_insee = self.tables.geographie.departements[departement].code_insee
        etablissement = EtablissementGeographique(
            finess=finess,
            finess_ej=finess_ej,
            raison_sociale=champ("rs") or champ("rslongue"),
            raison_sociale_longue=champ("rslongue") or None,
            categorie=categorie,
            agregat_categorie=agregat,
            commune=departement_insee[:2] + commune if _COMMUNE.fullmatch(commune) else None,
            departement=departement,
            region=region.code,
            siret=champ("siret") or None,
            date_ouverture=lire_date(champ("dateouv"), "dateouv", finess, jour_mois_annee=True),
            date_fermeture=None,
            ferme=False,
        )
        if not etablissement.raison_sociale:
            raise ProblemeChamp(
                CodeRejet.ENREGISTREMENT_INVALIDE,
                f"FINESS {finess} : raison sociale (rs et rslongue) absente",
                champ="rs",
                valeur=None,
            )
        if not self.etablissements.ajouter(finess):
            raise ProblemeChamp(
                CodeRejet.DOUBLON,
                f"FINESS EG {finess} en double : deja present plus haut dans le fichier",
                champ="nofinesset",
                valeur=finess,
            )
        yield from avertissements
        yield etablissement

    def _geolocalisation(self, champs: list[str], position: Position) -> Iterator[ElementEtalab]:
        self._compter(champs, len(CHAMPS_GEOLOCALISATION), len(CHAMPS_GEOLOCALISATION), position)
        finess = controler_finess(champs[1], "nofinesset")
        # Coordinates are not used by the programme; the line is only checked against its EG.
        if finess not in self.etablissements:
            yield Avertissement(
                CodeAvertissement.GEOLOCALISATION_SANS_ETABLISSEMENT,
                f"{position} : geolocalisation du FINESS {finess} sans ligne structureet importee",
                position,
                finess=finess,
                champ="nofinesset",
                valeur=finess,
            )


def lire_finess_etalab(
    source: Path | IO[bytes],
    tables: TablesImport | None = None,
    *,
    ej_connues: Container[str] | None = None,
) -> Iterator[ElementEtalab]:
    """Stream the header, establishments, rejections and warnings of an etalab extraction.

    `ej_connues`, when given (e.g. the EJ FINESS already in the referentiel), rejects an EG whose
    EJ is not among them; without it only the EJ's FINESS format and key are checked.
    """
    tables = tables or tables_import()
    lecteur = _Lecteur(tables, ej_connues)
    with _ouvrir(source) as fichier:
        premiere = fichier.readline()
        if not premiere:
            raise ErreurFichier(CodeErreurFichier.ENTETE_INVALIDE, "fichier vide", Position(ligne=1))
        yield _lire_entete(premiere)
        for numero, brute in enumerate(fichier, start=2):
            contenu = brute.rstrip(b"\r\n")
            if contenu.strip():
                yield from lecteur.ligne(numero, contenu)
