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
from hopen_candidature.models import Candidature, CandidatureEj, ContactEtablissement, Courriel
from hopen_candidature.settings import CandidatureSettings
from hopen_common.contracts import (
    CorrectionDemandee,
    MessageEnvoyeParArs,
    ObjectifAtteint,
    ObjectifNonAtteint,
    PieceDemandee,
    RappelEcheanceEmis,
)
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
    reglages = _reglages(smtp_server, courriel_bail_secondes=3.0)  # longer than a loaded machine's pause
    # The first sender claims the mail and dies before sending or marking it.
    mort = Expediteur(bus.sessions, reglages)
    assert len(await mort.reserver()) == 1
    # While its lease runs, another replica does not take it (SKIP LOCKED + lease)...
    autre = Expediteur(bus.sessions, reglages)
    assert await autre.envoyer_lot() == 0
    # ...once it has run out, the mail is sent, exactly once.
    await asyncio.sleep(3.2)
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


async def test_demande_de_correction_et_message_de_l_ars(bus: Bus, smtp_server: SmtpServer) -> None:
    """The establishment is mailed the ARS's correction request (what to correct, by when) and the
    ARS's message (an excerpt, never the whole text)."""
    smtp_server.vider()
    t0 = datetime(2026, 5, 20, tzinfo=UTC)
    async with bus.sessions() as s, s.begin():  # the candidature the ARS instructs
        await s.execute(insert(Candidature).values(
            id=f"c-{CONTACT}", dispositif="phase1", finess=CONTACT, region="27", statut="en_instruction",
            objectifs=["P1.O1"], perimetre=None, criteres_ght=None, cree_par="dsi", cree_le=t0,
            deposee_par="dsi", deposee_le=t0))
        await s.execute(insert(CandidatureEj).values(candidature_id=f"c-{CONTACT}", finess_ej=CONTACT,
                                                     dispositif="phase1", statut="en_instruction"))
    commun = {"dossier_type": "candidature", "dossier_id": f"c-{CONTACT}", "finess": CONTACT, "region": "27"}
    demande = CorrectionDemandee(
        transition_id=str(uuid.uuid4()), statut_precedent="en_instruction", statut="correction_demandee",
        par="instructeur-bfc", le=datetime(2026, 6, 2, 9, tzinfo=UTC), motivation="SDSI de plus de deux ans",
        correction_id=str(uuid.uuid4()), pieces=[PieceDemandee(type="P1.GHT.SDSI")],
        champs=["criteres_ght.sdsi_date"], echeance=date(2026, 6, 16), **commun)
    message = MessageEnvoyeParArs(
        message_id=str(uuid.uuid4()), auteur="instructeur-bfc", auteur_role="ars",
        texte="Merci de préciser la date de votre SDSI. " * 20,
        extrait="Merci de préciser la date de votre SDSI.",
        envoye_le=datetime(2026, 6, 3, 14, tzinfo=UTC), **commun)
    for payload in (demande, message):
        await bus.publier("dossier", f"c-{CONTACT}",
                          nouvel_evenement(payload, source="/test", subject=f"candidature/c-{CONTACT}"))
    await _courriels(bus, 2)
    assert await Expediteur(bus.sessions, _reglages(smtp_server)).envoyer_lot() == 2
    correction, ecrit = smtp_server.messages()
    assert correction["To"] == ecrit["To"] == ADRESSE
    assert correction["Subject"] == f"HOP'EN 2 — corrections demandées sur votre dossier c-{CONTACT}"
    corps = correction.get_content()
    assert "le 2 juin 2026" in corps
    assert "au plus tard le 16 juin 2026" in corps
    assert "Pièces à déposer à nouveau : P1.GHT.SDSI" in corps
    assert "Champs à corriger : criteres_ght.sdsi_date" in corps
    assert "SDSI de plus de deux ans" in corps
    assert ecrit["Subject"] == f"HOP'EN 2 — nouveau message sur le dossier c-{CONTACT}"
    assert "« Merci de préciser la date de votre SDSI. »" in ecrit.get_content()
    assert ecrit.get_content().count("Merci de préciser") == 1
