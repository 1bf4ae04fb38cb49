"""Every table of the financement service, gathered for Alembic (each slice declares its own)."""

from hopen_financement.aap.models import AtteinteProjetAap, DecisionProjetAapRecue, ProjetAap
from hopen_financement.db import Base
from hopen_financement.enveloppes.models import CompteEnveloppe, EcritureEnveloppe, PropositionTransfert
from hopen_financement.etablissements.models import EtablissementConnu
from hopen_financement.forfaits.models import CandidatureFinancee, ObjectifDecide, PerimetreFinance
from hopen_financement.hospiconnect.models import (
    DecisionHospiconnect,
    DeclarationDepenses,
    MontantHospiconnect,
)
from hopen_financement.notifications.models import LigneFinancement, Notification

metadata = Base.metadata

__all__ = [
    "AtteinteProjetAap",
    "CandidatureFinancee",
    "CompteEnveloppe",
    "DecisionHospiconnect",
    "DecisionProjetAapRecue",
    "DeclarationDepenses",
    "EcritureEnveloppe",
    "EtablissementConnu",
    "LigneFinancement",
    "MontantHospiconnect",
    "Notification",
    "ObjectifDecide",
    "PerimetreFinance",
    "ProjetAap",
    "PropositionTransfert",
    "metadata",
]
