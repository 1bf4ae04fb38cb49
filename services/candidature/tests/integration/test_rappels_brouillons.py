"""Reminders of the draft deadlines from candidature's scheduler, on the real database and SMTP server:
two replicas at once send one reminder per draft (J-7 of the AAP deposit, 29 May 2026), with its event
and its mail to the establishment's contact address."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select
from sqlalchemy.ext.asyncio import create_async_engine

from hopen_candidature.echeances.service import planificateur
from hopen_candidature.models import ContactEtablissement, Courriel, ProjetAap, RappelEmis
from hopen_candidature.settings import CandidatureSettings
from hopen_common.courriel import Expediteur
from hopen_common.db.messaging import OutboxMessage
from hopen_common.db.session import build_sessionmaker
from hopen_common.devstack.smtp import SmtpServer

LEAD = "210012142"


async def test_deux_planificateurs_un_rappel_par_brouillon(fresh_database: Callable[[str], str],
                                                           smtp_server: SmtpServer) -> None:
    smtp_server.vider()
    url = fresh_database("candidature")
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(insert(ProjetAap), [{
            "id": pid, "finess": LEAD, "region": "27", "statut": statut, "theme": "t", "titre": pid,
            "description": "d", "objectifs": ["o1"], "participants": [LEAD], "perimetre": [], "equipe": [],
            "lettres_partenaires": [], "sans_versement_usage": None, "cree_par": "etab",
            "cree_le": datetime(2026, 4, 1, tzinfo=UTC), "deposee_par": None, "deposee_le": None}
            for pid, statut in (("p-brouillon", "brouillon"), ("p-depose", "depose"))])
        await conn.execute(insert(ContactEtablissement).values(
            finess=LEAD, courriel="dsi@ch.fr", maj_par="etab", maj_le=datetime.now(UTC)))
    reglages = CandidatureSettings(database_url=url, smtp_hote="127.0.0.1", smtp_port=smtp_server.port,
                                   date_du_jour=date(2026, 5, 22))
    sessions = build_sessionmaker(engine)
    a, b = planificateur(sessions, reglages), planificateur(sessions, reglages)
    try:
        lots = await asyncio.gather(a.passage(), b.passage())
        lots += await asyncio.gather(a.passage(verrou=False), b.passage(verrou=False))
        assert [r.rappel_id for lot in lots for r in lot] == [
            "aap.fin_depot_dossiers|brouillon:p-brouillon|J-7"]
        async with engine.connect() as conn:
            assert await conn.scalar(select(func.count()).select_from(RappelEmis)) == 1
            evenements = list(await conn.execute(
                select(OutboxMessage.key, OutboxMessage.envelope["type"].astext)))
            assert [tuple(e) for e in evenements] == [("p-brouillon", "RappelDepotEmis")]
            assert await conn.scalar(select(func.count()).select_from(Courriel)) == 1
        assert await Expediteur(sessions, reglages).envoyer_lot() == 1
        [mail] = smtp_server.messages()
        assert mail["To"] == "dsi@ch.fr"
        assert mail["Subject"] == ("HOP'EN 2 — rappel : fin du dépôt des projets (appel à projets)"
                                   " le 29 mai 2026 (J-7)")
    finally:
        await engine.dispose()
