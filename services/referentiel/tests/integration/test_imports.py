"""Imports into the real PostgreSQL: the real samples without a wrongful rejection, idempotent
re-imports, per-record rejections that never block the good records, whole-file errors that
write nothing, and the fiches/events that follow the facts."""

from __future__ import annotations

import copy
import gzip
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from hopen_common.db import build_engine, build_sessionmaker, session_scope
from hopen_common.db.messaging import OutboxMessage
from hopen_referentiel.importations.service import Demande, Rapport, TypeImport, importer
from hopen_referentiel.imports import CodeErreurFichier, ErreurFichier, TypeDonnees
from hopen_referentiel.models import (
    ActiviteCombinee,
    EntiteJuridique,
    EtablissementGeographique,
    FicheEtablissement,
    ImportFichier,
    MembreGht,
    SignalementImport,
)

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures"
ECHANTILLON = FIXTURES / "finess" / "finess-structures-echantillon_json.gz"
SAE_2023 = FIXTURES / "sae" / "ID_2023r.csv"
SUPPORT = "210780581"
MEMBRES = {"210012142", "210780607", "210780631", "210780672", "210780706", "520780024", "520780032",
           "520780057"}


@pytest.fixture
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = build_engine(fresh_database("referentiel"))
    yield engine
    await engine.dispose()


async def _importer(engine: AsyncEngine, source: Path, type_import: TypeImport, *, forcer: bool = False,
                    type_donnees: TypeDonnees | None = None) -> Rapport:
    demande = Demande(type=type_import, nom_fichier=source.name, demande_par="test-dns", role="dns",
                      type_donnees=type_donnees, forcer=forcer)
    async with session_scope(build_sessionmaker(engine)) as session:
        return await importer(session, demande, source)


async def _compter(engine: AsyncEngine, modele: Any, *conditions: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(modele).where(*conditions)) or 0)


def _document() -> dict[str, Any]:
    document: dict[str, Any] = json.loads(gzip.decompress(ECHANTILLON.read_bytes()))
    return document


def _ecrire(document: dict[str, Any], chemin: Path) -> Path:
    chemin.write_bytes(gzip.compress(json.dumps(document).encode()))
    return chemin


async def test_echantillon_finess_plus_sans_rejet_avec_son_ght(moteur: AsyncEngine) -> None:
    rapport = await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)

    assert sum(rapport.rejets.values()) == 0, rapport.signalements
    assert rapport.compteurs["entites_juridiques"] == {
        "crees": 30, "modifies": 0, "inchanges": 0, "fermes": 0}
    assert rapport.compteurs["etablissements"]["crees"] == 1753
    assert rapport.compteurs["ght"]["crees"] == 1
    async with moteur.connect() as conn:
        membres = {r.finess_ej: r.role for r in await conn.execute(select(MembreGht))}
        journal = (await conn.execute(select(ImportFichier))).one()
    assert {f for f, role in membres.items() if role == "S"} == {SUPPORT}
    assert {f for f, role in membres.items() if role == "M"} == MEMBRES
    assert journal.demande_par == "test-dns"
    assert journal.nom_fichier == ECHANTILLON.name
    assert journal.compteurs["etablissements"]["crees"] == 1753
    # The fiches of the programme's perimeter are stored, and each of them is published.
    fiches = rapport.compteurs["fiches"]
    assert fiches["creees"] == await _compter(moteur, FicheEtablissement) > 0
    assert fiches["evenements"] == await _compter(moteur, OutboxMessage) == fiches["creees"]
    async with moteur.connect() as conn:
        membre = (await conn.execute(select(FicheEtablissement.detail).where(
            FicheEtablissement.finess == "520780032"))).scalar_one()
    assert membre["ght"] == {"code": "1", "role": "M", "support": SUPPORT}
    assert membre["dispositifs"]["phase1"]["maille"]["finess"] == SUPPORT
    assert membre["dispositifs"]["hospiconnect"]["maille"] == {"type": "GHT", "finess": SUPPORT, "ght": "1"}


