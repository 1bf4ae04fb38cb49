"""Paginated lists: every list endpoint answers the same envelope and takes the same parameters.

One way to page (issue 12 point 2, ADR 0027): a page says `suivant`, an opaque cursor the client passes
back as `?curseur=` for the next page (None: it was the last one), with `limit` (at most `LIMITE_MAX`).
The client never computes a position. Behind the cursor, a list either skips rows (`offset`, the
default: the cursor holds the position; `Page` computes it) or, for a list ordered by an integer key
that grows as rows are added (financement's amount lines), resumes after the last key seen
(`page_par_cle`): no row is skipped or read twice while lines are being written. `offset` is still
accepted for the clients written before the cursor.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Sequence
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Depends, Query
from pydantic import BaseModel, model_validator
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.problemes import VALIDATION

T = TypeVar("T")
R = TypeVar("R")

LIMITE_MAX = 500
_POSITION_MAX = 2**63 - 1


def encoder_curseur(position: dict[str, int]) -> str:
    return base64.urlsafe_b64encode(json.dumps(position, separators=(",", ":")).encode()).decode().rstrip("=")


def _refus(detail: str) -> Exception:
    return VALIDATION.erreur(f"curseur : {detail} (repassez tel quel le `suivant` d'une page)",
                             champ="curseur")


def decoder_curseur(curseur: str) -> dict[str, int]:
    """The position a cursor holds; 422 naming `curseur` for anything this module did not write."""
    try:
        position = json.loads(base64.urlsafe_b64decode(curseur + "=" * (-len(curseur) % 4)))
    except (binascii.Error, ValueError):
        raise _refus("illisible") from None
    if not isinstance(position, dict) or not position or not set(position) <= {"o", "apres", "n"}:
        raise _refus("inconnu")
    for valeur in position.values():
        if isinstance(valeur, bool) or not isinstance(valeur, int) or not 0 <= valeur <= _POSITION_MAX:
            raise _refus("position invalide")
    return position


class Page(BaseModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int  # rows before this page
    suivant: str | None = None  # the next page's cursor (pass it back as `curseur`); None: last page

    @model_validator(mode="after")
    def _suivant_par_defaut(self) -> Page[T]:
        # A list paged by position: its next cursor follows from the page. A keyset list sets it.
        if "suivant" not in self.model_fields_set and self.offset + len(self.items) < self.total:
            self.suivant = encoder_curseur({"o": self.offset + len(self.items)})
        return self


class Pagination(BaseModel):
    limit: int
    offset: int
    apres: int | None = None  # keyset lists: the key of the previous page's last row


def _pagination(
    limit: Annotated[int, Query(ge=1, le=LIMITE_MAX, description="page size")] = 50,
    curseur: Annotated[str | None, Query(max_length=200, description="the `suivant` of the previous page")
                       ] = None,
    offset: Annotated[int, Query(ge=0, le=_POSITION_MAX,
                                 description="rows to skip (prefer `curseur`)")] = 0,
) -> Pagination:
    if curseur is None:
        return Pagination(limit=limit, offset=offset)
    position = decoder_curseur(curseur)
    if "o" in position:
        return Pagination(limit=limit, offset=position["o"])
    if "apres" not in position:
        raise _refus("inconnu")
    return Pagination(limit=limit, offset=position.get("n", 0), apres=position["apres"])


PaginationDep = Annotated[Pagination, Depends(_pagination)]


async def page_par_cle(session: AsyncSession, query: Select[*tuple[Any, ...]], pagination: Pagination,
                       *, cle: Any, cle_de: Callable[[Any], int]) -> tuple[Sequence[Any], int, str | None]:
    """One page of `query` in `cle` order (an integer key, unique and growing), after the cursor's
    key: (rows, total, next cursor). `cle_de` reads the key of a row of `query`."""
    total = int(await session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0)
    if pagination.apres is not None:
        query = query.where(cle > pagination.apres)
    rows = (await session.execute(query.order_by(cle).limit(pagination.limit + 1))).all()
    suivant = None
    if len(rows) > pagination.limit:
        rows = rows[:pagination.limit]
        suivant = encoder_curseur({"apres": cle_de(rows[-1]), "n": pagination.offset + len(rows)})
    return rows, total, suivant
