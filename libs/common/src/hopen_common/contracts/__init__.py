"""Versioned event payloads: the contract between services (additive changes only within a version).

Importing this package registers every payload in the event registry.
"""

from hopen_common.contracts.aap import (
    AtteinteProjetAapDecidee,
    DepensePrevueAap,
    LettrePartenaire,
    MembreEquipeAap,
    ParticipantAap,
    PreuveAtteinteAapDeposee,
    ProjetAapDepose,
    ProjetAapNonRetenu,
    ProjetAapSelectionne,
)
from hopen_common.contracts.candidature import (
    CandidatureDeposee,
    CandidatureDesistee,
    CriteresGht,
    DsiGht,
    IndicateurDepose,
)
from hopen_common.contracts.collaboration import (
    AvisDemande,
    AvisRendu,
    MessageEnvoye,
    MessageEnvoyeParArs,
    MessageEnvoyeParEtablissement,
    MessageLu,
    MessageLuParArs,
    MessageLuParEtablissement,
    PieceJointe,
)
from hopen_common.contracts.echeances import RappelDepotEmis, RappelEcheanceEmis
from hopen_common.contracts.enveloppe import (
    EnveloppeConsommee,
    EnveloppeDesengagee,
    EnveloppeEngagee,
    EnveloppeRestituee,
    EnveloppeTransferee,
    TransfertPropose,
    TransfertRejete,
)
from hopen_common.contracts.etats import (
    CandidatureRedeposee,
    ChampModifie,
    CorrectionDemandee,
    CorrectionProjetDemandee,
    DossierClasseSansSuite,
    DossierPrisEnInstruction,
    DossierRouvert,
    PieceDemandee,
    PieceModifiee,
    ProjetClasseSansSuite,
    ProjetPrisEnInstruction,
    ProjetRouvert,
)
from hopen_common.contracts.financement import FinancementNotifie, LigneFinancement
from hopen_common.contracts.habilitations import HabilitationModifiee
from hopen_common.contracts.hospiconnect import (
    DepensesDeclarees,
    DocumentPreuve,
    HospiconnectAnneeDecidee,
    PreuveHospiconnectDeposee,
)
from hopen_common.contracts.instruction import (
    CandidatureRefusee,
    CandidatureValidee,
    DesistementEnregistre,
    DesistementRefuse,
    ObjectifAtteint,
    ObjectifNonAtteint,
    PerimetreEj,
)
from hopen_common.contracts.pieces import PieceDeposee
from hopen_common.contracts.programme import ProgrammePublie
from hopen_common.contracts.referentiel import EtablissementPublie
from hopen_common.contracts.topics import Topics

__all__ = [
    "CandidatureRedeposee",
    "ChampModifie",
    "CorrectionDemandee",
    "CorrectionProjetDemandee",
    "DossierClasseSansSuite",
    "DossierPrisEnInstruction",
    "DossierRouvert",
    "PieceDemandee",
    "PieceModifiee",
    "ProjetClasseSansSuite",
    "ProjetPrisEnInstruction",
    "ProjetRouvert",
    "AvisDemande",
    "AvisRendu",
    "MessageEnvoye",
    "MessageEnvoyeParArs",
    "MessageEnvoyeParEtablissement",
    "MessageLu",
    "MessageLuParArs",
    "MessageLuParEtablissement",
    "PieceJointe",
    "RappelDepotEmis",
    "PreuveAtteinteAapDeposee",
    "RappelEcheanceEmis",
    "PieceDeposee",
    "AtteinteProjetAapDecidee",
    "CandidatureDeposee",
    "CriteresGht",
    "DsiGht",
    "CandidatureDesistee",
    "CandidatureRefusee",
    "CandidatureValidee",
    "DepensePrevueAap",
    "DepensesDeclarees",
    "DesistementEnregistre",
    "DesistementRefuse",
    "DocumentPreuve",
    "EnveloppeConsommee",
    "EnveloppeDesengagee",
    "EnveloppeEngagee",
    "EnveloppeRestituee",
    "EnveloppeTransferee",
    "EtablissementPublie",
    "FinancementNotifie",
    "HospiconnectAnneeDecidee",
    "IndicateurDepose",
    "LettrePartenaire",
    "LigneFinancement",
    "MembreEquipeAap",
    "ObjectifAtteint",
    "ObjectifNonAtteint",
    "ParticipantAap",
    "PerimetreEj",
    "PreuveHospiconnectDeposee",
    "ProgrammePublie",
    "HabilitationModifiee",
    "ProjetAapDepose",
    "ProjetAapNonRetenu",
    "ProjetAapSelectionne",
    "Topics",
    "TransfertPropose",
    "TransfertRejete",
]
