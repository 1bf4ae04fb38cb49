"""Deadline use cases of instruction (ADR 0016): the reminder scheduler (J-7, J-1, once per deadline,
target and reminder whatever the number of replicas), the "late / due soon" filter of the dossiers
list and the objectives left undecided after the end of instruction."""

from __future__ import annotations

import logging
import zlib
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from fastapi import FastAPI
from sqlalchemy import ColumnElement, and_, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.auth import Principal
from hopen_common.auth.portee import restreindre
from hopen_common.calendrier import aujourd_hui
from hopen_common.contracts import RappelEcheanceEmis, Topics
from hopen_common.courriel import mettre_en_file
from hopen_common.events import Evenement
from hopen_common.programme.aap import charger_programme_aap
from hopen_common.programme.echeances import Echeance, echeances_programme, etat_echeance, par_cle
from hopen_common.programme.hospiconnect import charger_programme_hospiconnect
from hopen_common.programme.phase1 import charger_programme_phase1
from hopen_common.rappels import Cible, Emetteur, Planificateur
from hopen_instruction.dossiers.service import cibles
from hopen_instruction.echeances.rules import (
    DOSSIER_EN_COURS,
    PROJET_EN_COURS,
    cible_ars,
    cible_etablissement,
    fin_instruction,
)
from hopen_instruction.models import Courriel, Decision, DecisionProjet, Dossier, Projet, RappelEmis
from hopen_instruction.settings import InstructionSettings

log = logging.getLogger(__name__)
SOURCE = "/hopen/instruction"
VERROU_RAPPELS = zlib.crc32(b"hopen-rappels:instruction")


def echeances() -> list[Echeance]:
    """The programme's deadlines from the shipped data files (latest versions)."""
    return echeances_programme(charger_programme_phase1(), charger_programme_hospiconnect(),
                               charger_programme_aap())


# --- who still has something to do before a deadline ------------------------------------------

async def _dossiers(session: AsyncSession, *conditions: ColumnElement[bool]) -> list[Dossier]:
    return list(await session.scalars(select(Dossier).where(*conditions).order_by(Dossier.id)))


def _sans_decision(objet: str) -> ColumnElement[bool]:
    return ~select(Decision.id).where(Decision.dossier_id == Dossier.id, Decision.objet == objet).exists()


async def concernes(session: AsyncSession, echeance: Echeance) -> list[Cible]:
    """The targets a deadline's reminder goes to: the ARS of each region with dossiers still to
    decide, or each establishment still expected to deposit. Deadlines of drafts (end of the
    candidatures / deposits) are candidature's to remind, not instruction's: none here."""
    cle, annee = echeance.cle, echeance.annee
    par_region = echeance.destinataire == "ars"
    lignes: list[tuple[str, str, str]] = []  # (region, finess, id)
    if cle == "phase1.fin_instruction":
        lignes = [(d.region, d.finess, d.id) for d in await _dossiers(
            session, Dossier.dispositif == "phase1", Dossier.statut.in_(DOSSIER_EN_COURS))]
    elif cle == "phase1.fin_mesure_indicateurs":
        lignes = [(d.region, d.finess, d.id) for d in await _dossiers(
            session, Dossier.dispositif == "phase1", Dossier.statut == "validee")]
    elif annee is not None and cle in (f"hospiconnect.{annee}.fin_instruction",
                                       f"hospiconnect.{annee}.fin_depot_preuves"):
        lignes = [(d.region, d.finess, d.id) for d in await _dossiers(
            session, Dossier.dispositif == "hospiconnect", Dossier.statut == "validee",
            _sans_decision(f"hospiconnect.{annee}"))]
    elif cle == "aap.fin_selection":
        lignes = [(p.region, p.finess, p.id) for p in await session.scalars(
            select(Projet).where(Projet.statut.in_(PROJET_EN_COURS)).order_by(Projet.id))]
    elif cle == "aap.fin_depot_preuves":
        atteinte = select(DecisionProjet.id).where(DecisionProjet.projet_id == Projet.id,
                                                   DecisionProjet.objet == "atteinte").exists()
        lignes = [(p.region, p.finess, p.id) for p in await session.scalars(
            select(Projet).where(Projet.statut == "selectionne", ~atteinte).order_by(Projet.id))]
    groupes: dict[tuple[str, str | None], list[str]] = defaultdict(list)
    for region, finess, ident in lignes:
        groupes[(region, None if par_region else finess)].append(ident)
    return [Cible(cible_ars(region) if finess is None else cible_etablissement(finess), region, finess,
                  tuple(ids)) for (region, finess), ids in sorted(groupes.items(), key=lambda kv: str(kv[0]))]


