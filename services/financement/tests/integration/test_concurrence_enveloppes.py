"""Two hundred concurrent engagements on one region, on the real PostgreSQL, each in its own session
and transaction: engaged never ends above allocated, and what was engaged is exactly what was
accepted. Then the same through the consumer's own transaction path (inbox + handler) with AAP
selections, and engagements racing DNS transfers out of the same envelope."""

from __future__ import annotations

import asyncio
import random
import uuid
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import func, select

from hopen_common.contracts import ParticipantAap, ProjetAapSelectionne
from hopen_common.db import build_engine, build_sessionmaker, session_scope
from hopen_common.events import decoder_payload, nouvel_evenement
from hopen_common.inbox import EventConsumer
from hopen_financement.consumers import HANDLERS
from hopen_financement.enveloppes.models import EcritureEnveloppe
from hopen_financement.enveloppes.rules import EnveloppeInsuffisante
from hopen_financement.enveloppes.service import engager, situation_de, transferer

D = Decimal
CORSE, ALLOUE_CORSE = "94", D("456000.00")
N = 200


@pytest.fixture
async def sessions(fresh_database):
    url = fresh_database("financement")
    # One connection per concurrent request: they really run side by side in PostgreSQL.
    engine = build_engine(url, pool_size=N + 10)
    yield build_sessionmaker(engine)
    await engine.dispose()


async def _verifier_invariants(sessions, acceptes: list[Decimal]) -> None:
    async with sessions() as s:
        situation = await situation_de(s, "aap", CORSE)
        engagements = await s.scalar(select(func.count()).select_from(EcritureEnveloppe).where(
            EcritureEnveloppe.region == CORSE, EcritureEnveloppe.nature == "engagement"))
    assert situation.alloue >= situation.engage, situation
    assert situation.valide()
    assert situation.engage == sum(acceptes, D(0))
    assert engagements == len(acceptes)


async def test_deux_cents_engagements_concurrents(sessions):
    hasard = random.Random(7)
    montants = [D(hasard.randint(100_000, 1_000_000)).scaleb(-2) for _ in range(N)]  # 1 000 to 10 000 €
    assert sum(montants) > ALLOUE_CORSE  # more is asked than the envelope holds
    depart = asyncio.Event()

    async def demande(i: int, montant: Decimal) -> Decimal | None:
        await depart.wait()  # release all 200 together
        try:
            async with session_scope(sessions) as s:
                await engager(s, None, dispositif="aap", region=CORSE, montant=montant,
                              projet_id=f"projet-{i}", decision_id=f"decision-{i}",
                              motif="test de concurrence", ecrit_par=f"ars-agent-{i % 7}")
            return montant
        except EnveloppeInsuffisante:
            return None

    taches = [asyncio.create_task(demande(i, m)) for i, m in enumerate(montants)]
    await asyncio.sleep(0.1)
    depart.set()
    resultats = await asyncio.gather(*taches)
    acceptes = [m for m in resultats if m is not None]
    assert acceptes, "some requests fit"
    assert len(acceptes) < N, "some requests must have been refused"
    await _verifier_invariants(sessions, acceptes)
    async with sessions() as s:
        restant = (await situation_de(s, "aap", CORSE)).disponible
    refuses = [m for m, r in zip(montants, resultats, strict=True) if r is None]
    # Available money only decreases here, so each refusal was justified: at its turn less was left
    # than it asked, hence still less at the end.
    assert restant >= 0
    assert all(m > restant for m in refuses)


