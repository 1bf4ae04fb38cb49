"""Money: the one rounding, the rules' check, and the JSON forms of Euros and EurosEntrant."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from hopen_common.monnaie import CENTIME, MONTANT_MAX, Euros, EurosEntrant, arrondi_centime, exiger_centimes
from hopen_common.programme.erreurs import RegleMetierError

D = Decimal


class Sortie(BaseModel):
    montant: Euros


class Entree(BaseModel):
    montant: EurosEntrant


def test_centime() -> None:
    assert D("0.01") == CENTIME


@pytest.mark.parametrize(("valeur", "attendu"), [
    (D("0.005"), "0.01"),  # half up, not half even
    (D("0.015"), "0.02"),
    (D("0.025"), "0.03"),  # half even would give 0.02
    (D("0.0049999"), "0.00"),
    (D("-0.005"), "-0.01"),  # ties away from zero
    (D("-0.0049"), "-0.00"),
    (D("1234.5"), "1234.50"),
    (D("10"), "10.00"),
    (D("123456789012345678901234567890.125"), "123456789012345678901234567890.13"),  # beyond 28 digits
    (Fraction(1, 3), "0.33"),
    (Fraction(2, 3), "0.67"),
    (Fraction(1, 200), "0.01"),
    (Fraction(-1, 200), "-0.01"),
    (7, "7.00"),
])
def test_arrondi_centime(valeur: Decimal | Fraction | int, attendu: str) -> None:
    resultat = arrondi_centime(valeur)
    assert str(resultat) == attendu
    assert resultat.as_tuple().exponent == -2


@pytest.mark.parametrize("valeur", [D("NaN"), D("Infinity"), D("-Infinity")])
def test_arrondi_centime_refuse_le_non_fini(valeur: Decimal) -> None:
    with pytest.raises(ValueError, match="non finie"):
        arrondi_centime(valeur)


def test_arrondi_centime_refuse_un_booleen() -> None:
    with pytest.raises(TypeError):
        arrondi_centime(True)


@given(st.fractions(min_value=-10**9, max_value=10**9))
def test_arrondi_centime_meme_regle_pour_fraction_et_decimal(valeur: Fraction) -> None:
    # The Fraction path and the Decimal path are one rule: half up on the exact value.
    exact = Fraction(valeur) * 100
    plancher = exact.numerator // exact.denominator
    reste = exact - plancher
    if exact >= 0:
        centimes = plancher + (1 if reste >= Fraction(1, 2) else 0)
    else:
        centimes = plancher + (1 if reste > Fraction(1, 2) else 0)
    assert arrondi_centime(valeur) == D(centimes).scaleb(-2)
    decimal_exact = D(valeur.numerator) / D(valeur.denominator)
    if Fraction(decimal_exact) == valeur:  # terminating: the Decimal path must agree
        assert arrondi_centime(decimal_exact) == arrondi_centime(valeur)


@pytest.mark.parametrize(("valeur", "attendu"), [
    (D("0"), "0.00"), (D("12"), "12.00"), (D("12.5"), "12.50"), (D("-3.10"), "-3.10"),
    (D("12.000"), "12.00"),  # trailing zeros are not decimals
    (MONTANT_MAX, "999999999999.99"),
])
def test_exiger_centimes_accepte_un_montant_exact(valeur: Decimal, attendu: str) -> None:
    assert str(exiger_centimes(valeur, "montant")) == attendu


@pytest.mark.parametrize(("valeur", "extrait"), [
    (D("1.001"), "au centime"),
    (D("0.005"), "au centime"),
    (D("NaN"), "fini"),
    (D("Infinity"), "fini"),
    (D("-Infinity"), "fini"),
    (D("1000000000000"), "bornes"),
    (D("-1000000000000"), "bornes"),
    (D("1E+40"), "bornes"),
    (1.5, "fini"),  # a float never is money
])
def test_exiger_centimes_refuse_en_nommant_le_champ(valeur: Decimal, extrait: str) -> None:
    with pytest.raises(RegleMetierError, match=extrait) as erreur:
        exiger_centimes(valeur, "depenses_eligibles")
    assert erreur.value.champ == "depenses_eligibles"
    assert str(erreur.value).startswith("depenses_eligibles")


@pytest.mark.parametrize(("valeur", "signe", "ok"), [
    (D("-0.01"), "quelconque", True),
    (D("-0.01"), "positif", False),
    (D("0"), "positif", True),
    (D("0"), "strictement_positif", False),
    (D("0.01"), "strictement_positif", True),
])
def test_exiger_centimes_signe(valeur: Decimal, signe: str, ok: bool) -> None:
    if ok:
        assert exiger_centimes(valeur, "m", signe=signe) == valeur  # type: ignore[arg-type]
    else:
        with pytest.raises(RegleMetierError):
            exiger_centimes(valeur, "m", signe=signe)  # type: ignore[arg-type]


# --- Euros, the output type ----------------------------------------------------------------------


@pytest.mark.parametrize(("valeur", "json_attendu"), [
    (D("1234.5"), '"1234.50"'),
    (D("0"), '"0.00"'),
    (D("-0.00"), '"0.00"'),  # no negative zero on the wire
    (D("-12.3"), '"-12.30"'),
    (D("999999999999.99"), '"999999999999.99"'),
    (D("0.125"), '"0.13"'),  # a stray sub-cent prints half up, the one rounding (was half even)
])
def test_euros_json(valeur: Decimal, json_attendu: str) -> None:
    assert json.loads(Sortie(montant=valeur).model_dump_json())["montant"] == json.loads(json_attendu)
    assert Sortie(montant=valeur).model_dump(mode="json") == {"montant": json.loads(json_attendu)}


def test_euros_schema_de_sortie_est_une_chaine() -> None:
    assert Sortie.model_json_schema(mode="serialization")["properties"]["montant"]["type"] == "string"


# --- EurosEntrant, the one incoming type -------------------------------------------------------------


@pytest.mark.parametrize(("corps", "attendu"), [
    ('"30000.00"', "30000.00"),
    ('"30000"', "30000.00"),  # normalised to exactly two decimals
    ('"0.5"', "0.50"),
    ('"-12.30"', "-12.30"),  # the sign is the rules' business
    ('"0"', "0.00"),
    ('"999999999999.99"', "999999999999.99"),
    ("30000", "30000.00"),  # a JSON integer is exact
    ("0", "0.00"),
    ("-5", "-5.00"),
])
def test_euros_entrant_accepte(corps: str, attendu: str) -> None:
    m = Entree.model_validate_json(f'{{"montant": {corps}}}')
    assert str(m.montant) == attendu
    assert m.montant.as_tuple().exponent == -2
    # Serialises as Euros: whatever the platform reads, it writes back the same way.
    assert json.loads(m.model_dump_json()) == {"montant": attendu}
    assert Entree.model_validate_json(m.model_dump_json()) == m


@pytest.mark.parametrize(("corps", "extrait"), [
    ("30000.0", "chaîne"),  # a float, even a round one: already binary
    ("10.0", "chaîne"),
    ("0.1", "chaîne"),
    ("1.005", "chaîne"),  # a float with more than two decimals is never rounded silently
    ("1e3", "chaîne"),
    ('"10.001"', "deux décimales"),
    ('"0.005"', "deux décimales"),
    ('"NaN"', "chaîne"),
    ('"Infinity"', "chaîne"),
    ('"-Infinity"', "chaîne"),
    ('"1e3"', "chaîne"),
    ('"1,50"', "chaîne"),
    ('" 1.50"', "chaîne"),
    ('"+1.50"', "chaîne"),
    ('".5"', "chaîne"),
    ('"5."', "chaîne"),
    ('"abc"', "chaîne"),
    ('""', "chaîne"),
    ('"1000000000000.00"', "chaîne"),  # 13 digits: beyond Numeric(14, 2)
    ("1000000000000", "bornes"),
    ("true", "chaîne"),
    ("null", "chaîne"),
    ('["1.00"]', "chaîne"),
])
def test_euros_entrant_refuse(corps: str, extrait: str) -> None:
    with pytest.raises(ValidationError) as erreur:
        Entree.model_validate_json(f'{{"montant": {corps}}}')
    (detail,) = erreur.value.errors()
    assert detail["loc"] == ("montant",)
    assert extrait in detail["msg"]


@pytest.mark.parametrize(("valeur", "ok"), [
    (D("12.30"), True), (D("12.3"), True), (12, True),
    (D("12.301"), False), (D("NaN"), False), (D("Infinity"), False), (D("1E+13"), False),
    (12.3, False), (True, False),
])
def test_euros_entrant_depuis_python(valeur: object, ok: bool) -> None:
    # Contracts built in code (Decimal values) follow the same rule as the JSON string.
    if ok:
        assert Entree.model_validate({"montant": valeur}).montant == D(str(valeur)).quantize(CENTIME)
    else:
        with pytest.raises(ValidationError):
            Entree.model_validate({"montant": valeur})


def test_euros_entrant_schema() -> None:
    entree = Entree.model_json_schema()["properties"]["montant"]
    assert {s["type"] for s in entree["anyOf"]} == {"string", "integer"}
    assert Entree.model_json_schema(mode="serialization")["properties"]["montant"]["type"] == "string"
