"""Pure import layer of the referentiel: ministry files -> typed records and per-record rejections.

No database and no network here; README.md in this folder gives the formats and the
rejection/warning policy.
"""

from hopen_referentiel.imports.base_eligible import (
    COLONNES,
    ElementBase,
    TypeDonnees,
    lire_base_eligible_csv,
    lire_base_eligible_xlsx,
)
from hopen_referentiel.imports.bilan import Bilan, Collecte, collecter
from hopen_referentiel.imports.enregistrements import (
    ActiviteCombinee,
    ComposantesActivite,
    DomaineSunEs,
    EffectifsSae,
    EnteteEtalab,
    EntiteJuridique,
    EtablissementGeographique,
    EtablissementSae,
    ExceptionFinessPmsi,
    GroupementGht,
    OrigineActivite,
    RattachementGhu,
)
from hopen_referentiel.imports.finess_etalab import ElementEtalab, lire_finess_etalab
from hopen_referentiel.imports.finess_plus import ElementFinessPlus, lire_finess_plus
from hopen_referentiel.imports.rejets import (
    Avertissement,
    CodeAvertissement,
    CodeErreurFichier,
    CodeRejet,
    ErreurFichier,
    Position,
    Rejet,
)
from hopen_referentiel.imports.sae import ElementSae, lire_sae_identification
from hopen_referentiel.imports.tables import TablesImport, tables_import

__all__ = [
    "COLONNES",
    "ActiviteCombinee",
    "Avertissement",
    "Bilan",
    "CodeAvertissement",
    "CodeErreurFichier",
    "CodeRejet",
    "Collecte",
    "ComposantesActivite",
    "DomaineSunEs",
    "EffectifsSae",
    "ElementBase",
    "ElementEtalab",
    "ElementFinessPlus",
    "ElementSae",
    "EnteteEtalab",
    "EntiteJuridique",
    "ErreurFichier",
    "EtablissementGeographique",
    "EtablissementSae",
    "ExceptionFinessPmsi",
    "GroupementGht",
    "OrigineActivite",
    "Position",
    "RattachementGhu",
    "Rejet",
    "TablesImport",
    "TypeDonnees",
    "collecter",
    "lire_base_eligible_csv",
    "lire_base_eligible_xlsx",
    "lire_finess_etalab",
    "lire_finess_plus",
    "lire_sae_identification",
    "tables_import",
]
