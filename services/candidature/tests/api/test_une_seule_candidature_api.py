"""Issue 7, "pay once", through the candidature API on its real database and its own consumer on the
real Kafka broker: one open candidature per applicant and dispositif, each EJ counted by one open
candidature only, whatever the local copy of the referentiel said at the time and however many requests
arrive at once; a refused or withdrawn candidature frees them, a validated one holds them. The local
copy is seeded (and changed) directly; the ARS decisions and instruction's answers to withdrawals arrive
as events. A deposited candidature being withdrawn holds its applicant and EJ until instruction answers
(ADR 0010): a withdrawal crossing a validation can no longer free a slot that money then follows."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from decimal import Decimal
from functools import partial
from typing import Any

import httpx
import pytest
from sqlalchemy import insert, select, update
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from hopen_candidature.consumers import HANDLERS
from hopen_candidature.models import Candidature, CandidatureEj, EtablissementConnu
from hopen_common.contracts import (
    CandidatureRefusee,
    CandidatureValidee,
    DesistementEnregistre,
    DesistementRefuse,
)
from hopen_common.db.messaging import DeadLetter, JournalAudit, OutboxMessage, RequeteIdempotente
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.testing import jeton
from hopen_common.testing.api import compter, rien_ecrit
from hopen_common.testing.bus import Bus, bus_de_test
from hopen_common.testing.copies_locales import etablissement_connu

FOULE, FOULE_HC = "2A0002606", "800003071"  # ten requests at once
REFUSE, VALIDE, RETIRE = "2B0005342", "2A0000154", "2A0000204"
SEUL_PUIS_MEMBRE, SUPPORT_C = "520780032", "210780581"  # an EJ applied alone, later a GHT member
SUPPORT_A, SUPPORT_B, MOBILE = "690781810", "380780080", "420784878"  # an EJ moving between two GHT
COURSE, SUPPORT_D = "130786049", "330781196"  # the EJ's own application races its support's
CROISE, SANS_DECISION, HERITE = "2A0000501", "2A0000600", "2A0000709"  # withdrawals crossing decisions


_etab = partial(etablissement_connu, activite_combinee=Decimal("18530"))


def _ght(code: str, support: str, finess: str, **champs: Any) -> dict[str, Any]:
    return _etab(finess, **{"region": "27", "ght_code": code, "ght_role": "S" if finess == support else "M",
                             "maille_phase1": support, "maille_hospiconnect": support, **champs})


ETABLISSEMENTS = [
    _etab(FOULE), _etab(FOULE_HC, region="32", secteur="prive_lucratif", maille_phase1=None),
    _etab(REFUSE), _etab(VALIDE), _etab(RETIRE),
    _etab(SEUL_PUIS_MEMBRE, region="27"), _ght("BFC-03", SUPPORT_C, SUPPORT_C),
    _ght("ARA-01", SUPPORT_A, SUPPORT_A), _ght("ARA-01", SUPPORT_A, MOBILE),
    _ght("ARA-02", SUPPORT_B, SUPPORT_B),
    # The copy between two publications: COURSE already a member of GHT NA-01 but still its own maille.
    _ght("NA-01", SUPPORT_D, SUPPORT_D), _ght("NA-01", SUPPORT_D, COURSE, maille_phase1=COURSE),
    _etab(CROISE), _etab(SANS_DECISION), _etab(HERITE),
]
ECRITES = (Candidature, CandidatureEj, JournalAudit, OutboxMessage, RequeteIdempotente)


@pytest.fixture(scope="module")
async def moteur(fresh_database: Callable[[str], str]) -> AsyncIterator[AsyncEngine]:
    engine = create_async_engine(fresh_database("candidature"))
    async with engine.begin() as conn:
        await conn.execute(insert(EtablissementConnu), ETABLISSEMENTS)
    yield engine
    await engine.dispose()


@pytest.fixture(scope="module")
async def bus(moteur: AsyncEngine, kafka_bootstrap: str) -> AsyncIterator[Bus]:
    """Candidature's own consumer on the module's database: the ARS decisions as instruction sends them."""
    async with bus_de_test(nom="candidature", handlers=HANDLERS,
                           database_url=moteur.url.render_as_string(hide_password=False),
                           kafka_bootstrap=kafka_bootstrap, sujets=("dossier",)) as b:
        yield b


def _phase1(finess: str, **autres: Any) -> dict[str, Any]:
    return {"dispositif": "phase1", "finess": finess, "objectifs": ["P1.O1"], **autres}


def _probleme(r: httpx.Response, statut: int, type_: str, champ: str | None) -> dict[str, Any]:
    assert r.status_code == statut, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    corps: dict[str, Any] = r.json()
    assert corps["type"].endswith("/" + type_), corps
    assert corps.get("champ") == champ, corps
    return corps


async def _cree(api: httpx.AsyncClient, corps: dict[str, Any], *, deposer: bool = False) -> str:
    es = jeton("etablissement", finess=[corps["finess"]])
    r = await api.post("/v1/candidatures", headers=es, json=corps)
    assert r.status_code == 201, r.text
    cid = str(r.json()["id"])
    if deposer:
        assert (await api.post(f"/v1/candidatures/{cid}/depot", headers=es)).status_code == 200
    return cid


def _decision(modele: type[CandidatureValidee] | type[CandidatureRefusee], cid: str, finess: str,
              dispositif: str = "phase1") -> Evenement:
    commun: dict[str, Any] = {
        "decision_id": str(uuid.uuid4()), "candidature_id": cid, "finess": finess, "region": "94",
        "decide_par": "ars-corse", "decide_le": datetime.now(UTC), "motivation": "instruite",
        "dispositif": dispositif}
    payload = (CandidatureValidee(objectifs=["P1.O1"], **commun) if modele is CandidatureValidee
               else CandidatureRefusee(**commun))
    return nouvel_evenement(payload, source="/test", subject=f"candidature/{cid}")


def _enregistre(cid: str, finess: str) -> Evenement:
    """Instruction's answer to a withdrawal of a dossier it had not decided."""
    return nouvel_evenement(DesistementEnregistre(
        candidature_id=cid, dispositif="phase1", finess=finess, region="94",
        desistement_event_id=str(uuid.uuid4()), enregistre_le=datetime.now(UTC)),
        source="/test", subject=f"candidature/{cid}")


