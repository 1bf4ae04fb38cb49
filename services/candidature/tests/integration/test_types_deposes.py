"""The deposit's query on the pieces slice's `piece` table (migration 0007): (type, finess_ej) of every
version, per dossier. Rows are inserted directly, their bytes are not the point here."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from hopen_candidature.exigences.repository import types_deposes


async def test_types_deposes_sur_la_table_piece(fresh_database: Callable[[str], str]) -> None:
    engine = create_async_engine(fresh_database("candidature"))
    try:
        async with engine.begin() as conn:
            lignes = [("candidature", "c1", "P1.P1", None, 1), ("candidature", "c1", "P1.P1", None, 2),
                      ("candidature", "c1", "P1.P3", "520780032", 1), ("projet", "c1", "AAP.EQUIPE", None, 1),
                      ("candidature", "c2", "P1.P2", None, 1)]
            await conn.execute(text(
                "INSERT INTO piece (id, dossier_type, dossier_id, finess, region, type, finess_ej, version,"
                " nom, media_type, taille, sha256, cle, depose_par, depose_le)"
                " VALUES (:id, :t, :d, '2A0002606', '94', :type, :ej, :v, 'p.pdf', 'application/pdf', 1,"
                " :sha, :cle, 'test', now())"),
                [{"id": f"p{i}", "t": t, "d": d, "type": ty, "ej": ej, "v": v, "sha": "0" * 64,
                  "cle": f"pieces/p{i}"} for i, (t, d, ty, ej, v) in enumerate(lignes)])
        async with async_sessionmaker(engine)() as session:
            attendu = {("P1.P1", None), ("P1.P3", "520780032")}
            assert await types_deposes(session, "candidature", "c1") == attendu
            assert await types_deposes(session, "projet", "c1") == {("AAP.EQUIPE", None)}
            assert await types_deposes(session, "candidature", "autre") == set()
    finally:
        await engine.dispose()
