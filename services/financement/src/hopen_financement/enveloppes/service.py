"""Writing to the envelope ledger: every writer locks the account row, reads the sums, checks the
invariants (rules.apres) and appends one entry, in the caller's transaction (flush, never commit).
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.contracts import (
    EnveloppeConsommee,
    EnveloppeDesengagee,
    EnveloppeEngagee,
    EnveloppeRestituee,
    EnveloppeTransferee,
    Topics,
)
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement, nouvel_evenement
from hopen_common.monnaie import exiger_centimes
from hopen_common.outbox import publier
from hopen_common.problemes import introuvable
from hopen_common.programme.aap import charger_enveloppes_aap
from hopen_common.programme.erreurs import RegleMetierError
from hopen_financement.enveloppes import repository
from hopen_financement.enveloppes.models import CompteEnveloppe, EcritureEnveloppe
from hopen_financement.enveloppes.rules import Situation, apres, situation

SOURCE = "/hopen/financement"


async def situation_de(session: AsyncSession, dispositif: str, region: str) -> Situation:
    return situation((await repository.totaux(session, dispositif, region)).get((dispositif, region), {}))


async def _compte_verrouille(session: AsyncSession, dispositif: str, region: str) -> CompteEnveloppe:
    compte = await repository.verrouiller(session, dispositif, region)
    if compte is None:
        raise RegleMetierError(f"aucune enveloppe {dispositif} pour la région {region}", "region")
    return compte


async def _ecrire(session: AsyncSession, compte: CompteEnveloppe, nature: str, montant: Decimal, *,
                  cle_metier: str, motif: str, ecrit_par: str, role: str = "systeme",
                  projet_id: str | None = None,
                  transfert_id: str | None = None, decision_id: str | None = None,
                  notification_id: str | None = None, proposition_id: str | None = None,
                  propose_par: str | None = None,
                  confirme_par: str | None = None) -> tuple[EcritureEnveloppe, Situation]:
    """Append one entry to a locked account, or refuse it. The caller holds the account's lock."""
    avant = await situation_de(session, compte.dispositif, compte.region)
    resultat = apres(avant, nature, montant)
    ecriture = EcritureEnveloppe(
        dispositif=compte.dispositif, region=compte.region, nature=nature, montant=montant,
        cle_metier=cle_metier, projet_id=projet_id, transfert_id=transfert_id, decision_id=decision_id,
        notification_id=notification_id, motif=motif, ecrit_par=ecrit_par,
        ecrit_le=datetime.now(UTC), proposition_id=proposition_id, propose_par=propose_par,
        confirme_par=confirme_par,
    )
    session.add(ecriture)
    await session.flush()
    session.add(JournalAudit(acteur=ecrit_par, role=role,
                             action=f"enveloppe_{nature}", objet_type="enveloppe",
                             objet_id=f"{compte.dispositif}/{compte.region}", motivation=motif,
                             region=compte.region,
                             details={"ecriture_id": ecriture.id, "montant": str(montant),
                                      "cle_metier": cle_metier,
                                      **({} if propose_par is None else {
                                          "proposition_id": proposition_id, "propose_par": propose_par,
                                          "confirme_par": confirme_par})}))
    return ecriture, resultat


def _figures(s: Situation) -> dict[str, Decimal]:
    return {"alloue": s.alloue, "engage": s.engage, "consomme": s.consomme, "disponible": s.disponible}


def _mouvement(ecriture: EcritureEnveloppe, resultat: Situation, dispositif: str, region: str, motif: str,
               ecrit_par: str) -> dict[str, Any]:
    """What every ledger event says: the entry, and the account's four figures after it."""
    return {"ecriture_id": ecriture.id, "dispositif": dispositif, "region": region,
            "montant": ecriture.montant, "motif": motif, "ecrit_par": ecrit_par,
            "ecrit_le": ecriture.ecrit_le, **_figures(resultat)}


def _cle(base: str, correction: str | None) -> str:
    """A first decision's entry has the project's key (written once); a correction's entry adds the
    correcting decision's id, so each correction moves the account once (issue 9, ADR 0014)."""
    return base if correction is None else f"{base}:{correction}"


async def engager(session: AsyncSession, cause: Evenement | None, *, dispositif: str, region: str,
                  montant: Decimal, projet_id: str, decision_id: str, motif: str,
                  ecrit_par: str, correction: str | None = None) -> EcritureEnveloppe:
    """Engage a granted amount; refused (EnveloppeInsuffisante) when it would exceed the allocation.
    `correction`: the correcting decision's id when this engages the increase of a corrected amount."""
    compte = await _compte_verrouille(session, dispositif, region)
    ecriture, resultat = await _ecrire(
        session, compte, "engagement", montant,
        cle_metier=_cle(f"engagement:{dispositif}:{projet_id}", correction),
        motif=motif, ecrit_par=ecrit_par, projet_id=projet_id, decision_id=decision_id)
    await publier(session, Topics.ENVELOPPE, region, nouvel_evenement(EnveloppeEngagee(
        **_mouvement(ecriture, resultat, dispositif, region, motif, ecrit_par), projet_id=projet_id,
        decision_id=decision_id),
        source=SOURCE, subject=f"enveloppe/{dispositif}/{region}", causation=cause))
    return ecriture