def _refuse(cid: str, finess: str, *, decision_id: str, statut: str = "validee") -> Evenement:
    """Instruction's answer to a withdrawal that arrived once the ARS had decided."""
    return nouvel_evenement(DesistementRefuse(
        candidature_id=cid, dispositif="phase1", finess=finess, region="94",
        desistement_event_id=str(uuid.uuid4()), decision_id=decision_id, statut=statut,
        decide_le=datetime.now(UTC)), source="/test", subject=f"candidature/{cid}")


async def _statut_devient(bus: Bus, cid: str, statut: str) -> None:
    async def atteint(s):  # type: ignore[no-untyped-def]
        return await s.scalar(select(Candidature.statut).where(Candidature.id == cid)) == statut
    await bus.attendre(atteint, quoi=f"{cid} {statut}")


@pytest.mark.parametrize(("corps", "finess"), [
    (_phase1(FOULE), FOULE),
    ({"dispositif": "hospiconnect", "finess": FOULE_HC}, FOULE_HC),
])
async def test_dix_demandes_a_la_fois(api: httpx.AsyncClient, moteur: AsyncEngine, corps: dict[str, Any],
                                      finess: str) -> None:
    es = jeton("etablissement", finess=[finess])
    reponses = await asyncio.gather(*(api.post("/v1/candidatures", headers=es, json=corps)
                                      for _ in range(10)))
    creees = [r for r in reponses if r.status_code == 201]
    assert len(creees) == 1, [r.text for r in reponses]
    cid = creees[0].json()["id"]
    for r in reponses:
        if r is not creees[0]:
            assert _probleme(r, 409, "deja-candidat", "finess")["candidature_id"] == cid
    assert await compter(moteur, Candidature, Candidature.finess == finess) == 1
    assert await compter(moteur, CandidatureEj, CandidatureEj.candidature_id == cid) == 1
    assert await compter(moteur, JournalAudit, JournalAudit.objet_id == cid) == 1


