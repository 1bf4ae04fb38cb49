"""Deadlines of the three dispositifs from their data files, and the J-7 / J-1 reminder rule with an
injected date."""

from datetime import date

import pytest

from hopen_common.calendrier import aujourd_hui
from hopen_common.programme.echeances import etat_echeance, par_cle, rappel_du
from hopen_instruction.echeances.rules import fin_instruction
from hopen_instruction.echeances.service import echeances


def test_le_calendrier_vient_des_fichiers_de_donnees() -> None:
    index = par_cle(echeances())
    assert index["aap.fin_depot_dossiers"].date == date(2026, 5, 29)
    assert index["aap.fin_selection"].date == date(2026, 10, 2)
    assert index["aap.fin_depot_preuves"].date == date(2027, 6, 30)
    assert index["phase1.fin_mesure_indicateurs"].date == date(2025, 7, 31)
    assert index["hospiconnect.2027.fin_depot_preuves"].destinataire == "etablissement"
    assert index["aap.fin_selection"].destinataire == "ars"
    assert fin_instruction("phase1", index) == index["phase1.fin_instruction"].date
    assert fin_instruction("hospiconnect", index) == index["hospiconnect.2026.fin_instruction"].date


@pytest.mark.parametrize(("jour", "attendu"), [
    (date(2026, 5, 21), None),  # J-8
    (date(2026, 5, 22), "J-7"),
    (date(2026, 5, 25), "J-7"),  # a scheduler down on J-7 catches up, once
    (date(2026, 5, 28), "J-1"),
    (date(2026, 5, 29), "J-1"),  # the deadline itself (inclusive)
    (date(2026, 5, 30), None),  # past: nothing more
])
def test_rappel_du(jour: date, attendu: str | None) -> None:
    assert rappel_du(date(2026, 5, 29), jour) == attendu


def test_etat_echeance() -> None:
    fin = date(2026, 10, 2)
    assert etat_echeance(fin, date(2026, 10, 3), jours_proche=7) == "en_retard"
    assert etat_echeance(fin, date(2026, 10, 2), jours_proche=7) == "proche"
    assert etat_echeance(fin, date(2026, 9, 25), jours_proche=7) == "proche"
    assert etat_echeance(fin, date(2026, 9, 24), jours_proche=7) is None


def test_aujourd_hui_injectable() -> None:
    assert aujourd_hui(date(2027, 6, 29)) == date(2027, 6, 29)
    assert aujourd_hui(None) >= date(2026, 1, 1)
