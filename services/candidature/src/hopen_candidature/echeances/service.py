"""Reminders of the draft deadlines (ADR 0016): the end of the phase-1 and HospiConnect candidatures
and of the AAP deposits, J-7 and J-1, to each establishment that still has a draft; drafts live here,
so candidature reminds them (instruction reminds the rest). One reminder per (deadline, draft, J-7|J-1)
whatever the number of replicas; RappelDepotEmis on candidature's topic (key: the draft's id) and
the mail to the establishment's contact address in the same transaction."""

from __future__ import annotations

import zlib
from collections.abc import Sequence

from fastapi import FastAPI
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_candidature.courriels.service import contacts
from hopen_candidature.models import Candidature, Courriel, ProjetAap, RappelEmis
from hopen_candidature.settings import CandidatureSettings
from hopen_common.calendrier import aujourd_hui
from hopen_common.contracts import RappelDepotEmis, RappelEcheanceEmis, Topics
from hopen_common.courriel import mettre_en_file
from hopen_common.events import Evenement
from hopen_common.programme.aap import charger_programme_aap
from hopen_common.programme.echeances import Echeance, echeances_programme
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_common.rappels import Cible, Emetteur, Planificateur

SOURCE = "/hopen/candidature"
VERROU_RAPPELS = zlib.crc32(b"hopen-rappels:candidature")
# Deadline key -> the dispositif of the candidatures it closes (None: the AAP projects).
BROUILLONS = {"phase1.candidature_fin": "phase1", "hospiconnect.fin_candidatures": "hospiconnect",
              "aap.fin_depot_dossiers": None}


def echeances() -> list[Echeance]:
    return [e for e in echeances_programme(charger_programme_phase1(), charger_programme_hospiconnect(),
                                           charger_programme_aap()) if e.cle in BROUILLONS]


async def concernes(session: AsyncSession, echeance: Echeance) -> list[Cible]:
    if echeance.cle not in BROUILLONS:
        return []
    dispositif = BROUILLONS[echeance.cle]
    if dispositif is None:
        lignes = (await session.execute(select(ProjetAap.id, ProjetAap.region, ProjetAap.finess).where(
            ProjetAap.statut == "brouillon").order_by(ProjetAap.id))).all()
    else:
        lignes = (await session.execute(select(Candidature.id, Candidature.region, Candidature.finess).where(
            Candidature.dispositif == dispositif, Candidature.statut == "brouillon")
            .order_by(Candidature.id))).all()
    return [Cible(f"brouillon:{i}", region, finess, (i,)) for i, region, finess in lignes]


def emetteur(reglages: CandidatureSettings) -> Emetteur:
    async def courriel(session: AsyncSession, payload: RappelEcheanceEmis, _: Evenement,
                       cible: Cible) -> None:
        await mettre_en_file(session, Courriel, cause=payload.rappel_id,
                             destinataires=await contacts(session, [cible.finess] if cible.finess else []),
                             modele="rappel_echeance_etablissement", variables=payload.model_dump(),
                             domaine=reglages.courriel_domaine)
    return Emetteur(table=RappelEmis, concernes=concernes, source=SOURCE, topic=Topics.CANDIDATURE,
                    cle=lambda p: p.dossiers[0], suite=courriel, modele=RappelDepotEmis)


def planificateur(sessionmaker: async_sessionmaker[AsyncSession], reglages: CandidatureSettings,
                  liste: Sequence[Echeance] | None = None) -> Planificateur:
    return Planificateur(sessionmaker, emetteur(reglages), liste=echeances() if liste is None else liste,
                         jour=lambda: aujourd_hui(reglages.date_du_jour), verrou=VERROU_RAPPELS,
                         intervalle=reglages.rappels_intervalle_secondes)


async def tache_rappels(app: FastAPI) -> None:
    await planificateur(app.state.sessionmaker, app.state.settings).run_forever()
