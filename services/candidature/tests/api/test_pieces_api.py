"""Pieces through the candidature API on its real database, with a files store of the module's own
(and one round trip on the real SeaweedFS): every accepted type back byte for byte with its hash,
versions, the list, ranges, 304, the size limit and the refused contents with nothing left behind
(no row, no object, no event), who may read (each read audited), PieceDeposee in the outbox, an
interrupted upload, concurrent uploads, GHT pieces per EJ, HospiConnect evidence and AAP letters
naming pieces, the orphan collector."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine
from starlette.requests import ClientDisconnect

from hopen_candidature.main import create_app
from hopen_candidature.models import EtablissementConnu, Piece, PreuveHospiconnect, ProjetAap
from hopen_candidature.settings import CandidatureSettings
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.stockage import StockageFichiers
from hopen_common.testing import fichiers, jeton
from hopen_common.testing.api import NouveauClient, client_api, compter, reglages_de_test, rien_ecrit
from hopen_common.testing.copies_locales import etablissement_connu
from hopen_common.testing.pieces import deposer_avec_pieces, televerser
from hopen_common.testing.plugin import S3ServerInfo

SEUL = "2A0002606"  # public EJ outside a GHT, region 94
CALVI = "2B0005342"  # another one, for the deposit walk-through
SUPPORT, MEMBRE = "210780581", "520780032"  # GHT BFC-03, region 27
AUTRE = "800003071"  # another establishment, region 32
LEAD, LEAD_EG = "210012142", "210987665"  # AAP lead and its EG, region 27

GHT = {"region": "27", "ght_code": "BFC-03", "maille_phase1": SUPPORT, "maille_hospiconnect": SUPPORT}


_etab = etablissement_connu


ETABLISSEMENTS = [
    _etab(SEUL), _etab(CALVI),
    _etab(SUPPORT, **{**GHT, "ght_role": "S"}), _etab(MEMBRE, **{**GHT, "ght_role": "M"}),
    _etab(AUTRE, region="32", secteur="prive_lucratif", maille_phase1=None),
    _etab(LEAD, region="27"),
    _etab(LEAD_EG, finess_ej=LEAD, niveau="EG", region="27", maille_aap=LEAD, finess_pmsi_phase2=LEAD),
]
LIMITE = 64 * 1024  # the module's configured limit (the default is 20 MiB)


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), ETABLISSEMENTS)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def api(nouveau_client: NouveauClient) -> AsyncIterator[httpx.AsyncClient]:
    async with nouveau_client(ouvert=True, pieces_requises=True, stockage_taille_max=LIMITE) as client:
        yield client


@pytest.fixture(scope="module")
def objets(stockage_url: str) -> Callable[[], list[str]]:
    """The keys under pieces/ in the module's files store (and any partial file left)."""
    racine = Path(stockage_url.removeprefix("file://"))

    def lister() -> list[str]:
        return sorted(str(p.relative_to(racine)) for p in racine.rglob("*") if p.is_file())
    return lister


ECRITES = (Piece, JournalAudit, OutboxMessage)
ES = jeton("etablissement", finess=[SEUL], sujet="dir-seul")


