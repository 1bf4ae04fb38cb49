"""A dossier's message thread both ways (issue 9 item 3, ADR 0015), on the real PostgreSQL of each side
and the real Kafka broker: the establishment writes in candidature, instruction's own consumer copies
the message and the ARS reads it and marks it read; the ARS writes in instruction, candidature's own
consumer copies it and the establishment's read receipt goes back. Each side's outbox is relayed to
private topics (the services' workers are off in API tests); redeliveries write nothing twice. Then
who may read and write (404 across establishments and regions), refused input writing nothing, and
expert opinions never reaching the establishment."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.consumers import HANDLERS as HANDLERS_CANDIDATURE
from hopen_candidature.consumers import TOPICS as TOPICS_CANDIDATURE
from hopen_candidature.models import Candidature, Message, Piece, ProjetAap
from hopen_common.contracts import Topics
from hopen_common.db.messaging import JournalAudit, OutboxMessage
from hopen_common.events import Evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import client_api, compter, reglages_de_test, rien_ecrit
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_instruction.consumers import HANDLERS as HANDLERS_INSTRUCTION
from hopen_instruction.main import create_app as app_instruction
from hopen_instruction.models import Dossier, Projet
from hopen_instruction.models import Message as MessageInstruction
from hopen_instruction.settings import InstructionSettings

SEUL, CALVI, AUTRE = "2A0002606", "2B0005342", "800003071"  # Corse (94), Corse, Grand Est
LEAD, CLINIQUE = "210012142", "800009920"  # AAP lead and a participant, BFC (27)
DEPOSEE = datetime(2026, 3, 1, tzinfo=UTC)
ES = jeton("etablissement", finess=[SEUL], sujet="daf-seul")
ES_AUTRE = jeton("etablissement", finess=[AUTRE], sujet="daf-autre")
ES_LEAD = jeton("etablissement", finess=[LEAD], sujet="daf-lead")
ES_CLINIQUE = jeton("etablissement", finess=[CLINIQUE], sujet="daf-clinique")
ARS_CORSE = jeton("ars", region="94", sujet="agent-corse")
ARS_BFC = jeton("ars", region="27", sujet="agent-bfc")
DNS = jeton("dns", sujet="dns")
EXPERT = jeton("expert", sujet="grades-corse")


def _candidature(cid: str, finess: str, statut: str, region: str = "94") -> dict[str, Any]:
    return {"id": cid, "dispositif": "phase1", "finess": finess, "region": region, "statut": statut,
            "objectifs": ["P1.O1"], "perimetre": None, "criteres_ght": None, "cree_par": "daf",
            "cree_le": DEPOSEE, "deposee_par": None if statut == "brouillon" else "daf",
            "deposee_le": None if statut == "brouillon" else DEPOSEE}


def _dossier(did: str, finess: str, statut: str) -> dict[str, Any]:
    return {"id": did, "dispositif": "phase1", "finess": finess, "raison_sociale": "CH", "region": "94",
            "objectifs": ["P1.O1"], "domaines_sun_es": [], "perimetre": None, "statut": statut,
            "deposee_le": DEPOSEE}


PROJET = {"id": "p-27", "finess": LEAD, "region": "27", "theme": "desengorgement_urgences", "titre": "t",
          "description": "d", "objectifs": ["o1"], "participants": [LEAD, CLINIQUE], "perimetre": [],
          "equipe": [], "lettres_partenaires": [], "sans_versement_usage": None}


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(Candidature), [
            _candidature("c-94", SEUL, "deposee"), _candidature("c-brouillon", CALVI, "brouillon"),
            _candidature("c-desistee", SEUL, "desistee"), _candidature("c-autre", AUTRE, "deposee", "44")])
        await conn.execute(insert(ProjetAap), [{**PROJET, "statut": "depose", "cree_par": "daf-lead",
                                                "cree_le": DEPOSEE, "deposee_par": "daf-lead",
                                                "deposee_le": DEPOSEE}])
        await conn.execute(insert(Piece), [
            {"id": f"piece-{d}", "dossier_type": "candidature", "dossier_id": d, "finess": f, "region": r,
             "type": "P1.P1", "finess_ej": None, "version": 1, "nom": "attestation.pdf",
             "media_type": "application/pdf", "taille": 10, "sha256": "a" * 64, "cle": f"pieces/{d}",
             "depose_par": "daf", "depose_le": DEPOSEE}
            for d, f, r in (("c-94", SEUL, "94"), ("c-autre", AUTRE, "44"))])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def moteur_instruction(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("instruction"))
    async with engine.begin() as conn:
        await conn.execute(insert(Dossier), [_dossier("c-94", SEUL, "deposee"),
                                             _dossier("c-desistee", SEUL, "desistee")])
        await conn.execute(insert(Projet), [{
            **PROJET, "raison_sociale": "CH", "depenses_prevues": 0, "statut": "depose",
            "deposee_le": DEPOSEE}])
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def instruction(moteur_instruction: AsyncEngine, kafka_bootstrap: str
                      ) -> AsyncIterator[httpx.AsyncClient]:
    reglages = reglages_de_test(InstructionSettings, moteur_instruction, kafka_bootstrap,
                                calendrier_ouvert=True)
    async with client_api(app_instruction(reglages), "http://instruction") as client:
        yield client


@pytest.fixture(scope="module")
async def vers_instruction(moteur_instruction: AsyncEngine, kafka_bootstrap: str) -> AsyncIterator[Bus]:
    """Instruction's consumer, its handlers, on its database: reads what candidature publishes."""
    async with bus_de_test(nom="instruction", handlers=HANDLERS_INSTRUCTION,
                           database_url=moteur_instruction.url.render_as_string(hide_password=False),
                           kafka_bootstrap=kafka_bootstrap, sujets=("candidature",)) as bus:
        yield bus


