"""Deadline reminders (producer: instruction's scheduler; topic hopen.instruction.echeance; Kafka key:
the reminder id). One event per (deadline, target, J-7|J-1), whatever the number of replicas (ADR 0016)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion


@enregistrer("RappelEcheanceEmis", 1)
class RappelEcheanceEmis(Payload):
    """A deadline is 7 days (J-7) or 1 day (J-1) away and the target still has something to do."""

    rappel_id: str  # "<echeance>|<cible>|<rappel>": the unique key of the reminder
    echeance: str  # e.g. "phase1.fin_instruction", "hospiconnect.2027.fin_depot_preuves"
    libelle: str  # French, as mailed
    dispositif: str
    date_echeance: date  # inclusive
    rappel: Literal["J-7", "J-1"]
    destinataire: Literal["ars", "etablissement"]
    region: CodeRegion
    finess: Finess | None = None  # the establishment reminded (destinataire etablissement)
    # What is still to do before the deadline: the dossiers (candidature ids) or projects concerned.
    dossiers: list[str]
    emis_le: datetime


@enregistrer("RappelDepotEmis", 1)
class RappelDepotEmis(RappelEcheanceEmis):
    """The same reminder for a draft's deposit deadline (end of the phase-1 / HospiConnect candidatures,
    of the AAP deposits), producer candidature (drafts live there): topic hopen.candidature.candidature,
    key the draft's id (candidature or project), `dossiers` = [that id]."""
