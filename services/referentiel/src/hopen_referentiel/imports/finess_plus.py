"""Streaming reader of the FINESS+ "structures" JSON feed (ANS, data.gouv.fr `finess-structures-1`).

Shape (schema `schema-structures-v1.json` of the ANS repository `ansforge/finess`, path
`flux/out/data.gouv/structure/schema/`): a top-level object with `schemaVersion`, `generatedAt`,
`gco`, `gcc` and `pmej`. Each `pmej` (EJ) has `informationsGeneralesPMEJ` (`numFinessPm`,
`statutJuridique`, `denominationPm`, `dateCreation`, `dateFermeture`...), an `adresse` list and
its establishments nested in `ege` (`informationsGeneralesEGE.numFinessEge`,
`categorieentiteGeographiqueExercice`, `adresse`, `etatObjet`). A `gcc` whose `typeGcc` is a GHT
type of TRE_R371 (`001` generaliste, `002` psychiatrie) is a GHT; its `pmejDuGcc` name EJ by their
internal `pmSmsseId` with `typeRoleEntiteGroupe` `S` (support) or `M` (member).

Memory stays flat whatever the file size:
- pass 1 reads events from the top and keeps only the `gcc` objects (a few hundred GHT); it
  stops at `pmej` when `gcc` came first, as in the ministry's files. When `gcc` comes after
  `pmej` (the schema does not fix the order) pass 1 reads on to the end, slower but still flat;
- pass 2 builds one `pmej` object at a time (with its `ege`), checks it, yields its records and
  forgets it, keeping only the `pmSmsseId -> FINESS` of the EJ the GHT name;
- GHT come last, once their members are resolved.
Duplicates are found with `EnsembleFiness`, a fixed-size bit set. The source is read twice, so it
must be a path or a seekable binary file (an upload spooled to disk is).

Addresses: the departement comes from the INSEE commune of the address, `usageAdresse` `03`
(TRE_R377 "adresse geographique du lieu d'exercice") first for an EG; an EJ carries its siege
(`02` in the feed). A record without any usable address falls back on the departement its FINESS
number was attributed in, with a warning.

Open/closed: a record with a `dateFermeture` or `etatObjet` `I` (inactif) is produced with
`ferme=True`, never rejected: eligibility rule 1 decides what a closed record means.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, cast

import ijson

from hopen_referentiel.etablissements.rules import RoleGht
from hopen_referentiel.imports.controles import (
    EnsembleFiness,
    controler_categorie,
    controler_finess,
    controler_statut_juridique,
    departement_du_finess,
    lire_date,
    localiser_commune,
    region_de,
)
from hopen_referentiel.imports.decoupage_json import OBJETS, DecoupageImpossible, items_pmej
from hopen_referentiel.imports.enregistrements import (
    EntiteJuridique,
    EtablissementGeographique,
    GroupementGht,
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

# A record as read: a dict (ijson path) or a struct read through `.get` (fast path).
Objet = Any

ElementFinessPlus = EntiteJuridique | EtablissementGeographique | GroupementGht | Rejet | Avertissement

_MAGIE_GZIP = b"\x1f\x8b"
_USAGE_ADRESSE_GEOGRAPHIQUE = "03"
_ETAT_INACTIF = "I"


@contextmanager
def _ouvrir(source: Path | IO[bytes]) -> Iterator[IO[bytes]]:
    """A fresh stream of the (decompressed) JSON; gzip is recognised by its magic number."""
    if isinstance(source, Path):
        with source.open("rb") as brut:
            with _decompresser(brut) as flux:
                yield flux
        return
    source.seek(0)
    with _decompresser(source) as flux:
        yield flux


@contextmanager
def _decompresser(brut: IO[bytes]) -> Iterator[IO[bytes]]:
    debut = brut.read(2)
    brut.seek(0)
    if debut == _MAGIE_GZIP:
        with gzip.GzipFile(fileobj=brut, mode="rb") as flux:
            yield cast(IO[bytes], flux)
    else:
        yield brut


@contextmanager
def _erreurs_de_lecture() -> Iterator[None]:
    try:
        yield
    except ijson.IncompleteJSONError as exc:
        raise ErreurFichier(
            CodeErreurFichier.FICHIER_TRONQUE, f"JSON incomplet (fichier tronque ?) : {exc}"
        ) from exc
    except ijson.JSONError as exc:
        raise ErreurFichier(CodeErreurFichier.FORMAT_INVALIDE, f"JSON invalide : {exc}") from exc
    except EOFError as exc:
        raise ErreurFichier(CodeErreurFichier.FICHIER_TRONQUE, f"archive gzip tronquee : {exc}") from exc
    except gzip.BadGzipFile as exc:
        raise ErreurFichier(CodeErreurFichier.FORMAT_INVALIDE, f"archive gzip invalide : {exc}") from exc


# --- pass 1: the groupings -------------------------------------------------------------------


def _lire_groupements(flux: IO[bytes]) -> list[dict[str, Any]]:
    groupements: list[dict[str, Any]] = []
    cles: list[str] = []
    constructeur: Any = None
    racine_vue = False
    for prefixe, evenement, valeur in ijson.parse(flux, use_float=False):
        if constructeur is not None:
            constructeur.event(evenement, valeur)
            if prefixe == "gcc.item" and evenement == "end_map":
                groupements.append(constructeur.value)
                constructeur = None
            continue
        if prefixe == "" and evenement in ("start_map", "start_array"):
            if evenement == "start_array":
                raise ErreurFichier(
                    CodeErreurFichier.FORMAT_INVALIDE,
                    "flux FINESS+ : objet attendu a la racine, liste trouvee",
                )
            racine_vue = True
        elif prefixe == "" and evenement == "map_key":
            cles.append(valeur)
            if valeur == "pmej" and "gcc" in cles:
                break
        elif prefixe == "schemaVersion" and evenement == "string" and not valeur.startswith("v1."):
            raise ErreurFichier(
                CodeErreurFichier.FORMAT_INVALIDE,
                f"flux FINESS+ : schemaVersion {valeur!r} non pris en charge (v1.x)",
            )
        elif prefixe == "gcc.item" and evenement == "start_map":
            constructeur = ijson.ObjectBuilder()
            constructeur.event(evenement, valeur)
    if not racine_vue:
        raise ErreurFichier(CodeErreurFichier.FORMAT_INVALIDE, "flux FINESS+ vide")
    if "pmej" not in cles:
        raise ErreurFichier(
            CodeErreurFichier.FORMAT_INVALIDE, "flux FINESS+ sans cle pmej (entites juridiques)"
        )
    return groupements


@dataclass
class _Ght:
    position: Position
    identifiant: str
    nom: str
    type_gcc: str
    numero: str | None
    actif: bool
    roles: list[tuple[str, RoleGht]] = field(default_factory=list)


def _preparer_ght(
    groupements: list[dict[str, Any]], tables: TablesImport
) -> tuple[list[_Ght], list[Rejet | Avertissement]]:
    ght: list[_Ght] = []
    signalements: list[Rejet | Avertissement] = []
    for rang, gcc in enumerate(groupements):
        position = Position(chemin=f"gcc[{rang}]")
        try:
            groupe = _groupement(gcc, position, tables, signalements)
        except ProblemeChamp as probleme:
            signalements.append(probleme.rejet(position, None))
            continue
        if groupe is not None:
            ght.append(groupe)
    return ght, signalements


def _groupement(
    gcc: object, position: Position, tables: TablesImport, signalements: list[Rejet | Avertissement]
) -> _Ght | None:
    type_gcc = _texte(gcc, "typeGcc", position) if isinstance(gcc, dict) else None
    if type_gcc not in tables.types_gcc_ght:
        if type_gcc not in tables.types_gcc:
            signalements.append(
                Avertissement(
                    CodeAvertissement.TYPE_GCC_INCONNU,
                    f"groupement {position.chemin} : typeGcc {type_gcc!r} absent de TRE_R371, ignore "
                    "(ce n'est pas un GHT connu)",
                    position,
                    champ="typeGcc",
                    valeur=type_gcc,
                )
            )
        return None
    assert isinstance(gcc, dict)  # a non-dict has no typeGcc, so it was skipped above
    identifiant = _texte(gcc, "gccId", position) or ""
    groupe = _Ght(
        position=position,
        identifiant=identifiant,
        nom=_texte(gcc, "nomGcc", position) or "",
        type_gcc=type_gcc,
        numero=_texte(gcc, "numFinessGcc", position),
        actif=_texte(gcc, "etatObjet", position) != _ETAT_INACTIF,
    )
    if not identifiant:
        signalements.append(
            Rejet(
                CodeRejet.ENREGISTREMENT_INVALIDE,
                f"GHT {position.chemin} ({groupe.nom}) : identifiant gccId absent",
                position,
                champ="gccId",
            )
        )
        return None
    liens = gcc.get("pmejDuGcc") or []
    for rang_lien, lien in enumerate(liens if isinstance(liens, list) else []):
        position_lien = Position(chemin=f"{position.chemin}.pmejDuGcc[{rang_lien}]")
        role = _texte(lien, "typeRoleEntiteGroupe", position_lien) if isinstance(lien, dict) else None
        id_pm = _texte(lien, "pmSmsseId", position_lien) if isinstance(lien, dict) else None
        if role not in (RoleGht.SUPPORT.value, RoleGht.MEMBRE.value) or not id_pm:
            signalements.append(
                Rejet(
                    CodeRejet.ROLE_GHT_INCONNU,
                    f"GHT {identifiant} ({groupe.nom}) : lien {rang_lien} sans role S ou M ni pmSmsseId "
                    f"(role {role!r}, pmSmsseId {id_pm!r}), lien ignore",
                    position_lien,
                    champ="typeRoleEntiteGroupe",
                    valeur=role,
                )
            )
            continue
        if (id_pm, RoleGht(role)) not in groupe.roles:
            groupe.roles.append((id_pm, RoleGht(role)))
    return groupe


def _resoudre_ght(
    ght: list[_Ght], finess_par_id: Mapping[str, str]
) -> Iterator[GroupementGht | Rejet | Avertissement]:
    for groupe in ght:
        supports = [id_pm for id_pm, role in groupe.roles if role is RoleGht.SUPPORT]
        libelle = f"GHT {groupe.identifiant} ({groupe.nom})"
        if len(supports) > 1:
            yield Rejet(
                CodeRejet.GHT_PLUSIEURS_SUPPORTS,
                f"{libelle} : {len(supports)} etablissements support "
                f"(pmSmsseId {', '.join(supports)}), un seul attendu",
                groupe.position,
                champ="typeRoleEntiteGroupe",
            )
            continue
        support = finess_par_id.get(supports[0]) if supports else None
        if support is None:
            detail = (
                f"l'EJ support (pmSmsseId {supports[0]}) est absente du flux ou rejetee"
                if supports
                else "aucune EJ de role S"
            )
            yield Rejet(
                CodeRejet.GHT_SANS_SUPPORT, f"{libelle} : {detail}", groupe.position, champ="pmejDuGcc"
            )
            continue
        membres: list[str] = []
        for id_pm, role in groupe.roles:
            if role is not RoleGht.MEMBRE:
                continue
            finess = finess_par_id.get(id_pm)
            if finess is None:
                yield Avertissement(
                    CodeAvertissement.GHT_MEMBRE_ABSENT,
                    f"{libelle} : l'EJ membre pmSmsseId {id_pm} est absente du flux ou rejetee, le GHT est "
                    "importe sans elle",
                    groupe.position,
                    champ="pmejDuGcc",
                    valeur=id_pm,
                )
            elif finess not in membres and finess != support:
                membres.append(finess)
        yield GroupementGht(
            code=groupe.identifiant,
            nom=groupe.nom,
            finess_support=support,
            finess_membres=tuple(membres),
            actif=groupe.actif,
            type_groupement=groupe.type_gcc,
            numero_gcc=groupe.numero,
        )


# --- pass 2: legal entities and their establishments -----------------------------------------


def _texte(objet: Objet, cle: str, position: Position) -> str | None:
    # dicts on the ijson path, structs on the fast one (attribute access skips a method call).
    valeur = objet.get(cle) if type(objet) is dict else getattr(objet, cle, None)
    if valeur is None or isinstance(valeur, str):
        return valeur
    raise ProblemeChamp(
        CodeRejet.ENREGISTREMENT_INVALIDE,
        f"{position} : {cle} devrait etre une chaine, {type(valeur).__name__} trouve",
        champ=cle,
        valeur=str(valeur),
    )


def _localiser(
    adresses: object,
    finess: str,
    tables: TablesImport,
    position: Position,
    usage_prefere: str | None,
) -> tuple[str | None, str, str, Avertissement | None]:
    """(commune, departement, region, warning) from the record's addresses."""
    candidates = [a for a in adresses if isinstance(a, OBJETS)] if isinstance(adresses, list) else []
    if usage_prefere is not None:
        candidates.sort(key=lambda a: a.get("usageAdresse") != usage_prefere)
    for adresse in candidates:
        cog = _texte(adresse, "cogCommune", position)
        if cog:
            departement, region = localiser_commune(cog, tables, "adresse.cogCommune", finess)
            return cog.strip(), departement, region.code, None
    departement_finess = departement_du_finess(finess)
    if departement_finess is None:
        raise ProblemeChamp(
            CodeRejet.COMMUNE_ABSENTE,
            f"FINESS {finess} : aucune adresse avec un code commune INSEE, et le numero FINESS ne dit pas "
            "le departement",
            champ="adresse.cogCommune",
            valeur=None,
        )
    region = region_de(departement_finess, tables, "numero FINESS", finess)
    avertissement = Avertissement(
        CodeAvertissement.DEPARTEMENT_DEDUIT_DU_FINESS,
        f"FINESS {finess} : aucune adresse avec un code commune INSEE, departement {departement_finess} "
        "deduit du numero FINESS",
        position,
        finess=finess,
        champ="adresse.cogCommune",
    )
    return None, departement_finess, region.code, avertissement