@pytest.fixture(scope="module")
async def vers_candidature(moteur: AsyncEngine, kafka_bootstrap: str) -> AsyncIterator[Bus]:
    """Candidature's consumer on its database: reads what instruction publishes on the topics it reads."""
    async with bus_de_test(nom="candidature", handlers=HANDLERS_CANDIDATURE,
                           database_url=moteur.url.render_as_string(hide_password=False),
                           kafka_bootstrap=kafka_bootstrap, sujets=("dossier", "projet", "avis")) as bus:
        yield bus


SUJET = {Topics.CANDIDATURE.value: "candidature", Topics.DOSSIER.value: "dossier",
         Topics.PROJET.value: "projet", Topics.AVIS.value: "avis"}


async def _relayer(engine: AsyncEngine, bus: Bus, deja: set[int], *, topics: set[str]) -> list[Evenement]:
    """What the outbox relay does: the rows of `engine`'s outbox not relayed yet, on `topics`, onto the
    bus's private topics, in order."""
    async with engine.connect() as conn:
        lignes = (await conn.execute(select(OutboxMessage.id, OutboxMessage.topic, OutboxMessage.key,
                                            OutboxMessage.envelope).order_by(OutboxMessage.id))).all()
    envoyes = []
    for id_, topic, cle, enveloppe in lignes:
        if id_ in deja or topic not in topics:
            continue
        deja.add(id_)
        evenement = Evenement.model_validate(enveloppe)
        await bus.publier(SUJET[topic], cle, evenement)
        envoyes.append(evenement)
    return envoyes


def _fil(r: httpx.Response) -> list[dict[str, Any]]:
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