async def test_reimport_inchange_ne_reecrit_rien(moteur: AsyncEngine, tmp_path: Path) -> None:
    premier = await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)
    async with moteur.connect() as conn:
        dates = dict((await conn.execute(text("SELECT finess, mis_a_jour_le FROM entite_juridique"))).all())
    evenements = await _compter(moteur, OutboxMessage)

    identique = await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)
    assert identique.identique_a == premier.id
    assert identique.compteurs["entites_juridiques"]["inchanges"] == 30

    # Next day's extraction: another generatedAt, other gzip bytes, the same records.
    texte = gzip.decompress(ECHANTILLON.read_bytes())
    assert b'"generatedAt": "2026-08-13T02:07:30.574916747Z"' in texte
    suivant = tmp_path / "lendemain.json.gz"
    texte = texte.replace(b"2026-08-13T02:07:30.574916747Z", b"2026-08-14T02:07:31Z")
    suivant.write_bytes(gzip.compress(texte))
    lendemain = await _importer(moteur, suivant, TypeImport.FINESS_PLUS)
    assert lendemain.sha256 != premier.sha256
    assert lendemain.identique_a == premier.id

    force = await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS, forcer=True)
    assert force.identique_a is None
    assert force.compteurs["entites_juridiques"] == {"crees": 0, "modifies": 0, "inchanges": 30, "fermes": 0}
    assert force.compteurs["etablissements"]["inchanges"] == 1753
    assert force.compteurs["fiches"]["evenements"] == 0
    assert await _compter(moteur, OutboxMessage) == evenements
    async with moteur.connect() as conn:
        requete = text("SELECT finess, mis_a_jour_le FROM entite_juridique")
        assert dict((await conn.execute(requete)).all()) == dates
    assert await _compter(moteur, ImportFichier) == 4


async def test_modification_et_fermeture_ne_republient_que_les_ej_touchees(
    moteur: AsyncEngine, tmp_path: Path
) -> None:
    await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)
    avant = await _compter(moteur, OutboxMessage)
    document = _document()
    support = next(p for p in document["pmej"] if p["informationsGeneralesPMEJ"]["numFinessPm"] == SUPPORT)
    support["ege"][0]["informationsGeneralesEGE"]["nomEgeCourt"] = "CHU DIJON RENOMME"
    calvi = next(p for p in document["pmej"] if p["informationsGeneralesPMEJ"]["numFinessPm"] == "520780057")
    calvi["informationsGeneralesPMEJ"]["dateFermeture"] = "2026-09-01"

    rapport = await _importer(moteur, _ecrire(document, tmp_path / "modifie.json.gz"), TypeImport.FINESS_PLUS)

    assert rapport.compteurs["etablissements"] == {"crees": 0, "modifies": 1, "inchanges": 1752, "fermes": 0}
    assert rapport.compteurs["entites_juridiques"] == {
        "crees": 0, "modifies": 0, "inchanges": 29, "fermes": 1}
    async with moteur.connect() as conn:
        cles = {r[0] for r in await conn.execute(
            select(OutboxMessage.key).order_by(OutboxMessage.id).offset(avant))}
        ferme = (await conn.execute(select(FicheEtablissement.detail).where(
            FicheEtablissement.finess == "520780057"))).scalar_one()
    assert cles, "the changes are published"
    ej_publiees = {SUPPORT, "520780057"}
    async with moteur.connect() as conn:
        rattachees = {r[0] for r in await conn.execute(
            select(FicheEtablissement.finess).where(FicheEtablissement.finess_ej.in_(ej_publiees)))}
    assert cles <= rattachees
    assert ferme["ferme"] is True
    assert ferme["dispositifs"]["phase1"]["eligible"] is False