async def test_refusee_libere_validee_retient(api: httpx.AsyncClient, moteur: AsyncEngine, bus: Bus) -> None:
    refusee = await _cree(api, _phase1(REFUSE), deposer=True)
    validee = await _cree(api, _phase1(VALIDE), deposer=True)
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[REFUSE]),
                           json=_phase1(REFUSE))
    assert _probleme(r, 409, "deja-candidat", "finess")["candidature_id"] == refusee
    await bus.publier("dossier", refusee, _decision(CandidatureRefusee, refusee, REFUSE))
    await bus.publier("dossier", validee, _decision(CandidatureValidee, validee, VALIDE))
    await _statut_devient(bus, refusee, "refusee")
    await _statut_devient(bus, validee, "validee")
    async with moteur.connect() as conn:
        assert await conn.scalar(select(CandidatureEj.statut).where(
            CandidatureEj.candidature_id == refusee)) == "refusee"  # the EJ rows follow the status

    nouvelle = await _cree(api, _phase1(REFUSE))  # a refused candidature no longer blocks
    assert nouvelle != refusee
    es = jeton("etablissement", finess=[VALIDE])
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=es, json=_phase1(VALIDE))
        assert _probleme(r, 409, "deja-candidat", "finess")["candidature_id"] == validee
        r = await api.post(f"/v1/candidatures/{validee}/desistement", headers=es,
                           json={"motivation": "trop tard"})
        _probleme(r, 409, "desistement-impossible", "statut")
    # Evidence keeps coming on a validated candidature (indicators measured after the validation).
    r = await api.post(f"/v1/candidatures/{validee}/indicateurs", headers=es,
                       json={"objectif": "P1.O1", "numerateur": 1, "denominateur": 2})
    assert r.status_code == 201, r.text

    # Redelivered decisions change nothing; one on a candidature unknown here is not parked.
    inconnue = str(uuid.uuid4())
    await bus.publier("dossier", inconnue, _decision(CandidatureRefusee, inconnue, REFUSE))
    await bus.republier_tout()
    total = 2 * len(bus.publies)

    async def tout_lu(_):  # type: ignore[no-untyped-def]
        return bus.consumer.processed >= total
    await bus.attendre(tout_lu, quoi="decisions and redeliveries consumed")
    assert await compter(moteur, DeadLetter) == 0
    assert await compter(moteur, JournalAudit, JournalAudit.objet_id == refusee,
                         JournalAudit.action == "candidature_refusee") == 1