async def test_le_fil_dans_les_deux_sens(api: httpx.AsyncClient, instruction: httpx.AsyncClient,
                                         moteur: AsyncEngine, moteur_instruction: AsyncEngine,
                                         vers_instruction: Bus, vers_candidature: Bus) -> None:
    relayes_c: set[int] = set()
    relayes_i: set[int] = set()
    # 1. The establishment writes, attaching a piece of the dossier.
    r = await api.post("/v1/candidatures/c-94/messages", headers=ES,
                       json={"texte": "Bonjour,\n  voici l'attestation demandée.", "pieces": ["piece-c-94"]})
    assert r.status_code == 201, r.text
    m1 = r.json()
    assert (m1["auteur"], m1["auteur_role"], m1["lu_le"]) == ("daf-seul", "etablissement", None)
    assert m1["pieces"] == [{"piece_id": "piece-c-94", "type": "P1.P1", "nom": "attestation.pdf",
                             "version": 1, "sha256": "a" * 64}]
    (envoye,) = await _relayer(moteur, vers_instruction, relayes_c, topics={Topics.CANDIDATURE.value})
    assert (envoye.type, envoye.dataschema) == (
        "MessageEnvoyeParEtablissement", "MessageEnvoyeParEtablissement/v1")
    # What the e-mail of the "echeances" branch needs: dossier, region, FINESS, author's role, excerpt.
    assert {k: envoye.data[k] for k in ("dossier_type", "dossier_id", "region", "finess", "auteur_role",
                                        "extrait")} == {
        "dossier_type": "candidature", "dossier_id": "c-94", "region": "94", "finess": SEUL,
        "auteur_role": "etablissement", "extrait": "Bonjour, voici l'attestation demandée."}

    async def copie(s):  # type: ignore[no-untyped-def]
        return await s.get(MessageInstruction, m1["id"])
    await vers_instruction.attendre(copie, quoi="the establishment's message in instruction")

    # 2. The ARS of the region reads it (the DNS too), and marks it read, once.
    (vu,) = _fil(await instruction.get("/v1/dossiers/c-94/messages", headers=ARS_CORSE))
    assert vu == m1
    assert _fil(await instruction.get("/v1/dossiers/c-94/messages", headers=DNS)) == [m1]
    r = await instruction.post(f"/v1/dossiers/c-94/messages/{m1['id']}/lecture", headers=ARS_CORSE)
    assert r.status_code == 200, r.text
    lu_le = r.json()["lu_le"]
    assert lu_le is not None
    assert r.json()["lu_par"] == "agent-corse"
    avant = await compter(moteur_instruction, OutboxMessage)
    r = await instruction.post(f"/v1/dossiers/c-94/messages/{m1['id']}/lecture", headers=ARS_CORSE)
    assert (r.status_code, r.json()["lu_le"]) == (200, lu_le)
    assert await compter(moteur_instruction, OutboxMessage) == avant  # a second receipt publishes nothing

    # 3. The ARS answers; candidature copies both the receipt and the answer.
    r = await instruction.post("/v1/dossiers/c-94/messages", headers=ARS_CORSE,
                               json={"texte": "Merci, reçu. Pouvez-vous préciser la date ?"})
    assert r.status_code == 201, r.text
    m2 = r.json()
    relayes = await _relayer(moteur_instruction, vers_candidature, relayes_i,
                             topics={Topics.DOSSIER.value, Topics.PROJET.value})
    assert [e.type for e in relayes] == ["MessageLuParArs", "MessageEnvoyeParArs"]
    assert relayes[1].data["auteur_role"] == "ars"
    assert relayes[1].data["region"] == "94"

    async def deux(s):  # type: ignore[no-untyped-def]
        m = await s.get(Message, m2["id"])
        premier = await s.get(Message, m1["id"])
        return m is not None and premier.lu_le is not None
    await vers_candidature.attendre(deux, quoi="the ARS's answer and receipt in candidature")
    fil = _fil(await api.get("/v1/candidatures/c-94/messages", headers=ES))
    assert [m["id"] for m in fil] == [m1["id"], m2["id"]]
    assert datetime.fromisoformat(fil[0]["lu_le"]) == datetime.fromisoformat(lu_le)
    assert fil[1] | {"envoye_le": None} == m2 | {"envoye_le": None}

    # 4. The establishment's receipt of the ARS's message goes back to instruction.
    r = await api.post(f"/v1/candidatures/c-94/messages/{m2['id']}/lecture", headers=ES)
    assert (r.status_code, r.json()["lu_par"]) == (200, "daf-seul"), r.text
    (recu,) = await _relayer(moteur, vers_instruction, relayes_c, topics={Topics.CANDIDATURE.value})
    assert recu.type == "MessageLuParEtablissement"

    async def lu(s):  # type: ignore[no-untyped-def]
        m = await s.get(MessageInstruction, m2["id"])
        return m is not None and m.lu_le is not None
    await vers_instruction.attendre(lu, quoi="the establishment's receipt in instruction")
    fil_ars = _fil(await instruction.get("/v1/dossiers/c-94/messages", headers=ARS_CORSE))
    assert [m["lu_par"] for m in fil_ars] == ["agent-corse", "daf-seul"]

    # 5. An AAP project's thread: the lead writes, the ARS of its region reads it.
    r = await api.post("/v1/projets/p-27/messages", headers=ES_LEAD, json={"texte": "Question sur le lot 2"})
    assert r.status_code == 201, r.text
    await _relayer(moteur, vers_instruction, relayes_c, topics={Topics.CANDIDATURE.value})

    async def projet(s):  # type: ignore[no-untyped-def]
        return await s.get(MessageInstruction, r.json()["id"])
    await vers_instruction.attendre(projet, quoi="the project's message in instruction")
    fil_projet = _fil(await instruction.get("/v1/projets/p-27/messages", headers=ARS_BFC))
    assert [m["texte"] for m in fil_projet] == [
        "Question sur le lot 2"]
    r = await instruction.post("/v1/projets/p-27/messages", headers=ARS_BFC, json={"texte": "Réponse"})
    assert r.status_code == 201
    (vers_projet,) = await _relayer(moteur_instruction, vers_candidature, relayes_i,
                                    topics={Topics.DOSSIER.value, Topics.PROJET.value})
    assert (vers_projet.type, vers_projet.data["dossier_type"]) == ("MessageEnvoyeParArs", "projet")
    assert (await instruction.get("/v1/projets/p-27/messages", headers=ARS_CORSE)).status_code == 404

    # 6. Redeliveries (the inbox): nothing written twice, the first receipts kept.
    traites = vers_instruction.consumer.processed + vers_candidature.consumer.processed
    await vers_instruction.republier_tout()
    await vers_candidature.republier_tout()
    total = len(vers_instruction.publies) + len(vers_candidature.publies)

    async def rejoue(_):  # type: ignore[no-untyped-def]
        return vers_instruction.consumer.processed + vers_candidature.consumer.processed >= traites + total
    await vers_instruction.attendre(rejoue, quoi="redeliveries consumed")
    assert await compter(moteur, Message) == 4
    assert await compter(moteur_instruction, MessageInstruction) == 4
    assert _fil(await instruction.get("/v1/dossiers/c-94/messages", headers=ARS_CORSE)) == fil_ars


