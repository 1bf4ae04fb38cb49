"""Issue 7, the pay-once invariants as a stateful property: hypothesis drives random sequences of
ARS decisions and deliveries (validate a candidature, possibly a second one for an EJ already in
another, decide an objective, correct a decision, select an AAP project and judge it, deliver any
pending event out of order, redeliver any event, replay a parked key) through financement's real
consumer (EventConsumer.process with the production HANDLERS, its inbox and parking, on the real
PostgreSQL; parked events go to the real Kafka dead-letter topic), and checks after every step:

- one current line per business key, versions 1..n without a gap;
- per (EJ, objective): amorçage = 30 % of the forfait rounded once (the independent oracle), and
  amorçage + solde = forfait, or the reprise returns exactly the amorçage; the solde follows the
  current objective decision;
- nothing paid without a validation that was delivered; one candidature per paid (EJ, objective);
- per region engaged <= allocated, consumed <= engaged; AAP lines paid = the ledger's payments;
- each notification's net equals its lines (reprises negative).

Bounded (examples and steps) to stay well inside CI's time; each example works on its own EJ.
"""

from __future__ import annotations

import asyncio
import itertools
import threading
import uuid
from collections.abc import Coroutine
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, TypeVar

import pytest
from aiokafka.structs import ConsumerRecord
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule
from sqlalchemy import func, select

from hopen_common.contracts.topics import topic_dead_letter
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.db.messaging import DeadLetter
from hopen_common.devstack.kafka import ensure_topics_async
from hopen_common.events import Evenement
from hopen_common.inbox import EventConsumer
from hopen_common.kafka import build_producer, stop_with_timeout
from hopen_financement.consumers import HANDLERS
from hopen_financement.enveloppes.models import EcritureEnveloppe
from hopen_financement.forfaits.models import CandidatureFinancee, ObjectifDecide
from hopen_financement.notifications.models import LigneFinancement, Notification

from .. import builders as b
from .. import oracle

T = TypeVar("T")
D = Decimal
REGION = "94"
MAX = "600000"
OBJECTIFS = ("P1.O1", "P1.O3", "P1.O5")
_numeros = itertools.count(1)
_positions = itertools.count(1)


def _finess_de_test() -> str:
    """A FINESS of the test's own (département 2A) with a valid key: every example has its own EJ."""
    corps = f"2A{next(_numeros):06d}"
    chiffres = "21" + corps[2:]
    total = sum(int(c) if i % 2 == 0 else (2 * int(c) if int(c) < 5 else 2 * int(c) - 9)
                for i, c in enumerate(chiffres))
    return corps + str((10 - total % 10) % 10)


