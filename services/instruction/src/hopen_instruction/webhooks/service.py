"""Webhooks use cases (issue 11, ADR 0026): subscriptions and their secrets, the event store fed by the
webhook consumer with one delivery per matching subscription, deliveries and replays, the pull feed.
Everything here runs in the caller's transaction (the request's, or the consumer's with its inbox row)."""

from __future__ import annotations

import functools
import json
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import String, any_, bindparam, event, func, insert, literal_column, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession

from hopen_common.auth import Principal
from hopen_common.auth.portee import filtre_liste, region_de_lecture, restreindre, voit
from hopen_common.db.base import table_de
from hopen_common.db.messaging import JournalAudit
from hopen_common.events import Evenement
from hopen_common.inbox import Handler, LotHandler
from hopen_common.pagination import Page, Pagination
from hopen_common.problemes import VALIDATION, introuvable
from hopen_instruction.models import (
    WebhookAbonnement,
    WebhookEvenement,
    WebhookLivraison,
    WebhookSecret,
    WebhookTentative,
)
from hopen_instruction.settings import InstructionSettings
from hopen_instruction.webhooks import chiffrement, rules
from hopen_instruction.webhooks.schemas import (
    ComptesLivraisons,
    Flux,
    LivraisonLue,
    SecretNouveau,
    TentativeLue,
    TestLance,
    WebhookCree,
    WebhookDemande,
    WebhookLu,
    WebhookModification,
)
from hopen_instruction.webhooks.signature import nouveau_secret

SOURCE = "/instruction/webhooks"
# The consumer's name (its inbox rows and dead letters) and Kafka group: beside instruction's own.
CONSOMMATEUR = "instruction-webhooks"
EN_ATTENTE, LIVREE, ECHOUEE, ANNULEE = "en_attente", "livree", "echouee", "annulee"
CANAL = "hopen_webhooks"  # NOTIFY'd when deliveries are queued: the loops of every replica wake up


async def reveiller_livreurs(session: AsyncSession) -> None:
    """In the caller's transaction: NOTIFY is sent at commit only, so no loop wakes up for deliveries
    it cannot see yet (the 0.25 s polling stays the fallback)."""
    await session.execute(text("SELECT pg_notify(:canal, '')"), {"canal": CANAL})


@dataclass(frozen=True)
class Reglages:
    """What the use cases need of the settings, read once."""

    cle: bytes
    https_seulement: bool
    permises: tuple[str, ...]
    recouvrement: timedelta

    @classmethod
    def de(cls, settings: InstructionSettings) -> Reglages:
        return cls(cle=chiffrement.cle_configuree(settings.webhooks_cle_secrets.get_secret_value(),
                                                  settings.service_name),
                   https_seulement=settings.environment == "production",
                   permises=tuple(settings.webhooks_destinations_permises),
                   recouvrement=timedelta(seconds=settings.webhooks_recouvrement_secondes))


# --- subscriptions ------------------------------------------------------------------------------------

def _verifier_url(url: str, reglages: Reglages) -> None:
    try:
        rules.verifier_url(url, https_seulement=reglages.https_seulement, permises=reglages.permises)
    except rules.DestinationRefusee as exc:
        raise VALIDATION.erreur(f"url : {exc}", champ="url") from None


def _verifier_types(types: Sequence[str]) -> list[str]:
    if inconnus := rules.types_inconnus(types):
        raise VALIDATION.erreur(f"types inconnus de docs/asyncapi.json : {', '.join(inconnus)}",
                                champ="types", extra={"inconnus": inconnus})
    return sorted(set(types))


def _auditer(session: AsyncSession, principal: Principal | None, action: str, abonnement: WebhookAbonnement,
             details: dict[str, Any], motivation: str | None = None) -> None:
    """Like every decision (ADR 0024); never the secret, only which one (its row id)."""
    session.add(JournalAudit(acteur=principal.subject if principal else "plateforme",
                             role=principal.role if principal else "systeme", action=action,
                             objet_type="webhook", objet_id=abonnement.id, region=abonnement.region,
                             motivation=motivation, details=details))


async def _ajouter_secret(session: AsyncSession, abonnement_id: str, reglages: Reglages,
                          maintenant: datetime) -> tuple[str, int]:
    secret = nouveau_secret()
    ligne = WebhookSecret(abonnement_id=abonnement_id, cree_le=maintenant, expire_le=None,
                          chiffre=chiffrement.chiffrer(reglages.cle, secret, abonnement_id=abonnement_id))
    session.add(ligne)
    await session.flush()
    return secret, ligne.id