async def desengager(session: AsyncSession, cause: Evenement | None, *, dispositif: str, region: str,
                     montant: Decimal, projet_id: str, decision_id: str, motif: str,
                     ecrit_par: str, correction: str | None = None) -> EcritureEnveloppe:
    compte = await _compte_verrouille(session, dispositif, region)
    ecriture, resultat = await _ecrire(
        session, compte, "desengagement", montant,
        cle_metier=_cle(f"desengagement:{dispositif}:{projet_id}", correction),
        motif=motif, ecrit_par=ecrit_par, projet_id=projet_id, decision_id=decision_id)
    await publier(session, Topics.ENVELOPPE, region, nouvel_evenement(EnveloppeDesengagee(
        **_mouvement(ecriture, resultat, dispositif, region, motif, ecrit_par), projet_id=projet_id,
        decision_id=decision_id),
        source=SOURCE, subject=f"enveloppe/{dispositif}/{region}", causation=cause))
    return ecriture


async def consommer(session: AsyncSession, cause: Evenement | None, *, dispositif: str, region: str,
                    montant: Decimal, projet_id: str, notification_id: str, tranche: str, motif: str,
                    ecrit_par: str, correction: str | None = None) -> EcritureEnveloppe:
    """Record a payment of an engaged project (one per project and tranche, then one per correction)."""
    compte = await _compte_verrouille(session, dispositif, region)
    projet = await repository.totaux_projet(session, projet_id)
    engage_projet = projet.get("engagement", Decimal(0)) - projet.get("desengagement", Decimal(0))
    paye_projet = projet.get("paiement", Decimal(0)) - projet.get("reprise", Decimal(0))
    montant = exiger_centimes(montant, "montant", signe="strictement_positif")
    if paye_projet + montant > engage_projet:
        raise RegleMetierError(f"paiement de {montant} € au-delà de l'engagement du projet {projet_id}",
                               "montant")
    ecriture, resultat = await _ecrire(
        session, compte, "paiement", montant,
        cle_metier=_cle(f"paiement:{dispositif}:{projet_id}:{tranche}", correction),
        motif=motif, ecrit_par=ecrit_par, projet_id=projet_id, notification_id=notification_id)
    await publier(session, Topics.ENVELOPPE, region, nouvel_evenement(EnveloppeConsommee(
        **_mouvement(ecriture, resultat, dispositif, region, motif, ecrit_par), projet_id=projet_id,
        notification_id=notification_id),
        source=SOURCE, subject=f"enveloppe/{dispositif}/{region}", causation=cause))
    return ecriture


async def restituer(session: AsyncSession, cause: Evenement | None, *, dispositif: str, region: str,
                    montant: Decimal, projet_id: str, notification_id: str, tranche: str, decision_id: str,
                    motif: str, ecrit_par: str) -> EcritureEnveloppe:
    """Record a paid amount taken back (reprise) after a corrected decision: consumed goes down. Never
    more than the project was paid; one entry per correcting decision and tranche."""
    compte = await _compte_verrouille(session, dispositif, region)
    projet = await repository.totaux_projet(session, projet_id)
    montant = exiger_centimes(montant, "montant", signe="strictement_positif")
    if montant > projet.get("paiement", Decimal(0)) - projet.get("reprise", Decimal(0)):
        raise RegleMetierError(f"reprise de {montant} € au-delà de ce qui a été payé au projet {projet_id}",
                               "montant")
    ecriture, resultat = await _ecrire(
        session, compte, "reprise", montant,
        cle_metier=f"reprise:{dispositif}:{projet_id}:{tranche}:{decision_id}", motif=motif,
        ecrit_par=ecrit_par, projet_id=projet_id, decision_id=decision_id, notification_id=notification_id)
    await publier(session, Topics.ENVELOPPE, region, nouvel_evenement(EnveloppeRestituee(
        **_mouvement(ecriture, resultat, dispositif, region, motif, ecrit_par), projet_id=projet_id,
        notification_id=notification_id, tranche=tranche, decision_id=decision_id),
        source=SOURCE, subject=f"enveloppe/{dispositif}/{region}", causation=cause))
    return ecriture


Compte = tuple[str, str]  # (dispositif, region)


