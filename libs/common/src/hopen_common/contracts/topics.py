"""Topic names: hopen.<producing service>.<aggregate>; the key is the aggregate id."""

from collections.abc import Iterable
from enum import StrEnum


class Topics(StrEnum):
    ETABLISSEMENT = "hopen.referentiel.etablissement"
    CANDIDATURE = "hopen.candidature.candidature"
    DOSSIER = "hopen.instruction.dossier"
    FINANCEMENT = "hopen.financement.financement"
    PROJET = "hopen.instruction.projet"  # AAP project decisions, key projet_id
    ENVELOPPE = "hopen.financement.enveloppe"  # regional envelope ledger, key region


def topic_dead_letter(consumer: str) -> str:
    return f"hopen.dlq.{consumer}"


def tous_les_topics(consommateurs: Iterable[str]) -> list[str]:
    """Every domain topic and the dead-letter topic of each consumer: what a broker must hold
    before the services start (so that no consumer subscribes to a topic not yet created)."""
    return [t.value for t in Topics] + [topic_dead_letter(c) for c in consommateurs]
