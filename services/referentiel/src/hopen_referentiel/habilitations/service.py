"""Habilitations: create, change, revoke, read (ADR 0022).

Each change, in one transaction: the current state in `habilitation_connue` (the table every
service authorizes with; here it is the original), who it is for in `fiche_habilitation`, an
immutable row in `historique_habilitation` (before, after, who, when, why), an audit row, and the
`HabilitationModifiee` event the other services copy the state from.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, date, datetime

from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal, Profil, Role
from hopen_common.auth.portee import filtre_liste, restreindre
from hopen_common.contracts import HabilitationModifiee, Topics
from hopen_common.db.messaging import HabilitationConnue, JournalAudit
from hopen_common.events import nouvel_evenement
from hopen_common.habilitations import ecrire
from hopen_common.outbox import publier
from hopen_common.pagination import Page, Pagination
from hopen_common.problemes import HABILITATION_EXISTANTE, REGLE_METIER, VERSION_PERIMEE, introuvable
from hopen_common.programme import phase1 as programme_phase1
from hopen_referentiel.habilitations.rules import (
    EtatHabilitation,
    ReferentsManquants,
    peut_lire,
    referents_manquants,
    refus_de_gestion,
    verifier_etat,
)
from hopen_referentiel.habilitations.schemas import (
    ChangementHabilitation,
    HabilitationLue,
    ModificationHabilitation,
    NouvelleHabilitation,
)
from hopen_referentiel.models import FicheHabilitation, HistoriqueHabilitation
from hopen_referentiel.programme.service import courante

SOURCE = "/hopen/referentiel"


def etat_de(ligne: HabilitationConnue) -> EtatHabilitation:
    return EtatHabilitation(emetteur=ligne.emetteur, sujet=ligne.sujet, role=Role(ligne.role),
                            region=ligne.region, finess=tuple(ligne.finess),
                            profils=frozenset(Profil(p) for p in ligne.profils), referent=ligne.referent,
                            actif=ligne.actif)


def _lue(ligne: HabilitationConnue, fiche: FicheHabilitation) -> HabilitationLue:
    return HabilitationLue(
        id=ligne.id, emetteur=ligne.emetteur, sujet=ligne.sujet, role=Role(ligne.role), region=ligne.region,
        finess=list(ligne.finess), profils=sorted(Profil(p) for p in ligne.profils), referent=ligne.referent,
        actif=ligne.actif, version=ligne.version, nom=fiche.nom, courriel=fiche.courriel,
        cree_le=fiche.cree_le, cree_par=fiche.cree_par, modifie_le=ligne.modifie_le,
        modifie_par=fiche.modifie_par)


async def _verrouiller_personne(session: AsyncSession, emetteur: str, sujet: str) -> None:
    # Two concurrent creations of one person: the second waits, then finds the first.
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                          {"k": f"habilitation\n{emetteur}\n{sujet}"})


async def _enregistrer(
    session: AsyncSession, *, identifiant: uuid.UUID, avant: HabilitationConnue | None,
    etat: EtatHabilitation, action: str, par: Principal | str, motivation: str, maintenant: datetime,
) -> HabilitationConnue:
    """Write one new version of a habilitation everywhere it goes (see the module's docstring)."""
    version = 1 if avant is None else avant.version + 1
    payload = HabilitationModifiee(
        habilitation_id=identifiant, emetteur=etat.emetteur, sujet=etat.sujet, role=etat.role.value,
        region=etat.region, finess=list(etat.finess), profils=sorted(p.value for p in etat.profils),
        referent=etat.referent, actif=etat.actif, version=version, modifie_le=maintenant)
    await ecrire(session, payload)
    par_emetteur, par_sujet, par_role = ((par.emetteur, par.subject, par.role.value)
                                         if isinstance(par, Principal) else ("", par, "amorcage"))
    avant_json = None if avant is None else etat_de(avant).en_json()
    session.add(HistoriqueHabilitation(
        habilitation_id=identifiant, version=version, action=action, avant=avant_json, apres=etat.en_json(),
        par_emetteur=par_emetteur, par_sujet=par_sujet, par_role=par_role, le=maintenant,
        motivation=motivation))
    session.add(JournalAudit(
        acteur=par_sujet, role=par_role, action=f"habilitation_{action}", objet_type="habilitation",
        objet_id=str(identifiant), motivation=motivation, region=etat.region,
        details={"version": version, "avant": avant_json, "apres": etat.en_json()}))
    await publier(session, Topics.HABILITATION, str(identifiant), nouvel_evenement(
        payload, source=SOURCE, subject=f"habilitation/{identifiant}"))
    await session.flush()
    ligne = await session.get(HabilitationConnue, (etat.emetteur, etat.sujet), populate_existing=True)
    assert ligne is not None
    return ligne


def _etat_cree(corps: NouvelleHabilitation) -> EtatHabilitation:
    return EtatHabilitation(emetteur=corps.emetteur, sujet=corps.sujet, role=corps.role, region=corps.region,
                            finess=tuple(dict.fromkeys(corps.finess)), profils=frozenset(corps.profils),
                            referent=corps.referent)


def _verifier_emetteur(emetteur: str, emetteurs_de_confiance: frozenset[str]) -> None:
    # Compared character for character with the tokens' `iss`: a typo would grant nobody, silently.
    if emetteur not in emetteurs_de_confiance:
        raise REGLE_METIER.erreur(
            f"émetteur {emetteur[:100]!r} inconnu de la plateforme : un des fournisseurs d'identité de"
            f" confiance attendu ({', '.join(sorted(emetteurs_de_confiance)) or 'aucun configuré'})",
            champ="emetteur")


async def creer(session: AsyncSession, corps: NouvelleHabilitation, gestionnaire: Principal, *,
                emetteurs_de_confiance: frozenset[str]) -> HabilitationLue:
    etat = _etat_cree(corps)
    verifier_etat(etat)
    if (refus := refus_de_gestion(gestionnaire, avant=None, apres=etat)) is not None:
        raise refus
    _verifier_emetteur(etat.emetteur, emetteurs_de_confiance)
    await _verrouiller_personne(session, etat.emetteur, etat.sujet)
    deja = await session.get(HabilitationConnue, (etat.emetteur, etat.sujet))
    if deja is not None:
        raise HABILITATION_EXISTANTE.erreur(
            f"{etat.sujet} ({etat.emetteur}) a déjà une habilitation ({deja.id}) : modifiez-la",
            champ="sujet", extra={"habilitation_id": str(deja.id)})
    maintenant = datetime.now(UTC)
    identifiant = uuid.uuid4()
    fiche = FicheHabilitation(habilitation_id=identifiant, nom=corps.nom, courriel=corps.courriel,
                              cree_le=maintenant, cree_par=gestionnaire.subject,
                              modifie_par=gestionnaire.subject)
    session.add(fiche)
    ligne = await _enregistrer(session, identifiant=identifiant, avant=None, etat=etat, action="creation",
                               par=gestionnaire, motivation=corps.motivation, maintenant=maintenant)
    return _lue(ligne, fiche)


async def _charger(session: AsyncSession, identifiant: uuid.UUID, lecteur: Principal, *,
                   verrou: bool = False) -> tuple[HabilitationConnue, FicheHabilitation]:
    query = select(HabilitationConnue).where(HabilitationConnue.id == identifiant)
    if verrou:
        query = query.with_for_update()
    ligne = (await session.scalars(query)).one_or_none()
    # Out of the reader's reach answers as absent: an ARS does not learn who the DNS has named.
    if ligne is None or not peut_lire(lecteur, etat_de(ligne)):
        raise introuvable("habilitation", str(identifiant))
    fiche = await session.get(FicheHabilitation, identifiant)
    assert fiche is not None
    return ligne, fiche


def _verifier_version(ligne: HabilitationConnue, version_attendue: int | None) -> None:
    if version_attendue is not None and version_attendue != ligne.version:
        raise VERSION_PERIMEE.erreur(
            f"habilitation en version {ligne.version}, pas {version_attendue} : relisez-la avant de la"
            " modifier",
            champ="If-Match", extra={"version": ligne.version})


async def modifier(session: AsyncSession, identifiant: uuid.UUID, corps: ModificationHabilitation,
                   gestionnaire: Principal, *, version_attendue: int | None = None) -> HabilitationLue:
    ligne, fiche = await _charger(session, identifiant, gestionnaire, verrou=True)
    _verifier_version(ligne, version_attendue)
    avant = etat_de(ligne)
    changes = corps.model_dump(exclude_unset=True, exclude={"nom", "courriel", "motivation"})
    if "role" in changes and changes["role"] is None:
        raise REGLE_METIER.erreur("un rôle est attendu", champ="role")
    etat = replace(
        avant,
        role=corps.role if corps.role is not None else avant.role,
        region=changes.get("region", avant.region),
        finess=tuple(dict.fromkeys(corps.finess)) if corps.finess is not None else avant.finess,
        profils=frozenset(corps.profils) if corps.profils is not None else avant.profils,
        referent=corps.referent if corps.referent is not None else avant.referent,
        actif=True if corps.actif else avant.actif,
    )
    verifier_etat(etat)
    if (refus := refus_de_gestion(gestionnaire, avant=avant, apres=etat)) is not None:
        raise refus
    fiche_change = corps.model_dump(exclude_unset=True, include={"nom", "courriel"})
    if etat == avant and not fiche_change:
        raise REGLE_METIER.erreur("aucun changement demandé", champ="motivation")
    for champ, valeur in fiche_change.items():
        setattr(fiche, champ, valeur)
    fiche.modifie_par = gestionnaire.subject
    maintenant = datetime.now(UTC)
    ligne = await _enregistrer(session, identifiant=identifiant, avant=ligne, etat=etat,
                               action="modification", par=gestionnaire, motivation=corps.motivation,
                               maintenant=maintenant)
    return _lue(ligne, fiche)


async def revoquer(session: AsyncSession, identifiant: uuid.UUID, motivation: str, gestionnaire: Principal, *,
                   version_attendue: int | None = None) -> HabilitationLue:
    ligne, fiche = await _charger(session, identifiant, gestionnaire, verrou=True)
    _verifier_version(ligne, version_attendue)
    avant = etat_de(ligne)
    if not avant.actif:
        raise REGLE_METIER.erreur("habilitation déjà révoquée", champ="actif")
    etat = replace(avant, actif=False)
    if (refus := refus_de_gestion(gestionnaire, avant=avant, apres=etat)) is not None:
        raise refus
    fiche.modifie_par = gestionnaire.subject
    ligne = await _enregistrer(session, identifiant=identifiant, avant=ligne, etat=etat, action="revocation",
                               par=gestionnaire, motivation=motivation, maintenant=datetime.now(UTC))
    return _lue(ligne, fiche)


async def lire(session: AsyncSession, identifiant: uuid.UUID, lecteur: Principal) -> HabilitationLue:
    return _lue(*await _charger(session, identifiant, lecteur))


async def lister(session: AsyncSession, lecteur: Principal, pagination: Pagination, *, role: Role | None,
                 region: str | None, actif: bool | None, referent: bool | None) -> Page[HabilitationLue]:
    if lecteur.role is Role.OPS:  # the technical accounts are operations: ops reads them, and only them
        query = select(HabilitationConnue).where(HabilitationConnue.role == Role.OPS.value)
    else:
        filtre_liste(lecteur, finess=None, region=region)
        query = restreindre(select(HabilitationConnue), lecteur, region=HabilitationConnue.region)
        if lecteur.role is Role.ARS:  # an agent reads its region's agents, not the DNS's people
            query = query.where(HabilitationConnue.role == Role.ARS.value)
    if role is not None:
        query = query.where(HabilitationConnue.role == role.value)
    if region is not None:
        query = query.where(HabilitationConnue.region == region)
    if actif is not None:
        query = query.where(HabilitationConnue.actif.is_(actif))
    if referent is not None:
        query = query.where(HabilitationConnue.referent.is_(referent))
    total = await session.scalar(select(func.count()).select_from(query.subquery())) or 0
    lignes = list(await session.scalars(query.order_by(HabilitationConnue.emetteur, HabilitationConnue.sujet)
                                        .limit(pagination.limit).offset(pagination.offset)))
    fiches = {f.habilitation_id: f for f in await session.scalars(select(FicheHabilitation).where(
        FicheHabilitation.habilitation_id.in_([h.id for h in lignes])))}
    return Page(items=[_lue(h, fiches[h.id]) for h in lignes], total=total, limit=pagination.limit,
                offset=pagination.offset)


async def historique(session: AsyncSession, identifiant: uuid.UUID,
                     lecteur: Principal) -> list[ChangementHabilitation]:
    await _charger(session, identifiant, lecteur)
    lignes = await session.scalars(select(HistoriqueHabilitation)
                                   .where(HistoriqueHabilitation.habilitation_id == identifiant)
                                   .order_by(HistoriqueHabilitation.version))
    return [ChangementHabilitation.model_validate({
        "version": h.version, "action": h.action, "avant": h.avant, "apres": h.apres, "par": h.par_sujet,
        "par_role": h.par_role, "le": h.le, "motivation": h.motivation}) for h in lignes]


async def manquants(session: AsyncSession, aujourd_hui: date) -> ReferentsManquants:
    """Annex 3: the regions with no active référent, against the end of the first candidature period
    of the phase-1 programme in force."""
    version = await courante(session, "phase1")
    phase1 = (programme_phase1._construire(version.contenu) if version is not None
              else programme_phase1.charger_programme_phase1())
    regions = await session.scalars(select(HabilitationConnue.region).distinct().where(
        HabilitationConnue.role == Role.ARS.value, HabilitationConnue.referent.is_(True),
        HabilitationConnue.actif.is_(True)))
    return referents_manquants((r for r in regions if r is not None),
                               echeance=phase1.calendrier.candidature_fin, aujourd_hui=aujourd_hui)


async def amorcer(session: AsyncSession, *, emetteur: str, sujet: str, role: Role, nom: str | None,
                  motivation: str, par: str) -> HabilitationConnue:
    """The first DNS person (or ops account) of an empty platform, from a terminal on the server:
    nobody can grant it by API yet. Refused once an active habilitation of that role exists (then the
    API, and its rules, apply)."""
    if role not in (Role.DNS, Role.OPS):
        raise REGLE_METIER.erreur("l'amorçage nomme la première personne de la DNS ou le premier compte ops",
                                  champ="role")
    etat = EtatHabilitation(emetteur=emetteur, sujet=sujet, role=role)
    verifier_etat(etat)
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtextextended('habilitation-amorcage', 0))"))
    existant = await session.scalar(select(func.count()).select_from(HabilitationConnue).where(
        HabilitationConnue.role == role.value, HabilitationConnue.actif.is_(True)))
    if existant:
        raise REGLE_METIER.erreur(f"{existant} habilitation(s) {role} active(s) : l'amorçage est fait, passez"
                                  " par l'API /v1/habilitations", champ="role")
    if await session.get(HabilitationConnue, (emetteur, sujet)) is not None:
        raise HABILITATION_EXISTANTE.erreur(f"{sujet} ({emetteur}) a déjà une habilitation", champ="sujet")
    maintenant = datetime.now(UTC)
    identifiant = uuid.uuid4()
    session.add(FicheHabilitation(habilitation_id=identifiant, nom=nom, courriel=None, cree_le=maintenant,
                                  cree_par=par, modifie_par=par))
    return await _enregistrer(session, identifiant=identifiant, avant=None, etat=etat, action="creation",
                              par=par, motivation=motivation, maintenant=maintenant)


async def par_personne(session: AsyncSession, principal: Principal) -> HabilitationLue:
    """The caller's own habilitation: anyone reads their own rights (not their history)."""
    ligne = await session.get(HabilitationConnue, (principal.emetteur, principal.subject))
    fiche = None if ligne is None else await session.get(FicheHabilitation, ligne.id)
    if ligne is None or fiche is None:
        raise introuvable("habilitation", f"{principal.subject} ({principal.emetteur})")
    return _lue(ligne, fiche)