async def test_qui_lit_et_ecrit_le_fil(api: httpx.AsyncClient, instruction: httpx.AsyncClient,
                                       moteur: AsyncEngine, moteur_instruction: AsyncEngine) -> None:
    texte = {"texte": "un message"}
    ecrites = (Message, OutboxMessage, JournalAudit)
    async with rien_ecrit(moteur, *ecrites):
        # Another establishment's dossier, a project's participant that does not lead it: 404.
        for chemin, qui in (("/v1/candidatures/c-94/messages", ES_AUTRE),
                            ("/v1/candidatures/c-autre/messages", ES),
                            ("/v1/candidatures/inconnue/messages", ES),
                            ("/v1/projets/p-27/messages", ES_CLINIQUE)):
            for r in (await api.get(chemin, headers=qui), await api.post(chemin, headers=qui, json=texte)):
                assert r.status_code == 404, (chemin, r.text)
                assert r.json()["type"].endswith("/introuvable")
        # The ARS, the DNS and an expert read the thread in instruction, not here.
        for qui in (ARS_CORSE, DNS, EXPERT):
            assert (await api.get("/v1/candidatures/c-94/messages", headers=qui)).status_code == 403
        # The expert opens nothing in candidature, not even the lists open to every platform role.
        for chemin in ("/v1/candidatures", "/v1/candidatures/c-94", "/v1/projets", "/v1/projets/p-27",
                       "/v1/candidatures/c-94/pieces"):
            assert (await api.get(chemin, headers=EXPERT)).status_code == 403, chemin
        # Not deposited: nobody to write to. Withdrawn: readable, closed to new messages.
        r = await api.post("/v1/candidatures/c-brouillon/messages",
                           headers=jeton("etablissement", finess=[CALVI]), json=texte)
        assert (r.status_code, r.json()["champ"]) == (409, "statut"), r.text
        r = await api.post("/v1/candidatures/c-desistee/messages", headers=ES, json=texte)
        assert (r.status_code, r.json()["type"].rsplit("/", 1)[1]) == (409, "dossier-clos"), r.text
        assert _fil(await api.get("/v1/candidatures/c-desistee/messages", headers=ES)) == []
        # Bad input: a piece of another dossier, unknown fields, empty or too long texts, too many pieces.
        for corps, champ in (({"texte": "x", "pieces": ["piece-c-autre"]}, "pieces"),
                             ({"texte": "x", "pieces": ["piece-c-94", "piece-c-94"]}, "pieces"),
                             ({"texte": "x", "auteur": "moi"}, "auteur"),
                             ({"texte": ""}, "texte"), ({"texte": "x" * 5001}, "texte"),
                             ({"texte": "x", "pieces": [f"p{i}" for i in range(11)]}, "pieces"),
                             ({}, "texte")):
            r = await api.post("/v1/candidatures/c-94/messages", headers=ES, json=corps)
            assert (r.status_code, r.json().get("champ")) == (422, champ), (corps, r.text)
        # A receipt is the recipient's: its own message, or an unknown one.
        propres = [m for m in _fil(await api.get("/v1/candidatures/c-94/messages", headers=ES))
                   if m["auteur_role"] == "etablissement"]
        for propre in propres[:1]:
            r = await api.post(f"/v1/candidatures/c-94/messages/{propre['id']}/lecture", headers=ES)
            assert (r.status_code, r.json()["champ"]) == (422, "message"), r.text
        r = await api.post("/v1/candidatures/c-94/messages/inconnu/lecture", headers=ES)
        assert r.status_code == 404
    async with rien_ecrit(moteur_instruction, MessageInstruction, OutboxMessage, JournalAudit):
        r = await instruction.post("/v1/dossiers/c-94/messages", headers=ARS_BFC, json=texte)
        assert r.status_code == 404  # another region's dossier, like a missing one
        assert (await instruction.get("/v1/dossiers/c-94/messages", headers=ARS_BFC)).status_code == 404
        for qui in (DNS, ES, EXPERT):  # the DNS reads only; the others are not instruction's users
            r = await instruction.post("/v1/dossiers/c-94/messages", headers=qui, json=texte)
            assert r.status_code == 403, r.text
        r = await instruction.post("/v1/dossiers/c-desistee/messages", headers=ARS_CORSE, json=texte)
        assert r.status_code == 409, r.text
        r = await instruction.post("/v1/dossiers/c-94/messages", headers=ARS_CORSE,
                                   json={"texte": "x", "pieces": []})
        assert (r.status_code, r.json()["champ"]) == (422, "pieces")  # ARS attachments: not yet (ADR 0015)