async def test_rejets_par_enregistrement_sans_bloquer_les_autres(moteur: AsyncEngine, tmp_path: Path) -> None:
    document = _document()
    egs = [e for p in document["pmej"] for e in p.get("ege") or []]
    numero = egs[0]["informationsGeneralesEGE"]["numFinessEge"]
    # a wrong check key
    egs[0]["informationsGeneralesEGE"]["numFinessEge"] = numero[:8] + ("0" if numero[8] != "0" else "1")
    egs[1]["categorieentiteGeographiqueExercice"] = "999"  # not in TRE_R66
    document["pmej"][-1]["ege"].append(copy.deepcopy(egs[5]))  # duplicate FINESS
    orpheline = next(p for p in document["pmej"]
                     if len(p.get("ege") or []) == 1 and all(p["ege"][0] is not e for e in egs[:6]))
    orpheline["informationsGeneralesPMEJ"]["statutJuridique"] = "ZZ"  # EJ rejected: its EG too

    rapport = await _importer(moteur, _ecrire(document, tmp_path / "rejets.json.gz"), TypeImport.FINESS_PLUS)

    assert dict(rapport.rejets) == {"finess_cle": 1, "categorie_inconnue": 1, "doublon": 1,
                                    "statut_juridique_inconnu": 1, "ej_absente": 1}
    assert rapport.compteurs["entites_juridiques"]["crees"] == 29
    assert rapport.compteurs["etablissements"]["crees"] == 1753 - 3
    async with moteur.connect() as conn:
        signalements = (await conn.execute(select(SignalementImport))).all()
    assert len(signalements) == 5
    assert all(s.message and s.chemin and s.import_id == rapport.id for s in signalements)
    cle = next(s for s in signalements if s.code == "finess_cle")
    assert cle.champ == "numFinessEge"
    assert cle.chemin.startswith("pmej[")


async def test_fichier_tronque_n_ecrit_rien(moteur: AsyncEngine, tmp_path: Path) -> None:
    tronque = tmp_path / "tronque.json.gz"
    tronque.write_bytes(ECHANTILLON.read_bytes()[:200_000])
    with pytest.raises(ErreurFichier) as erreur:
        await _importer(moteur, tronque, TypeImport.FINESS_PLUS)
    assert erreur.value.code is CodeErreurFichier.FICHIER_TRONQUE
    for modele in (EntiteJuridique, EtablissementGeographique, ImportFichier, SignalementImport,
                   OutboxMessage, FicheEtablissement):
        assert await _compter(moteur, modele) == 0, modele


def _ligne_etalab(finess: str, finess_ej: str, nom: str, categorie: str, departement: str) -> str:
    champs = ["structureet", finess, finess_ej, nom, nom, "", "", "", "", "", "", "", "231", departement,
              "", "", "", "", categorie, "", "", "", "", "", "", "", "", "", "2001-01-01", "",
              "2026-07-07", ""]
    return ";".join(champs)


async def test_etalab_rejets_par_ligne(moteur: AsyncEngine, tmp_path: Path) -> None:
    await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)
    lignes = [
        "finess;etalab;95;2026-07-07",
        _ligne_etalab("210986089", SUPPORT, "CHU DIJON (etalab)", "101", "21"),  # a known EG, renamed
        _ligne_etalab("2B0005359", "2B0005342", "CH CALVI", "355", "2B"),  # its EJ is unknown here
        _ligne_etalab("210986089", SUPPORT, "DOUBLON", "101", "21"),
        "structureet;210987558;210780581;TRONQUEE",
        "geolocalisation;210986089;1;2;IGN;2026-07-07",
    ]
    utf8 = "\nstructureet;210987558;210780581;\u00c9T\u00c9".encode()  # a line re-saved in UTF-8
    contenu = "\n".join(lignes).encode("cp1252") + utf8 + b"\n"
    chemin = tmp_path / "etalab-cs1100507-stock.csv"
    chemin.write_bytes(contenu)

    rapport = await _importer(moteur, chemin, TypeImport.FINESS_ETALAB)

    assert dict(rapport.rejets) == {
        "ej_absente": 1, "doublon": 1, "ligne_tronquee": 1, "encodage_invalide": 1}
    assert rapport.compteurs["etablissements"] == {"crees": 0, "modifies": 1, "inchanges": 0, "fermes": 0}
    assert rapport.compteurs["extraction"] == {"numero": "95", "date": "2026-07-07"}
    lignes_rejetees = {s.position.ligne for s in rapport.signalements}
    assert lignes_rejetees == {3, 4, 5, 7}
    async with moteur.connect() as conn:
        nom = await conn.scalar(select(EtablissementGeographique.raison_sociale).where(
            EtablissementGeographique.finess == "210986089"))
    assert nom == "CHU DIJON (etalab)"


