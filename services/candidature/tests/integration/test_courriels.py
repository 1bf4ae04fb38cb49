"""Mail to establishments on the real Kafka broker, database and SMTP server (aiosmtpd, Maildir): a
decision event becomes one mail from its French template; redelivering the event never doubles it; a
sender that crashes between claiming a mail and marking it sent never loses it."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, insert, select

from hopen_candidature.consumers import HANDLERS
from hopen_candidature.models import ContactEtablissement, Courriel
from hopen_candidature.settings import CandidatureSettings
from hopen_common.contracts import ObjectifAtteint, ObjectifNonAtteint, RappelEcheanceEmis
from hopen_common.courriel import Expediteur, identifiant_message
from hopen_common.devstack.smtp import SmtpServer
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.testing.bus import Bus, bus_de_test

CONTACT, SANS_CONTACT = "210780581", "2A0002606"
ADRESSE = "direction.si@chu-dijon.fr"


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="candidature", handlers=HANDLERS, database_url=fresh_database("candidature"),
                           kafka_bootstrap=kafka_bootstrap, sujets=("dossier", "echeance")) as b:
        async with b.sessions() as s, s.begin():
            await s.execute(insert(ContactEtablissement).values(
                finess=CONTACT, courriel=ADRESSE, maj_par="etab", maj_le=datetime.now(UTC)))
        yield b


def _reglages(smtp: SmtpServer, **autres: object) -> CandidatureSettings:
    return CandidatureSettings(smtp_hote="127.0.0.1", smtp_port=smtp.port, **autres)  # type: ignore[arg-type]


def _objectif(finess: str, atteint: bool = True, objectif: str = "P1.O1") -> Evenement:
    classe = ObjectifAtteint if atteint else ObjectifNonAtteint
    return nouvel_evenement(classe(
        decision_id=str(uuid.uuid4()), candidature_id=f"c-{finess}", finess=finess, region="27",
        decide_par="instructeur-bfc", decide_le=datetime(2024, 11, 5, 10, tzinfo=UTC),
        motivation="Taux de 72 % mesuré, cible de 70 % atteinte.", objectif=objectif,
        objectifs_candidature=["P1.O1", "P1.O2"]), source="/test", subject=f"candidature/c-{finess}")


async def _courriels(bus: Bus, n: int) -> None:
    async def assez(s):  # type: ignore[no-untyped-def]
        return (await s.scalar(select(func.count()).select_from(Courriel))) >= n
    await bus.attendre(assez, quoi=f"{n} courriel(s) en file")


async def test_decision_un_courriel_jamais_double(bus: Bus, smtp_server: SmtpServer) -> None:
    smtp_server.vider()
    decision = _objectif(CONTACT)
    await bus.publier("dossier", f"c-{CONTACT}", decision)
    await bus.publier("dossier", f"c-{SANS_CONTACT}", _objectif(SANS_CONTACT))  # no address: no mail
    await _courriels(bus, 1)
    assert await Expediteur(bus.sessions, _reglages(smtp_server)).envoyer_lot() == 1
    [mail] = smtp_server.messages()
    assert mail["To"] == ADRESSE
    assert mail["Subject"] == "HOP'EN 2 — objectif P1.O1 atteint"
    assert mail["Message-ID"] == identifiant_message(decision.id, ADRESSE, "hopen.sante.gouv.fr")
    corps = mail.get_content()
    assert "a constaté le 5 novembre 2024 l'atteinte de l'objectif P1.O1" in corps
    assert "Taux de 72 % mesuré, cible de 70 % atteinte." in corps

    # The broker redelivers everything; a later event shows the consumer went past the duplicates.
    await bus.republier_tout()
    await bus.publier("dossier", f"c-{CONTACT}", _objectif(CONTACT, atteint=False, objectif="P1.O2"))
    await _courriels(bus, 2)
    assert await bus.compter(Courriel) == 2
    assert await Expediteur(bus.sessions, _reglages(smtp_server)).envoyer_lot() == 1
    assert [m["Subject"] for m in smtp_server.messages()] == [
        "HOP'EN 2 — objectif P1.O1 atteint", "HOP'EN 2 — objectif P1.O2 non atteint"]


async def test_crash_entre_reservation_et_envoi(bus: Bus, smtp_server: SmtpServer) -> None:
    smtp_server.vider()
    rappel = RappelEcheanceEmis(
        rappel_id=f"aap.fin_depot_preuves|etablissement:{CONTACT}|J-1", echeance="aap.fin_depot_preuves",
        libelle="fin du dépôt des preuves d'atteinte des objectifs (appel à projets)", dispositif="aap",
        date_echeance=date(2027, 6, 30), rappel="J-1", destinataire="etablissement", region="27",
        finess=CONTACT, dossiers=["p-1"], emis_le=datetime.now(UTC))
    await bus.publier("echeance", rappel.rappel_id,
                      nouvel_evenement(rappel, source="/test", subject="echeance/aap.fin_depot_preuves"))
    await _courriels(bus, 1)
    reglages = _reglages(smtp_server, courriel_bail_secondes=0.5)
    # The first sender claims the mail and dies before sending or marking it.
    mort = Expediteur(bus.sessions, reglages)
    assert len(await mort.reserver()) == 1
    # While its lease runs, another replica does not take it (SKIP LOCKED + lease)...
    autre = Expediteur(bus.sessions, reglages)
    assert await autre.envoyer_lot() == 0
    # ...once it has run out, the mail is sent, exactly once.
    await asyncio.sleep(0.7)
    assert await autre.envoyer_lot() == 1
    assert await autre.envoyer_lot() == 0
    [mail] = smtp_server.messages()
    assert mail["Subject"] == ("HOP'EN 2 — rappel : fin du dépôt des preuves d'atteinte des objectifs "
                               "(appel à projets) le 30 juin 2027 (J-1)")
    assert "fixée au 30 juin 2027 inclus" in mail.get_content()
    async with bus.sessions() as s:
        ligne = await s.scalar(select(Courriel))
    assert ligne is not None
    assert ligne.envoye_le is not None
    assert ligne.tentatives == 2


async def test_smtp_injoignable_le_courriel_reste_en_file(bus: Bus, smtp_server: SmtpServer) -> None:
    await bus.publier("dossier", f"c-{CONTACT}", _objectif(CONTACT))
    await _courriels(bus, 1)
    from hopen_common.devstack._util import free_port
    panne = CandidatureSettings(smtp_hote="127.0.0.1", smtp_port=free_port(), smtp_delai_secondes=2)
    assert await Expediteur(bus.sessions, panne).envoyer_lot() == 0
    async with bus.sessions() as s:
        ligne = await s.scalar(select(Courriel))
    assert ligne is not None
    assert ligne.envoye_le is None
    assert ligne.erreur
    assert await Expediteur(bus.sessions, _reglages(smtp_server)).envoyer_lot() == 1
