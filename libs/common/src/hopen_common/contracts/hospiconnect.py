"""HospiConnect/HOP'EN 2 facts financement needs (domain.md 4.2).

Producers: instruction (the ARS yearly decision per EJ) and candidature (the eligible
expenses an establishment declares for a year). Financement pays, for one EJ (one GHU
for AP-HP) and one year, min(ceiling x rate, eligible expenses declared that year) to
the applicant (the support ES for a GHT), once it knows both facts.
"""

from __future__ import annotations

from datetime import datetime

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.monnaie import EurosEntrant
from hopen_common.region import CodeRegion


@enregistrer("HospiconnectAnneeDecidee", 1)
class HospiconnectAnneeDecidee(Payload):
    """The ARS decision on one EJ's objectives for one year: which objectives it validated.

    Kafka key: candidature_id (topic hopen.instruction.dossier)."""

    decision_id: str
    candidature_id: str  # the HospiConnect candidature
    finess: Finess  # the applicant, who is paid: the EJ, the GHT's support ES, or the AP-HP GHU
    finess_ej: Finess  # the EJ (GHU for AP-HP) whose attainment is judged
    region: CodeRegion
    annee: int  # 2026, 2027 or 2028
    objectifs_atteints: list[str]  # e.g. ["1.0", "1.1"]; those not listed are not reached
    decide_par: str
    decide_le: datetime
    motivation: str
    # Issue 10 (additive): the two-person rule's proposer and confirmer.
    proposee_par: str | None = None
    confirmee_par: str | None = None
    # decision_id of the earlier decision for the same (finess_ej, annee) this one corrects.
    remplace: str | None = None
    # Staff of finess_ej as the producer knew it; financement prefers its referentiel copy.
    effectifs: int | None = None


@enregistrer("DepensesDeclarees", 1)
class DepensesDeclarees(Payload):
    """Eligible expenses an establishment declares to its ARS for one EJ and one year.

    Several declarations add up; a correction names the declaration it replaces.
    Kafka key: candidature_id (topic hopen.candidature.candidature)."""

    declaration_id: str
    candidature_id: str
    finess: Finess  # the applicant
    finess_ej: Finess
    region: CodeRegion
    annee: int
    montant: EurosEntrant  # euros, at most two decimals (>= 0: financement's rule)
    declare_par: str
    declare_le: datetime
    remplace: str | None = None  # declaration_id this one corrects


class DocumentPreuve(Payload):
    """The document an evidence names: since issue 8 an uploaded piece of the candidature (its id; its
    name, type code and hash as the server computed them). Events of before issue 8 carry no piece_id
    (the client's own name, type and hash)."""

    nom: str
    type: str  # the piece's type code (e.g. "HC.1.0"); before issue 8 free text ("note_de_cadrage")
    sha256: str  # 64 lowercase hex digits
    piece_id: str | None = None  # the piece (PieceDeposee.piece_id); None before issue 8


@enregistrer("PreuveHospiconnectDeposee", 1)
class PreuveHospiconnectDeposee(Payload):
    """Evidence an establishment deposits for one HospiConnect objective, one EJ and one year:
    a document (objectives 1.0-1.4) or a measured rate (2.1, 2.2). Append-only: for a rate, the
    latest deposit is the one instructed; documents add up.

    Kafka key: candidature_id (topic hopen.candidature.candidature)."""

    preuve_id: str
    candidature_id: str
    finess: Finess  # the applicant
    finess_ej: Finess  # the EJ (GHU for AP-HP) the evidence is about
    region: CodeRegion
    annee: int
    objectif: str
    nature: str  # "document" or "taux", as the programme data says for the objective
    document: DocumentPreuve | None = None
    numerateur: int | None = None
    denominateur: int | None = None
    depose_par: str
    depose_le: datetime