async def test_desistement(api: httpx.AsyncClient, moteur: AsyncEngine, bus: Bus) -> None:
    es = jeton("etablissement", finess=[RETIRE], sujet="dg-retire")
    brouillon = await _cree(api, _phase1(RETIRE))
    motif = {"motivation": "le projet est reporté"}
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{brouillon}/desistement",
                           headers=jeton("etablissement", finess=[FOULE]), json=motif)
        assert r.status_code == 404  # another establishment: as if it did not exist
        r = await api.post(f"/v1/candidatures/{brouillon}/desistement", headers=jeton("ars", region="94"),
                           json=motif)
        assert r.status_code == 403
        r = await api.post(f"/v1/candidatures/{brouillon}/desistement", headers=es, json={})
        assert r.status_code == 422
        assert r.json()["champ"] == "motivation"
    r = await api.post(f"/v1/candidatures/{brouillon}/desistement", headers=es, json=motif)
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "desistee"
    # A draft was never sent to the ARS: nothing to tell instruction.
    assert await compter(moteur, OutboxMessage, OutboxMessage.key == brouillon) == 0
    async with rien_ecrit(moteur, *ECRITES):
        _probleme(await api.post(f"/v1/candidatures/{brouillon}/desistement", headers=es, json=motif),
                  409, "desistement-impossible", "statut")
        assert (await api.post(f"/v1/candidatures/{brouillon}/depot", headers=es)).status_code == 409

    deposee = await _cree(api, _phase1(RETIRE), deposer=True)  # a withdrawn draft no longer blocks
    r = await api.post(f"/v1/candidatures/{deposee}/desistement",
                       headers={**es, "Idempotency-Key": "desist-1"}, json=motif)
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "desistement_demande"
    async with moteur.connect() as conn:
        (evenement,) = (await conn.scalars(select(OutboxMessage.envelope).where(
            OutboxMessage.key == deposee,
            OutboxMessage.envelope["type"].astext == "CandidatureDesistee"))).all()
        audit = (await conn.execute(select(JournalAudit.acteur, JournalAudit.motivation, JournalAudit.details)
                                    .where(JournalAudit.objet_id == deposee,
                                           JournalAudit.action == "desister"))).one()
        ej = await conn.scalar(select(CandidatureEj.statut).where(CandidatureEj.candidature_id == deposee))
    assert evenement["data"] | {"desistee_le": None} == {
        "candidature_id": deposee, "dispositif": "phase1", "finess": RETIRE, "region": "94",
        "motivation": "le projet est reporté", "desistee_par": "dg-retire", "desistee_le": None}
    assert evenement["dataschema"] == "CandidatureDesistee/v1"
    assert (audit.acteur, audit.motivation, audit.details["statut_precedent"]) == (
        "dg-retire", "le projet est reporté", "deposee")
    assert audit.details["event_id"]
    assert ej == "desistement_demande"  # still held: instruction has not answered
    rejouee = await api.post(f"/v1/candidatures/{deposee}/desistement",
                             headers={**es, "Idempotency-Key": "desist-1"}, json=motif)
    assert rejouee.headers["Idempotent-Replayed"] == "true"
    assert await compter(moteur, OutboxMessage, OutboxMessage.key == deposee) == 2  # depot + desistement

    # While instruction has not answered: the establishment sees the request, a second one is refused,
    # and the applicant cannot apply again (the ARS may have validated this one meanwhile).
    r = await api.get(f"/v1/candidatures/{deposee}", headers=es)
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "desistement_demande"
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post(f"/v1/candidatures/{deposee}/desistement", headers=es, json=motif)
        _probleme(r, 409, "desistement-impossible", "statut")
        r = await api.post("/v1/candidatures", headers=es, json=_phase1(RETIRE))
        assert _probleme(r, 409, "deja-candidat", "finess")["candidature_id"] == deposee

    # Instruction recorded the withdrawal before any decision: closed, the applicant and its EJ free.
    await bus.publier("dossier", deposee, _enregistre(deposee, RETIRE))
    await _statut_devient(bus, deposee, "desistee")
    async with moteur.connect() as conn:
        assert await conn.scalar(select(CandidatureEj.statut).where(
            CandidatureEj.candidature_id == deposee)) == "desistee"
        audit = (await conn.execute(select(JournalAudit.acteur, JournalAudit.details).where(
            JournalAudit.objet_id == deposee, JournalAudit.action == "desistement_enregistre"))).one()
    assert audit.acteur == "instruction"
    assert audit.details["statut_precedent"] == "desistement_demande"
    nouvelle = await _cree(api, _phase1(RETIRE))  # a withdrawn candidature no longer blocks
    assert nouvelle not in (brouillon, deposee)


