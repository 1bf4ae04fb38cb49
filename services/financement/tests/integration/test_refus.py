"""What financement's handlers refuse (the consumer then retries and parks the event): each refusal
names its field, and nothing is written."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError
from sqlalchemy import func, select

from hopen_common.contracts import PerimetreEj
from hopen_common.db import build_engine, build_sessionmaker
from hopen_common.events import decoder_payload
from hopen_common.inbox import EvenementRefuse
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.consumers import HANDLERS
from hopen_financement.erreurs import DonneeManquante
from hopen_financement.notifications.models import Notification

from .. import builders as b

D = Decimal
CORSE = "94"


@pytest.fixture(scope="module")
async def sessions(fresh_database):
    engine = build_engine(fresh_database("financement"))
    yield build_sessionmaker(engine)
    await engine.dispose()


async def _appliquer(sessions, ev) -> None:
    async with sessions() as s:
        await HANDLERS[ev.type](s, ev, decoder_payload(ev))
        await s.commit()


@pytest.fixture(scope="module", autouse=True)
async def base(sessions):
    await _appliquer(sessions, b.etablissement("2B0005342", CORSE, "18530", effectifs=500))


@pytest.mark.parametrize(("evenement", "champ"), [
    # 1.1 has no target in 2026
    (b.annee_hc("h1", "2B0005342", "2B0005342", CORSE, 2026, ["1.0", "1.1"]), "objectifs_atteints"),
    (b.annee_hc("h1", "2B0005342", "2B0005342", CORSE, 2029, ["1.0"]), "annee"),
    (b.annee_hc("h1", "2B0005342", "2B0005342", CORSE, 2027, ["1.0", "1.0"]), "objectifs_atteints"),
    (b.validee("c1", "2B0005342", CORSE, ["P1.O9"]), "objectif"),
    (b.validee("g1", "2A0000006", CORSE, ["P1.O2"], perimetre=[PerimetreEj(
        finess_ej="2A0000097", raison_sociale="x", activite_combinee=D("3500.125"), objectifs=["P1.O2"])]),
     "perimetre.activite_combinee"),
    (b.projet("p1", "2B0005342", CORSE, "1000.00", ac="100.005"), "participants.activite_combinee"),
])
async def test_refuse_en_nommant_le_champ(sessions, evenement, champ):
    with pytest.raises(RegleMetierError) as exc:
        await _appliquer(sessions, evenement)
    assert exc.value.champ == champ
    async with sessions() as s:
        assert await s.scalar(select(func.count()).select_from(Notification)) == 0


def test_le_contrat_refuse_avant_financement() -> None:
    # Issue 7: a sub-cent amount or a region outside the 18 is not even an event (the shared kernel's
    # types in the contracts); a consumer parks such a payload as contenu-invalide.
    with pytest.raises(ValidationError) as exc:
        b.depenses("h1", "2B0005342", "2B0005342", CORSE, 2026, "10.001")
    assert exc.value.errors()[0]["loc"] == ("montant",)
    with pytest.raises(ValidationError) as exc:
        b.projet("p1", "2B0005342", "99", "1000.00")
    assert exc.value.errors()[0]["loc"] == ("region",)


async def test_decision_hospiconnect_en_double_ou_correction_en_avance(sessions):
    premiere = b.annee_hc("h2", "2B0005342", "2B0005342", CORSE, 2027, ["1.0"])
    await _appliquer(sessions, premiere)
    # A second decision must say what it corrects: otherwise it would pay the year twice, and is
    # refused at once (parked as paiement-en-double, issue 7), not retried.
    with pytest.raises(EvenementRefuse) as exc:
        await _appliquer(sessions, b.annee_hc("h2", "2B0005342", "2B0005342", CORSE, 2027, ["1.0", "1.1"]))
    assert exc.value.motif == "paiement-en-double"
    assert "une correction nomme la décision qu'elle remplace" in str(exc.value)
    with pytest.raises(DonneeManquante):  # a correction overtaking its decision waits (parked)
        await _appliquer(sessions, b.annee_hc("h2", "2B0005342", "2B0005342", CORSE, 2027, ["1.0"],
                                              remplace="inconnue"))
    with pytest.raises(DonneeManquante):  # no AC known for this ES
        await _appliquer(sessions, b.validee("c2", "750000010", "11", ["P1.O1"]))
