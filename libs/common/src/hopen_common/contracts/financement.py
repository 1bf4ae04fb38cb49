from __future__ import annotations

from datetime import datetime

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.monnaie import EurosEntrant
from hopen_common.region import CodeRegion


class LigneFinancement(Payload):
    objectif: str
    nature: str  # amorcage | solde | reprise | hospiconnect | aap_acceptation | aap_atteinte
    montant: EurosEntrant  # negative for a reprise
    forfait: EurosEntrant
    # The EJ this amount was computed for: a GHT member EJ (paid to the support ES), an AP-HP GHU,
    # or the notification's FINESS itself.
    finess_ej: Finess | None = None
    # The amount's business key (what is paid at most once) and its version: version n > 1
    # supersedes version n - 1 of the same key.
    cle_metier: str | None = None
    version: int | None = None


@enregistrer("FinancementNotifie", 1)
class FinancementNotifie(Payload):
    notification_id: str
    candidature_id: str
    finess: Finess
    region: CodeRegion
    dispositif: str
    # amorcage | solde (phase 1), hospiconnect (yearly), aap_acceptation | aap_atteinte (AAP tranches)
    nature: str
    lignes: list[LigneFinancement]
    montant_net: EurosEntrant  # sum of the lines, reprises counted negative
    decision_id: str
    notifie_le: datetime
    remplace: str | None = None
    # The EJ the amounts were computed for (GHT member, AP-HP GHU, or `finess` itself).
    finess_ej: Finess | None = None
    annee: int | None = None  # HospiConnect year, AAP tranche year
    decide_par: str | None = None  # who decided the amount (ARS agent, or "financement" when computed)
    motif: str | None = None