async def creer(session: AsyncSession, principal: Principal, demande: WebhookDemande, *, reglages: Reglages,
                maintenant: datetime) -> WebhookCree:
    filtre_liste(principal, finess=None, region=demande.region)
    _verifier_url(demande.url, reglages)
    abonnement = WebhookAbonnement(
        id=str(uuid.uuid4()), url=demande.url, types=_verifier_types(demande.types),
        description=demande.description, region=region_de_lecture(principal, demande.region),
        cree_par=principal.subject, cree_le=maintenant, actif=True)
    session.add(abonnement)
    await session.flush()
    secret, secret_id = await _ajouter_secret(session, abonnement.id, reglages, maintenant)
    _auditer(session, principal, "webhook_cree", abonnement,
             {"url": abonnement.url, "types": abonnement.types, "secret_id": secret_id})
    return WebhookCree(**lu(abonnement, ComptesLivraisons()).model_dump(), secret=secret)


async def charger(session: AsyncSession, principal: Principal, abonnement_id: str, *,
                  verrou: bool = False) -> WebhookAbonnement:
    """404 when missing, deleted or another region's (a national one is the DNS's)."""
    requete = select(WebhookAbonnement).where(WebhookAbonnement.id == abonnement_id,
                                              WebhookAbonnement.supprime_le.is_(None))
    abonnement = await session.scalar(requete.with_for_update() if verrou else requete)
    if abonnement is None or not voit(principal, region=abonnement.region):
        raise introuvable("webhook", abonnement_id)
    return abonnement


def lu(abonnement: WebhookAbonnement, comptes: ComptesLivraisons) -> WebhookLu:
    return WebhookLu(id=abonnement.id, url=abonnement.url, types=abonnement.types,
                     description=abonnement.description, region=abonnement.region, actif=abonnement.actif,
                     desactive_le=abonnement.desactive_le, desactive_motif=abonnement.desactive_motif,
                     cree_par=abonnement.cree_par, cree_le=abonnement.cree_le, livraisons=comptes)


async def comptes(session: AsyncSession, ids: Sequence[str]) -> dict[str, ComptesLivraisons]:
    """Deliveries per status of each subscription: a failed (exhausted) one is counted here."""
    resultat = {i: ComptesLivraisons() for i in ids}
    lignes = await session.execute(
        select(WebhookLivraison.abonnement_id, WebhookLivraison.statut, func.count())
        .where(WebhookLivraison.abonnement_id.in_(ids))
        .group_by(WebhookLivraison.abonnement_id, WebhookLivraison.statut))
    for abonnement_id, statut, nombre in lignes:
        setattr(resultat[abonnement_id], statut, nombre)
    return resultat


async def lire(session: AsyncSession, principal: Principal, abonnement_id: str) -> WebhookLu:
    abonnement = await charger(session, principal, abonnement_id)
    return lu(abonnement, (await comptes(session, [abonnement.id]))[abonnement.id])


async def lister(session: AsyncSession, principal: Principal, pagination: Pagination) -> Page[WebhookLu]:
    requete = restreindre(select(WebhookAbonnement).where(WebhookAbonnement.supprime_le.is_(None)),
                          principal, region=WebhookAbonnement.region)
    total = int(await session.scalar(select(func.count()).select_from(requete.subquery())) or 0)
    page = list(await session.scalars(requete.order_by(WebhookAbonnement.cree_le, WebhookAbonnement.id)
                                      .limit(pagination.limit).offset(pagination.offset)))
    parmi = await comptes(session, [a.id for a in page])
    return Page(items=[lu(a, parmi[a.id]) for a in page], total=total, limit=pagination.limit,
                offset=pagination.offset)