async def test_desistement_croise_une_validation(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                 bus: Bus) -> None:
    """The race of the hostile review: instruction validates c1 (financement pays it) before it reads
    the withdrawal, which candidature accepted while c1 was still deposee here."""
    es = jeton("etablissement", finess=[CROISE])
    c1 = await _cree(api, _phase1(CROISE), deposer=True)
    validation = _decision(CandidatureValidee, c1, CROISE)  # taken by the ARS, not yet read here
    r = await api.post(f"/v1/candidatures/{c1}/desistement", headers=es, json={"motivation": "reporté"})
    assert r.status_code == 200, r.text
    assert r.json()["statut"] == "desistement_demande"
    async with rien_ecrit(moteur, *ECRITES):  # c2 cannot take the slot c1 will be paid on
        r = await api.post("/v1/candidatures", headers=es, json=_phase1(CROISE))
        assert _probleme(r, 409, "deja-candidat", "finess")["candidature_id"] == c1

    # Same key, in instruction's order: the validation, then its refusal of the withdrawal.
    await bus.publier("dossier", c1, validation)
    await _statut_devient(bus, c1, "validee")
    await bus.publier("dossier", c1, _refuse(c1, CROISE, decision_id=validation.data["decision_id"]))

    async def refus_journalise(s):  # type: ignore[no-untyped-def]
        return (await s.execute(select(JournalAudit.motivation, JournalAudit.details).where(
            JournalAudit.objet_id == c1, JournalAudit.action == "desistement_refuse"))).one_or_none()
    audit = await bus.attendre(refus_journalise, quoi="withdrawal refused")
    assert "l'ARS avait déjà décidé" in audit.motivation
    assert audit.details | {"desistement_event_id": None} == {
        "decision_id": validation.data["decision_id"], "statut": "validee", "statut_precedent": "validee",
        "desistement_event_id": None}
    async with moteur.connect() as conn:
        assert await conn.scalar(select(Candidature.statut).where(Candidature.id == c1)) == "validee"
        assert await conn.scalar(select(CandidatureEj.statut).where(
            CandidatureEj.candidature_id == c1)) == "validee"
        decision = (await conn.execute(select(JournalAudit.details).where(
            JournalAudit.objet_id == c1, JournalAudit.action == "candidature_validee"))).scalar_one()
    assert decision["statut_precedent"] == "desistement_demande"
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=es, json=_phase1(CROISE))
        assert _probleme(r, 409, "deja-candidat", "finess")["candidature_id"] == c1
        r = await api.post(f"/v1/candidatures/{c1}/desistement", headers=es, json={"motivation": "encore"})
        _probleme(r, 409, "desistement-impossible", "statut")
    assert await compter(moteur, DeadLetter, DeadLetter.key == c1) == 0

    # The refusal arriving without the decision before it (never in instruction's order): the
    # candidature takes the decision it names, here a refusal that frees the applicant.
    es = jeton("etablissement", finess=[SANS_DECISION])
    seule = await _cree(api, _phase1(SANS_DECISION), deposer=True)
    r = await api.post(f"/v1/candidatures/{seule}/desistement", headers=es, json={"motivation": "reporté"})
    assert r.status_code == 200, r.text
    await bus.publier("dossier", seule, _refuse(seule, SANS_DECISION, decision_id=str(uuid.uuid4()),
                                                statut="refusee"))
    await _statut_devient(bus, seule, "refusee")
    await _cree(api, _phase1(SANS_DECISION))


async def test_decision_sur_un_desistement_d_avant(api: httpx.AsyncClient, moteur: AsyncEngine,
                                                   bus: Bus) -> None:
    """A candidature withdrawn at once before the two-phase withdrawal, then validated by the ARS,
    while a new candidature holds its slot: parked with a readable motive, not a raw SQL error."""
    ancienne = await _cree(api, _phase1(HERITE), deposer=True)
    async with moteur.begin() as conn:  # what the earlier code wrote for a withdrawn deposited one
        await conn.execute(update(Candidature).where(Candidature.id == ancienne).values(statut="desistee"))
        await conn.execute(update(CandidatureEj).where(CandidatureEj.candidature_id == ancienne)
                           .values(statut="desistee"))
    nouvelle = await _cree(api, _phase1(HERITE))
    validation = _decision(CandidatureValidee, ancienne, HERITE)
    await bus.publier("dossier", ancienne, validation)

    async def garee(s):  # type: ignore[no-untyped-def]
        return (await s.scalars(select(DeadLetter).where(DeadLetter.key == ancienne))).one_or_none()
    lettre = await bus.attendre(garee, quoi="crossed decision parked")
    assert (lettre.motif, lettre.attempts, lettre.event_id) == ("desistement-croise", 1, validation.id)
    rejeu = f"/v1/operations/cles/{ancienne}/rejeu"
    for nomme in (ancienne, nouvelle, validation.data["decision_id"], rejeu):
        assert nomme in lettre.error, lettre.error
    assert "IntegrityError" not in lettre.error
    async with moteur.connect() as conn:
        statuts = dict((await conn.execute(select(Candidature.id, Candidature.statut).where(
            Candidature.finess == HERITE))).all())
    assert statuts == {ancienne: "desistee", nouvelle: "brouillon"}