async def test_base_eligible_l_activite_importee_gagne_et_l_ecart_est_signale(
    moteur: AsyncEngine, tmp_path: Path
) -> None:
    await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)
    async with moteur.connect() as conn:
        avant = (await conn.execute(select(FicheEtablissement.detail).where(
            FicheEtablissement.finess == SUPPORT))).scalar_one()
    assert avant["dispositifs"]["phase1"]["eligible"] is False  # no activity known yet
    csv = tmp_path / "activite.csv"
    csv.write_text(
        "finess_pmsi;annee;activite_combinee;journees_mco;seances_mco;hdj_chirurgie_ambulatoire;hdj_autres;"
        "journees_smr;journees_psy;journees_had;journees_usld\n"
        f"{SUPPORT};2022;612480;152000;18000;21000;9000;14000;0;2000;6000\n"
        f"{SUPPORT};2024;620000;;;;;;;;\n"
        "210780582;2022;1;;;;;;;;\n",  # wrong check key
        encoding="utf-8",
    )
    evenements = await _compter(moteur, OutboxMessage)

    rapport = await _importer(moteur, csv, TypeImport.BASE_ELIGIBLE,
                              type_donnees=TypeDonnees.ACTIVITE_COMBINEE)

    assert dict(rapport.rejets) == {"finess_cle": 1}
    assert dict(rapport.avertissements) == {"ecart_activite_combinee": 1}
    assert rapport.compteurs["activite_combinee"]["crees"] == 2
    async with moteur.connect() as conn:
        ac = (await conn.execute(select(ActiviteCombinee).where(ActiviteCombinee.campagne == 2022))).one()
        apres = (await conn.execute(select(FicheEtablissement.detail).where(
            FicheEtablissement.finess == SUPPORT))).scalar_one()
    assert str(ac.valeur) == "612480.00"
    assert ac.origine == "importee"
    assert ac.valeur_calculee is not None
    assert ac.valeur_calculee != ac.valeur
    assert apres["activite_combinee"] == "612480.00"
    assert apres["activite_combinee_2024"] == "620000.00"
    assert apres["dispositifs"]["phase1"]["eligible"] is True
    assert await _compter(moteur, OutboxMessage) > evenements


async def test_sae_reelle_sans_rejet_et_sans_ecraser_finess(moteur: AsyncEngine) -> None:
    await _importer(moteur, ECHANTILLON, TypeImport.FINESS_PLUS)
    async with moteur.connect() as conn:
        nom = await conn.scalar(
            select(EntiteJuridique.raison_sociale).where(EntiteJuridique.finess == SUPPORT))

    rapport = await _importer(moteur, SAE_2023, TypeImport.SAE)

    assert sum(rapport.rejets.values()) == 0, rapport.signalements[:5]
    assert rapport.compteurs["etablissements"]["crees"] > 3000
    assert rapport.compteurs["entites_juridiques"]["deja_connues"] > 0
    async with moteur.connect() as conn:
        assert await conn.scalar(select(EntiteJuridique.raison_sociale).where(
            EntiteJuridique.finess == SUPPORT)) == nom
    assert await _compter(moteur, FicheEtablissement) > 4000
