"""The OpenAPI document documents the errors each operation can give and the links of its flows."""

from __future__ import annotations

import uuid

from fastapi import FastAPI, Header
from pydantic import BaseModel

from hopen_common.auth import CurrentPrincipal
from hopen_common.openapi import MEDIA_PROBLEME, documenter_erreurs


class Cree(BaseModel):
    id: uuid.UUID


class Demande(BaseModel):
    nom: str


def _app() -> FastAPI:
    app = FastAPI()

    @app.post("/v1/choses", status_code=201, response_model=Cree,
              responses={503: {"description": "indisponible"}})
    async def creer(demande: Demande, _: CurrentPrincipal) -> Cree:
        return Cree(id=uuid.uuid4())

    @app.get("/v1/choses/{chose_id}", response_model=Cree)
    async def lire(chose_id: uuid.UUID, _: CurrentPrincipal) -> Cree:
        return Cree(id=chose_id)

    @app.patch("/v1/choses/{chose_id}", response_model=Cree)
    async def changer(chose_id: uuid.UUID, demande: Demande, _: CurrentPrincipal,
                      if_match: str | None = Header(default=None, alias="If-Match")) -> Cree:
        return Cree(id=chose_id)

    @app.get("/sante")
    async def sante() -> dict[str, str]:
        return {"statut": "ok"}

    documenter_erreurs(app)
    return app


def test_erreurs_documentees_selon_ce_que_l_operation_declare() -> None:
    schema = _app().openapi()
    chemins = schema["paths"]
    creer = chemins["/v1/choses"]["post"]["responses"]
    assert set(creer) == {"201", "400", "401", "403", "404", "409", "413", "415", "422", "503"}
    assert creer["422"]["content"] == {MEDIA_PROBLEME: {"schema": {"$ref": "#/components/schemas/Probleme"}}}
    assert MEDIA_PROBLEME in creer["503"]["content"]
    assert set(chemins["/v1/choses/{chose_id}"]["get"]["responses"]) == {"200", "401", "403", "404", "422"}
    assert "412" in chemins["/v1/choses/{chose_id}"]["patch"]["responses"]
    assert set(chemins["/sante"]["get"]["responses"]) == {"200"}  # public, no parameter: no error to document
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_liens_de_la_creation_vers_ce_qu_elle_cree() -> None:
    liens = _app().openapi()["paths"]["/v1/choses"]["post"]["responses"]["201"]["links"]
    assert liens["get_chose_id"] == {"operationRef": "#/paths/~1v1~1choses~1{chose_id}/get",
                                     "parameters": {"chose_id": "$response.body#/id"}}
    assert set(liens) == {"get_chose_id", "patch_chose_id"}
