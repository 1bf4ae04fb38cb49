"""Imports into the referentiel: FINESS (FINESS+ JSON feed, etalab CSV), DREES SAE
identification, eligible base (CSV or XLSX).

One import is one transaction: facts, recomputed fiches, their events (outbox), the import's
journal row and its rejections commit together, or nothing does (a whole-file error raises
`ErreurFichier` and the caller rolls back). A rejected record never blocks the others: it is
reported with its position and reason.

Flow: the pure parser (`hopen_referentiel.imports`) runs in a worker thread, one batch at a
time, while the previous batch is copied to a staging table; then one merge per table writes the
rows that differ, and the fiches of the EJ those writes touch are recomputed and published.
Memory stays flat: a batch, the parser's fixed-size duplicate sets, the set of touched EJ.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import re
import uuid
import zlib
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from itertools import islice
from pathlib import Path
from typing import IO, Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.finess import departement_du_finess
from hopen_referentiel.etablissements import repository as etablissements
from hopen_referentiel.etablissements.service import recalculer_et_publier
from hopen_referentiel.importations import repository as depot
from hopen_referentiel.importations.repository import Fusion, Table
from hopen_referentiel.imports import (
    ActiviteCombinee,
    Avertissement,
    DomaineSunEs,
    EffectifsSae,
    EnteteEtalab,
    EntiteJuridique,
    EtablissementGeographique,
    EtablissementSae,
    ExceptionFinessPmsi,
    GroupementGht,
    RattachementGhu,
    Rejet,
    TypeDonnees,
    lire_base_eligible_csv,
    lire_base_eligible_xlsx,
    lire_finess_etalab,
    lire_finess_plus,
    lire_sae_identification,
)
from hopen_referentiel.imports.controles import EnsembleFiness
from hopen_referentiel.models import ImportFichier

TAILLE_LOT = 10_000
SIGNALEMENTS_MONTRES = 100


class TypeImport(StrEnum):
    FINESS_PLUS = "finess_plus"
    FINESS_ETALAB = "finess_etalab"
    SAE = "sae_identification"
    BASE_ELIGIBLE = "base_eligible"


# Imports of the same kind replace the same facts: an identical file right after the same
# kind's last import changes nothing and is not read again (unless forced).
_FAMILLE = {
    TypeImport.FINESS_PLUS: "finess",
    TypeImport.FINESS_ETALAB: "finess",
    TypeImport.SAE: "sae",
    TypeImport.BASE_ELIGIBLE: "base_eligible",
}


@dataclass(frozen=True)
class Demande:
    type: TypeImport
    nom_fichier: str
    demande_par: str
    role: str
    type_donnees: TypeDonnees | None = None  # eligible base as CSV: which kind
    forcer: bool = False  # read an identical file again


@dataclass
class Rapport:
    id: uuid.UUID
    demande: Demande
    sha256: str
    empreinte_contenu: str
    taille: int
    debut: datetime
    fin: datetime | None = None
    compteurs: dict[str, Any] = field(default_factory=dict)
    rejets: Counter[str] = field(default_factory=Counter)
    avertissements: Counter[str] = field(default_factory=Counter)
    signalements: list[Rejet | Avertissement] = field(default_factory=list)  # the first ones
    identique_a: uuid.UUID | None = None


_GENERE_LE = re.compile(rb'("generatedAt"\s*:\s*)"[^"]*"')


def empreinte_fichier(flux: IO[bytes], type_import: TypeImport) -> tuple[str, str, int]:
    """(sha256 of the bytes, sha256 of the content, size). The content fingerprint leaves out
    what a new extraction changes even when no record does: the FINESS+ `generatedAt` (and the
    gzip header's own timestamp), the etalab header line. A daily feed without any change is then
    recognised as such without being parsed (decompressing and hashing cost ~2 s nationally)."""
    flux.seek(0)
    octets = hashlib.sha256()
    contenu = hashlib.sha256()
    taille = 0
    decompresseur = None
    debut = True
    entete_a_sauter = type_import is TypeImport.FINESS_ETALAB
    while bloc := flux.read(1 << 20):
        octets.update(bloc)
        taille += len(bloc)
        if debut and type_import is TypeImport.FINESS_PLUS and bloc[:2] == b"\x1f\x8b":
            decompresseur = zlib.decompressobj(wbits=47)  # gzip or zlib header, automatic
        texte = decompresseur.decompress(bloc) if decompresseur is not None else bloc
        if debut and type_import is TypeImport.FINESS_PLUS:
            texte = _GENERE_LE.sub(rb'\1""', texte, count=1)
        if entete_a_sauter:
            fin_ligne = texte.find(b"\n")
            if fin_ligne < 0:
                continue
            texte, entete_a_sauter = texte[fin_ligne + 1 :], False
        contenu.update(texte)
        debut = False
    flux.seek(0)
    return octets.hexdigest(), contenu.hexdigest(), taille


def _tronque(valeur: str | None, longueur: int) -> str | None:
    return None if valeur is None else valeur[:longueur]


def _lots(elements: Iterator[Any], taille: int) -> Callable[[], list[Any]]:
    return lambda: list(islice(elements, taille))


class _Import:
    """State of one import while it runs."""

    def __init__(self, session: AsyncSession, rapport: Rapport) -> None:
        self.session = session
        self.rapport = rapport
        self.source = f"{rapport.demande.type.value}:{rapport.id}"
        self.signalements: list[tuple[Any, ...]] = []

    async def toucher(self, finess: set[str]) -> None:
        await depot.toucher(await etablissements.connexion(self.session), finess)

    async def signaler(self, element: Rejet | Avertissement) -> None:
        if isinstance(element, Rejet):
            self.rapport.rejets[element.code.value] += 1
            nature = "rejet"
        else:
            self.rapport.avertissements[element.code.value] += 1
            nature = "avertissement"
        if len(self.rapport.signalements) < SIGNALEMENTS_MONTRES:
            self.rapport.signalements.append(element)
        p = element.position
        # Bounded like their columns: a value "as written" can be anything.
        self.signalements.append((self.rapport.id, nature, element.code.value, element.message, p.ligne,
                                  _tronque(p.feuille, 100), _tronque(p.chemin, 200),
                                  _tronque(element.finess, 40), _tronque(element.champ, 100), element.valeur))
        if len(self.signalements) >= TAILLE_LOT:
            await self.vider_signalements()

    async def vider_signalements(self) -> None:
        cnx = await etablissements.connexion(self.session)
        await depot.enregistrer_signalements(cnx, self.signalements)
        self.signalements = []

    async def parcourir(
        self, elements: Iterator[Any], traiter: Callable[[list[Any]], Any]
    ) -> None:
        """Parse in a worker thread, one batch ahead of the database writes."""
        prendre = _lots(elements, TAILLE_LOT)
        suivant = asyncio.ensure_future(asyncio.to_thread(prendre))
        while True:
            lot = await suivant
            if not lot:
                break
            suivant = asyncio.ensure_future(asyncio.to_thread(prendre))
            try:
                await traiter(lot)
            except BaseException:
                await asyncio.gather(suivant, return_exceptions=True)
                raise


def _ligne_ej(e: EntiteJuridique, source: str) -> tuple[Any, ...]:
    longue = (e.raison_sociale_longue or "")[:300] or None
    return (e.finess, e.raison_sociale[:300], longue, e.statut_juridique, e.commune, e.departement, e.siren,
            e.date_creation, e.date_fermeture, e.ferme, source)


def _ligne_eg(e: EtablissementGeographique, source: str) -> tuple[Any, ...]:
    return (e.finess, e.finess_ej, e.raison_sociale[:300], (e.raison_sociale_longue or "")[:300] or None,
            e.categorie, e.agregat_categorie, e.commune, e.departement, e.siret, e.date_ouverture,
            e.date_fermeture, e.ferme, source)


async def _importer_finess(imp: _Import, elements: Iterator[Any], *, etalab: bool = False) -> None:
    cnx = await etablissements.connexion(imp.session)
    table_eg = depot.ETABLISSEMENT_ETALAB if etalab else depot.ETABLISSEMENT
    for table in (depot.ENTITE, table_eg, depot.GHT):
        await depot.preparer(cnx, table)
    groupements: list[GroupementGht] = []
    entete: EnteteEtalab | None = None

    async def traiter(lot: list[Any]) -> None:
        nonlocal entete
        ej, eg = [], []
        for element in lot:
            if isinstance(element, EtablissementGeographique):
                eg.append(_ligne_eg(element, imp.source))
            elif isinstance(element, EntiteJuridique):
                ej.append(_ligne_ej(element, imp.source))
            elif isinstance(element, Rejet | Avertissement):
                await imp.signaler(element)
            elif isinstance(element, GroupementGht):
                groupements.append(element)
            elif isinstance(element, EnteteEtalab):
                entete = element
        await depot.copier(cnx, depot.ENTITE, ej)
        await depot.copier(cnx, table_eg, eg)

    await imp.parcourir(elements, traiter)
    await depot.marquer_ej_deplacees(cnx)
    fusion_ej = await depot.fusionner(cnx, depot.ENTITE, marquer="finess")
    fusion_eg = await depot.fusionner(cnx, table_eg, marquer="finess_ej")
    compteurs: dict[str, Any] = {"entites_juridiques": fusion_ej.en_dict(),
                                 "etablissements": fusion_eg.en_dict()}
    if entete is not None:
        compteurs["extraction"] = {"numero": entete.numero, "date": entete.date_extraction.isoformat()}
    if groupements:
        compteurs["ght"] = await _ecrire_ght(imp, groupements)
    imp.rapport.compteurs.update(compteurs)


async def _ecrire_ght(imp: _Import, groupements: list[GroupementGht]) -> dict[str, int]:
    cnx = await etablissements.connexion(imp.session)
    await depot.preparer(cnx, depot.GHT)
    await depot.copier(cnx, depot.GHT, [
        (g.code, g.nom[:300], g.type_groupement, g.numero_gcc, g.actif, imp.source) for g in groupements
    ])
    fusion = await depot.fusionner(cnx, depot.GHT)
    # Only EJ the referentiel knows can be members (the membership table points at them).
    connues = await depot.ej_connues(cnx)
    membres_modifies = 0
    touches_ght: set[str] = set()
    for g in groupements:
        membres = {f: "M" for f in g.finess_membres if f in connues}
        if g.finess_support in connues:
            membres[g.finess_support] = "S"
        changes = await depot.remplacer_membres_ght(cnx, g.code, membres, imp.source)
        membres_modifies += len(changes)
        if changes:
            touches_ght.add(g.code)
        await imp.toucher(changes)
    # A member's maille is its GHT's support: when a GHT changes, all its members may change.
    if touches_ght:
        await imp.toucher(await depot.membres_des_ght(cnx, touches_ght))
    return {**fusion.en_dict(), "membres_modifies": membres_modifies}


async def _importer_sae(imp: _Import, elements: Iterator[Any]) -> None:
    """The SAE fills in establishments FINESS does not (yet) give: it never overwrites them."""
    cnx = await etablissements.connexion(imp.session)
    for table in (depot.ENTITE, depot.ETABLISSEMENT):
        await depot.preparer(cnx, table)
    vues = EnsembleFiness()
    eg: list[tuple[Any, ...]] = []
    ej: list[tuple[Any, ...]] = []

    async def traiter(lot: list[Any]) -> None:
        for element in lot:
            if isinstance(element, Rejet | Avertissement):
                await imp.signaler(element)
            elif isinstance(element, EtablissementSae):
                if vues.ajouter(element.finess_ej) or element.finess == element.finess_ej:
                    departement = departement_du_finess(element.finess_ej)
                    ej.append((element.finess_ej, element.raison_sociale[:300], None,
                               element.statut_juridique, None, departement, None, None, None, False,
                               imp.source))
                if element.categorie is not None and element.finess != element.finess_ej:
                    eg.append((element.finess, element.finess_ej, element.raison_sociale[:300], None,
                               element.categorie, element.agregat_categorie, None, element.departement,
                               None, None, None, False, imp.source))

    await imp.parcourir(elements, traiter)
    # The EJ row an EJ answers for itself (fi = fi_ej) wins over the name of one of its EG.
    par_ej: dict[str, tuple[Any, ...]] = {}
    for ligne in ej:
        par_ej[ligne[0]] = ligne
    await depot.copier(cnx, depot.ENTITE, list(par_ej.values()))
    await depot.copier(cnx, depot.ETABLISSEMENT, eg)
    fusion_ej = await depot.fusionner(cnx, depot.ENTITE, marquer="finess", mettre_a_jour=False)
    fusion_eg = await depot.fusionner(cnx, depot.ETABLISSEMENT, marquer="finess_ej", mettre_a_jour=False)
    imp.rapport.compteurs.update({
        "entites_juridiques": {"crees": fusion_ej.crees, "deja_connues": fusion_ej.inchanges},
        "etablissements": {"crees": fusion_eg.crees, "deja_connus": fusion_eg.inchanges},
    })


_TABLES_BASE: dict[type, Table] = {
    ActiviteCombinee: depot.ACTIVITE,
    EffectifsSae: depot.EFFECTIF,
    RattachementGhu: depot.GHU,
    ExceptionFinessPmsi: depot.EXCEPTION,
    DomaineSunEs: depot.DOMAINE,
}


def _ligne_base(element: Any, source: str) -> tuple[Any, ...]:
    if isinstance(element, ActiviteCombinee):
        composantes = (
            None if element.composantes is None
            else json.dumps({k: str(v) for k, v in asdict(element.composantes).items()}, sort_keys=True)
        )
        return (element.finess_pmsi, element.annee, element.activite_combinee, element.origine.value,
                element.activite_calculee, composantes, source)
    if isinstance(element, EffectifsSae):
        return (element.finess_eg, element.annee, element.effectifs_total, element.effectifs_salaries,
                element.effectifs_liberaux, source)
    if isinstance(element, RattachementGhu):
        return (element.finess_eg, element.finess_ghu, element.libelle_ghu[:300], source)
    if isinstance(element, ExceptionFinessPmsi):
        return (element.finess_ej, element.niveau_pmsi.value, element.motif[:300], source)
    assert isinstance(element, DomaineSunEs)
    return (element.finess_pmsi, element.domaine, source)


def _finess_de(element: Any) -> str:
    if isinstance(element, ActiviteCombinee | DomaineSunEs):
        return str(element.finess_pmsi)
    if isinstance(element, EffectifsSae | RattachementGhu):
        return str(element.finess_eg)
    return str(element.finess_ej)


async def _importer_base(imp: _Import, elements: Iterator[Any]) -> None:
    """Imported values win over computed ones: an imported AC replaces the stored one, and the
    difference with the AC computed from the components is a warning of the report."""
    cnx = await etablissements.connexion(imp.session)
    for table in _TABLES_BASE.values():
        await depot.preparer(cnx, table)
    groupements: list[GroupementGht] = []
    finess_cites: set[str] = set()

    async def traiter(lot: list[Any]) -> None:
        par_table: dict[Table, list[tuple[Any, ...]]] = {}
        for element in lot:
            if isinstance(element, Rejet | Avertissement):
                await imp.signaler(element)
            elif isinstance(element, GroupementGht):
                groupements.append(element)
            else:
                table = _TABLES_BASE[type(element)]
                par_table.setdefault(table, []).append(_ligne_base(element, imp.source))
                finess_cites.add(_finess_de(element))
                if isinstance(element, RattachementGhu):
                    finess_cites.add(element.finess_ghu)
        for table, lignes in par_table.items():
            await depot.copier(cnx, table, lignes)

    await imp.parcourir(elements, traiter)
    compteurs: dict[str, Any] = {}
    for table in _TABLES_BASE.values():
        fusion: Fusion = await depot.fusionner(cnx, table, mettre_a_jour=table is not depot.DOMAINE)
        if fusion.crees or fusion.modifies or fusion.inchanges:
            compteurs[table.nom] = fusion.en_dict()
    if groupements:
        compteurs["ght"] = await _ecrire_ght(imp, groupements)
    await imp.toucher(await depot.ej_de(cnx, finess_cites))
    imp.rapport.compteurs.update(compteurs)


async def _dernier_import(session: AsyncSession, demande: Demande) -> ImportFichier | None:
    familles = [t.value for t, f in _FAMILLE.items() if f == _FAMILLE[demande.type]]
    return await session.scalar(
        select(ImportFichier).where(ImportFichier.type.in_(familles)).order_by(ImportFichier.fin.desc()).limit(1)
    )


async def importer(
    session: AsyncSession, demande: Demande, source: Path | IO[bytes], maintenant: Callable[[], datetime]
    | None = None,
) -> Rapport:
    """Run one import in the session's transaction (the caller commits). Raises ErreurFichier
    (an ErreurReferentiel) when the file as a whole is unreadable."""
    horloge = maintenant or (lambda: datetime.now(UTC))
    if isinstance(source, Path):
        with source.open("rb") as flux:
            return await _importer_flux(session, demande, flux, horloge, source)
    return await _importer_flux(session, demande, source, horloge, None)


async def _importer_flux(
    session: AsyncSession, demande: Demande, source: IO[bytes], horloge: Callable[[], datetime],
    chemin: Path | None,
) -> Rapport:
    dernier = await _dernier_import(session, demande)
    empreintes: asyncio.Future[tuple[str, str, int]] | None = None
    if dernier is None and chemin is not None:
        # Nothing to compare with: the fingerprints (needed by the next import) are computed on a
        # second handle while the file is imported (zlib and hashlib release the GIL).
        empreintes = asyncio.ensure_future(asyncio.to_thread(_empreinte_chemin, chemin, demande.type))
        sha256, contenu, taille = "", "", 0
    else:
        sha256, contenu, taille = empreinte_fichier(source, demande.type)
    rapport = Rapport(uuid.uuid4(), demande, sha256, contenu, taille, horloge())
    if dernier is not None and dernier.empreinte_contenu == contenu and not demande.forcer:
        # Same content as the last import of this kind: every record is unchanged.
        rapport.identique_a = dernier.identique_a or dernier.id
        rapport.compteurs = _tous_inchanges(dernier.compteurs)
        rapport.rejets.update(dernier.compteurs.get("rejets", {}))
        rapport.avertissements.update(dernier.compteurs.get("avertissements", {}))
        rapport.fin = horloge()
        await _journaliser(session, rapport)
        return rapport
    try:
        await _executer(session, demande, source, rapport, horloge)
    except BaseException:
        if empreintes is not None:
            await asyncio.gather(empreintes, return_exceptions=True)
        raise
    if empreintes is not None:
        rapport.sha256, rapport.empreinte_contenu, rapport.taille = await empreintes
        await _journaliser(session, rapport)
    return rapport


def _empreinte_chemin(chemin: Path, type_import: TypeImport) -> tuple[str, str, int]:
    with chemin.open("rb") as flux:
        return empreinte_fichier(flux, type_import)


async def _executer(
    session: AsyncSession, demande: Demande, source: IO[bytes], rapport: Rapport,
    horloge: Callable[[], datetime],
) -> None:
    imp = _Import(session, rapport)
    await _journaliser(session, rapport)
    await depot.preparer_touchees(await etablissements.connexion(session))
    source.seek(0)
    if demande.type is TypeImport.FINESS_PLUS:
        await _importer_finess(imp, lire_finess_plus(source))
    elif demande.type is TypeImport.FINESS_ETALAB:
        cnx = await etablissements.connexion(session)
        await _importer_finess(imp, lire_finess_etalab(source, ej_connues=await depot.ej_connues(cnx)),
                               etalab=True)
    elif demande.type is TypeImport.SAE:
        await _importer_sae(imp, lire_sae_identification(source))
    elif demande.type_donnees is not None:
        await _importer_base(imp, lire_base_eligible_csv(source, demande.type_donnees))
    else:
        await _importer_base(imp, lire_base_eligible_xlsx(source))
    await imp.vider_signalements()
    publication = await recalculer_et_publier(session, horloge(), touchees=True)
    rapport.compteurs["fiches"] = publication.en_dict()
    rapport.fin = horloge()
    await _journaliser(session, rapport)


def _tous_inchanges(compteurs: dict[str, Any]) -> dict[str, Any]:
    resultat: dict[str, Any] = {}
    for cle, valeur in compteurs.items():
        if isinstance(valeur, dict) and "inchanges" in valeur:
            total = sum(v for k, v in valeur.items() if k in ("crees", "modifies", "inchanges", "fermes"))
            resultat[cle] = {"crees": 0, "modifies": 0, "inchanges": total, "fermes": 0}
        elif cle == "fiches":
            resultat[cle] = {"calculees": 0, "creees": 0, "modifiees": 0, "inchangees": 0, "evenements": 0}
        elif cle not in ("rejets", "avertissements"):
            resultat[cle] = valeur
    return resultat


async def _journaliser(session: AsyncSession, rapport: Rapport) -> None:
    """The journal row: written first (rejections point at it), completed at the end."""
    compteurs = {**rapport.compteurs, "rejets": dict(rapport.rejets),
                 "avertissements": dict(rapport.avertissements)}
    ligne = await session.get(ImportFichier, rapport.id)
    if ligne is not None:
        ligne.sha256, ligne.empreinte_contenu = rapport.sha256, rapport.empreinte_contenu
        ligne.taille = rapport.taille
    if ligne is None:
        ligne = ImportFichier(id=rapport.id, type=rapport.demande.type.value,
                              nom_fichier=rapport.demande.nom_fichier[:300], taille=rapport.taille,
                              sha256=rapport.sha256, empreinte_contenu=rapport.empreinte_contenu,
                              demande_par=rapport.demande.demande_par[:200],
                              role=rapport.demande.role, debut=rapport.debut,
                              fin=rapport.fin or rapport.debut,
                              compteurs=compteurs, identique_a=rapport.identique_a)
        session.add(ligne)
    else:
        ligne.fin = rapport.fin or rapport.debut
        ligne.compteurs = compteurs
    await session.flush()
