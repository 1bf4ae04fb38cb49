"""Issue 12 point 2: a region with more amount lines than one page is read whole by following the
cursor (`suivant`, passed back as `curseur`), each line once, a line written between two pages
included; notifications page the same way; a cursor the service did not write is 422 naming it."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert

from hopen_financement.notifications.models import LigneFinancement, Notification

from ..conftest import ars

BFC, CORSE = "27", "94"


def _notification(nid: str, region: str) -> dict[str, Any]:
    return {"id": nid, "dispositif": "phase1", "candidature_id": nid, "finess": "210780581",
            "finess_ej": "210780581", "region": region, "nature": "amorcage", "annee": None,
            "montant_net": Decimal("1.00"), "decision_id": nid, "decide_par": "ars", "motif": "test",
            "cause_evenement": nid, "notifie_le": datetime.now(UTC), "remplace": None}


def _ligne(nid: str, region: str, i: int) -> dict[str, Any]:
    return {"notification_id": nid, "dispositif": "phase1", "candidature_id": nid, "finess": "210780581",
            "finess_ej": "210780581", "region": region, "objectif": "P1.O1", "cle_metier": f"{nid}-{i}",
            "nature": "amorcage", "annee": None, "version": 1, "version_precedente": None,
            "montant": Decimal("1.00"), "forfait": Decimal("2.00"), "calcul": {},
            "cree_le": datetime.now(UTC)}


async def _lire_tout(api: Any, chemin: str, entete: dict[str, str], *, limite: int,
                     pendant: Any = None) -> tuple[list[dict[str, Any]], int]:
    """Every item of a list by following `suivant`: (items, pages read)."""
    items, pages, curseur = [], 0, None
    while True:
        params: dict[str, Any] = {"region": BFC, "limit": limite}
        if curseur is not None:
            params["curseur"] = curseur
        r = await api.client.get(chemin, params=params, headers=entete)
        assert r.status_code == 200, r.text
        page = r.json()
        assert set(page) == {"items", "total", "limit", "offset", "suivant"}
        assert len(page["items"]) <= limite
        items += page["items"]
        pages += 1
        if pages == 1 and pendant is not None:
            await pendant()
        curseur = page["suivant"]
        if curseur is None:
            return items, pages


async def test_une_region_se_lit_entiere_en_suivant_le_curseur(api: Any) -> None:
    async with api.engine.begin() as conn:
        await conn.execute(insert(Notification), [_notification("n-bfc", BFC),
                                                  _notification("n-corse", CORSE)])
        await conn.execute(insert(LigneFinancement), [_ligne("n-bfc", BFC, i) for i in range(120)]
                           + [_ligne("n-corse", CORSE, i) for i in range(5)])

    async def une_ligne_de_plus() -> None:  # written while the client pages: it comes at the end
        async with api.engine.begin() as conn:
            await conn.execute(insert(LigneFinancement), [_ligne("n-bfc", BFC, 999)])

    lignes, pages = await _lire_tout(api, "/v1/financements", ars(BFC), limite=50, pendant=une_ligne_de_plus)
    assert pages == 3
    ids = [li["id"] for li in lignes]
    assert len(ids) == len(set(ids)) == 121  # every line once, the late one included
    assert ids == sorted(ids)
    assert {li["region"] for li in lignes} == {BFC}


async def test_les_notifications_se_paginent_de_meme(api: Any) -> None:
    async with api.engine.begin() as conn:
        await conn.execute(insert(Notification), [_notification(f"m-{i}", BFC) for i in range(5)])
    notifications, pages = await _lire_tout(api, "/v1/notifications", ars(BFC), limite=2)
    assert pages >= 3
    ids = [n["id"] for n in notifications]
    assert len(ids) == len(set(ids))
    assert {f"m-{i}" for i in range(5)} <= set(ids)


async def test_un_curseur_forge_est_refuse(api: Any) -> None:
    for curseur in ("n'importe quoi", "eyJhcHJlcyI6ICJ4In0", "e30"):  # garbage, {"apres": "x"}, {}
        r = await api.client.get("/v1/financements", params={"curseur": curseur}, headers=ars(BFC))
        assert r.status_code == 422, (curseur, r.text)
        assert r.json()["champ"] == "curseur"