def _ferme(objet: Objet, date_fermeture: object, position: Position) -> bool:
    return date_fermeture is not None or _texte(objet, "etatObjet", position) == _ETAT_INACTIF


@dataclass
class _Lecteur:
    tables: TablesImport
    ids_recherches: frozenset[str]
    finess_par_id: dict[str, str] = field(default_factory=dict)
    entites: EnsembleFiness = field(default_factory=EnsembleFiness)
    etablissements: EnsembleFiness = field(default_factory=EnsembleFiness)

    def pmej(self, rang: int, objet: object) -> Iterator[ElementFinessPlus]:
        position = Position(chemin=f"pmej[{rang}]")
        finess: str | None = None
        brut: str | None = None
        entite: EntiteJuridique | None = None
        avertissement: Avertissement | None = None
        infos: Objet = None
        try:
            if not isinstance(objet, OBJETS) or not isinstance(
                objet.get("informationsGeneralesPMEJ"), OBJETS
            ):
                raise ProblemeChamp(
                    CodeRejet.ENREGISTREMENT_INVALIDE,
                    f"{position} : informationsGeneralesPMEJ absent ou mal forme",
                    champ="informationsGeneralesPMEJ",
                    valeur=None,
                )
            infos = objet.get("informationsGeneralesPMEJ")
            brut = _texte(infos, "numFinessPm", position)
            finess = controler_finess(brut, "numFinessPm")
            entite, avertissement = self._entite(objet, infos, finess, position)
        except ProblemeChamp as probleme:
            # An invalid number is still the record's FINESS as written: keep it for the report.
            yield probleme.rejet(position, finess or (brut.strip() if brut else None))
        if entite is not None:
            if avertissement is not None:
                yield avertissement
            yield entite
            id_pm = infos.get("pmSmsseId")
            if id_pm in self.ids_recherches:
                self.finess_par_id[id_pm] = entite.finess
        etablissements = objet.get("ege") if isinstance(objet, OBJETS) else None
        for rang_eg, ege in enumerate(etablissements if isinstance(etablissements, list) else []):
            yield from self.ege(Position(chemin=f"{position.chemin}.ege[{rang_eg}]"), ege, entite, finess)

    def _entite(
        self, objet: Objet, infos: Objet, finess: str, position: Position
    ) -> tuple[EntiteJuridique | None, Avertissement | None]:
        statut = controler_statut_juridique(
            _texte(infos, "statutJuridique", position), self.tables, "statutJuridique", finess
        )
        court = _texte(infos, "denominationPm", position)
        long = _texte(infos, "denominationLonguePmSmsse", position)
        raison_sociale = (court or long or "").strip()
        if not raison_sociale:
            raise ProblemeChamp(
                CodeRejet.ENREGISTREMENT_INVALIDE,
                f"FINESS {finess} : denominationPm et denominationLonguePmSmsse absentes",
                champ="denominationPm",
                valeur=None,
            )
        commune, departement, region, avertissement = self._adresse(objet, finess, position, None)
        date_fermeture = lire_date(_texte(infos, "dateFermeture", position), "dateFermeture", finess)
        entite = EntiteJuridique(
            finess=finess,
            raison_sociale=raison_sociale,
            raison_sociale_longue=long.strip() if long else None,
            statut_juridique=statut,
            secteur=self.tables.secteurs.get(statut),
            commune=commune,
            departement=departement,
            region=region,
            siren=_texte(infos, "siren", position),
            date_creation=lire_date(_texte(infos, "dateCreation", position), "dateCreation", finess),
            date_fermeture=date_fermeture,
            ferme=_ferme(objet, date_fermeture, position),
        )
        # Checked last so that a record rejected for another reason does not hide a later copy.
        if not self.entites.ajouter(finess):
            raise ProblemeChamp(
                CodeRejet.DOUBLON,
                f"FINESS EJ {finess} en double : deja present plus haut dans le fichier",
                champ="numFinessPm",
                valeur=finess,
            )
        return entite, avertissement

    def _adresse(
        self, objet: Objet, finess: str, position: Position, usage: str | None
    ) -> tuple[str | None, str, str, Avertissement | None]:
        return _localiser(objet.get("adresse"), finess, self.tables, position, usage)

    def ege(
        self, position: Position, objet: object, entite: EntiteJuridique | None, finess_ej: str | None
    ) -> Iterator[ElementFinessPlus]:
        finess: str | None = None
        brut: str | None = None
        try:
            if not isinstance(objet, OBJETS) or not isinstance(objet.get("informationsGeneralesEGE"), OBJETS):
                raise ProblemeChamp(
                    CodeRejet.ENREGISTREMENT_INVALIDE,
                    f"{position} : informationsGeneralesEGE absent ou mal forme",
                    champ="informationsGeneralesEGE",
                    valeur=None,
                )
            infos = objet.get("informationsGeneralesEGE")
            brut = _texte(infos, "numFinessEge", position)
            finess = controler_finess(brut, "numFinessEge")
            if entite is None:
                raise ProblemeChamp(
                    CodeRejet.EJ_ABSENTE,
                    f"FINESS EG {finess} : son EJ de rattachement ({finess_ej or 'FINESS illisible'}) "
                    "est rejetee, l'etablissement ne peut pas etre importe sans elle",
                    champ="numFinessPm",
                    valeur=finess_ej,
                )
            etablissement, avertissement = self._etablissement(objet, infos, finess, entite, position)
        except ProblemeChamp as probleme:
            yield probleme.rejet(position, finess or (brut.strip() if brut else None))
            return
        if avertissement is not None:
            yield avertissement
        yield etablissement

    def _etablissement(
        self,
        objet: Objet,
        infos: Objet,
        finess: str,
        entite: EntiteJuridique,
        position: Position,
    ) -> tuple[EtablissementGeographique, Avertissement | None]:
        categorie = controler_categorie(
            _texte(objet, "categorieentiteGeographiqueExercice", position),
            self.tables,
            "categorieentiteGeographiqueExercice",
            finess,
        )
        court = _texte(infos, "nomEgeCourt", position)
        long = _texte(infos, "nomEgeLong", position)
        raison_sociale = (court or long or "").strip()
        if not raison_sociale:
            raise ProblemeChamp(
                CodeRejet.ENREGISTREMENT_INVALIDE,
                f"FINESS {finess} : nomEgeCourt et nomEgeLong absents",
                champ="nomEgeCourt",
                valeur=None,
            )
        commune, departement, region, avertissement = self._adresse(
            objet, finess, position, _USAGE_ADRESSE_GEOGRAPHIQUE
        )
        date_fermeture = lire_date(_texte(infos, "dateFermeture", position), "dateFermeture", finess)
        etablissement = EtablissementGeographique(
            finess=finess,
            finess_ej=entite.finess,
            raison_sociale=raison_sociale,
            raison_sociale_longue=long.strip() if long else None,
            categorie=categorie,
            agregat_categorie=self.tables.agregats.get(categorie),
            commune=commune,
            departement=departement,
            region=region,
            siret=_texte(infos, "siret", position),
            date_ouverture=lire_date(_texte(infos, "dateOuverture", position), "dateOuverture", finess),
            date_fermeture=date_fermeture,
            ferme=_ferme(objet, date_fermeture, position),
        )
        if not self.etablissements.ajouter(finess):
            raise ProblemeChamp(
                CodeRejet.DOUBLON,
                f"FINESS EG {finess} en double : deja present plus haut dans le fichier",
                champ="numFinessEge",
                valeur=finess,
            )
        return etablissement, avertissement


