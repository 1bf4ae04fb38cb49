"""Candidature's own consumer (EventConsumer + HANDLERS, as in production) on the real Kafka broker and
its real database: the referentiel's phase-2 fields reach the local copy, and the ARS validations of
HospiConnect candidatures become the covered EJ that the AAP themes require."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import select

from hopen_candidature.consumers import HANDLERS
from hopen_candidature.models import EtablissementConnu, HospiconnectValide
from hopen_common.contracts import CandidatureValidee, EtablissementPublie, PerimetreEj
from hopen_common.events import nouvel_evenement
from hopen_common.testing.bus import Bus, bus_de_test


@pytest.fixture
async def bus(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="candidature", handlers=HANDLERS, database_url=fresh_database("candidature"),
                           kafka_bootstrap=kafka_bootstrap, sujets=("etablissement", "dossier")) as b:
        yield b


def _validee(cid: str, finess: str, dispositif: str,
             perimetre: list[str] | None = None):  # type: ignore[no-untyped-def]
    return nouvel_evenement(CandidatureValidee(
        decision_id=str(uuid.uuid4()), candidature_id=cid, finess=finess, region="27", decide_par="ars",
        decide_le=datetime.now(UTC), motivation="complète", dispositif=dispositif, objectifs=["1.0"],
        perimetre=None if perimetre is None else [
            PerimetreEj(finess_ej=f, raison_sociale=f, activite_combinee=None, objectifs=["1.0"])
            for f in perimetre]), source="/test", subject=f"candidature/{cid}")


async def test_copie_et_validations(bus: Bus) -> None:
    await bus.publier("etablissement", "210780581", nouvel_evenement(EtablissementPublie(
        finess="210780581", finess_ej="210780581", raison_sociale="CHU", region="27", departement="21",
        secteur="public", categorie=None, niveau="EJ", ght_code="BFC-03", ght_role="S",
        finess_pmsi="210780581", activite_combinee=Decimal("612480"), eligible_phase1=True,
        maille_phase1="210780581", domaines_sun_es=[], ferme=False, effectifs=9260,
        finess_pmsi_phase2="210780581", activite_combinee_2024=Decimal("600000.5"),
        eligible_hospiconnect=True, maille_hospiconnect="210780581", eligible_aap=True,
        maille_aap="210780581"), source="/test", subject="etablissement/210780581"))
    await bus.publier("dossier", "c-ght", _validee("c-ght", "210780581", "hospiconnect",
                                                   ["210780581", "520780032"]))
    await bus.publier("dossier", "c-seul", _validee("c-seul", "2A0002606", "hospiconnect"))
    await bus.publier("dossier", "c-p1", _validee("c-p1", "2B0005342", "phase1"))  # says nothing of the AAP

    async def trois(s):  # type: ignore[no-untyped-def]
        return len((await s.scalars(select(HospiconnectValide))).all()) == 3
    await bus.attendre(trois, quoi="validations applied")
    async with bus.sessions() as s:
        couverts = {(v.finess_ej, v.candidature_id) for v in await s.scalars(select(HospiconnectValide))}
        etab = await s.get(EtablissementConnu, "210780581")
    assert couverts == {("210780581", "c-ght"), ("520780032", "c-ght"), ("2A0002606", "c-seul")}
    assert etab is not None
    assert (etab.effectifs, etab.eligible_hospiconnect, etab.maille_hospiconnect,
            etab.activite_combinee_2024) == (
        9260, True, "210780581", Decimal("600000.50"))

    total = len(bus.publies)
    await bus.republier_tout()  # redelivered: nothing twice

    async def rejoue(_):  # type: ignore[no-untyped-def]
        return bus.consumer.processed >= 2 * total
    await bus.attendre(rejoue, quoi="redelivery consumed")
    assert await bus.compter(HospiconnectValide) == 3


async def test_decisions_de_l_ars_sur_un_projet(bus_projets: Bus) -> None:
    from hopen_candidature.models import DecisionProjetConnue, ProjetAap
    from hopen_common.contracts import AtteinteProjetAapDecidee, ParticipantAap, ProjetAapSelectionne
    from hopen_common.db.messaging import DeadLetter

    maintenant = datetime.now(UTC)
    async with bus_projets.sessions() as s:
        s.add(ProjetAap(id="p1", finess="2A0002606", region="94", statut="depose",
                        theme="desengorgement_urgences",
                        titre="t", description="d", objectifs=["o1"], participants=["2A0002606"],
                        perimetre=["2A0002614"], equipe=[], lettres_partenaires=[], sans_versement_usage=None,
                        cree_par="es", cree_le=maintenant))
        await s.commit()
    commun = {"projet_id": "p1", "finess": "2A0002606", "region": "94", "decide_par": "ars",
              "decide_le": maintenant}
    await bus_projets.publier("projet", "p1", nouvel_evenement(ProjetAapSelectionne(
        decision_id="d1", theme="desengorgement_urgences", objectifs=["o1"],
        participants=[ParticipantAap(finess="2A0002606", activite_combinee=Decimal("5120"))],
        perimetre=["2A0002614"], depenses_prevues=Decimal("100000"), montant_accorde=Decimal("50000.00"),
        motivation="retenu", **commun), source="/test", subject="projet/p1"))
    await bus_projets.publier("projet", "p1", nouvel_evenement(AtteinteProjetAapDecidee(
        decision_id="d2", atteint=True, motivation="atteint", **commun), source="/test", subject="projet/p1"))
    await bus_projets.publier("projet", "p9", nouvel_evenement(AtteinteProjetAapDecidee(
        decision_id="d9", atteint=True, motivation="?", **{**commun, "projet_id": "p9"}), source="/test",
        subject="projet/p9"))

    async def decides(s):  # type: ignore[no-untyped-def]
        lignes = (await s.scalars(select(DecisionProjetConnue))).all()
        parque = (await s.scalars(select(DeadLetter).where(DeadLetter.key == "p9"))).first()
        return lignes if len(lignes) == 2 and parque is not None else None
    lignes = await bus_projets.attendre(decides, quoi="decisions known, unknown project parked")
    assert {(d.objet, d.decision, d.montant_accorde) for d in lignes} == {
        ("selection", "selectionne", Decimal("50000.00")), ("atteinte", "atteint", None)}


@pytest.fixture
async def bus_projets(fresh_database: Callable[[str], str], kafka_bootstrap: str) -> AsyncIterator[Bus]:
    async with bus_de_test(nom="candidature", handlers=HANDLERS, database_url=fresh_database("candidature"),
                           kafka_bootstrap=kafka_bootstrap, sujets=("projet",)) as b:
        yield b


def _instantane(raison_sociale: str, quand: datetime):  # type: ignore[no-untyped-def]
    evenement = nouvel_evenement(EtablissementPublie(
        finess="250000015", finess_ej="250000015", raison_sociale=raison_sociale, region="27",
        departement="25", secteur="public", categorie=None, niveau="EJ", ght_code=None, ght_role=None,
        finess_pmsi="250000015", activite_combinee=None, eligible_phase1=False, maille_phase1=None,
        domaines_sun_es=[], ferme=False), source="/test", subject="etablissement/250000015")
    return evenement.model_copy(update={"time": quand})


async def test_un_instantane_plus_ancien_ne_remplace_pas_la_copie(bus: Bus) -> None:
    """Snapshots arriving out of order (a replay under a new id, F6 of the fault matrix): the copy keeps
    the newest, whatever the order of arrival."""
    t1 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    t2, t3 = t1.replace(hour=11), t1.replace(hour=12)
    for evenement in (_instantane("CH de 11 h", t2), _instantane("CH de 10 h", t1)):
        await bus.publier("etablissement", "250000015", evenement)

    async def deux(_):  # type: ignore[no-untyped-def]
        return bus.consumer.processed >= 2
    await bus.attendre(deux, quoi="both snapshots consumed")
    async with bus.sessions() as s:
        etab = await s.get(EtablissementConnu, "250000015")
    assert etab is not None
    assert (etab.raison_sociale, etab.instantane_le) == ("CH de 11 h", t2)

    await bus.publier("etablissement", "250000015", _instantane("CH de 12 h", t3))

    async def trois(_):  # type: ignore[no-untyped-def]
        return bus.consumer.processed >= 3
    await bus.attendre(trois, quoi="the newer snapshot consumed")
    async with bus.sessions() as s:
        etab = await s.get(EtablissementConnu, "250000015")
    assert etab is not None
    assert (etab.raison_sociale, etab.instantane_le) == ("CH de 12 h", t3)
