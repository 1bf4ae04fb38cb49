from __future__ import annotations

from decimal import Decimal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion


@enregistrer("EtablissementPublie", 1)
class EtablissementPublie(Payload):
    """Snapshot of one FINESS (EJ or EG) as the referentiel computes it (event-carried state transfer).

    Published when the snapshot changes; consumers keep a local copy and never call the
    referentiel on their hot paths.
    """

    finess: Finess
    finess_ej: Finess
    raison_sociale: str
    region: CodeRegion  # INSEE region code (the ARS that instructs it)
    departement: str  # FINESS coding (2A, 9A...)
    secteur: str  # public | prive_lucratif | prive_non_lucratif
    categorie: str | None  # EG: catégorie (TRE_R66); EJ: None
    niveau: str  # "EJ" or "EG"
    ght_code: str | None
    ght_role: str | None  # "S" support, "M" member
    finess_pmsi: Finess  # phase 1: the FINESS the activity and the funding attach to
    activite_combinee: Decimal | None  # AC 2022 of finess_pmsi
    eligible_phase1: bool
    # The FINESS that applies in phase 1 for this one (None: each EG applies).
    maille_phase1: Finess | None
    domaines_sun_es: list[str]
    ferme: bool
    # Staff (domain.md 2.4): on an EJ row the sum over its EG (2024, else 2023, else 2022, per EG);
    # on an AP-HP GHU row, the GHU's. Drives the HospiConnect ceiling. None: not known.
    effectifs: int | None = None
    # --- added in v1 (optional, default None: a payload without them is still v1) -------------
    # Phase 2 (HospiConnect and AAP): the FINESS PMSI (AP-HP: the GHU's FINESS), eligibility,
    # and who applies (HospiConnect: the EJ, the GHT support or the GHU; AAP: the FINESS PMSI).
    finess_pmsi_phase2: Finess | None = None
    activite_combinee_2024: Decimal | None = None  # AC 2024 of finess_pmsi_phase2
    eligible_hospiconnect: bool | None = None
    maille_hospiconnect: Finess | None = None
    eligible_aap: bool | None = None
    maille_aap: Finess | None = None