async def modifier(session: AsyncSession, principal: Principal, abonnement_id: str,
                   modification: WebhookModification, *, reglages: Reglages, maintenant: datetime
                   ) -> WebhookLu:
    abonnement = await charger(session, principal, abonnement_id, verrou=True)
    avant = {"url": abonnement.url, "types": abonnement.types, "description": abonnement.description,
             "actif": abonnement.actif}
    if modification.url is not None:
        _verifier_url(modification.url, reglages)
        abonnement.url = modification.url
    if modification.types is not None:
        abonnement.types = _verifier_types(modification.types)
    if modification.description is not None:
        abonnement.description = modification.description
    if modification.actif is not None and modification.actif != abonnement.actif:
        abonnement.actif = modification.actif
        abonnement.desactive_le = None if modification.actif else maintenant
        abonnement.desactive_motif = None if modification.actif else f"désactivé par {principal.subject}"
        abonnement.en_echec_depuis = None
    apres = {"url": abonnement.url, "types": abonnement.types, "description": abonnement.description,
             "actif": abonnement.actif}
    _auditer(session, principal, "webhook_modifie", abonnement,
             {k: {"avant": avant[k], "apres": apres[k]} for k in avant if avant[k] != apres[k]})
    await session.flush()
    return lu(abonnement, (await comptes(session, [abonnement.id]))[abonnement.id])


async def supprimer(session: AsyncSession, principal: Principal, abonnement_id: str, *,
                    maintenant: datetime) -> None:
    """Kept as a row (its deliveries and the audit name it); what was still pending is cancelled."""
    abonnement = await charger(session, principal, abonnement_id, verrou=True)
    abonnement.supprime_le, abonnement.actif = maintenant, False
    annulees = await session.execute(
        update(WebhookLivraison).where(WebhookLivraison.abonnement_id == abonnement.id,
                                       WebhookLivraison.statut == EN_ATTENTE)
        .values(statut=ANNULEE, termine_le=maintenant))
    _auditer(session, principal, "webhook_supprime", abonnement,
             {"livraisons_annulees": annulees.rowcount})  # type: ignore[attr-defined]


async def tourner_secret(session: AsyncSession, principal: Principal, abonnement_id: str, *,
                         recouvrement: timedelta | None, reglages: Reglages, maintenant: datetime
                         ) -> SecretNouveau:
    """A new secret; the current ones keep signing until the overlap ends (never later than an end
    they already had), so a receiver can deploy the new one without missing a delivery."""
    abonnement = await charger(session, principal, abonnement_id, verrou=True)
    fin = maintenant + (reglages.recouvrement if recouvrement is None else recouvrement)
    await session.execute(
        update(WebhookSecret).where(WebhookSecret.abonnement_id == abonnement.id,
                                    or_(WebhookSecret.expire_le.is_(None), WebhookSecret.expire_le > fin))
        .values(expire_le=fin))
    secret, secret_id = await _ajouter_secret(session, abonnement.id, reglages, maintenant)
    _auditer(session, principal, "webhook_secret_tourne", abonnement,
             {"secret_id": secret_id, "anciens_expirent_le": fin.isoformat()})
    return SecretNouveau(id=abonnement.id, secret=secret, anciens_expirent_le=fin)


async def secrets_valides(session: AsyncSession, abonnement_id: str, *, cle: bytes,
                          maintenant: datetime) -> list[str]:
    """The secrets that sign now, newest first (several during a rotation's overlap)."""
    lignes = await session.scalars(
        select(WebhookSecret).where(WebhookSecret.abonnement_id == abonnement_id,
                                    or_(WebhookSecret.expire_le.is_(None),
                                        WebhookSecret.expire_le > maintenant))
        .order_by(WebhookSecret.id.desc()))
    return [chiffrement.dechiffrer(cle, s.chiffre, abonnement_id=abonnement_id) for s in lignes]


# --- the event store and its deliveries ------------------------------------------------------------------

def corps_de(evenement: Evenement) -> bytes:
    """The body of every delivery of this event (and its JSON in the feed): the CloudEvent."""
    return evenement.model_dump_json().encode()


# The consumer's statements, built once (Core, not the ORM's bulk path: most of the consumer's CPU went
# to the ORM's per-row bookkeeping and to building the statements again for every event, ADR 0026).
_EVENEMENTS, _LIVRAISONS, _ABONNEMENTS = (table_de(m) for m in (WebhookEvenement, WebhookLivraison,
                                                                   WebhookAbonnement))
# sort_by_parameter_order: the rows are inserted (their positions drawn) in the lot's order and
# returned in it.
_STOCKER_EVENEMENTS = insert(_EVENEMENTS).returning(_EVENEMENTS.c.event_id, _EVENEMENTS.c.position,
                                                    sort_by_parameter_order=True)
