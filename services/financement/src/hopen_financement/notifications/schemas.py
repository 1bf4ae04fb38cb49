from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from hopen_common.monnaie import Euros


class LigneLue(BaseModel):
    id: int  # the line's own number (ascending as lines are written): the order of /v1/financements
    objectif: str
    nature: str  # amorcage | solde | reprise | hospiconnect | aap_acceptation | aap_atteinte
    montant: Euros
    forfait: Euros
    dispositif: str
    candidature_id: str
    notification_id: str
    finess: str  # who is paid
    finess_ej: str  # whom it was computed for (a GHT member EJ, an AP-HP GHU, or finess itself)
    region: str
    annee: int | None
    version: int
    calcul: dict[str, Any]  # how it was computed: tranche, bounds, AC, maximum, formula inputs
    cree_le: datetime
    remplacee: bool = False  # a later notification superseded this line's notification


class NotificationLue(BaseModel):
    id: str
    dispositif: str
    candidature_id: str
    finess: str
    finess_ej: str
    region: str
    nature: str
    annee: int | None
    montant_net: Euros
    decision_id: str
    decide_par: str
    motif: str
    notifie_le: datetime
    remplace: str | None
    remplacee_par: str | None = None
    lignes: list[LigneLue] = []
