"""Pieces (documents) deposited on a dossier (issue 8): the bytes stay in candidature's store; the
event carries what instruction needs to keep its checklist of required pieces, and the hash."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from hopen_common.contracts.base import Payload
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion

TypeDossier = Literal["candidature", "projet"]


@enregistrer("PieceDeposee", 1)
class PieceDeposee(Payload):
    """A piece uploaded on a candidature or an AAP project: version n of its type on that dossier
    (a new upload of the same type is the next version; earlier ones stay readable)."""

    piece_id: str
    dossier_type: TypeDossier
    dossier_id: str  # the candidature id or the AAP project id: the event's key
    finess: Finess  # the applicant (owner of the dossier)
    region: CodeRegion
    type: str  # the piece type's code in the programme data (e.g. P1.P1, HC.ADM.1, AAP.LETTRE)
    # Which EJ of a GHT dossier the piece is about, when the requirement is per EJ; None: the dossier.
    finess_ej: Finess | None = None
    nom: str  # the file name as the applicant gave it (shown, never used as a storage key)
    media_type: str  # detected from the content, not from the name or the client's header
    taille: int
    sha256: str  # computed by the server while streaming
    version: int
    depose_par: str
    depose_le: datetime
