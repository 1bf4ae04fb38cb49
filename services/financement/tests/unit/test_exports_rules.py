"""The circular adds up: every row's total is its columns, every total the sum of the rows."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given, settings
from hypothesis import strategies as st

from hopen_financement.exports.rendu import en_csv
from hopen_financement.exports.rules import MONTANTS, Source, construire

D = Decimal

sources = st.lists(st.builds(
    Source,
    region=st.sampled_from(["11", "84", "94"]),
    finess=st.sampled_from(["010000024", "2B0005342", "750000001"]),
    dispositif=st.sampled_from(["phase1", "hospiconnect", "aap"]),
    objectif=st.sampled_from(["P1.O1", "P1.O2", "HC.2026", "AAP.2026"]),
    nature=st.sampled_from(["amorcage", "solde", "reprise", "hospiconnect", "aap_acceptation",
                            "solde_prevu"]),
    montant=st.integers(0, 10**9).map(lambda c: D(c).scaleb(-2)),
), max_size=80)


@settings(max_examples=200, deadline=None)
@given(sources)
def test_les_montants_s_additionnent(lignes):
    c = construire(lignes, {})
    for ligne in c.lignes:
        assert ligne.total == ligne.amorcage + ligne.solde - ligne.reprise + ligne.hospiconnect + ligne.aap
    for m in MONTANTS:
        assert c.total.montants[m] == sum((getattr(li, m) for li in c.lignes), D(0))
        assert c.total.montants[m] == sum((t.montants[m] for t in c.sous_totaux), D(0))
    notifie = sum((s.montant if s.nature != "reprise" else -s.montant) for s in lignes
                  if s.nature != "solde_prevu")
    assert c.total.montants["total"] == notifie


def test_csv():
    c = construire([Source("94", "2B0005342", "phase1", "P1.O1", "amorcage", D("2829.68")),
                    Source("94", "2B0005342", "phase1", "P1.O3", "reprise", D("565.94"))],
                   {"2B0005342": "CH Calvi"})
    texte = en_csv(c).decode()
    lignes = texte.strip().split("\r\n")
    assert lignes[0].startswith("region;finess;raison_sociale;dispositif;objectifs;amorcage")
    assert lignes[1] == "94;2B0005342;CH Calvi;phase1;P1.O1, P1.O3;2829.68;0.00;565.94;0.00;0.00;2263.74;0.00"
    assert lignes[-1].startswith("TOTAL NATIONAL;;;;;2829.68;0.00;565.94")
