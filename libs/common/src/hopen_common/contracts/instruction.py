from __future__ import annotations

from datetime import datetime

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer


class _Decision(Payload):
    decision_id: str
    candidature_id: str
    finess: str
    region: str
    decide_par: str
    decide_le: datetime
    motivation: str


@enregistrer("CandidatureValidee", 1)
class CandidatureValidee(_Decision):
    dispositif: str
    objectifs: list[str]


@enregistrer("CandidatureRefusee", 1)
class CandidatureRefusee(_Decision):
    dispositif: str


@enregistrer("ObjectifAtteint", 1)
class ObjectifAtteint(_Decision):
    objectif: str
    objectifs_candidature: list[str]


@enregistrer("ObjectifNonAtteint", 1)
class ObjectifNonAtteint(_Decision):
    objectif: str
    objectifs_candidature: list[str]