def verifier_transfert(*, source: Compte, destination: Compte, montant: Decimal, motif: str) -> Decimal:
    """The checks of a transfer that need no ledger (known dispositifs and regions, two different
    accounts, a motive, cents): run at the proposal and again at the confirmation. The amount, exact."""
    donnees = charger_enveloppes_aap()
    for champ, (dispositif, region) in (("source", source), ("destination", destination)):
        if dispositif not in donnees.dispositifs_de_transfert:
            raise RegleMetierError(f"dispositif inconnu : {dispositif}", f"{champ}.dispositif")
        if donnees.region(region) is None:
            raise RegleMetierError(f"région inconnue : {region}", f"{champ}.region")
    if source == destination:
        raise RegleMetierError("la source et la destination d'un transfert diffèrent", "destination")
    if not motif.strip():
        raise RegleMetierError("un transfert est motivé", "motif")
    return exiger_centimes(montant, "montant", signe="strictement_positif")


async def disponibles_du_transfert(session: AsyncSession, *, source: Compte, destination: Compte,
                                   montant: Decimal) -> dict[str, dict[str, Decimal]]:
    """Both accounts' available amounts before and after the transfer, refused as the transfer itself
    would be (404 without a source envelope, EnveloppeInsuffisante beyond the source's available)."""
    if await repository.compte(session, *source) is None:
        raise introuvable("Enveloppe", f"{source[0]}/{source[1]}")
    resultat: dict[str, dict[str, Decimal]] = {}
    for cote, cle, nature in (("source", source, "transfert_sortant"),
                              ("destination", destination, "transfert_entrant")):
        avant = await situation_de(session, *cle)
        resultat[cote] = {"disponible_avant": avant.disponible,
                          "disponible_apres": apres(avant, nature, montant).disponible}
    return resultat


async def transferer(
    session: AsyncSession, *, source: Compte, destination: Compte, montant: Decimal, motif: str,
    decide_par: str, propose_par: str | None = None, proposition_id: str | None = None,
) -> tuple[EcritureEnveloppe, EcritureEnveloppe]:
    """DNS transfer of unspent (available) money between regions or dispositifs: two entries, one id.
    `decide_par` confirms the proposal `proposition_id` that `propose_par` made (ADR 0025)."""
    donnees = charger_enveloppes_aap()
    montant = verifier_transfert(source=source, destination=destination, montant=montant, motif=motif)
    # Lock both accounts in one global order so that two opposite transfers cannot deadlock.
    comptes: dict[tuple[str, str], CompteEnveloppe] = {}
    for cle in sorted((source, destination)):
        compte = await repository.verrouiller(session, *cle)
        if compte is None:
            if cle == source:
                raise introuvable("Enveloppe", f"{cle[0]}/{cle[1]}")
            # Money moved to a dispositif that has no envelope in that region yet opens one.
            libelle = donnees.region(cle[1])
            compte = CompteEnveloppe(dispositif=cle[0], region=cle[1],
                                     libelle_region=libelle.libelle if libelle else cle[1],
                                     ouvert_le=datetime.now(UTC))
            session.add(compte)
            await session.flush()
            compte = await repository.verrouiller(session, *cle)
            assert compte is not None
        comptes[cle] = compte
    transfert_id = str(uuid.uuid4())
    personnes: dict[str, Any] = {"proposition_id": proposition_id, "propose_par": propose_par,
                                 "confirme_par": None if propose_par is None else decide_par}
    sortie, apres_sortie = await _ecrire(
        session, comptes[source], "transfert_sortant", montant,
        cle_metier=f"transfert:{transfert_id}:sortant", motif=motif, ecrit_par=decide_par, role="dns",
        transfert_id=transfert_id, **personnes)
    entree, apres_entree = await _ecrire(
        session, comptes[destination], "transfert_entrant", montant,
        cle_metier=f"transfert:{transfert_id}:entrant", motif=motif, ecrit_par=decide_par, role="dns",
        transfert_id=transfert_id, **personnes)
    for ecriture, resultat, sens, autre in ((sortie, apres_sortie, "sortant", destination),
                                           (entree, apres_entree, "entrant", source)):
        await publier(session, Topics.ENVELOPPE, ecriture.region, nouvel_evenement(EnveloppeTransferee(
            ecriture_id=ecriture.id, dispositif=ecriture.dispositif, region=ecriture.region,
            montant=montant, motif=motif, ecrit_par=decide_par, ecrit_le=ecriture.ecrit_le,
            transfert_id=transfert_id, sens=sens, contrepartie_dispositif=autre[0],
            contrepartie_region=autre[1], **personnes, **_figures(resultat)),
            source=SOURCE, subject=f"enveloppe/{ecriture.dispositif}/{ecriture.region}"))
    await session.flush()
    return sortie, entree