def _probleme(r: httpx.Response, statut: int, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps.get("champ") == champ, corps
    return corps


def multipart(*parties: tuple[str, str | None, bytes], limite: str = "xXhopenXx") -> tuple[bytes, str]:
    """A multipart/form-data body with the parts in this order (httpx always puts fields first)."""
    corps = b""
    for nom, fichier, donnees in parties:
        disposition = f'form-data; name="{nom}"' + (f'; filename="{fichier}"' if fichier is not None else "")
        corps += (f"--{limite}\r\nContent-Disposition: {disposition}\r\n"
                  f"Content-Type: application/octet-stream\r\n\r\n").encode() + donnees + b"\r\n"
    return corps + f"--{limite}--\r\n".encode(), f"multipart/form-data; boundary={limite}"


async def _televerser(api: httpx.AsyncClient, chemin: str, type_: str, donnees: bytes, *,
                      nom: str = "piece.pdf", entetes: dict[str, str] | None = None,
                      finess_ej: str | None = None, media: str = "application/pdf") -> httpx.Response:
    champs = {"type": type_} | ({"finess_ej": finess_ej} if finess_ej else {})
    return await api.post(f"{chemin}/pieces", headers=entetes or ES, data=champs,
                          files={"fichier": (nom, donnees, media)})


async def _candidature(api: httpx.AsyncClient, finess: str, dispositif: str = "phase1") -> str:
    es = jeton("etablissement", finess=[finess])
    corps: dict[str, Any] = {"dispositif": dispositif, "finess": finess}
    if dispositif == "phase1":
        corps["objectifs"] = ["P1.O1"]
    r = await api.post("/v1/candidatures", headers=es, json=corps)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


@pytest.fixture(scope="module")
async def cid(api: httpx.AsyncClient) -> str:
    return await _candidature(api, SEUL)


@pytest.fixture(scope="module")
async def hc(api: httpx.AsyncClient) -> str:
    """SEUL's HospiConnect candidature, deposited (evidence is deposited after the candidature)."""
    hc = await _candidature(api, SEUL, "hospiconnect")
    url = f"/v1/candidatures/{hc}"
    r = await deposer_avec_pieces(api, url, ES, fournir=televerser(api, url, ES))
    assert r.status_code == 200, r.text
    return hc


async def _evenements(engine: AsyncEngine, cle: str, type_: str) -> list[dict[str, Any]]:
    async with engine.connect() as conn:
        rows = await conn.scalars(select(OutboxMessage.envelope).where(
            OutboxMessage.key == cle, OutboxMessage.envelope["type"].astext == type_
        ).order_by(OutboxMessage.id))
        return [dict(r["data"]) for r in rows]


@pytest.mark.parametrize(("fabrique", "media_type", "nom", "type_", "dossier"), [
    (fichiers.pdf, "application/pdf", "référent identitovigilance.pdf", "P1.P1", "cid"),
    (fichiers.png, "image/png", "scan.png", "HC.1.4.2027", "hc"),  # images: HospiConnect evidence
    (fichiers.jpeg, "image/jpeg", "photo.jpg", "HC.1.4.2027", "hc"),
    (fichiers.docx, "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "fiche.docx",
     "P1.P1", "cid"),
    (fichiers.xlsx, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "q.xlsx",
     "P1.P4", "cid"),
    (fichiers.odt, "application/vnd.oasis.opendocument.text", "charte.odt", "P1.P2", "cid"),
    (fichiers.ods, "application/vnd.oasis.opendocument.spreadsheet", "questionnaire.ods", "P1.P4", "cid"),
])
async def test_chaque_type_accepte_rendu_a_l_octet(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                   cid: str, hc: str, fabrique: Callable[[], bytes],
                                                   media_type: str, nom: str, type_: str,
                                                   dossier: str) -> None:
    cid = {"cid": cid, "hc": hc}[dossier]
    es = jeton("etablissement", finess=[SEUL], sujet="dir-seul")
    donnees = fabrique()
    # The client's Content-Type is ignored: the content says what the file is.
    r = await _televerser(api, f"/v1/candidatures/{cid}", type_, donnees, nom=nom, media="text/plain",
                          entetes=es)
    assert r.status_code == 201, r.text
    piece = r.json()
    sha = hashlib.sha256(donnees).hexdigest()
    assert {k: piece[k] for k in ("type", "nom", "taille", "sha256", "media_type", "finess_ej")} == {
        "type": type_, "nom": nom, "taille": len(donnees), "sha256": sha, "media_type": media_type,
        "finess_ej": None}
    assert r.headers["location"] == f"/v1/candidatures/{cid}/pieces/{piece['id']}/contenu"
    lu = await api.get(r.headers["location"], headers=ES)
    assert lu.status_code == 200
    assert lu.content == donnees
    assert hashlib.sha256(lu.content).hexdigest() == sha
    assert lu.headers["content-type"] == media_type
    assert lu.headers["etag"] == f'"{sha}"'
    assert lu.headers["accept-ranges"] == "bytes"
    assert lu.headers["content-length"] == str(len(donnees))
    assert lu.headers["content-disposition"].endswith(f"filename*=UTF-8''{quote(nom, safe='')}")
    (evenement,) = [e for e in await _evenements(moteur, cid, "PieceDeposee") if e["piece_id"] == piece["id"]]
    assert evenement == {**evenement, "dossier_type": "candidature", "dossier_id": cid, "finess": SEUL,
                         "region": "94", "type": type_, "sha256": sha, "taille": len(donnees),
                         "media_type": media_type, "version": piece["version"], "depose_par": "dir-seul"}


async def test_versions_liste_et_audit(api: httpx.AsyncClient, moteur: AsyncEngine, hc: str) -> None:
    cid = hc
    chemin = f"/v1/candidatures/{cid}"
    # Types no other test of the module uploads on this dossier (its deposit brought HC.ADM.CANDIDATURE).
    v1 = (await _televerser(api, chemin, "HC.ADM.GHT.DECISION", fichiers.pdf("v1"))).json()
    v2 = (await _televerser(api, chemin, "HC.ADM.GHT.DECISION", fichiers.pdf("v2"))).json()
    autre = (await _televerser(api, chemin, "HC.1.1.2027", fichiers.png())).json()
    assert (v1["version"], v2["version"], autre["version"]) == (1, 2, 1)
    page = (await api.get(f"{chemin}/pieces", headers=ES)).json()
    assert (page["total"], page["limit"], page["offset"]) == (len(page["items"]), 50, 0)
    # Grouped by type in code order, newest version first; `courante` marks the latest.
    lignes = [(p["type"], p["version"], p["courante"]) for p in page["items"]]
    assert lignes == sorted(lignes, key=lambda ligne: (ligne[0], -ligne[1]))
    assert [ligne for ligne in lignes if ligne[0] in ("HC.1.1.2027", "HC.ADM.GHT.DECISION")] == [
        ("HC.1.1.2027", 1, True), ("HC.ADM.GHT.DECISION", 2, True), ("HC.ADM.GHT.DECISION", 1, False)]
    rang = [p["id"] for p in page["items"]].index(v2["id"])
    assert [p["id"] for p in (await api.get(f"{chemin}/pieces?limit=1&offset={rang}", headers=ES)).json()[
        "items"]] == [v2["id"]]
    # The earlier version stays readable, with its own bytes.
    assert (await api.get(f"{chemin}/pieces/{v1['id']}/contenu", headers=ES)).content == fichiers.pdf("v1")

    # Who may read: the owner, the ARS of the region, the DNS; every read audited.
    ars, dns = jeton("ars", region="94", sujet="ars-94"), jeton("dns", sujet="dns")
    for lecteur, sujet in ((ars, "ars-94"), (dns, "dns")):
        assert (await api.get(f"{chemin}/pieces", headers=lecteur)).status_code == 200
        r = await api.get(f"{chemin}/pieces/{v2['id']}/contenu", headers=lecteur)
        assert r.status_code == 200
        assert r.content == fichiers.pdf("v2")
        assert await compter(moteur, JournalAudit, JournalAudit.action == "lire_piece",
                             JournalAudit.objet_id == v2["id"], JournalAudit.acteur == sujet) == 1
        assert await compter(moteur, JournalAudit, JournalAudit.action == "lister_pieces",
                             JournalAudit.objet_id == cid, JournalAudit.acteur == sujet) == 1
    # Each row carries the dossier's region: the region's ARS reads them in the journal, another does not.
    journal = (await api.get("/v1/audit", params={"objet": v2["id"], "type": "piece"}, headers=ars)).json()
    assert [(x["action"], x["acteur"], x["region"]) for x in journal["items"]] == [
        ("deposer_piece", "dir-seul", "94"), ("lire_piece", "ars-94", "94"), ("lire_piece", "dns", "94")]
    listes = (await api.get("/v1/audit", params={"objet": cid, "type": "candidature"}, headers=ars)).json()
    assert {x["region"] for x in listes["items"]} == {"94"}
    assert "lister_pieces" in {x["action"] for x in listes["items"]}
    ailleurs = await api.get("/v1/audit", params={"objet": v2["id"]}, headers=jeton("ars", region="32"))
    assert ailleurs.json()["total"] == 0
    # Anyone else: 404, as for a missing dossier; nothing audited.
    for etranger in (jeton("etablissement", finess=[AUTRE]), jeton("ars", region="32"),
                     jeton("etablissement", finess=[MEMBRE])):
        async with rien_ecrit(moteur, *ECRITES):
            _probleme(await api.get(f"{chemin}/pieces", headers=etranger), 404, None)
            _probleme(await api.get(f"{chemin}/pieces/{v2['id']}/contenu", headers=etranger), 404, None)
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await _televerser(api, chemin, "HC.ADM.CANDIDATURE", fichiers.pdf(),
                                    entetes=jeton("etablissement", finess=[AUTRE])), 404, None)
        # A reader who is not an establishment cannot upload (the role check of every write: 403).
        r = await _televerser(api, chemin, "HC.ADM.CANDIDATURE", fichiers.pdf(), entetes=ars)
        _probleme(r, 403, None)
        _probleme(await api.get(f"{chemin}/pieces/{autre['id']}x/contenu", headers=ES), 404, None)
        # A piece of another dossier through this one: 404.
        _probleme(await api.get(f"/v1/candidatures/{await _cid_seul(moteur)}/pieces/{v2['id']}/contenu",
                                headers=ES), 404, None)