async def test_les_avis_n_atteignent_jamais_l_etablissement(
        api: httpx.AsyncClient, instruction: httpx.AsyncClient, moteur: AsyncEngine,
        moteur_instruction: AsyncEngine, vers_candidature: Bus) -> None:
    """The opinion and its answer travel on instruction's avis topic, which candidature does not read;
    even delivered to candidature's consumer they are ignored (no handler); its views say nothing."""
    question = "Le projet de DPI est-il réaliste au regard du SI régional ?"
    r = await instruction.post("/v1/dossiers/c-94/avis", headers=ARS_CORSE, json={
        "expert": "grades-corse", "question": question,
        "echeance": (date.today() + timedelta(days=7)).isoformat()})
    assert r.status_code == 201, r.text
    r = await instruction.post(f"/v1/avis/{r.json()['id']}/reponse", headers=EXPERT,
                               json={"avis": "reserve", "texte": "Réaliste si le GHT mutualise."})
    assert r.status_code == 201, r.text
    async with moteur_instruction.connect() as conn:
        par_type = dict((await conn.execute(select(OutboxMessage.envelope["type"].astext, OutboxMessage.topic)
                                            .where(OutboxMessage.envelope["type"].astext.like("Avis%")))).all())
    assert par_type == {"AvisDemande": Topics.AVIS.value, "AvisRendu": Topics.AVIS.value}
    assert Topics.AVIS not in TOPICS_CANDIDATURE
    assert not {"AvisDemande", "AvisRendu"} & set(HANDLERS_CANDIDATURE)

    # Misrouted to candidature's consumer anyway: ignored, nothing written, nothing parked.
    envoyes = await _relayer(moteur_instruction, vers_candidature, set(), topics={Topics.AVIS.value})
    assert len(envoyes) == 2
    lignes = await compter(moteur, Message) + await compter(moteur, JournalAudit)
    await vers_candidature.publier("dossier", "c-94", envoyes[0])  # even on a topic it reads

    # Ignored events are not "processed": wait for a message event published after them instead.
    marqueur = await instruction.post("/v1/dossiers/c-94/messages", headers=ARS_CORSE,
                                      json={"texte": "après"})
    assert marqueur.status_code == 201
    await _relayer(moteur_instruction, vers_candidature, set(), topics={Topics.DOSSIER.value})

    async def apres(s):  # type: ignore[no-untyped-def]
        return await s.get(Message, marqueur.json()["id"])
    await vers_candidature.attendre(apres, quoi="the message published after the opinions")
    assert await compter(moteur, Message) + await compter(moteur, JournalAudit) == lignes + 1
    for chemin in ("/v1/candidatures/c-94", "/v1/candidatures/c-94/messages"):
        r = await api.get(chemin, headers=ES)
        assert r.status_code == 200, r.text
        assert "grades-corse" not in r.text
        assert question not in r.text
        assert "avis" not in r.text


async def test_un_message_renvoye_avec_sa_cle_n_est_ecrit_qu_une_fois(api: httpx.AsyncClient,
                                                                      moteur: AsyncEngine) -> None:
    avant = await compter(moteur, Message)
    cle = {**ES, "Idempotency-Key": "message-1"}
    premier = await api.post("/v1/candidatures/c-94/messages", headers=cle, json={"texte": "une fois"})
    assert premier.status_code == 201, premier.text
    second = await api.post("/v1/candidatures/c-94/messages", headers=cle, json={"texte": "une fois"})
    assert (second.status_code, second.json()) == (201, premier.json())
    assert second.headers["Idempotent-Replayed"] == "true"
    assert await compter(moteur, Message) == avant + 1