async def test_engagements_et_transferts_dns_concurrents(sessions):
    hasard = random.Random(11)
    depart = asyncio.Event()
    acceptes: list[Decimal] = []
    transferes: list[Decimal] = []

    async def engagement(i: int) -> None:
        montant = D(hasard.randint(100_000, 1_000_000)).scaleb(-2)
        await depart.wait()
        try:
            async with session_scope(sessions) as s:
                await engager(s, None, dispositif="aap", region=CORSE, montant=montant, projet_id=f"p-{i}",
                              decision_id=f"d-{i}", motif="concurrence", ecrit_par="ars")
            acceptes.append(montant)
        except EnveloppeInsuffisante:
            pass

    async def transfert(i: int) -> None:
        montant = D(hasard.randint(1_000_000, 3_000_000)).scaleb(-2)
        await depart.wait()
        try:
            async with session_scope(sessions) as s:
                # Corse -> Île-de-France and back: opposite lock orders would deadlock without ordering.
                corse, idf = ("aap", CORSE), ("aap", "11")
                source, destination = (corse, idf) if i % 2 else (idf, corse)
                await transferer(s, source=source, destination=destination, montant=montant,
                                 motif="réallocation", decide_par="dns")
            transferes.append(montant if i % 2 else -montant)
        except EnveloppeInsuffisante:
            pass

    taches = [asyncio.create_task(engagement(i)) for i in range(N - 20)]
    taches += [asyncio.create_task(transfert(i)) for i in range(20)]
    await asyncio.sleep(0.1)
    depart.set()
    await asyncio.gather(*taches)
    async with sessions() as s:
        corse = await situation_de(s, "aap", CORSE)
        idf = await situation_de(s, "aap", "11")
    assert corse.alloue == ALLOUE_CORSE - sum(transferes, D(0))
    assert corse.engage == sum(acceptes, D(0)) <= corse.alloue
    assert idf.alloue == D("15061000.00") + sum(transferes, D(0))
    assert corse.valide()
    assert idf.valide()


async def test_deux_cents_selections_aap_par_le_chemin_du_consommateur(sessions):
    """The consumer's transaction (inbox row + handler): engage, notify, pay the first half."""
    consommateur = EventConsumer(name="financement", consumer=None, producer=None,  # type: ignore[arg-type]
                                 sessionmaker=sessions, handlers=HANDLERS)
    hasard = random.Random(3)
    evenements = []
    for i in range(N):
        montant = D(hasard.randint(100_000, 1_500_000)).scaleb(-2)
        evenements.append(nouvel_evenement(ProjetAapSelectionne(
            decision_id=str(uuid.uuid4()), projet_id=str(uuid.uuid4()), finess="2A0002606", region=CORSE,
            theme="desengorgement_urgences", objectifs=["o1", "o2"],
            participants=[ParticipantAap(finess="2A0002606", activite_combinee=D("40000"))],
            perimetre=["2A0002606"], depenses_prevues=montant, montant_accorde=montant,
            decide_par=f"ars-agent-{i % 5}", decide_le=datetime.now(UTC), motivation="retenu"),
            source="/test", subject="projet"))
    depart = asyncio.Event()

    async def appliquer(ev) -> Decimal | None:
        await depart.wait()
        try:
            await consommateur.apply(ev, decoder_payload(ev), HANDLERS[ev.type])
            return D(ev.data["montant_accorde"])
        except EnveloppeInsuffisante:
            return None

    taches = [asyncio.create_task(appliquer(ev)) for ev in evenements]
    await asyncio.sleep(0.1)
    depart.set()
    acceptes = [m for m in await asyncio.gather(*taches) if m is not None]
    assert 0 < len(acceptes) < N
    await _verifier_invariants(sessions, acceptes)
    async with sessions() as s:
        situation = await situation_de(s, "aap", CORSE)
    # Each accepted project was paid its first half (half up), nothing for the refused ones.
    moities = sum(((m * D("0.5")).quantize(D("0.01"), rounding="ROUND_HALF_UP") for m in acceptes), D(0))
    assert situation.consomme == moities
    # Redelivering every event changes nothing.
    for ev in evenements:
        try:
            assert await consommateur.apply(ev, decoder_payload(ev), HANDLERS[ev.type]) in (False,)
        except EnveloppeInsuffisante:
            pass  # a refused one is tried again (its inbox row was rolled back) and refused again
    async with sessions() as s:
        assert await situation_de(s, "aap", CORSE) == situation