async def _cid_seul(moteur: AsyncEngine) -> str:
    async with moteur.connect() as conn:
        from hopen_candidature.models import Candidature
        return str(await conn.scalar(select(Candidature.id).where(
            Candidature.finess == SEUL, Candidature.dispositif == "phase1")))


async def test_plages_et_304(api: httpx.AsyncClient, cid: str) -> None:
    donnees = fichiers.pdf_de_taille(10_000)
    piece = (await _televerser(api, f"/v1/candidatures/{cid}", "P1.P3", donnees)).json()
    url = f"/v1/candidatures/{cid}/pieces/{piece['id']}/contenu"
    for plage, debut, fin in (("bytes=10-19", 10, 20), ("bytes=9990-", 9990, 10_000),
                              ("bytes=-5", 9995, 10_000), ("bytes=9000-20000", 9000, 10_000)):
        r = await api.get(url, headers={**ES, "Range": plage})
        assert r.status_code == 206, (plage, r.text)
        assert r.content == donnees[debut:fin]
        assert r.headers["content-range"] == f"bytes {debut}-{fin - 1}/10000"
        assert r.headers["content-length"] == str(fin - debut)
    # Several ranges or a malformed one: the whole piece (a server may ignore Range).
    for ignoree in ("bytes=0-1,5-6", "octets=0-1", "bytes=5-2"):
        r = await api.get(url, headers={**ES, "Range": ignoree})
        assert (r.status_code, r.content) == (200, donnees)
    for impossible in ("bytes=10000-", "bytes=20000-20001", "bytes=-0"):
        r = await api.get(url, headers={**ES, "Range": impossible})
        assert _probleme(r, 416, "Range")["taille"] == 10_000
        assert r.headers["content-range"] == "bytes */10000"
    etag = f'"{piece["sha256"]}"'
    r = await api.get(url, headers={**ES, "If-None-Match": etag})
    assert (r.status_code, r.content, r.headers["etag"]) == (304, b"", etag)
    assert (await api.get(url, headers={**ES, "If-None-Match": '"autre"'})).status_code == 200
    # If-Range with a stale validator: the whole piece.
    r = await api.get(url, headers={**ES, "Range": "bytes=0-9", "If-Range": '"autre"'})
    assert (r.status_code, len(r.content)) == (200, 10_000)


