from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer


class LigneFinancement(Payload):
    objectif: str
    nature: str  # amorcage | solde | reprise
    montant: Decimal
    forfait: Decimal


@enregistrer("FinancementNotifie", 1)
class FinancementNotifie(Payload):
    notification_id: str
    candidature_id: str
    finess: str
    region: str
    dispositif: str
    nature: str  # amorcage | solde: which decision this notification carries
    lignes: list[LigneFinancement]
    montant_net: Decimal  # sum of the lines, reprises counted negative
    decision_id: str
    notifie_le: datetime
    remplace: str | None = None
