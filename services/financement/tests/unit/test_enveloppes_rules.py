"""Envelope ledger rules and the seeded envelopes (instruction DNS/2025/180, annex 3)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hopen_common.programme.aap import charger_enveloppes_aap
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.enveloppes.rules import EnveloppeInsuffisante, Situation, apres, situation

D = Decimal

# The annex 3 table as printed (k€); the amounts are the truth, the shares add up to 100.2 %.
ANNEXE_3 = {
    "Auvergne-Rhône-Alpes": 10157, "Bourgogne-Franche-Comté": 3707, "Bretagne": 4631,
    "Centre-Val de Loire": 3191, "Corse": 456, "Grand Est": 7110, "Guadeloupe": 593, "Guyane": 302,
    "Hauts-de-France": 7544, "Île-de-France": 15061, "La Réunion": 1158, "Martinique": 432, "Mayotte": 154,
    "Normandie": 4278, "Nouvelle-Aquitaine": 7911, "Occitanie": 8243, "Pays de la Loire": 4447,
    "Provence-Alpes-Côte d'Azur": 7825,
}


def test_enveloppes_de_l_annexe_3():
    donnees = charger_enveloppes_aap("2026.1")
    assert {r.libelle: r.montant for r in donnees.regions} == {k: D(v) * 1000 for k, v in ANNEXE_3.items()}
    assert donnees.total == D(87_200_000) == sum(D(v) * 1000 for v in ANNEXE_3.values())
    assert len(donnees.regions) == 18
    assert sum(r.quote_part_pct for r in donnees.regions) == D("100.2")  # rounded shares: not used
    assert donnees.region("94").libelle == "Corse"
    assert donnees.region("11").libelle == "Île-de-France"


def test_situation_depuis_les_ecritures():
    s = situation({"allocation": D("1000.00"), "transfert_entrant": D("50.00"),
                   "transfert_sortant": D("20.00"), "engagement": D("700.00"),
                   "desengagement": D("100.00"), "paiement": D("300.00")})
    assert (s.alloue, s.engage, s.consomme, s.disponible) == (D("1030.00"), D("600.00"), D("300.00"),
                                                              D("430.00"))


def test_engagement_au_dela_de_l_alloue_refuse():
    s = Situation(D("1000.00"), D("900.00"), D("0"))
    assert apres(s, "engagement", D("100.00")).engage == D("1000.00")  # exactly the allocation: fine
    with pytest.raises(EnveloppeInsuffisante) as exc:
        apres(s, "engagement", D("100.01"))
    assert exc.value.champ == "montant"


def test_transfert_sortant_limite_au_disponible():
    s = Situation(D("1000.00"), D("900.00"), D("0"))
    with pytest.raises(EnveloppeInsuffisante):
        apres(s, "transfert_sortant", D("100.01"))
    assert apres(s, "transfert_sortant", D("100.00")).disponible == 0


def test_paiement_limite_a_l_engage():
    s = Situation(D("1000.00"), D("500.00"), D("400.00"))
    with pytest.raises(EnveloppeInsuffisante):
        apres(s, "paiement", D("100.01"))
    with pytest.raises(EnveloppeInsuffisante):
        apres(s, "desengagement", D("100.01"))  # would leave consumed above engaged


@pytest.mark.parametrize("montant", [D("0"), D("-1.00"), D("1.001"), D("NaN")])
def test_montant_refuse(montant):
    with pytest.raises(RegleMetierError):
        apres(Situation(D("10"), D("0"), D("0")), "engagement", montant)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["engagement", "desengagement", "paiement", "transfert_sortant",
                                           "transfert_entrant"]),
                          st.integers(1, 500_000_00)), max_size=60))
def test_les_invariants_tiennent_quoi_qu_on_demande(demandes):
    s = Situation(D("1000000.00"), D("0.00"), D("0.00"))
    for nature, centimes in demandes:
        try:
            s = apres(s, nature, D(centimes).scaleb(-2))
        except EnveloppeInsuffisante:
            pass
        assert s.valide()
        assert D(0) <= s.consomme <= s.engage <= s.alloue