async def test_limite_de_taille(api: httpx.AsyncClient, moteur: AsyncEngine, cid: str,
                                objets: Callable[[], list[str]]) -> None:
    chemin = f"/v1/candidatures/{cid}"
    avant = objets()
    async with rien_ecrit(moteur, *ECRITES):
        r = await _televerser(api, chemin, "P1.P4", fichiers.pdf_de_taille(LIMITE + 1))
        assert _probleme(r, 413, "fichier")["limite"] == LIMITE
    assert objets() == avant  # no object, no partial file
    r = await _televerser(api, chemin, "P1.P4", fichiers.pdf_de_taille(LIMITE))
    assert (r.status_code, r.json()["taille"]) == (201, LIMITE)


@pytest.mark.parametrize(("parties", "statut", "champ", "extrait"), [
    ([("type", None, b"P1.P2"), ("fichier", "rapport.pdf", fichiers.exe())], 415, "fichier", "executable"),
    ([("type", None, b"P1.P2"), ("fichier", "page.pdf", fichiers.html())], 415, "fichier", "inconnu"),
    ([("type", None, b"P1.P2"), ("fichier", "vide.pdf", b"")], 415, "fichier", "vide"),
    # An accepted kind of file, not one this piece type accepts (programme data: a charter is a text).
    ([("type", None, b"P1.P2"), ("fichier", "charte.png", fichiers.png())], 415, "fichier", "attendue en"),
    ([("type", None, b"P9.P9"), ("fichier", "a.pdf", fichiers.pdf())], 422, "type", "inconnu"),
    ([("type", None, b"AAP.LETTRE"), ("fichier", "a.pdf", fichiers.pdf())], 422, "type", "phase1"),
    ([("type", None, b"p1 p1"), ("fichier", "a.pdf", fichiers.pdf())], 422, "type", "invalide"),
    ([("fichier", "a.pdf", fichiers.pdf())], 422, "type", "requis"),
    ([("type", None, b"P1.P2")], 422, "fichier", "requis"),
    # The type arrives after the file: the file was stored, then deleted.
    ([("fichier", "a.pdf", fichiers.pdf()), ("type", None, b"P9.P9")], 422, "type", "inconnu"),
    ([("type", None, b"P1.P2"), ("fichier", "a.pdf", fichiers.pdf()), ("fichier", "b.pdf", fichiers.pdf())],
     422, "fichier", "un seul"),
    ([("type", None, b"P1.P2"), ("fichier", None, fichiers.pdf())], 422, "fichier", "filename"),
    ([("type", None, b"P1.P2"), ("type", None, b"P1.P3"), ("fichier", "a.pdf", fichiers.pdf())],
     422, "type", "double"),
    ([("type", None, b"P1.P2"), ("fichier", "a.pdf", fichiers.pdf()), ("sha256", None, b"ab" * 32)],
     422, "sha256", "inconnu"),
    ([("type", None, b"P1.P2"), ("finess_ej", None, MEMBRE.encode()), ("fichier", "a.pdf", fichiers.pdf())],
     422, "finess_ej", "pas l'entité juridique"),
    ([("type", None, b"P1.P2" * 30), ("fichier", "a.pdf", fichiers.pdf())], 422, "type", "octets"),
])
async def test_refus_sans_rien_ecrire(api: httpx.AsyncClient, moteur: AsyncEngine, cid: str,
                                      objets: Callable[[], list[str]],
                                      parties: list[tuple[str, str | None, bytes]], statut: int, champ: str,
                                      extrait: str) -> None:
    corps, content_type = multipart(*parties)
    avant = objets()
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{cid}/pieces", headers={**ES, "Content-Type": content_type},
                           content=corps)
    assert extrait in _probleme(r, statut, champ)["detail"]
    assert objets() == avant


