"""Known (type, version) -> payload model. A consumer accepts what is registered, rejects the rest."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from pydantic import BaseModel, ValidationError

if TYPE_CHECKING:
    from hopen_common.events.envelope import Evenement

_MODELES: dict[tuple[str, int], type[BaseModel]] = {}
_SCHEMAS: dict[type[BaseModel], tuple[str, int]] = {}

M = TypeVar("M", bound=type[BaseModel])


class EvenementInconnuError(Exception):
    """Type or version we do not know: never guessed, sent to the dead letters."""


class PayloadInvalideError(Exception):
    """Known type and version, but the payload does not follow its schema."""


def enregistrer(type_: str, version: int) -> Callable[[M], M]:
    def decorateur(modele: M) -> M:
        _MODELES[(type_, version)] = modele
        _SCHEMAS[modele] = (type_, version)
        return modele

    return decorateur


def modeles_enregistres() -> dict[tuple[str, int], type[BaseModel]]:
    """Every known (type, version) and its payload model (for the AsyncAPI document)."""
    return dict(_MODELES)


def schema_de(modele: type[BaseModel]) -> tuple[str, int]:
    return _SCHEMAS[modele]


def decoder_payload(evenement: Evenement) -> BaseModel:
    modele = _MODELES.get((evenement.type, evenement.version))
    if modele is None:
        raise EvenementInconnuError(f"{evenement.type} v{evenement.version} is not a known event")
    try:
        return modele.model_validate(evenement.data)
    except ValidationError as exc:
        raise PayloadInvalideError(str(exc)) from exc