async def test_ej_candidate_seule_puis_membre_d_un_ght(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    seule = await _cree(api, _phase1(SEUL_PUIS_MEMBRE))
    # The referentiel then publishes it as a member of the GHT BFC-03.
    async with moteur.begin() as conn:
        await conn.execute(update(EtablissementConnu).where(EtablissementConnu.finess == SEUL_PUIS_MEMBRE)
                           .values(ght_code="BFC-03", ght_role="M", maille_phase1=SUPPORT_C))
    support = jeton("etablissement", finess=[SUPPORT_C])
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=support, json=_phase1(SUPPORT_C))
        corps = _probleme(r, 409, "ej-deja-couverte", "finess")  # the perimeter was computed
        assert (corps["finess_ej"], corps["candidature_id"]) == (SEUL_PUIS_MEMBRE, seule)
        r = await api.post("/v1/candidatures", headers=support, json=_phase1(SUPPORT_C, perimetre=[
            {"finess_ej": SUPPORT_C, "objectifs": ["P1.O1"]},
            {"finess_ej": SEUL_PUIS_MEMBRE, "objectifs": ["P1.O1"]}]))
        corps = _probleme(r, 409, "ej-deja-couverte", "perimetre.1.finess_ej")
        assert corps["candidature_id"] == seule
    # Without that EJ the support applies.
    await _cree(api, _phase1(SUPPORT_C, perimetre=[{"finess_ej": SUPPORT_C, "objectifs": ["P1.O1"]}]))
    # HospiConnect is another dispositif: the same EJ is counted there on its own.
    async with moteur.begin() as conn:
        await conn.execute(update(EtablissementConnu).where(EtablissementConnu.finess == SEUL_PUIS_MEMBRE)
                           .values(maille_hospiconnect=SEUL_PUIS_MEMBRE))
    await _cree(api, {"dispositif": "hospiconnect", "finess": SEUL_PUIS_MEMBRE})


async def test_ej_dans_deux_perimetres_de_ght(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    premiere = await _cree(api, _phase1(SUPPORT_A))  # MOBILE in its perimeter
    async with moteur.begin() as conn:  # MOBILE moves to the GHT ARA-02
        await conn.execute(update(EtablissementConnu).where(EtablissementConnu.finess == MOBILE)
                           .values(ght_code="ARA-02", maille_phase1=SUPPORT_B))
    async with rien_ecrit(moteur, *ECRITES):
        r = await api.post("/v1/candidatures", headers=jeton("etablissement", finess=[SUPPORT_B]),
                           json=_phase1(SUPPORT_B, perimetre=[{"finess_ej": MOBILE, "objectifs": ["P1.O1"]}]))
    corps = _probleme(r, 409, "ej-deja-couverte", "perimetre.0.finess_ej")
    assert (corps["finess_ej"], corps["candidature_id"]) == (MOBILE, premiere)
    # The first GHT withdraws: the EJ is free for the second.
    es_a = jeton("etablissement", finess=[SUPPORT_A])
    assert (await api.post(f"/v1/candidatures/{premiere}/desistement", headers=es_a,
                           json={"motivation": "l'EJ a changé de GHT"})).status_code == 200
    seconde = await _cree(api, _phase1(SUPPORT_B))
    async with moteur.connect() as conn:
        couverte_par = await conn.scalars(select(CandidatureEj.candidature_id).where(
            CandidatureEj.finess_ej == MOBILE, CandidatureEj.statut != "desistee"))
        assert list(couverte_par) == [seconde]


async def test_course_de_l_ej_et_de_son_support(api: httpx.AsyncClient, moteur: AsyncEngine) -> None:
    reponses = await asyncio.gather(
        api.post("/v1/candidatures", headers=jeton("etablissement", finess=[COURSE]), json=_phase1(COURSE)),
        api.post("/v1/candidatures", headers=jeton("etablissement", finess=[SUPPORT_D]),
                 json=_phase1(SUPPORT_D)))
    statuts = sorted(r.status_code for r in reponses)
    assert statuts == [201, 409], [r.text for r in reponses]
    gagnante = next(r for r in reponses if r.status_code == 201).json()["id"]
    perdante = next(r for r in reponses if r.status_code == 409)
    corps = _probleme(perdante, 409, "ej-deja-couverte", "finess")
    assert (corps["finess_ej"], corps["candidature_id"]) == (COURSE, gagnante)
    assert await compter(moteur, CandidatureEj, CandidatureEj.finess_ej == COURSE) == 1
