"""Versioned event payloads: the contract between services (additive changes only within a version).

Importing this package registers every payload in the event registry.
"""

from hopen_common.contracts.candidature import (
    CandidatureDeposee,
    IndicateurDepose,
)
from hopen_common.contracts.financement import FinancementNotifie, LigneFinancement
from hopen_common.contracts.instruction import (
    CandidatureRefusee,
    CandidatureValidee,
    ObjectifAtteint,
    ObjectifNonAtteint,
)
from hopen_common.contracts.referentiel import EtablissementPublie
from hopen_common.contracts.topics import Topics

__all__ = [
    "CandidatureDeposee",
    "CandidatureRefusee",
    "CandidatureValidee",
    "EtablissementPublie",
    "FinancementNotifie",
    "IndicateurDepose",
    "LigneFinancement",
    "ObjectifAtteint",
    "ObjectifNonAtteint",
    "Topics",
]
