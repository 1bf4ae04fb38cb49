"""The fault matrix at a small N (issue 12 point 5, ADR 0028): each fault on the real workload
(harnais_fautes), measured from candidature's outbox and messages, instruction's inbox, messages and dead
letters: every command applied once, in its key's order, and the pipeline back after the fault.
The same faults at N >= 10 000: bench/bench_fautes.py (figures in the README)."""

from __future__ import annotations

import asyncio
import signal
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from harnais_fautes import CONSOMMATEUR, Matrice, Mesure, Processus

from hopen_common.contracts import MessageEnvoyeParEtablissement, Topics
from hopen_common.events import nouvel_evenement

N = 200  # commands per fault, over 50 keys

pytestmark = pytest.mark.timeout(240)


def _sans_perte(mesure: Mesure, matrice: Matrice) -> None:
    journaux = {"relais": matrice.relais.erreurs(), "consommateur": matrice.consommateur.erreurs()}
    assert mesure.commandes == N, mesure
    assert mesure.acquittees == N, mesure
    chiffres = (mesure.appliquees, mesure.perdues, mesure.doublons, mesure.violations_ordre)
    assert chiffres == (N, 0, 0, 0), (mesure, journaux)
    # The pipeline came back: an event written after the fault reached the read model.
    assert mesure.reprise_s is not None, (mesure, journaux)


async def test_f1_relais_tue_apres_l_ack(matrice: Matrice) -> None:
    mesure = await matrice.f1_relais_tue(N)
    _sans_perte(mesure, matrice)
    assert matrice.relais.morts[-1][1] == -signal.SIGKILL  # it died at the fault point, by SIGKILL


async def test_f2_consommateur_tue_apres_son_commit(matrice: Matrice) -> None:
    mesure = await matrice.f2_consommateur_tue(N)
    _sans_perte(mesure, matrice)
    assert matrice.consommateur.morts[-1][1] == -signal.SIGKILL


@pytest.mark.parametrize("dur", [False, True], ids=["sigterm", "sigkill"])
async def test_f3_broker_redemarre_sous_charge(matrice: Matrice, dur: bool) -> None:
    _sans_perte(await matrice.f3_broker(N, dur=dur), matrice)


async def test_f4_postgres_redemarre_en_pleine_transaction(matrice: Matrice) -> None:
    mesure = await matrice.f4_postgres(N)
    _sans_perte(mesure, matrice)
    # Transactions of the API were cut: the client got errors and retried with its Idempotency-Key,
    # without any command applied twice (doublons above).
    assert mesure.relances_api > 0, mesure


async def test_f5_dix_pour_cent_livres_deux_fois(matrice: Matrice) -> None:
    mesure = await matrice.f5_doublons(N)
    _sans_perte(mesure, matrice)
    assert mesure.details["republies"] >= N * 0.6 // 10, mesure.details


async def test_f6_anciens_evenements_apres_les_nouveaux(matrice: Matrice) -> None:
    mesure = await matrice.f6_desordre(N)
    _sans_perte(mesure, matrice)
    assert mesure.details["republies"] > 0


async def test_f7_poison_gare_la_partition_continue(matrice: Matrice) -> None:
    mesure = await matrice.f7_poison(N)
    _sans_perte(mesure, matrice)
    gares = {(d["key"], d["motif"]) for d in mesure.details["lettres"]}
    assert gares == {("poison-contenu", "contenu-invalide"), ("poison-octets", "enveloppe-illisible")}
    # Other keys of each poison's partition were applied after it.
    assert all(n > 0 for n in mesure.details["appliques_apres_sur_partition"].values()), mesure.details


async def test_une_panne_de_la_base_ne_gare_pas_l_evenement(matrice: Matrice) -> None:
    """Regression (found by F4 with PostgreSQL down 6 s): instruction's consumer counted the outage's
    failures as attempts and parked the event once the database was back for the parking, and with it
    every later event of its key. Now the outage makes it give the record back (read again from the
    committed offset by its supervisor) and the event is applied once after the recovery.

    The real consumer process (`hopen_instruction.workers consommateur`) on the matrix's own cluster,
    with 2 attempts 1.5 s apart: PostgreSQL stopped, the event published, attempts at 0 and 1.5 s,
    parking at 4.5 s, PostgreSQL back at about 2.5 s, in the window where the old code parked."""
    infra = matrice.infra
    await asyncio.to_thread(matrice.consommateur.arreter)
    consommateur = Processus(infra.config, CONSOMMATEUR, "consommateur",
                             infra.dossier / "journaux" / "consommateur-regression.log",
                             {"INSTRUCTION_LOTS_ACTIFS": "false", "INSTRUCTION_CONSUMER_MAX_ATTEMPTS": "2",
                              "INSTRUCTION_CONSUMER_RETRY_BACKOFF_SECONDS": "1.5"})
    consommateur.demarrer()
    try:
        # The consumer has its partitions (same group as the matrix's consumer) before the outage.
        await matrice.amorcer("regression-base")
        message_id = str(uuid.uuid4())
        evenement = nouvel_evenement(MessageEnvoyeParEtablissement(
            message_id=message_id, dossier_type="candidature", dossier_id="fautes-000",
            finess=matrice.dossiers_finess[0], region="94", auteur="daf-0", auteur_role="etablissement",
            texte="régression", extrait="régression", envoye_le=datetime.now(UTC)),
            source="matrice", subject="candidature/fautes-000")
        await asyncio.to_thread(infra.grappe.stop)
        assert matrice.producteur is not None
        # No key: the parked-key check, which reads the database before the attempts (and so gave
        # the record back before any attempt, even before the fix), is not in the way.
        await matrice.producteur.send_and_wait(Topics.CANDIDATURE.value, evenement.to_bytes())
        await asyncio.sleep(2.5)
        await asyncio.to_thread(infra.grappe.start)
        retour = datetime.now(UTC)
        cnx = await asyncpg.connect(infra.dsn(CONSOMMATEUR))
        try:
            limite = asyncio.get_running_loop().time() + 60
            while not await cnx.fetchval("SELECT count(*) FROM inbox WHERE event_id = $1", evenement.id):
                assert not await cnx.fetchval("SELECT count(*) FROM dead_letter WHERE event_id = $1",
                                              evenement.id), "the outage parked the event"
                assert asyncio.get_running_loop().time() < limite, "not applied 60 s after the recovery"
                await asyncio.sleep(0.2)
            await asyncio.sleep(3)  # past the old code's parking time: nothing parked later either
            gares = await cnx.fetchval("SELECT count(*) FROM dead_letter WHERE event_id = $1", evenement.id)
            assert gares == 0
            assert await cnx.fetchval("SELECT count(*) FROM message WHERE id = $1", message_id) == 1
            applique = await cnx.fetchval("SELECT processed_at FROM inbox WHERE event_id = $1", evenement.id)
            assert applique >= retour - timedelta(seconds=1)  # applied after the recovery, not before
        finally:
            await cnx.close()
    finally:
        await asyncio.to_thread(consommateur.arreter)
        matrice.consommateur.demarrer()
        await matrice.amorcer("apres-regression-base")
