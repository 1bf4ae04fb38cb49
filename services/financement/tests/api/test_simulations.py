"""POST /v1/simulations/*: every amount equals the independent computation of the instructions;
bad input answers problem+json naming the field."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hopen_common.contracts import EtablissementPublie
from hopen_financement.etablissements.repository import enregistrer

from .. import oracle
from ..conftest import DNS, ars, etablissement

D = Decimal
MAX_BASE = D("512345.50")


async def _base(api) -> None:
    """A small eligible base whose largest AC is MAX_BASE (tranche D's upper bound)."""
    async with api.sessions() as s:
        for finess, ac in (("010000024", "15000"), ("750000010", str(MAX_BASE)), ("690000013", None)):
            await enregistrer(s, EtablissementPublie(
                finess=finess, finess_ej=finess, raison_sociale=f"ES {finess}", region="84",
                departement="69", secteur="public", categorie="1101", niveau="EJ", ght_code=None,
                ght_role=None, finess_pmsi=finess, activite_combinee=D(ac) if ac else None,
                eligible_phase1=ac is not None, maille_phase1=finess, domaines_sun_es=[], ferme=False),
                instantane_le=datetime.now(UTC))
        await s.commit()


@pytest.fixture(scope="module", autouse=True)
async def base(api):
    await _base(api)


async def test_exemple_du_ticket(api):
    r = await api.client.post("/v1/simulations/phase1", headers=etablissement("010000024"),
                              json={"activite_combinee": "15000", "objectifs": ["P1.O2"]})
    assert r.status_code == 200, r.text
    corps = r.json()
    assert corps["objectifs"] == [{"objectif": "P1.O2", "tranche": "B", "forfait": "18193.55",
                                   "amorcage": "5458.07", "solde": "12735.48"}]
    assert corps["activite_combinee_max"] == "512345.50"
    assert corps["source_maximum"] == "base"
    assert corps["total"] == "18193.55"


async def test_tranche_d_jusqu_au_max_de_la_base_ou_a_celui_demande(api):
    r = await api.client.post("/v1/simulations/phase1", headers=ars("84"), json={
        "activite_combinee": str(MAX_BASE), "objectifs": ["P1.O1", "P1.O8"]})
    assert [o["forfait"] for o in r.json()["objectifs"]] == ["80000.00", "42600.00"]  # D's max
    r = await api.client.post("/v1/simulations/phase1", headers=DNS, json={
        "activite_combinee": "300000", "objectifs": ["P1.O1"], "activite_combinee_max": "400000"})
    attendu = oracle.forfait_phase1("300000", "P1.O1", "400000")
    assert r.json()["objectifs"][0]["forfait"] == str(attendu["forfait"])
    assert r.json()["source_maximum"] == "demande"


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(demi=st.integers(0, 1_024_691),
       objectifs=st.lists(st.sampled_from(sorted(oracle.ANNEXE_2_KEUR)), min_size=1, max_size=8, unique=True))
async def test_simulation_phase1_egale_l_oracle(api, demi, objectifs):
    ac = D(demi) / 2
    r = await api.client.post("/v1/simulations/phase1", headers=DNS,
                              json={"activite_combinee": str(ac), "objectifs": objectifs})
    assert r.status_code == 200, r.text
    total = D(0)
    for ligne, objectif in zip(r.json()["objectifs"], objectifs, strict=True):
        attendu = oracle.forfait_phase1(ac, objectif, MAX_BASE)
        assert ligne == {k: str(v) for k, v in attendu.items()}
        total += attendu["forfait"]
    assert r.json()["total"] == str(total.quantize(D("0.01")))


async def test_exemple_hospiconnect(api):
    r = await api.client.post("/v1/simulations/hospiconnect", headers=etablissement("010000024"), json={
        "effectifs": 1000, "objectifs_atteints": ["1.0", "1.1"], "depenses_eligibles": "30000.00"})
    assert r.status_code == 200, r.text
    corps = r.json()
    # 48 450 x 52 % = 25 194.00 < 30 000.00
    assert {k: corps[k] for k in ("plafond", "taux", "montant_theorique", "montant")} == {
        "plafond": "48450.00", "taux": "0.52", "montant_theorique": "25194.00", "montant": "25194.00"}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(effectifs=st.integers(0, 20000),
       objectifs=st.lists(st.sampled_from(["1.0", "1.1", "1.2", "1.3", "1.4", "2.1", "2.2"]), unique=True),
       depenses=st.integers(0, 10**9))
async def test_simulation_hospiconnect_egale_l_oracle(api, effectifs, objectifs, depenses):
    d = D(depenses).scaleb(-2)
    r = await api.client.post("/v1/simulations/hospiconnect", headers=DNS, json={
        "effectifs": effectifs, "objectifs_atteints": objectifs, "depenses_eligibles": str(d)})
    assert r.status_code == 200, r.text
    attendu = oracle.montant_hospiconnect(effectifs, objectifs, d)
    corps = r.json()
    assert (D(corps["plafond"]), D(corps["taux"]), corps["montant_theorique"], corps["montant"]) == (
        attendu["plafond"], attendu["taux"], str(attendu["montant_theorique"]), str(attendu["montant"]))


@pytest.mark.parametrize(("chemin", "corps", "champ"), [
    ("phase1", {"activite_combinee": "-1", "objectifs": ["P1.O2"]}, "activite_combinee"),
    ("phase1", {"activite_combinee": "abc", "objectifs": ["P1.O2"]}, "activite_combinee"),
    ("phase1", {"activite_combinee": 15000.5, "objectifs": ["P1.O2"]}, "activite_combinee"),
    ("phase1", {"activite_combinee": "15000", "objectifs": ["P1.O2", "P1.O9"]}, "objectifs.1"),
    ("phase1", {"activite_combinee": "15000", "objectifs": []}, "objectifs"),
    ("phase1", {"activite_combinee": "15000", "objectifs": ["P1.O2"], "activite_combinee_max": "x"},
     "activite_combinee_max"),
    ("phase1", {"activite_combinee": "600000", "objectifs": ["P1.O2"]}, "activite_combinee"),  # > max
    ("hospiconnect", {"effectifs": -3, "objectifs_atteints": ["1.0"], "depenses_eligibles": "1.00"},
     "effectifs"),
    ("hospiconnect", {"effectifs": 10, "objectifs_atteints": ["9.9"], "depenses_eligibles": "1.00"},
     "objectifs_atteints"),
    ("hospiconnect", {"effectifs": 10, "objectifs_atteints": ["1.0"], "depenses_eligibles": "douze"},
     "depenses_eligibles"),
    ("hospiconnect", {"effectifs": 10, "objectifs_atteints": ["1.0"], "depenses_eligibles": "1.001"},
     "depenses_eligibles"),
    ("hospiconnect", {"effectifs": "mille", "objectifs_atteints": ["1.0"], "depenses_eligibles": "1"},
     "effectifs"),
])
async def test_entree_invalide_nomme_le_champ(api, chemin, corps, champ):
    r = await api.client.post(f"/v1/simulations/{chemin}", headers=DNS, json=corps)
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["champ"] == champ


async def test_authentification_requise(api):
    r = await api.client.post("/v1/simulations/phase1",
                              json={"activite_combinee": "1", "objectifs": ["P1.O1"]})
    assert r.status_code == 401
