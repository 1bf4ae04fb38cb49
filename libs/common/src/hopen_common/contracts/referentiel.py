from __future__ import annotations

from decimal import Decimal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer


@enregistrer("EtablissementPublie", 1)
class EtablissementPublie(Payload):
    """Snapshot of an establishment as the referentiel knows it (state transfer)."""

    finess: str
    finess_ej: str
    raison_sociale: str
    region: str
    departement: str
    secteur: str
    categorie: str
    niveau: str  # "EJ" or "EG"
    ght_code: str | None
    ght_role: str | None
    finess_pmsi: str
    activite_combinee: Decimal | None
    eligible_phase1: bool
    maille_phase1: str | None  # the FINESS that applies for phase 1 (None when ineligible)
    domaines_sun_es: list[str]
    ferme: bool
