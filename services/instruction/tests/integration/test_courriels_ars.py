"""Mail to the ARS on the real Kafka broker, database and SMTP server (aiosmtpd): the establishment's
message reaches the region's functional mailbox once, however often the broker redelivers it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from hopen_common.contracts import MessageEnvoyeParEtablissement
from hopen_common.courriel import Expediteur
from hopen_common.devstack.smtp import SmtpServer
from hopen_common.events import nouvel_evenement
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_instruction.consumers import HANDLERS
from hopen_instruction.models import Courriel, Message
from hopen_instruction.settings import InstructionSettings

BOITE_BFC = "instruction.hopen@ars-bfc.test"


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str,
              monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Bus]:
    # The ARS mailboxes are settings (ADR 0017): the region's one, as an operator sets it.
    monkeypatch.setenv("INSTRUCTION_COURRIELS_ARS", f'{{"27": "{BOITE_BFC}"}}')
    async with bus_de_test(nom="instruction", handlers=HANDLERS, database_url=fresh_database("instruction"),
                           kafka_bootstrap=kafka_bootstrap, sujets=("candidature",)) as b:
        yield b


async def test_message_de_l_etablissement_un_courriel_a_l_ars(bus: Bus, smtp_server: SmtpServer) -> None:
    smtp_server.vider()
    message = MessageEnvoyeParEtablissement(
        message_id=str(uuid.uuid4()), dossier_type="candidature", dossier_id="c-dijon", finess="210780581",
        region="27", auteur="dsi-chu-dijon", auteur_role="etablissement",
        texte="Voici l'attestation demandée, signée par le directeur.",
        extrait="Voici l'attestation demandée,",
        envoye_le=datetime(2026, 6, 4, 8, tzinfo=UTC))
    evenement = nouvel_evenement(message, source="/test", subject="candidature/c-dijon")
    await bus.publier("candidature", "c-dijon", evenement)

    async def en_file(s):  # type: ignore[no-untyped-def]
        return (await s.scalar(select(func.count()).select_from(Courriel))) >= 1
    await bus.attendre(en_file, quoi="le courriel à l'ARS en file")
    await bus.republier_tout()  # a redelivery queues nothing more
    await bus.publier("candidature", "c-dijon", nouvel_evenement(
        message.model_copy(update={"message_id": str(uuid.uuid4())}), source="/test",
        subject="candidature/c-dijon"))

    async def deux_messages(s):  # type: ignore[no-untyped-def]
        return (await s.scalar(select(func.count()).select_from(Message))) >= 2
    await bus.attendre(deux_messages, quoi="le second message copié")
    assert await bus.compter(Courriel) == 2  # one per message, none for the redelivery

    reglages = InstructionSettings(smtp_hote="127.0.0.1", smtp_port=smtp_server.port)
    assert await Expediteur(bus.sessions, reglages).envoyer_lot() == 2
    premier, _ = smtp_server.messages()
    assert premier["To"] == BOITE_BFC
    assert premier["Subject"] == "HOP'EN 2 — nouveau message sur le dossier c-dijon"
    assert "« Voici l'attestation demandée, »" in premier.get_content()
    assert "signée par le directeur" not in premier.get_content()  # an excerpt, not the message
