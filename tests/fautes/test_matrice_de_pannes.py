"""The fault matrix at a small N (issue 12 point 5, ADR 0028): each fault on the real workload
(harnais_fautes), measured from candidature's outbox and messages, instruction's inbox, messages and dead
letters: every command applied once, in its key's order, and the pipeline back after the fault.
The same faults at N >= 10 000: bench/bench_fautes.py (figures in the README)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime

import asyncpg
import pytest
from aiokafka.structs import ConsumerRecord
from harnais_fautes import CONSOMMATEUR, Matrice, Mesure

from hopen_common.contracts import MessageEnvoyeParEtablissement, Topics
from hopen_common.db.session import build_engine, build_sessionmaker, connexion_perdue
from hopen_common.events import nouvel_evenement
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import build_consumer
from hopen_instruction.consumers import HANDLERS

N = 200  # commands per fault, over 50 keys

pytestmark = pytest.mark.timeout(240)


def _sans_perte(mesure: Mesure) -> None:
    assert mesure.commandes == N, mesure
    assert mesure.acquittees == N, mesure
    chiffres = (mesure.appliquees, mesure.perdues, mesure.doublons, mesure.violations_ordre)
    assert chiffres == (N, 0, 0, 0), mesure
    # The pipeline came back: an event written after the fault reached the read model.
    assert mesure.reprise_s is not None, mesure


async def test_f1_relais_tue_apres_l_ack(matrice: Matrice) -> None:
    mesure = await matrice.f1_relais_tue(N)
    _sans_perte(mesure)
    assert matrice.relais.morts[-1][1] == -signal.SIGKILL  # it died at the fault point, by SIGKILL


async def test_f2_consommateur_tue_apres_son_commit(matrice: Matrice) -> None:
    mesure = await matrice.f2_consommateur_tue(N)
    _sans_perte(mesure)
    assert matrice.consommateur.morts[-1][1] == -signal.SIGKILL


@pytest.mark.parametrize("dur", [False, True], ids=["sigterm", "sigkill"])
async def test_f3_broker_redemarre_sous_charge(matrice: Matrice, dur: bool) -> None:
    _sans_perte(await matrice.f3_broker(N, dur=dur))


async def test_f4_postgres_redemarre_en_pleine_transaction(matrice: Matrice) -> None:
    mesure = await matrice.f4_postgres(N)
    _sans_perte(mesure)
    # Transactions of the API were cut: the client got errors and retried with its Idempotency-Key,
    # without any command applied twice (doublons above).
    assert mesure.relances_api > 0, mesure


async def test_f5_dix_pour_cent_livres_deux_fois(matrice: Matrice) -> None:
    mesure = await matrice.f5_doublons(N)
    _sans_perte(mesure)
    assert mesure.details["republies"] >= N * 0.6 // 10


async def test_f6_anciens_evenements_apres_les_nouveaux(matrice: Matrice) -> None:
    mesure = await matrice.f6_desordre(N)
    _sans_perte(mesure)
    assert mesure.details["republies"] > 0


async def test_f7_poison_gare_la_partition_continue(matrice: Matrice) -> None:
    mesure = await matrice.f7_poison(N)
    _sans_perte(mesure)
    gares = {(d["key"], d["motif"]) for d in mesure.details["lettres"]}
    assert gares == {("poison-contenu", "contenu-invalide"), ("poison-octets", "enveloppe-illisible")}
    # Other keys of each poison's partition were applied after it.
    assert all(n > 0 for n in mesure.details["appliques_apres_sur_partition"].values()), mesure.details


async def test_une_panne_de_la_base_ne_gare_pas_l_evenement(matrice: Matrice) -> None:
    """Regression (found by F4 with PostgreSQL down 6 s): the consumer counted the outage's failures as
    attempts and parked the event, and with it every later event of its key. Now the outage makes it
    give the record back (read again from the committed offset) and nothing is parked."""
    grappe = matrice.infra.grappe
    engine = build_engine(matrice.infra.config.database_url(CONSOMMATEUR))
    assert matrice.producteur is not None
    consommateur = EventConsumer(
        name=CONSOMMATEUR, consumer=build_consumer(matrice.infra.broker.bootstrap, group_id="inutilise"),
        producer=matrice.producteur, sessionmaker=build_sessionmaker(engine), handlers=HANDLERS,
        max_attempts=2, retry_backoff=1.5)
    message_id = str(uuid.uuid4())
    evenement = nouvel_evenement(MessageEnvoyeParEtablissement(
        message_id=message_id, dossier_type="candidature", dossier_id="fautes-000", finess="2A0002606",
        region="94", auteur="daf-0", auteur_role="etablissement", texte="régression", extrait="régression",
        envoye_le=datetime.now(UTC)), source="matrice", subject="candidature/fautes-000")
    valeur = evenement.to_bytes()
    # No key: the parked-key check, which reads the database before any attempt, is not in the way.
    record = ConsumerRecord(topic=Topics.CANDIDATURE.value, partition=0, offset=10**12, timestamp=0,
                            timestamp_type=0, key=None, value=valeur, checksum=None, serialized_key_size=-1,
                            serialized_value_size=len(valeur), headers=[])

    async def redemarrer_dans(secondes: float) -> None:
        await asyncio.sleep(secondes)
        await asyncio.to_thread(grappe.start)

    await asyncio.to_thread(grappe.stop)
    # Back while the old code slept before parking (attempts at 0 and 1.5 s, parking at 4.5 s).
    retour = asyncio.create_task(redemarrer_dans(2.2))
    try:
        with pytest.raises(Exception) as erreur:  # noqa: PT011 (whatever the driver raises: classified below)
            await consommateur.process(record)
        assert connexion_perdue(erreur.value)
    finally:
        await retour
    cnx = await asyncpg.connect(matrice.infra.dsn(CONSOMMATEUR))
    try:
        assert await cnx.fetchval("SELECT count(*) FROM dead_letter WHERE event_id = $1", evenement.id) == 0
        await consommateur.process(record)  # the redelivery once the database is back: applied
        assert await cnx.fetchval("SELECT count(*) FROM message WHERE id = $1", message_id) == 1
    finally:
        await cnx.close()
        await engine.dispose()
