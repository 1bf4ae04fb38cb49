"""CodeRegion: the 18 regions of the programme, as data, in a body, a path and a query parameter."""

from __future__ import annotations

from typing import Annotated

import pytest
from fastapi import FastAPI, Path, Query
from pydantic import BaseModel, ValidationError

from hopen_common.errors import install_problem_handlers
from hopen_common.region import CODES_REGION, REGIONS, CodeRegion, region_valide
from hopen_common.testing.api import client_api

# Domain 2: the 13 metropolitan regions (Corse included) and the 5 overseas ones.
ATTENDUES = {"01", "02", "03", "04", "06", "11", "24", "27", "28", "32", "44", "52", "53", "75", "76",
             "84", "93", "94"}


class Corps(BaseModel):
    region: CodeRegion


def test_les_18_regions_du_programme() -> None:
    assert CODES_REGION == ATTENDUES
    assert REGIONS["94"].libelle == "Corse"
    assert REGIONS["06"].libelle == "Mayotte"
    assert REGIONS["84"].ars == "ARS Auvergne-Rhône-Alpes"


@pytest.mark.parametrize("code", sorted(ATTENDUES))
def test_region_acceptee(code: str) -> None:
    assert region_valide(code)
    assert Corps.model_validate_json(f'{{"region": "{code}"}}').region == code


@pytest.mark.parametrize("code", [
    "05",  # Saint-Pierre-et-Miquelon: out of scope (phase 2)
    "99", "00", "1", "011", "2A", "", " 84", "84 ",
])
def test_region_refusee(code: str) -> None:
    assert not region_valide(code)
    with pytest.raises(ValidationError) as erreur:
        Corps.model_validate({"region": code})
    assert "18 régions" in erreur.value.errors()[0]["msg"]


def test_region_refuse_un_nombre() -> None:
    with pytest.raises(ValidationError):
        Corps.model_validate_json('{"region": 84}')


def test_schema_enumere_les_regions() -> None:
    assert Corps.model_json_schema()["properties"]["region"]["enum"] == sorted(ATTENDUES)


async def test_en_parametre() -> None:
    app = FastAPI()
    install_problem_handlers(app)

    @app.get("/syntheses/{code}")
    async def synthese(code: Annotated[CodeRegion, Path()]) -> dict[str, str]:
        return {"code": code}

    @app.get("/exports")
    async def exports(region: Annotated[CodeRegion | None, Query()] = None) -> dict[str, str | None]:
        return {"region": region}

    async with client_api(app) as client:
        assert (await client.get("/syntheses/27")).json() == {"code": "27"}
        assert (await client.get("/exports", params={"region": "03"})).json() == {"region": "03"}
        assert (await client.get("/exports")).json() == {"region": None}
        for r, champ in ((await client.get("/syntheses/99"), "code"),
                         (await client.get("/exports", params={"region": "05"}), "region")):
            assert r.status_code == 422
            assert (r.json()["type"].rsplit("/", 1)[1], r.json()["champ"]) == ("validation", champ)
