"""Regional envelope ledger entries (domain.md 5), produced by financement.

Kafka key: the region code (topic hopen.financement.enveloppe); every event carries the
account's four figures after the entry, so a reader never has to add anything up.
"""

from __future__ import annotations

from datetime import datetime

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.monnaie import EurosEntrant
from hopen_common.region import CodeRegion


class _Mouvement(Payload):
    ecriture_id: int
    dispositif: str  # "aap", or another dispositif the DNS moved money to
    region: CodeRegion
    montant: EurosEntrant  # positive
    motif: str
    ecrit_par: str
    ecrit_le: datetime
    # The account after this entry.
    alloue: EurosEntrant
    engage: EurosEntrant
    consomme: EurosEntrant
    disponible: EurosEntrant  # alloue - engage


@enregistrer("EnveloppeEngagee", 1)
class EnveloppeEngagee(_Mouvement):
    projet_id: str
    decision_id: str


@enregistrer("EnveloppeDesengagee", 1)
class EnveloppeDesengagee(_Mouvement):
    """Engaged money released (a project that did not reach its objectives keeps only its first half)."""

    projet_id: str
    decision_id: str


@enregistrer("EnveloppeConsommee", 1)
class EnveloppeConsommee(_Mouvement):
    projet_id: str
    notification_id: str


@enregistrer("EnveloppeRestituee", 1)
class EnveloppeRestituee(_Mouvement):
    """A paid amount taken back (reprise, issue 9: a corrected AAP decision lowers a paid tranche):
    the account's consumed figure goes down by `montant`."""

    projet_id: str
    notification_id: str
    tranche: str
    decision_id: str


@enregistrer("EnveloppeTransferee", 1)
class EnveloppeTransferee(_Mouvement):
    """One side of a DNS transfer; the other side is another event with the same transfert_id."""

    transfert_id: str
    sens: str  # "sortant" (this account gives) or "entrant" (this account receives)
    contrepartie_dispositif: str
    contrepartie_region: CodeRegion
    # Issue 10 (additive, ADR 0025): the two DNS persons; ecrit_par is the confirmer. None for a
    # transfer decided by one person before the two-person rule.
    proposition_id: str | None = None
    propose_par: str | None = None
    confirme_par: str | None = None


class _PropositionTransfert(Payload):
    proposition_id: str
    source_dispositif: str
    source_region: CodeRegion
    destination_dispositif: str
    destination_region: CodeRegion
    montant: EurosEntrant
    motif: str
    propose_par: str
    propose_le: datetime


@enregistrer("TransfertPropose", 1)
class TransfertPropose(_PropositionTransfert):
    """A DNS person proposed a transfer (issue 10, ADR 0025): nothing moved; another DNS person confirms
    it (then EnveloppeTransferee, twice) or rejects it (TransfertRejete). Key: the source region."""

    source_disponible: EurosEntrant  # the source envelope's available amount when proposed
    destination_disponible: EurosEntrant


@enregistrer("TransfertRejete", 1)
class TransfertRejete(_PropositionTransfert):
    """Another DNS person rejected a proposed transfer, with a motivation: nothing moved."""

    rejete_par: str
    rejete_le: datetime
    motivation: str
