"""Rows of the services' local copies of the referentiel, as API tests seed them: one builder per copy,
each test module giving the defaults its cases need (`functools.partial`)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any


def etablissement_connu(finess: str, **champs: Any) -> dict[str, Any]:
    """An `etablissement_connu` row: a public EJ of Corse applying for itself to every dispositif,
    unless `champs` say otherwise."""
    valeurs: dict[str, Any] = {
        "finess": finess, "finess_ej": finess, "raison_sociale": f"ES {finess}", "region": "94",
        "secteur": "public", "niveau": "EJ", "ght_code": None, "ght_role": None, "finess_pmsi": finess,
        "activite_combinee": Decimal("5000"), "eligible_phase1": True, "maille_phase1": finess,
        "domaines_sun_es": [], "ferme": False, "effectifs": 120, "finess_pmsi_phase2": finess,
        "activite_combinee_2024": Decimal("5120"), "eligible_hospiconnect": True,
        "maille_hospiconnect": finess, "eligible_aap": True, "maille_aap": finess,
    }
    valeurs.update(champs)
    return valeurs
