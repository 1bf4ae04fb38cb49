"""Instruction's own consumer (EventConsumer + HANDLERS, as in production) on the real Kafka broker and
its real database: HospiConnect dossiers and their evidence, deposited AAP projects, the referentiel's
AC 2024 and staff, and financement's envelope ledger (the copy follows the latest entry, never goes
back, and knows which selections are engaged)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from hopen_common.contracts import (
    CandidatureDeposee,
    DepensePrevueAap,
    DocumentPreuve,
    EnveloppeConsommee,
    EnveloppeEngagee,
    EnveloppeRestituee,
    EtablissementPublie,
    MembreEquipeAap,
    PreuveHospiconnectDeposee,
    ProjetAapDepose,
)
from hopen_common.db.messaging import DeadLetter
from hopen_common.events import nouvel_evenement
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_instruction.consumers import HANDLERS
from hopen_instruction.models import (
    DepensePrevueProjet,
    Dossier,
    EngagementConnu,
    EnveloppeConnue,
    EtablissementConnu,
    PreuveHospiconnectRecue,
    Projet,
)

D = Decimal
MAINTENANT = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="instruction", handlers=HANDLERS, database_url=fresh_database("instruction"),
                           kafka_bootstrap=kafka_bootstrap,
                           sujets=("candidature", "etablissement", "enveloppe")) as b:
        yield b


def _mouvement(modele, ecriture: int, engage: str, consomme: str, **champs):  # type: ignore[no-untyped-def]
    alloue = D("456000.00")
    return nouvel_evenement(modele(
        ecriture_id=ecriture, dispositif="aap", region="94", montant=D("50000.00"), motif="m", ecrit_par="x",
        ecrit_le=MAINTENANT, alloue=alloue, engage=D(engage), consomme=D(consomme),
        disponible=alloue - D(engage), **champs), source="/test", subject="enveloppe/94")


async def test_hospiconnect_projets_et_enveloppes(bus: Bus) -> None:
    await bus.publier("candidature", "hc1", nouvel_evenement(CandidatureDeposee(
        candidature_id="hc1", dispositif="hospiconnect", finess="2A0002606", raison_sociale="CH Sartène",
        region="94", objectifs=["1.0", "1.1"], domaines_sun_es=[], deposee_le=MAINTENANT, deposee_par="es"),
        source="/test", subject="candidature/hc1"))
    preuve_id = str(uuid.uuid4())
    await bus.publier("candidature", "hc1", nouvel_evenement(PreuveHospiconnectDeposee(
        preuve_id=preuve_id, candidature_id="hc1", finess="2A0002606", finess_ej="2A0002606", region="94",
        annee=2026, objectif="1.0", nature="document",
        document=DocumentPreuve(nom="note.pdf", type="note_de_cadrage", sha256="aa" * 32),
        depose_par="es", depose_le=MAINTENANT), source="/test", subject="candidature/hc1"))
    await bus.publier("candidature", "p1", nouvel_evenement(ProjetAapDepose(
        projet_id="p1", finess="2A0002606", raison_sociale="CH Sartène", region="94",
        theme="desengorgement_urgences", titre="t", description="d", objectifs=["o1"],
        participants=["2A0002606"], perimetre=["2A0002614"],
        equipe=[MembreEquipeAap(nom="A", fonction="urgentiste", responsable=True)],
        depenses_prevues=[DepensePrevueAap(annee=2026, montant=D("60000.00")),
                          DepensePrevueAap(annee=2027, montant=D("40000.50"))],
        lettres_partenaires=[], deposee_par="es", deposee_le=MAINTENANT),
        source="/test", subject="projet/p1"))
    await bus.publier("etablissement", "2A0002606", nouvel_evenement(EtablissementPublie(
        finess="2A0002606", finess_ej="2A0002606", raison_sociale="CH Sartène", region="94", departement="2A",
        secteur="public", categorie=None, niveau="EJ", ght_code=None, ght_role=None, finess_pmsi="2A0002606",
        activite_combinee=D("4910"), eligible_phase1=True, maille_phase1="2A0002606", domaines_sun_es=[],
        ferme=False, effectifs=120, finess_pmsi_phase2="2A0002606", activite_combinee_2024=D("5120"),
        eligible_hospiconnect=True, maille_hospiconnect="2A0002606", eligible_aap=True,
        maille_aap="2A0002606"),
        source="/test", subject="etablissement/2A0002606"))
    decision_id = str(uuid.uuid4())
    await bus.publier("enveloppe", "94", _mouvement(EnveloppeEngagee, 10, "50000.00", "0.00",
                                                   projet_id="p1", decision_id=decision_id))
    await bus.publier("enveloppe", "94", _mouvement(EnveloppeConsommee, 11, "50000.00", "25000.00",
                                                   projet_id="p1", notification_id="n1"))

    async def tout(s):  # type: ignore[no-untyped-def]
        compte = await s.get(EnveloppeConnue, ("aap", "94"))
        return (await s.get(PreuveHospiconnectRecue, preuve_id) is not None and await s.get(Projet, "p1")
                and await s.get(EtablissementConnu, "2A0002606") and compte.derniere_ecriture == 11)
    await bus.attendre(tout, quoi="every event applied")
    async with bus.sessions() as s:
        dossier = await s.get(Dossier, "hc1")
        projet = await s.get(Projet, "p1")
        depenses = {d.annee: d.montant for d in await s.scalars(select(DepensePrevueProjet))}
        etab = await s.get(EtablissementConnu, "2A0002606")
        compte = await s.get(EnveloppeConnue, ("aap", "94"))
        engagement = await s.get(EngagementConnu, decision_id)
    assert dossier is not None
    assert dossier.dispositif == "hospiconnect"
    assert projet is not None
    assert (projet.statut, projet.depenses_prevues) == ("depose", D("100000.50"))
    assert depenses == {2026: D("60000.00"), 2027: D("40000.50")}
    assert etab is not None
    assert (etab.effectifs, etab.activite_combinee_2024) == (120, D("5120.00"))
    assert compte is not None
    assert (compte.engage, compte.consomme, compte.disponible, compte.source) == (
        D("50000.00"), D("25000.00"), D("406000.00"), "financement")
    assert engagement is not None
    assert engagement.montant == D("50000.00")

    # Redelivered, in order: the inbox drops them; and an older entry never moves the copy back.
    total = len(bus.publies)
    await bus.republier_tout()
    await bus.publier("enveloppe", "94", _mouvement(EnveloppeConsommee, 9, "0.00", "0.00",
                                                   projet_id="p0", notification_id="n0"))

    async def rejoue(_):  # type: ignore[no-untyped-def]
        return bus.consumer.processed >= 2 * total + 1
    await bus.attendre(rejoue, quoi="redelivery consumed")
    async with bus.sessions() as s:
        compte = await s.get(EnveloppeConnue, ("aap", "94"))
    assert compte is not None
    assert (compte.derniere_ecriture, compte.consomme) == (11, D("25000.00"))
    assert await bus.compter(PreuveHospiconnectRecue) == 1
    assert await bus.compter(DepensePrevueProjet) == 2
    assert await bus.compter(DeadLetter) == 0


async def test_une_reprise_baisse_le_consomme_de_la_copie(bus: Bus) -> None:
    """Issue 9: a corrected AAP decision takes back a paid half (EnveloppeRestituee): the copy follows."""
    decision_id = str(uuid.uuid4())
    await bus.publier("enveloppe", "94", _mouvement(EnveloppeConsommee, 20, "50000.00", "25000.00",
                                                   projet_id="p1", notification_id="n1"))
    await bus.publier("enveloppe", "94", _mouvement(EnveloppeRestituee, 21, "50000.00", "10000.00",
                                                   projet_id="p1", notification_id="n2",
                                                   tranche="aap_acceptation", decision_id=decision_id))

    async def restituee(s):  # type: ignore[no-untyped-def]
        compte = await s.get(EnveloppeConnue, ("aap", "94"))
        return compte is not None and compte.derniere_ecriture == 21
    await bus.attendre(restituee, quoi="reprise applied")
    async with bus.sessions() as s:
        compte = await s.get(EnveloppeConnue, ("aap", "94"))
    assert compte is not None
    assert (compte.engage, compte.consomme, compte.disponible) == (D("50000.00"), D("10000.00"),
                                                                   D("406000.00"))
    assert await bus.compter(DeadLetter) == 0


async def test_preuve_sans_dossier_est_garee(bus: Bus) -> None:
    """Same key, same partition: evidence cannot precede its deposit; if it does, it is parked."""
    await bus.publier("candidature", "orphelin", nouvel_evenement(PreuveHospiconnectDeposee(
        preuve_id=str(uuid.uuid4()), candidature_id="orphelin", finess="2A0002606", finess_ej="2A0002606",
        region="94", annee=2027, objectif="2.1", nature="taux", numerateur=3, denominateur=4, depose_par="es",
        depose_le=MAINTENANT), source="/test", subject="candidature/orphelin"))

    async def garee(s):  # type: ignore[no-untyped-def]
        return (await s.scalars(select(DeadLetter).where(DeadLetter.key == "orphelin"))).first()
    lettre = await bus.attendre(garee, quoi="orphan evidence parked")
    assert "inconnu" in lettre.error
