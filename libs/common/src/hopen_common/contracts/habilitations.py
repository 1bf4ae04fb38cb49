"""The rights of a person on the platform, published by the referentiel (issue 10, ADR 0022).

An identity provider says who calls (`emetteur`, `sujet`); these rights say what the person may do.
The referentiel owns them; every other service keeps the last version of each in its table
`habilitation_connue` and resolves an identity provider's token with it. No name or e-mail travels:
what a service needs to authorize, nothing more.
"""

from __future__ import annotations

import uuid
from datetime import datetime

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer


@enregistrer("HabilitationModifiee", 1)
class HabilitationModifiee(Payload):
    """The whole current state of one habilitation (created, changed or revoked): last version wins."""

    habilitation_id: uuid.UUID
    emetteur: str  # the identity provider's issuer (`iss`)
    sujet: str  # the person's `sub` at that issuer
    role: str  # etablissement | ars | dns | ops | expert
    region: str | None  # ars: its region
    finess: list[str]  # etablissement: the FINESS it acts for
    profils: list[str]  # ars: instructeur and/or valideur
    referent: bool  # ars: référent of the programme for its region
    actif: bool  # False once revoked: the person is refused (403 sans-habilitation)
    version: int  # 1 at creation, +1 at each change
    modifie_le: datetime
