"""Topic names: hopen.<producing service>.<aggregate>; the key is the aggregate id."""

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
