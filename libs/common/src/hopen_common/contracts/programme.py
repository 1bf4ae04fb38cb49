"""Programme data published by the referentiel: objectives, targets, tariffs, calendars, envelopes.

Each document (``phase1``, ``hospiconnect``, ``aap``, ``enveloppes_aap``...) is versioned; a new
version is published by the DNS and never edits an older one. Consumers keep the versions they
need locally and pick the one in force for a campaign.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer


@enregistrer("ProgrammePublie", 1)
class ProgrammePublie(Payload):
    document: str  # phase1 | hospiconnect | aap | enveloppes_aap | ...
    version: str  # e.g. "2026.1"
    empreinte: str  # sha256 of the canonical JSON of `contenu`
    publie_par: str
    publie_le: datetime
    motivation: str
    contenu: dict[str, Any]  # the document itself; numbers are decimal strings
