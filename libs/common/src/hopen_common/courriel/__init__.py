"""E-mail from the outbox (ADR 0017): a `courriel` table per sending service, filled in the same
transaction as the change that causes the mail (the event consumer's inbox transaction, the
reminder scheduler's), deduplicated on (event id, recipient); a sender loop claims rows with
SKIP LOCKED, sends them over SMTP with a Message-ID derived from (event id, recipient), and marks
them sent. A crash never loses a mail (an unmarked row is claimed again once its lease ends) and a
redelivered event never doubles one (the unique key); the one window left, SMTP accepted but the
mark not committed, resends the same Message-ID, which receiving systems can deduplicate on.
"""

from hopen_common.courriel.expediteur import Expediteur, envoyer_en_attente, tache_expediteur
from hopen_common.courriel.file import (
    CourrielMixin,
    combiner,
    creer_table_courriel,
    identifiant_message,
    mettre_en_file,
)
from hopen_common.courriel.modeles import MODELES, rendre
from hopen_common.courriel.reglages import ReglagesCourriel

__all__ = [
    "MODELES",
    "CourrielMixin",
    "Expediteur",
    "ReglagesCourriel",
    "combiner",
    "creer_table_courriel",
    "envoyer_en_attente",
    "identifiant_message",
    "mettre_en_file",
    "rendre",
    "tache_expediteur",
]
