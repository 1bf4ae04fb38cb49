"""The sender loop: claims queued mails (FOR UPDATE SKIP LOCKED, a lease), sends each over SMTP with
its deterministic Message-ID, marks it sent. Any number of replicas may run it (ADR 0017)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime
from typing import Any

import aiosmtplib
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from hopen_common.courriel.reglages import ReglagesCourriel

log = logging.getLogger(__name__)

# Claim: the oldest unsent rows nobody holds (or whose holder's lease ran out), under a new lease.
_RESERVER = text("""
    UPDATE courriel SET reserve_jusqu_a = :bail, tentatives = tentatives + 1
    WHERE id IN (SELECT id FROM courriel
                 WHERE envoye_le IS NULL AND tentatives < :tentatives_max
                   AND (reserve_jusqu_a IS NULL OR reserve_jusqu_a < :maintenant)
                 ORDER BY id LIMIT :lot FOR UPDATE SKIP LOCKED)
    RETURNING id, destinataire, sujet, corps, message_id, cree_le
""")


def construire(ligne: Any, expediteur: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = expediteur
    message["To"] = ligne.destinataire
    message["Subject"] = ligne.sujet
    message["Message-ID"] = ligne.message_id
    message["Date"] = format_datetime(ligne.cree_le)
    message.set_content(ligne.corps)  # utf-8, French accents
    return message


Envoi = Callable[[EmailMessage], Awaitable[None]]


def envoi_smtp(reglages: ReglagesCourriel) -> Envoi:
    async def envoyer(message: EmailMessage) -> None:
        await aiosmtplib.send(
            message, hostname=reglages.smtp_hote, port=reglages.smtp_port,
            username=reglages.smtp_utilisateur or None, password=reglages.smtp_mot_de_passe or None,
            start_tls=reglages.smtp_starttls, timeout=reglages.smtp_delai_secondes)
    return envoyer


class Expediteur:
    def __init__(self, sessionmaker: async_sessionmaker[AsyncSession], reglages: ReglagesCourriel,
                 *, envoi: Envoi | None = None, lot: int = 20) -> None:
        self.sessionmaker = sessionmaker
        self.reglages = reglages
        self.envoi = envoi or envoi_smtp(reglages)
        self.lot = lot

    async def reserver(self) -> list[Any]:
        maintenant = datetime.now(UTC)
        async with self.sessionmaker() as session, session.begin():
            resultat = await session.execute(_RESERVER, {
                "bail": maintenant + timedelta(seconds=self.reglages.courriel_bail_secondes),
                "maintenant": maintenant, "lot": self.lot,
                "tentatives_max": self.reglages.courriel_tentatives_max})
            return list(resultat.all())

    async def marquer(self, ligne_id: int, *, erreur: str | None = None) -> None:
        async with self.sessionmaker() as session, session.begin():
            if erreur is None:
                await session.execute(text(
                    "UPDATE courriel SET envoye_le = now(), erreur = NULL WHERE id = :id"), {"id": ligne_id})
            else:
                # Released at once for the next pass (the lease would hold it for nothing).
                await session.execute(text(
                    "UPDATE courriel SET erreur = :erreur, reserve_jusqu_a = NULL WHERE id = :id"),
                    {"id": ligne_id, "erreur": erreur[:2000]})

    async def envoyer_lot(self) -> int:
        """One pass: claim, send, mark. Returns how many were sent."""
        envoyes = 0
        for ligne in await self.reserver():
            try:
                await self.envoi(construire(ligne, self.reglages.courriel_expediteur))
            except (aiosmtplib.SMTPException, OSError, TimeoutError) as exc:
                log.warning("courriel %s vers %s non envoyé : %r", ligne.id, ligne.destinataire, exc)
                await self.marquer(ligne.id, erreur=repr(exc))
                continue
            await self.marquer(ligne.id)
            envoyes += 1
        return envoyes

    async def run_forever(self) -> None:
        while True:
            try:
                if await self.envoyer_lot():
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("expéditeur de courriels : échec d'un passage")
            await asyncio.sleep(self.reglages.courriel_intervalle_secondes)


async def envoyer_en_attente(sessionmaker: async_sessionmaker[AsyncSession],
                             reglages: ReglagesCourriel) -> int:
    """Send everything queued now (tests, `hopen` commands)."""
    expediteur, total = Expediteur(sessionmaker, reglages), 0
    while n := await expediteur.envoyer_lot():
        total += n
    return total


async def tache_expediteur(app: FastAPI) -> None:
    """A worker task of ServiceSpec.taches: runs only when the service has an SMTP host."""
    reglages: ReglagesCourriel = app.state.settings
    if not reglages.smtp_hote:
        log.info("pas de smtp_hote : les courriels restent en file")
        return
    await Expediteur(app.state.sessionmaker, reglages).run_forever()