# --- the scheduler -----------------------------------------------------------------------------

def emetteur(reglages: InstructionSettings) -> Emetteur:
    async def courriel_ars(session: AsyncSession, payload: RappelEcheanceEmis, _: Evenement,
                           cible: Cible) -> None:
        if payload.destinataire == "ars":  # establishments are mailed by candidature, from the event
            await mettre_en_file(
                session, Courriel, cause=payload.rappel_id,
                destinataires=[reglages.courriel_ars(cible.region)], modele="rappel_echeance_ars",
                variables={**payload.model_dump(), "nombre": len(cible.dossiers)},
                domaine=reglages.courriel_domaine)
    return Emetteur(table=RappelEmis, concernes=concernes, source=SOURCE, topic=Topics.ECHEANCE,
                    suite=courriel_ars)


def planificateur(sessionmaker: async_sessionmaker[AsyncSession], reglages: InstructionSettings,
                  liste: Sequence[Echeance] | None = None) -> Planificateur:
    return Planificateur(sessionmaker, emetteur(reglages), liste=echeances() if liste is None else liste,
                         jour=lambda: aujourd_hui(reglages.date_du_jour), verrou=VERROU_RAPPELS,
                         intervalle=reglages.rappels_intervalle_secondes)


async def tache_rappels(app: FastAPI) -> None:
    await planificateur(app.state.sessionmaker, app.state.settings).run_forever()


# --- views -------------------------------------------------------------------------------------

def filtre_echeance(etat: str, *, jour: date, jours_proche: int,
                    liste: Sequence[Echeance]) -> ColumnElement[bool]:
    """SQL condition for `GET /v1/dossiers?echeance=en_retard|proche`: a dossier still awaiting its
    decision whose dispositif's instruction deadline is past (en_retard) or within `jours_proche`
    days (proche)."""
    index = par_cle(liste)
    dispositifs = [d for d in ("phase1", "hospiconnect")
                   if (fin := fin_instruction(d, index)) is not None
                   and etat_echeance(fin, jour, jours_proche=jours_proche) == etat]
    if not dispositifs:
        return false()
    return and_(Dossier.statut.in_(DOSSIER_EN_COURS), or_(*(Dossier.dispositif == d for d in dispositifs)))


@dataclass(frozen=True)
class ObjectifNonDecide:
    dossier_id: str
    dispositif: str
    region: str
    finess: str
    finess_ej: str
    objectif: str  # a phase-1 objective, or "hospiconnect.<annee>"
    fin_instruction: date


async def objectifs_non_decides(session: AsyncSession, principal: Principal, *, jour: date,
                                liste: Sequence[Echeance]) -> list[ObjectifNonDecide]:
    """Objectives of validated dossiers still undecided once their end of instruction is past: the
    phase-1 objectives (per member EJ of a GHT) and the HospiConnect yearly decisions. The ARS sees
    its region, the DNS every region (sorted by region)."""
    index = par_cle(liste)
    resultat: list[ObjectifNonDecide] = []
    requete = restreindre(select(Dossier).where(Dossier.statut == "validee"), principal,
                          region=Dossier.region)
    dossiers = list(await session.scalars(requete.order_by(Dossier.region, Dossier.id)))
    if not dossiers:
        return []
    decisions = await session.execute(select(Decision.dossier_id, Decision.objet, Decision.finess_ej)
                                      .where(Decision.dossier_id.in_([d.id for d in dossiers])))
    decides = {(r.dossier_id, r.objet, r.finess_ej) for r in decisions}
    objets_decides = {(dossier_id, objet) for dossier_id, objet, _ in decides}
    fin_p1 = index["phase1.fin_instruction"].date
    annees_hc = sorted((e.annee, e.date) for e in liste
                       if e.annee is not None and e.cle.endswith(".fin_instruction"))
    for d in dossiers:
        if d.dispositif == "phase1" and jour > fin_p1:
            for finess_ej, objectif, _ in cibles(d):
                ej = None if d.perimetre is None else finess_ej
                if (d.id, objectif, ej) not in decides:
                    resultat.append(ObjectifNonDecide(d.id, d.dispositif, d.region, d.finess, finess_ej,
                                                      objectif, fin_p1))
        elif d.dispositif == "hospiconnect":
            for annee, fin in annees_hc:
                objet = f"hospiconnect.{annee}"
                if jour > fin and (d.id, objet) not in objets_decides:
                    resultat.append(ObjectifNonDecide(d.id, d.dispositif, d.region, d.finess, d.finess,
                                                      objet, fin))
    return resultat
