"""Pure rules of candidature's phase 2, table-driven, no fixtures: who applies to HospiConnect, the
expenses' amounts, evidence by objective nature, and the AAP project rules."""

from __future__ import annotations

from decimal import Decimal

import pytest

from hopen_candidature.candidatures.rules import (
    EjHospiconnect,
    EtablissementVu,
    perimetre_hospiconnect,
    verifier_eligibilite_et_maille_hospiconnect,
)
from hopen_candidature.hospiconnect.rules import fenetre_preuves, verifier_montant, verifier_preuve
from hopen_candidature.projets.rules import EsAap, verifier_condition_theme, verifier_participations
from hopen_common.programme.aap import charger_programme_aap
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect

HC = charger_programme_hospiconnect()
AAP = charger_programme_aap()


def vu(finess: str = "A", **champs: object) -> EtablissementVu:
    valeurs: dict[str, object] = {"finess": finess, "eligible_phase1": True, "maille_phase1": finess,
                                  "ferme": False, "ght_code": None, "ght_role": None,
                                  "eligible_hospiconnect": True, "maille_hospiconnect": finess}
    valeurs.update(champs)
    return EtablissementVu(**valeurs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("etab", "extrait"), [
    (vu(), None),
    (vu(ferme=True), "fermé"),
    (vu(eligible_hospiconnect=None), "inconnue"),
    (vu(eligible_hospiconnect=False), "pas éligible"),
    (vu(maille_hospiconnect=None), "GHU"),
    (vu(maille_hospiconnect="S", ght_code="G"), "support du GHT G"),
])
def test_maille_hospiconnect(etab: EtablissementVu, extrait: str | None) -> None:
    if extrait is None:
        verifier_eligibilite_et_maille_hospiconnect(etab)
        return
    with pytest.raises(RegleMetierError, match=extrait):
        verifier_eligibilite_et_maille_hospiconnect(etab)


def test_perimetre_du_support() -> None:
    membres = [EjHospiconnect("M2", "m2", True, False, None), EjHospiconnect("S", "s", True, False, None),
               EjHospiconnect("M3", "m3", False, False, None), EjHospiconnect("M4", "m4", True, True, None)]
    assert perimetre_hospiconnect(vu("S", ght_code="G", ght_role="S"), membres) is not None
    assert [m.finess_ej for m in perimetre_hospiconnect(vu("S", ght_code="G", ght_role="S"),
                                                        membres) or []] == [
        "M2", "S"]
    assert perimetre_hospiconnect(vu("X"), membres) is None  # not a GHT support: the EJ itself


@pytest.mark.parametrize(("montant", "ok"), [
    ("0", True), ("30000.00", True), ("0.01", True), ("-0.01", False), ("1.001", False), ("NaN", False),
    ("1000000000000", False),
])
def test_montant(montant: str, ok: bool) -> None:
    if ok:
        assert verifier_montant(Decimal(montant)) == Decimal(montant).quantize(Decimal("0.01"))
    else:
        with pytest.raises(RegleMetierError):
            verifier_montant(Decimal(montant))


@pytest.mark.parametrize(("objectif", "annee", "document", "num", "den", "nature", "champ"), [
    ("1.0", 2026, True, None, None, "document", None),
    ("2.1", 2027, False, 3, 4, "taux", None),
    ("2.1", 2026, False, 3, 4, None, "objectif"),  # no 2026 target
    ("1.4", 2027, False, 3, 4, None, "piece_id"),
    ("2.2", 2028, True, None, None, None, "piece_id"),
])
def test_preuve(objectif: str, annee: int, document: bool, num: int | None, den: int | None,
                nature: str | None, champ: str | None) -> None:
    if champ is None:
        assert verifier_preuve(objectif, annee, HC, document=document, numerateur=num,
                               denominateur=den) == nature
        return
    with pytest.raises(RegleMetierError) as exc:
        verifier_preuve(objectif, annee, HC, document=document, numerateur=num, denominateur=den)
    assert exc.value.champ == champ


def test_fenetre_des_preuves_vient_des_donnees() -> None:
    assert fenetre_preuves(2026, HC).fin.isoformat() == "2026-06-26"
    assert fenetre_preuves(2028, HC).fin.isoformat() == "2028-06-16"


def es(finess: str, ej: str) -> EsAap:
    return EsAap(finess, ej, "EG", True, finess, finess, False)


def test_condition_hospiconnect_par_ej_ou_par_finess() -> None:
    theme = AAP.themes["logistique_produits_sante"]
    verifier_condition_theme(theme, None, [es("EG1", "EJ1"), es("GHU", "APHP")], {"EJ1", "GHU"})
    with pytest.raises(RegleMetierError) as exc:
        verifier_condition_theme(theme, None, [es("EG1", "EJ1"), es("EG2", "EJ2")], {"EJ1"})
    assert exc.value.champ == "participants.0"


def test_participations() -> None:
    verifier_participations(["A", "B"], {"A": 1, "B": 0}, AAP.participations_max)
    with pytest.raises(RegleMetierError) as exc:
        verifier_participations(["A", "B"], {"A": 1, "B": 2}, AAP.participations_max)
    assert exc.value.champ == "participants.0"