def lire_finess_plus(
    source: Path | IO[bytes], tables: TablesImport | None = None
) -> Iterator[ElementFinessPlus]:
    """Stream the records, rejections and warnings of a FINESS+ structures file (.json or .json.gz).

    Order: each EJ, then its EG; every GHT at the end. Raises `ErreurFichier` when the file as a
    whole is unreadable; records already yielded then belong to a failed import.
    """
    tables = tables or tables_import()
    with _erreurs_de_lecture(), _ouvrir(source) as flux:
        groupements = _lire_groupements(flux)
    ght, signalements = _preparer_ght(groupements, tables)
    del groupements
    yield from signalements
    lecteur = _Lecteur(tables, frozenset(id_pm for groupe in ght for id_pm, _ in groupe.roles))
    donnes = 0
    try:
        with _erreurs_de_lecture(), _ouvrir(source) as flux:
            for objet in items_pmej(flux):
                yield from lecteur.pmej(donnes, objet)
                donnes += 1
    except DecoupageImpossible:
        # The fast cut could not be verified: the general reader takes over at that record
        # (and reports a real JSON error where there is one).
        with _erreurs_de_lecture(), _ouvrir(source) as flux:
            for rang, objet in enumerate(ijson.items(flux, "pmej.item", use_float=False)):
                if rang >= donnes:
                    yield from lecteur.pmej(rang, objet)
    yield from _resoudre_ght(ght, lecteur.finess_par_id)
