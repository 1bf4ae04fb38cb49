"""The FINESS rule: check key (Corsica mapped first), character set, overseas departements, and the
pydantic type in a body, a path and a query parameter."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Path, Query
from pydantic import BaseModel, ValidationError

from hopen_common.errors import install_problem_handlers
from hopen_common.finess import (
    MOTIF_FINESS,
    DepartementFinessInconnu,
    Finess,
    FinessInvalide,
    cle_finess_valide,
    departement_du_finess,
    verifier_finess,
)
from hopen_common.programme.erreurs import RegleMetierError
from hopen_common.testing.api import client_api

VALIDES = [
    "210780581",  # metropolitan
    "010780054",  # leading zero: a string, never a number
    "750000010",
    "2A0002614",  # Corsica, CH de Sartene (EG): 2A -> 21 before Luhn
    "2A0002606",
    "2A0000154",
    "2B0005359",  # Corsica, CH Calvi (EG): 2B -> 22
    "2B0005342",
    "2B0000152",
    "970102596",  # Guadeloupe
    "970100491",
    "970200127",  # Martinique
    "970300042",  # Guyane
    "970400024",  # La Reunion
    "980500011",  # Mayotte
]

INVALIDES = [
    ("210780582", "cle de controle"),  # wrong key
    ("210780580", "cle de controle"),
    ("2B0002606", "cle de controle"),  # a Corsican body with the other letter
    ("2A0005342", "cle de controle"),
    ("2B0000154", "cle de controle"),
    ("980500012", "cle de controle"),
    ("21078058", "9 caracteres"),  # wrong length
    ("2107805810", "9 caracteres"),
    ("", "9 caracteres"),
    ("2a0002606", "caracteres invalides"),  # FINESS letters are upper case
    ("2C0002606", "caracteres invalides"),  # only 2A and 2B carry a letter
    ("0A0002606", "caracteres invalides"),
    ("21078058X", "caracteres invalides"),  # letters elsewhere
    ("210A80581", "caracteres invalides"),
    (" 21078058", "caracteres invalides"),
    ("２10780581", "caracteres invalides"),  # full-width digit: str.isdigit() would accept it
]


@pytest.mark.parametrize("finess", VALIDES)
def test_finess_valide(finess: str) -> None:
    assert cle_finess_valide(finess)
    assert verifier_finess(finess) == finess


@pytest.mark.parametrize(("finess", "raison"), INVALIDES)
def test_finess_invalide_dit_pourquoi(finess: str, raison: str) -> None:
    assert not cle_finess_valide(finess)
    with pytest.raises(FinessInvalide, match=raison) as erreur:
        verifier_finess(finess, "finess_ej")
    # The business error every service maps to a 422 naming the field.
    assert isinstance(erreur.value, RegleMetierError)
    assert erreur.value.champ == "finess_ej"


def test_une_seule_cle_par_corps() -> None:
    # Luhn: exactly one check digit completes any 8-character body.
    for corps in ("21078058", "2A000260", "2B000534", "97040002", "98050001"):
        assert sum(cle_finess_valide(corps + cle) for cle in "0123456789") == 1


@pytest.mark.parametrize(("finess", "departement"), [
    ("210780581", "21"),
    ("010780054", "01"),
    ("2A0000154", "2A"),
    ("2B0005342", "2B"),
    ("970100491", "9A"),  # Guadeloupe (and Saint-Martin, Saint-Barthelemy)
    ("970200127", "9B"),
    ("970300042", "9C"),
    ("970400019", "9D"),
    ("980500003", "9F"),  # Mayotte is 9F, not 9E (Saint-Pierre-et-Miquelon)
])
def test_departement_du_finess(finess: str, departement: str) -> None:
    assert departement_du_finess(finess) == departement


@pytest.mark.parametrize("finess", ["970900007", "975000001", "980100001"])
def test_departement_du_finess_territoire_inconnu(finess: str) -> None:
    with pytest.raises(DepartementFinessInconnu, match=finess[:4]):
        departement_du_finess(finess)


# --- the pydantic type ------------------------------------------------------------------------------


class Corps(BaseModel):
    finess: Finess
    finess_ej: Finess | None = None


@pytest.mark.parametrize("finess", VALIDES)
def test_type_finess_accepte(finess: str) -> None:
    assert Corps.model_validate_json(f'{{"finess": "{finess}"}}').finess == finess


@pytest.mark.parametrize(("finess", "raison"), INVALIDES)
def test_type_finess_refuse_en_nommant_la_regle(finess: str, raison: str) -> None:
    with pytest.raises(ValidationError) as erreur:
        Corps.model_validate({"finess": finess})
    (detail,) = erreur.value.errors()
    assert detail["loc"] == ("finess",)
    assert raison in detail["msg"]
    assert "Luhn" in detail["msg"]  # the rule itself is named


def test_type_finess_refuse_un_nombre() -> None:
    # 010780054 as a JSON number would lose its leading zero: a FINESS is always a string.
    with pytest.raises(ValidationError):
        Corps.model_validate_json('{"finess": 210780581}')


def test_type_finess_schema() -> None:
    schema = Corps.model_json_schema()["properties"]["finess"]
    assert schema["pattern"] == MOTIF_FINESS
    assert (schema["minLength"], schema["maxLength"]) == (9, 9)


def _app() -> FastAPI:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/etablissements/{finess}")
    async def lire(finess: Annotated[Finess, Path()]) -> dict[str, str]:
        return {"finess": finess}

    @app.get("/financements")
    async def lister(finess: Annotated[Finess | None, Query()] = None) -> dict[str, str | None]:
        return {"finess": finess}

    @app.post("/candidatures")
    async def creer(corps: Corps) -> Corps:
        return corps

    return app


async def test_type_finess_en_parametre_et_en_corps() -> None:
    async with client_api(_app()) as client:
        assert (await client.get("/etablissements/2A0002614")).json() == {"finess": "2A0002614"}
        assert (await client.get("/financements", params={"finess": "970400024"})).json() == {
            "finess": "970400024"}
        assert (await client.get("/financements")).json() == {"finess": None}
        assert (await client.post("/candidatures", json={"finess": "210780581"})).status_code == 200
        refus = [
            (await client.get("/etablissements/210780582"), "finess"),
            (await client.get("/financements", params={"finess": "2C0002606"}), "finess"),
            (await client.post("/candidatures", json={"finess": "210780581", "finess_ej": "21078058"}),
             "finess_ej"),
        ]
    for r, champ in refus:
        assert r.status_code == 422, r.text
        corps = r.json()
        assert r.headers["content-type"].startswith("application/problem+json")
        assert (corps["type"].rsplit("/", 1)[1], corps["champ"]) == ("validation", champ)
        assert "FINESS" in corps["detail"]
