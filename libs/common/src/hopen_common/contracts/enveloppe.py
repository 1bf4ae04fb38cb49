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