async def test_requete_qui_n_est_pas_un_formulaire(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                   cid: str) -> None:
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{cid}/pieces", headers=ES, json={"type": "P1.P1"})
        _probleme(r, 415, "Content-Type")
        corps, content_type = multipart(("type", None, b"P1.P1"), ("fichier", "a.pdf", fichiers.pdf()))
        r = await api.post(f"/v1/candidatures/{cid}/pieces", headers={**ES, "Content-Type": content_type},
                           content=corps[:-30])  # truncated before its closing boundary
        _probleme(r, 422, "fichier")


async def test_televersement_interrompu(nouveau_client: NouveauClient, moteur: AsyncEngine, cid: str,
                                        objets: Callable[[], list[str]], stockage_url: str,
                                        kafka_bootstrap: str) -> None:
    """The client disconnects in the middle of its file: no row, no object, no event."""
    app = create_app(reglages_de_test(CandidatureSettings, moteur, kafka_bootstrap, calendrier_ouvert=True,
                                      stockage_url=stockage_url))
    corps, content_type = multipart(("type", None, b"P1.P1"),
                                    ("fichier", "gros.pdf", fichiers.pdf_de_taille(50_000)))
    messages = [{"type": "http.request", "body": corps[i:i + 8192], "more_body": True}
                for i in range(0, 30_000, 8192)] + [{"type": "http.disconnect"}]
    envoyes: list[dict[str, Any]] = []

    async def recevoir() -> dict[str, Any]:
        return messages.pop(0) if messages else {"type": "http.disconnect"}

    async def envoyer(message: dict[str, Any]) -> None:
        envoyes.append(message)

    entetes = [(b"content-type", content_type.encode()), (b"authorization", ES["Authorization"].encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
             "scheme": "http", "path": f"/v1/candidatures/{cid}/pieces", "raw_path": b"", "query_string": b"",
             "root_path": "", "headers": entetes, "client": ("127.0.0.1", 1), "server": ("test", 80),
             "app": app}
    avant = objets()
    async with app.router.lifespan_context(app), rien_ecrit(moteur, *ECRITES):
        # Starlette re-raises what ended the request: the disconnect seen while reading the body.
        with contextlib.suppress(ClientDisconnect):
            await app(scope, recevoir, envoyer)
    assert messages == []  # the app read up to the disconnect
    assert objets() == avant
    assert not any(m.get("status") == 201 for m in envoyes)


async def test_televersements_concurrents(api: httpx.AsyncClient, cid: str) -> None:
    chemin = f"/v1/candidatures/{cid}"
    reponses = await asyncio.gather(*[_televerser(api, chemin, "P1.GHT.MANDAT", fichiers.pdf(str(i)))
                                      for i in range(6)])
    assert [r.status_code for r in reponses] == [201] * 6
    assert sorted(r.json()["version"] for r in reponses) == [1, 2, 3, 4, 5, 6]


async def test_pieces_d_un_ght_par_ej(api: httpx.AsyncClient) -> None:
    support = jeton("etablissement", finess=[SUPPORT])
    gid = await _candidature(api, SUPPORT)
    chemin = f"/v1/candidatures/{gid}"
    dossier = await _televerser(api, chemin, "P1.GHT.DSI", fichiers.pdf(), entetes=support)
    membre = await _televerser(api, chemin, "P1.P3", fichiers.pdf(), entetes=support, finess_ej=MEMBRE)
    support_ej = await _televerser(api, chemin, "P1.P3", fichiers.pdf(), entetes=support, finess_ej=SUPPORT)
    assert [(r.status_code, r.json()["finess_ej"], r.json()["version"]) for r in (dossier, membre, support_ej)
            ] == [(201, None, 1), (201, MEMBRE, 1), (201, SUPPORT, 1)]  # one series per EJ
    _probleme(await _televerser(api, chemin, "P1.P3", fichiers.pdf(), entetes=support, finess_ej=AUTRE),
              422, "finess_ej")
    # A GHT member is not the dossier's owner: it does not read the support's pieces.
    _probleme(await api.get(f"{chemin}/pieces", headers=jeton("etablissement", finess=[MEMBRE])), 404, None)


async def test_preuve_hospiconnect_nomme_une_piece(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                  hc: str) -> None:
    piece = (await _televerser(api, f"/v1/candidatures/{hc}", "HC.1.0.2026", fichiers.pdf("note"),
                               nom="note-de-cadrage.pdf")).json()
    ailleurs = (await _televerser(api, f"/v1/candidatures/{await _cid_seul(moteur)}", "P1.P1",
                                  fichiers.pdf())).json()
    for piece_id in (ailleurs["id"], "00000000-0000-4000-8000-000000000000"):
        async with rien_ecrit(moteur, PreuveHospiconnect, OutboxMessage):
            r = await api.post(f"/v1/candidatures/{hc}/preuves", headers=ES,
                               json={"annee": 2026, "objectif": "1.0", "piece_id": piece_id})
            assert "pas une pièce de cette candidature" in _probleme(r, 422, "piece_id")["detail"]
    r = await api.post(f"/v1/candidatures/{hc}/preuves", headers=ES,
                       json={"annee": 2026, "objectif": "1.0", "piece_id": piece["id"]})
    assert r.status_code == 201, r.text
    assert (r.json()["piece_id"], r.json()["document_sha256"]) == (piece["id"], piece["sha256"])
    (evenement,) = await _evenements(moteur, hc, "PreuveHospiconnectDeposee")
    assert evenement["document"] == {"piece_id": piece["id"], "sha256": piece["sha256"],
                                     "nom": "note-de-cadrage.pdf", "type": "HC.1.0.2026"}


async def test_projet_et_lettres_de_partenaires(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    lead = jeton("etablissement", finess=[LEAD], sujet="dir-lead")
    r = await api.post("/v1/projets", headers=lead, json={
        "finess": LEAD, "theme": "rattrapage_maturite", "sans_versement_usage": True, "titre": "Socle",
        "description": "Rattrapage.", "objectifs": ["Socle"], "perimetre": [LEAD_EG],
        "equipe": [{"nom": "A", "fonction": "DSI", "responsable": True}],
        "depenses_prevues": [{"annee": 2026, "montant": "1000.00"}, {"annee": 2027, "montant": "1000.00"}]})
    assert r.status_code == 201, r.text
    pid = r.json()["id"]
    chemin = f"/v1/projets/{pid}"
    _probleme(await _televerser(api, chemin, "P1.P1", fichiers.pdf(), entetes=lead), 422, "type")
    lettre = (await _televerser(api, chemin, "AAP.LETTRE", fichiers.pdf("lettre"), entetes=lead,
                                nom="engagement.pdf")).json()
    equipe = (await _televerser(api, chemin, "AAP.EQUIPE", fichiers.docx(), entetes=lead)).json()
    for demande, extrait in (({"partenaire": "Éditeur", "piece_id": equipe["id"]}, "AAP.LETTRE"),
                             ({"partenaire": "Éditeur", "piece_id": "00000000-0000-4000-8000-000000000000"},
                              "pas une pièce de ce projet")):
        async with rien_ecrit(moteur, ProjetAap, JournalAudit):
            r = await api.post(f"{chemin}/lettres-partenaires", headers=lead, json=demande)
            assert extrait in _probleme(r, 422, "piece_id")["detail"]
    r = await api.post(f"{chemin}/lettres-partenaires", headers=lead,
                       json={"partenaire": "Éditeur DPI", "piece_id": lettre["id"]})
    assert r.status_code == 201, r.text
    attendue = {"partenaire": "Éditeur DPI", "nom": "engagement.pdf", "sha256": lettre["sha256"],
                "piece_id": lettre["id"]}
    assert r.json()["lettres_partenaires"] == [attendue]
    _probleme(await api.post(f"{chemin}/lettres-partenaires", headers=lead,
                             json={"partenaire": "Autre", "piece_id": lettre["id"]}), 422, "piece_id")
    assert (await api.post(f"{chemin}/depot", headers=lead)).status_code == 200
    (depose,) = await _evenements(moteur, pid, "ProjetAapDepose")
    assert depose["lettres_partenaires"] == [attendue]
    (evenement, _) = await _evenements(moteur, pid, "PieceDeposee")
    assert (evenement["dossier_type"], evenement["type"], evenement["sha256"]) == (
        "projet", "AAP.LETTRE", lettre["sha256"])
    assert (await api.get(f"{chemin}/pieces/{lettre['id']}/contenu", headers=jeton("ars", region="27"))
            ).content == fichiers.pdf("lettre")
    # Pieces may still be added to a deposited project (the ARS may ask for one); not letters.
    r = await _televerser(api, chemin, "AAP.VALIDATION_GHT", fichiers.pdf(), entetes=lead)
    assert r.status_code == 201
    _probleme(await api.post(f"{chemin}/lettres-partenaires", headers=lead,
                             json={"partenaire": "Autre", "piece_id": equipe["id"]}), 409, "statut")


async def test_collecte_des_orphelins(api: httpx.AsyncClient, moteur: AsyncEngine, cid: str,
                                      stockage_url: str) -> None:
    racine = Path(stockage_url.removeprefix("file://"))
    stockage = StockageFichiers(racine)

    async def un(donnees: bytes) -> AsyncIterator[bytes]:
        yield donnees

    gardee = (await _televerser(api, f"/v1/candidatures/{cid}", "P1.P1", fichiers.pdf("gardee"))).json()
    orpheline = "pieces/00000000-0000-4000-8000-0000000000aa"  # bytes stored, its row never committed
    await stockage.ecrire(orpheline, un(fichiers.pdf()))
    recente = "pieces/00000000-0000-4000-8000-0000000000bb"
    await stockage.ecrire(recente, un(fichiers.pdf()))
    vieux = time.time() - 48 * 3600
    for chemin in racine.joinpath("pieces").iterdir():
        if chemin.name != recente.rsplit("/", 1)[1]:
            os.utime(chemin, (vieux, vieux))
    _probleme(await api.post("/v1/operations/pieces/orphelins", headers=ES), 403, None)
    r = await api.post("/v1/operations/pieces/orphelins", headers=jeton("ops", sujet="ops"))
    assert r.status_code == 200, r.text
    bilan = r.json()
    assert (bilan["supprimes"], bilan["recents"]) == (1, 1)
    assert bilan["references"] == bilan["examines"] - 2
    assert not racine.joinpath(orpheline).exists()
    assert racine.joinpath(recente).exists()
    url = f"/v1/candidatures/{cid}/pieces/{gardee['id']}/contenu"
    assert (await api.get(url, headers=ES)).content == fichiers.pdf("gardee")
    assert await compter(moteur, JournalAudit, JournalAudit.action == "collecter_orphelins") == 1
    await stockage.supprimer(recente)


async def test_aller_retour_sur_seaweedfs(moteur: AsyncEngine, kafka_bootstrap: str,
                                          s3_server: S3ServerInfo) -> None:
    bucket = s3_server.create_bucket("hopen-pieces")
    reglages = reglages_de_test(
        CandidatureSettings, moteur, kafka_bootstrap, calendrier_ouvert=True,
        stockage_url=f"s3://{bucket}/candidature", stockage_s3_endpoint=s3_server.endpoint,
        stockage_s3_access_key=s3_server.access_key, stockage_s3_secret_key=s3_server.secret_key,
        stockage_s3_region=s3_server.region)
    async with client_api(create_app(reglages), "http://candidature") as client:
        cid = await _cid_seul(moteur)
        donnees = fichiers.pdf_de_taille(6 * 1024 * 1024 + 123)  # past one 5 MiB multipart part
        r = await _televerser(client, f"/v1/candidatures/{cid}", "P1.P4", donnees, nom="questionnaire.pdf")
        assert r.status_code == 201, r.text
        assert r.json()["sha256"] == hashlib.sha256(donnees).hexdigest()
        url = r.headers["location"]
        lu = await client.get(url, headers=ES)
        assert lu.content == donnees
        assert lu.headers["etag"] == f'"{hashlib.sha256(donnees).hexdigest()}"'
        r = await client.get(url, headers={**ES, "Range": "bytes=5242870-5242889"})
        assert (r.status_code, r.content) == (206, donnees[5242870:5242890])
        async with rien_ecrit(moteur, *ECRITES):
            r = await _televerser(client, f"/v1/candidatures/{cid}", "P1.P4", fichiers.exe())
            _probleme(r, 415, "fichier")


async def test_depot_phase1_avec_ses_quatre_pieces(api: httpx.AsyncClient) -> None:
    """The README's walk-through: the deposit (the other half of issue 8) reads this slice's piece
    table: refused with the four prerequisites listed, accepted once they are uploaded."""
    es = jeton("etablissement", finess=[CALVI])
    url = f"/v1/candidatures/{await _candidature(api, CALVI)}"
    r = await api.post(f"{url}/depot", headers=es)
    assert sorted(p["code"] for p in _probleme(r, 422, "pieces")["pieces"]) == ["P1.P1", "P1.P2", "P1.P3",
                                                                               "P1.P4"]
    for type_ in ("P1.P1", "P1.P2", "P1.P3"):
        assert (await _televerser(api, url, type_, fichiers.pdf(type_), entetes=es)).status_code == 201
    r = await api.post(f"{url}/depot", headers=es)
    assert [p["code"] for p in _probleme(r, 422, "pieces")["pieces"]] == ["P1.P4"]
    assert (await _televerser(api, url, "P1.P4", fichiers.ods(), entetes=es, nom="questionnaire.ods",
                              media="application/vnd.oasis.opendocument.spreadsheet")).status_code == 201
    assert (await api.post(f"{url}/depot", headers=es)).status_code == 200