class _Boucle:
    """One event loop in a thread for the whole test: hypothesis' rules are synchronous."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()

    def run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=120)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)


@dataclass
class Infra:
    boucle: _Boucle
    consumer: EventConsumer
    sessions: Any

    def livrer(self, cle: str, evenement: Evenement) -> None:
        # The consumer sees what Kafka would hand it: a record with its key and its own position.
        valeur = evenement.to_bytes()
        record = ConsumerRecord(topic="hopen.test.proprietes", partition=0, offset=next(_positions),
                                timestamp=0, timestamp_type=0, key=cle.encode(), value=valeur, checksum=None,
                                serialized_key_size=len(cle), serialized_value_size=len(valeur), headers=[])
        self.boucle.run(self.consumer.process(record))


@pytest.fixture(scope="module")
def infra(fresh_database, kafka_bootstrap):
    boucle = _Boucle()
    url = fresh_database("financement")

    async def demarrer() -> Infra:
        await ensure_topics_async(kafka_bootstrap, [topic_dead_letter("financement-proprietes")])
        producer = build_producer(kafka_bootstrap, client_id="financement-proprietes")
        await producer.start()
        sessions = build_sessionmaker(build_engine(url, pool_size=3))
        consumer = EventConsumer(name="financement-proprietes", consumer=None,  # type: ignore[arg-type]
                                 producer=producer, sessionmaker=sessions, handlers=HANDLERS,
                                 max_attempts=2, retry_backoff=0.0)
        return Infra(boucle, consumer, sessions)

    infra = boucle.run(demarrer())
    # The national maximum AC stays fixed: every example's EJ has a smaller AC.
    infra.livrer("national", b.etablissement("750712184", "11", MAX))
    yield infra
    boucle.run(stop_with_timeout(infra.consumer._producer))
    boucle.close()


@dataclass
class Candidature:
    id: str
    finess: str
    objectifs: list[str]
    decisions: dict[str, list[tuple[str, bool]]] = field(default_factory=dict)  # objective -> (id, reached)


class PayerUneFois(RuleBasedStateMachine):
    infra: Infra

    def __init__(self) -> None:
        super().__init__()
        self.ej: list[tuple[str, str]] = []  # (FINESS, AC)
        self.candidatures: list[Candidature] = []
        self.projets: list[str] = []
        self.en_attente: list[tuple[str, Evenement]] = []  # produced, not delivered yet
        self.livres: list[tuple[str, Evenement]] = []
        self.validations_livrees: set[str] = set()

    @initialize(acs=st.lists(st.sampled_from(["3500", "18530", "22500", "150000"]), min_size=2, max_size=2))
    def etablissements(self, acs: list[str]) -> None:
        for ac in acs:
            finess = _finess_de_test()
            self.ej.append((finess, ac))
            self.infra.livrer(finess, b.etablissement(finess, REGION, ac))

    def _produire(self, cle: str, evenement: Evenement) -> None:
        self.en_attente.append((cle, evenement))

    @rule(rang=st.integers(0, 1), objectifs=st.lists(st.sampled_from(OBJECTIFS), min_size=1, max_size=2,
                                                      unique=True))
    def valider(self, rang: int, objectifs: list[str]) -> None:
        """The ARS validates a candidature of an EJ (maybe one already in another candidature)."""
        finess = self.ej[rang][0]
        candidature = Candidature(str(uuid.uuid4()), finess, objectifs)
        self.candidatures.append(candidature)
        self._produire(candidature.id, b.validee(candidature.id, finess, REGION, objectifs))

    @precondition(lambda self: self.candidatures)
    @rule(data=st.data(), atteint=st.booleans())
    def decider(self, data: st.DataObject, atteint: bool) -> None:
        """A decision on an objective; a correction names the latest decision of that objective."""
        candidature = data.draw(st.sampled_from(self.candidatures))
        objectif = data.draw(st.sampled_from(candidature.objectifs))
        historique = candidature.decisions.setdefault(objectif, [])
        remplace = historique[-1][0] if historique else None
        evenement = b.objectif(candidature.id, candidature.finess, REGION, objectif, atteint,
                               candidature.objectifs, remplace=remplace)
        historique.append((evenement.data["decision_id"], atteint))
        self._produire(candidature.id, evenement)

    @rule(montant=st.sampled_from(["50000.00", "120000.00", "300000.00"]), rang=st.integers(0, 1))
    def selectionner(self, montant: str, rang: int) -> None:
        projet = str(uuid.uuid4())
        self.projets.append(projet)
        self._produire(projet, b.projet(projet, self.ej[rang][0], REGION, montant))

    @precondition(lambda self: self.projets)
    @rule(data=st.data(), atteint=st.booleans())
    def juger(self, data: st.DataObject, atteint: bool) -> None:
        projet = data.draw(st.sampled_from(self.projets))
        self._produire(projet, b.atteinte(projet, self.ej[0][0], REGION, atteint))

    @precondition(lambda self: self.en_attente)
    @rule(data=st.data())
    def livrer(self, data: st.DataObject) -> None:
        """Deliver any pending event: the order of delivery is not the order of production."""
        # Mostly the oldest (a broker keeps a key's order), sometimes any (other keys, producers' races).
        rang = data.draw(st.one_of(st.just(0), st.just(0), st.integers(0, len(self.en_attente) - 1)))
        cle, evenement = self.en_attente.pop(rang)
        self.infra.livrer(cle, evenement)
        self.livres.append((cle, evenement))
        if evenement.type == "CandidatureValidee":
            self.validations_livrees.add(cle)

    @precondition(lambda self: self.livres)
    @rule(data=st.data())
    def relivrer(self, data: st.DataObject) -> None:
        """The broker redelivers an event already delivered (same id)."""
        cle, evenement = data.draw(st.sampled_from(self.livres))
        self.infra.livrer(cle, evenement)

    @precondition(lambda self: self.livres)
    @rule(data=st.data())
    def rejouer(self, data: st.DataObject) -> None:
        """An operator replays a key's parked events; a verdict refuses again and stays parked."""
        cle, _ = data.draw(st.sampled_from(self.livres))
        try:
            self.infra.boucle.run(self.infra.consumer.replay_parked(cle))
        except Exception:
            return  # refused again: it and the events behind it stay parked

    # --- invariants ----------------------------------------------------------------------------

    def _lignes(self) -> tuple[list[LigneFinancement], dict[tuple[str, str], bool]]:
        """This example's lines, and the current objective decisions (candidature, objective) -> reached."""
        finess = [f for f, _ in self.ej]

        async def lire() -> tuple[list[LigneFinancement], dict[tuple[str, str], bool]]:
            async with self.infra.sessions() as s:
                lignes = list(await s.scalars(select(LigneFinancement).where(
                    LigneFinancement.finess_ej.in_(finess)).order_by(LigneFinancement.cle_metier,
                                                                     LigneFinancement.version)))
                decisions = list(await s.scalars(select(ObjectifDecide).where(
                    ObjectifDecide.finess_ej.in_(finess))))
            remplacees = {d.remplace for d in decisions}
            return lignes, {(d.candidature_id, d.objectif): d.atteint for d in decisions
                            if d.decision_id not in remplacees}
        return self.infra.boucle.run(lire())

    @invariant()
    def une_ligne_courante_par_cle_et_montants_exacts(self) -> None:
        if not self.ej:
            return
        par_cle: dict[str, list[LigneFinancement]] = {}
        lignes, decisions_courantes = self._lignes()
        for ligne in lignes:
            par_cle.setdefault(ligne.cle_metier, []).append(ligne)
        courantes: dict[str, LigneFinancement] = {}
        for cle, versions in par_cle.items():
            assert [li.version for li in versions] == list(range(1, len(versions) + 1)), cle
            courantes[cle] = versions[-1]
        ac = dict(self.ej)
        for cle, ligne in courantes.items():
            if ligne.dispositif != "phase1":
                continue
            # Nothing paid without a validation that was delivered, and one candidature per key.
            assert ligne.candidature_id in self.validations_livrees, cle
            assert {li.candidature_id for li in par_cle[cle]} == {ligne.candidature_id}
            attendu = oracle.forfait_phase1(ac[ligne.finess_ej], ligne.objectif, MAX)
            assert ligne.forfait == attendu["forfait"], cle
            if ligne.nature == "amorcage":
                assert ligne.montant == attendu["amorcage"], cle
                continue
            amorcage = courantes[cle.removesuffix("/solde") + "/amorcage"]
            assert amorcage.candidature_id == ligne.candidature_id
            if ligne.nature == "solde":
                assert amorcage.montant + ligne.montant == attendu["forfait"], cle
            else:
                assert ligne.nature == "reprise", cle
                assert ligne.montant == amorcage.montant, cle
            # The solde follows the current decision of that objective (corrections included).
            assert (ligne.nature == "solde") == decisions_courantes[(ligne.candidature_id, ligne.objectif)]

    @invariant()
    def enveloppe_et_notifications_tiennent(self) -> None:
        async def lire() -> tuple[dict[str, Decimal], Decimal, list[tuple[Decimal, Decimal]]]:
            async with self.infra.sessions() as s:
                totaux = dict((await s.execute(
                    select(EcritureEnveloppe.nature, func.sum(EcritureEnveloppe.montant))
                    .where(EcritureEnveloppe.region == REGION).group_by(EcritureEnveloppe.nature))).all())
                aap = await s.scalar(select(func.coalesce(func.sum(LigneFinancement.montant), 0)).where(
                    LigneFinancement.dispositif == "aap", LigneFinancement.region == REGION)) or D(0)
                nets = []
                for notification in await s.scalars(select(Notification).where(
                        Notification.finess_ej.in_([f for f, _ in self.ej]))):
                    lignes = (await s.scalars(select(LigneFinancement).where(
                        LigneFinancement.notification_id == notification.id))).all()
                    nets.append((notification.montant_net, sum(
                        (-li.montant if li.nature == "reprise" else li.montant for li in lignes), D(0))))
                return totaux, aap, nets
        totaux, aap, nets = self.infra.boucle.run(lire())

        def t(nature: str) -> Decimal:
            return totaux.get(nature, D(0))
        alloue = t("allocation") + t("transfert_entrant") - t("transfert_sortant")
        engage = t("engagement") - t("desengagement")
        assert D(0) <= t("paiement") <= engage <= alloue
        assert aap == t("paiement")  # every AAP line paid is a ledger payment, and conversely
        for net, somme in nets:
            assert net == somme

    @invariant()
    def candidatures_payees_validees(self) -> None:
        async def lire() -> set[str]:
            async with self.infra.sessions() as s:
                return set((await s.scalars(select(CandidatureFinancee.candidature_id).where(
                    CandidatureFinancee.finess.in_([f for f, _ in self.ej])))).all())
        assert self.infra.boucle.run(lire()) <= self.validations_livrees


def test_payer_une_fois_quoi_qu_il_arrive(infra):
    PayerUneFois.infra = infra
    test = PayerUneFois.TestCase
    test.settings = settings(max_examples=25, stateful_step_count=40, deadline=None, derandomize=True,
                             suppress_health_check=list(HealthCheck))
    test().runTest()

    # The run exercised what it claims: first payments, refused second ones, corrections.
    async def bilan() -> tuple[int, int, int]:
        async with infra.sessions() as s:
            payees = await s.scalar(select(func.count()).select_from(LigneFinancement))
            corrigees = await s.scalar(select(func.count()).select_from(LigneFinancement).where(
                LigneFinancement.version > 1))
            refusees = await s.scalar(select(func.count()).select_from(DeadLetter).where(
                DeadLetter.motif == "paiement-en-double"))
        return payees or 0, corrigees or 0, refusees or 0
    payees, corrigees, refusees = infra.boucle.run(bilan())
    assert payees > 0
    assert corrigees > 0
    assert refusees > 0