_STOCKER_LIVRAISONS = insert(_LIVRAISONS)
# Every active subscription that may receive one of the lot's events; `rules.concerne` decides per event.
_ABONNES = select(_ABONNEMENTS.c.id, _ABONNEMENTS.c.types, _ABONNEMENTS.c.region).where(
    _ABONNEMENTS.c.actif.is_(True), _ABONNEMENTS.c.supprime_le.is_(None),
    _ABONNEMENTS.c.types.has_any(bindparam("types", type_=ARRAY(String))),
    or_(_ABONNEMENTS.c.region.is_(None),
        _ABONNEMENTS.c.region == any_(bindparam("regions", type_=ARRAY(String(3))))))


class Preneur(Protocol):
    """The delivery loop of this process, seen from the consumer (worker.Livreur): the deliveries it
    accepts are stored already leased to it and handed over at commit, without going through the
    store's claim (ADR 0026, Performance: the fast path)."""

    def accepte(self, abonnement_id: str, *, acceptees: Mapping[str, int]) -> bool: ...

    def bail(self, maintenant: datetime) -> datetime: ...

    def confier(self, confiees: Sequence[tuple[str, str]], *, refusees: Sequence[tuple[str, str]],
                evenement_id: str, corps: bytes) -> None: ...


async def stocker(session: AsyncSession, evenement: Evenement, payload: object = None, *,
                  preneur: Preneur | None = None) -> None:
    """One event: `stocker_lot` of one."""
    await stocker_lot(session, [(evenement, payload)], preneur=preneur)


async def stocker_lot(session: AsyncSession, evenements: Sequence[tuple[Evenement, object]], *,
                      preneur: Preneur | None = None) -> None:
    """The webhook consumer's handler (in its inbox transaction, so a redelivered event adds nothing):
    each event once, and one pending delivery per active subscription of its type and region; a lot of
    events in three statements (ADR 0026, Performance).

    With a `preneur`, the deliveries it accepts are leased to it (`prochaine_le` = its lease) and given
    to it once the transaction commits; a crash before it sends them leaves them due at the lease's end,
    taken by any loop as the others. The rest are due now and NOTIFY'd, and the preneur is told at
    commit which subscriptions got deliveries in the store (it keeps their order: ADR 0026)."""
    if not evenements:
        return
    lus = [(evenement, rules.regions_de(evenement.data), corps_de(evenement)) for evenement, _ in evenements]
    positions = {ligne.event_id: ligne.position for ligne in await session.execute(_STOCKER_EVENEMENTS, [
        {"event_id": e.id, "type": e.type, "regions": regions, "horodatage": e.time, "corps": corps}
        for e, regions, corps in lus])}
    abonnes = (await session.execute(_ABONNES, {
        "types": sorted({e.type for e, _, _ in lus}),
        "regions": sorted({r for _, regions, _ in lus for r in regions})})).all()
    if not abonnes:
        return
    maintenant = datetime.now(UTC)
    bail = preneur.bail(maintenant) if preneur is not None else maintenant
    # What this transaction already accepted, per subscription (the loop's bounds must count them
    # before they are handed over), and what it sent to the store: a subscription refused once in a
    # transaction is refused for the rest of it, so that none of its later events is handed over ahead
    # of one waiting in the store.
    acceptees: Counter[str] = session.info.setdefault("webhooks_acceptees", Counter())
    refusees: set[str] = session.info.setdefault("webhooks_refusees", set())
    lignes: list[dict[str, Any]] = []
    remises: list[tuple[list[tuple[str, str]], list[tuple[str, str]], str, bytes]] = []
    for evenement, regions, corps in lus:
        confiees: list[tuple[str, str]] = []
        en_base: list[tuple[str, str]] = []
        for abonne in abonnes:
            if not rules.concerne(types=abonne.types, region=abonne.region, type_evenement=evenement.type,
                                  regions_evenement=regions):
                continue
            livraison_id, abonnement_id = str(uuid.uuid4()), abonne.id
            prise = (preneur is not None and abonnement_id not in refusees
                     and preneur.accepte(abonnement_id, acceptees=acceptees))
            if prise:
                acceptees[abonnement_id] += 1
                confiees.append((abonnement_id, livraison_id))
            else:
                refusees.add(abonnement_id)
                en_base.append((abonnement_id, livraison_id))
            lignes.append({"id": livraison_id, "abonnement_id": abonnement_id,
                           "evenement_position": positions[evenement.id], "origine": "flux",
                           "statut": EN_ATTENTE, "tentatives": 0,
                           "prochaine_le": bail if prise else maintenant, "cree_le": maintenant})
        if confiees or en_base:
            remises.append((confiees, en_base, evenement.id, corps))
    if not lignes:
        return
    await session.execute(_STOCKER_LIVRAISONS, lignes)
    if preneur is not None:
        # At the outermost commit only (a rollback hands nothing: the rows do not exist), in order.
        def remettre(_session: object) -> None:
            for confiees, en_base, evenement_id, corps in remises:
                preneur.confier(confiees, refusees=en_base, evenement_id=evenement_id, corps=corps)

        event.listen(session.sync_session, "after_commit", remettre, once=True)
    if any(en_base for _, en_base, _, _ in remises):
        await reveiller_livreurs(session)


