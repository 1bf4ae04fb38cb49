"""The deposit's query on the pieces slice's `piece` table, against the minimal shape the merge
contract names (dossier_type, dossier_id, type, finess_ej; one row per version). The table is created
here by hand: its migration belongs to the pieces slice."""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import text
from sqlalchemy.ext.asyncio import async_sessionmaker, create_async_engine

from hopen_candidature.exigences.repository import types_deposes


async def test_types_deposes_sur_la_table_piece(fresh_database: Callable[[str], str]) -> None:
    engine = create_async_engine(fresh_database("candidature"))
    try:
        async with engine.begin() as conn:
            await conn.execute(text("CREATE TABLE piece (id serial PRIMARY KEY, dossier_type varchar(20),"
                                    " dossier_id varchar(36), type varchar(50), finess_ej varchar(9),"
                                    " version integer)"))
            await conn.execute(text(
                "INSERT INTO piece (dossier_type, dossier_id, type, finess_ej, version) VALUES"
                " ('candidature', 'c1', 'P1.P1', NULL, 1), ('candidature', 'c1', 'P1.P1', NULL, 2),"
                " ('candidature', 'c1', 'P1.P3', '520780032', 1), ('projet', 'c1', 'AAP.EQUIPE', NULL, 1),"
                " ('candidature', 'c2', 'P1.P2', NULL, 1)"))
        async with async_sessionmaker(engine)() as session:
            attendu = {("P1.P1", None), ("P1.P3", "520780032")}
            assert await types_deposes(session, "candidature", "c1") == attendu
            assert await types_deposes(session, "projet", "c1") == {("AAP.EQUIPE", None)}
            assert await types_deposes(session, "candidature", "autre") == set()
    finally:
        await engine.dispose()