def handlers(preneur: Preneur | None = None) -> dict[str, Handler]:
    """Every type of the catalogue goes to the store (the feed shows them all, in each one's region)."""
    return dict.fromkeys(rules.catalogue(), functools.partial(stocker, preneur=preneur))


def handler_lot(preneur: Preneur | None = None) -> LotHandler:
    """The same for a lot of the consumer's events (`EventConsumer(handler_lot=...)`)."""
    return functools.partial(stocker_lot, preneur=preneur)


async def _livraisons_lues(session: AsyncSession, livraisons: Sequence[WebhookLivraison]
                           ) -> list[LivraisonLue]:
    if not livraisons:
        return []
    evenements = {p: (e, t) for p, e, t in await session.execute(
        select(WebhookEvenement.position, WebhookEvenement.event_id, WebhookEvenement.type)
        .where(WebhookEvenement.position.in_({li.evenement_position for li in livraisons})))}
    tentatives: dict[str, list[TentativeLue]] = {li.id: [] for li in livraisons}
    for t in await session.scalars(select(WebhookTentative)
                                   .where(WebhookTentative.livraison_id.in_(list(tentatives)))
                                   .order_by(WebhookTentative.livraison_id, WebhookTentative.numero)):
        tentatives[t.livraison_id].append(TentativeLue.model_validate(t, from_attributes=True))
    return [LivraisonLue(
        id=li.id, abonnement_id=li.abonnement_id, evenement_id=evenements[li.evenement_position][0],
        type=evenements[li.evenement_position][1], origine=li.origine, statut=li.statut,
        tentatives=tentatives[li.id], prochaine_le=li.prochaine_le if li.statut == EN_ATTENTE else None,
        cree_le=li.cree_le, termine_le=li.termine_le) for li in livraisons]


async def livraisons(session: AsyncSession, principal: Principal, abonnement_id: str, pagination: Pagination,
                     *, statut: str | None) -> Page[LivraisonLue]:
    """Newest first, each with every attempt."""
    abonnement = await charger(session, principal, abonnement_id)
    requete = select(WebhookLivraison).where(WebhookLivraison.abonnement_id == abonnement.id)
    if statut is not None:
        requete = requete.where(WebhookLivraison.statut == statut)
    total = int(await session.scalar(select(func.count()).select_from(requete.subquery())) or 0)
    page = list(await session.scalars(requete.order_by(WebhookLivraison.cree_le.desc(), WebhookLivraison.id)
                                      .limit(pagination.limit).offset(pagination.offset)))
    return Page(items=await _livraisons_lues(session, page), total=total, limit=pagination.limit,
                offset=pagination.offset)


def _nouvelle_livraison(abonnement_id: str, position: int, origine: str, maintenant: datetime
                        ) -> WebhookLivraison:
    return WebhookLivraison(id=str(uuid.uuid4()), abonnement_id=abonnement_id, evenement_position=position,
                            origine=origine, statut=EN_ATTENTE, tentatives=0, prochaine_le=maintenant,
                            cree_le=maintenant)


async def rejouer_livraison(session: AsyncSession, principal: Principal, livraison_id: str, *,
                            maintenant: datetime) -> LivraisonLue:
    """Another delivery of the same event (same webhook-id: the receiver deduplicates on it), due now,
    with a full schedule of its own; the first one keeps its history."""
    livraison = await session.get(WebhookLivraison, livraison_id)
    abonnement = None if livraison is None else await session.get(WebhookAbonnement, livraison.abonnement_id)
    if (livraison is None or abonnement is None or abonnement.supprime_le is not None
            or not voit(principal, region=abonnement.region)):
        raise introuvable("livraison", livraison_id)
    nouvelle = _nouvelle_livraison(abonnement.id, livraison.evenement_position, "rejeu", maintenant)
    session.add(nouvelle)
    _auditer(session, principal, "webhook_rejeu", abonnement,
             {"livraison_id": livraison.id, "rejeu_id": nouvelle.id})
    await session.flush()
    await reveiller_livreurs(session)
    return (await _livraisons_lues(session, [nouvelle]))[0]


async def rejouer_depuis(session: AsyncSession, principal: Principal, abonnement_id: str, *,
                         depuis: datetime, maintenant: datetime) -> int:
    """Every stored event of the subscription's types and region since `depuis` (the event's time), in
    the store's order (the loop takes a subscription's deliveries in that order)."""
    abonnement = await charger(session, principal, abonnement_id)
    requete = select(WebhookEvenement.position).where(
        WebhookEvenement.horodatage >= depuis, WebhookEvenement.diffuse.is_(True),
        WebhookEvenement.type.in_(abonnement.types))
    if abonnement.region is not None:
        requete = requete.where(any_(WebhookEvenement.regions) == abonnement.region)
    positions = list(await session.scalars(requete.order_by(WebhookEvenement.position)))
    if positions:
        await session.execute(insert(WebhookLivraison), [
            {"id": str(uuid.uuid4()), "abonnement_id": abonnement.id, "evenement_position": p,
             "origine": "rejeu", "statut": EN_ATTENTE, "tentatives": 0, "prochaine_le": maintenant,
             "cree_le": maintenant} for p in positions])
        await reveiller_livreurs(session)
    _auditer(session, principal, "webhook_rejeu", abonnement,
             {"depuis": depuis.isoformat(), "livraisons": len(positions)})
    return len(positions)


async def tester(session: AsyncSession, principal: Principal, abonnement_id: str, *,
                 maintenant: datetime) -> TestLance:
    """A test event (type WebhookTest, never on Kafka nor in the feed), delivered by the loop like any
    other: the request never calls the receiver itself."""
    abonnement = await charger(session, principal, abonnement_id)
    evenement = Evenement(source=SOURCE, type=rules.TYPE_TEST, subject=f"webhook/{abonnement.id}",
                          time=maintenant, dataschema=f"{rules.TYPE_TEST}/v1",
                          data={"webhook_id": abonnement.id, "message": "Événement de test HOP'EN 2"})
    position = await session.scalar(
        insert(WebhookEvenement).values(event_id=evenement.id, type=evenement.type,
                                        regions=[abonnement.region] if abonnement.region else [],
                                        horodatage=evenement.time, corps=corps_de(evenement), diffuse=False)
        .returning(WebhookEvenement.position))
    assert position is not None
    livraison = _nouvelle_livraison(abonnement.id, position, "test", maintenant)
    session.add(livraison)
    _auditer(session, principal, "webhook_teste", abonnement, {"evenement_id": evenement.id})
    await session.flush()
    await reveiller_livreurs(session)
    return TestLance(livraison_id=livraison.id, evenement_id=evenement.id)


# --- the pull feed ------------------------------------------------------------------------------------

# Rows written by transactions still running (or that began before one still running) are not shown
# yet: a cursor handed out never has an event committed later behind it (outbox relay, same rule).
_VISIBLE = WebhookEvenement.txid < literal_column("(pg_snapshot_xmin(pg_current_snapshot())::text)::bigint")


async def flux(session: AsyncSession, principal: Principal, *, apres: str | None, types: Sequence[str],
               limite: int) -> Flux:
    depuis = 0 if apres is None else rules.position(apres)
    requete = select(WebhookEvenement).where(
        WebhookEvenement.position > depuis, WebhookEvenement.diffuse.is_(True), _VISIBLE)
    if types:
        requete = requete.where(WebhookEvenement.type.in_(types))
    requete = restreindre(requete, principal, region=any_(WebhookEvenement.regions))
    lignes = list(await session.scalars(requete.order_by(WebhookEvenement.position).limit(limite)))
    dernier = lignes[-1].position if lignes else depuis
    return Flux(items=[json.loads(e.corps) for e in lignes], suivant=rules.curseur(dernier))
