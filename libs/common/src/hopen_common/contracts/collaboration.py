"""Collaboration on a dossier (issue 9 items 3 and 7): the message thread between an establishment and
its ARS (each side keeps a copy from the other's events) and the expert opinions the ARS requests
(instruction-internal: never on a topic candidature reads, the establishment never sees them)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from hopen_common.contracts.base import Payload
from hopen_common.contracts.pieces import TypeDossier
from hopen_common.events.registry import enregistrer
from hopen_common.finess import Finess
from hopen_common.region import CodeRegion

# Who wrote a message: the establishment (candidature's side) or the ARS (instruction's side).
CoteMessage = Literal["etablissement", "ars"]
SensAvis = Literal["favorable", "defavorable", "reserve"]


class PieceJointe(BaseModel):
    """A piece attached to a message: a piece of the dossier stored by candidature (ADR 0015), read
    through candidature's piece endpoints; the event carries what a reader needs to show it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    piece_id: str
    type: str
    nom: str
    version: int
    sha256: str


class MessageEnvoye(Payload):
    """A message posted on a dossier's thread (candidature or AAP project). Two registered types, one
    per producer, as every event type travels on one topic: MessageEnvoyeParEtablissement (candidature's
    topic) and MessageEnvoyeParArs (instruction's dossier topic, projects' messages included). Key: the
    dossier id."""

    message_id: str
    dossier_type: TypeDossier
    dossier_id: str
    finess: Finess  # the dossier's owner
    region: CodeRegion
    auteur: str  # the token subject
    auteur_role: CoteMessage
    texte: str
    extrait: str  # the first characters of `texte`, what a notification e-mail quotes
    pieces: list[PieceJointe] = []
    envoye_le: datetime


class MessageLu(Payload):
    """The recipient read a message (its read receipt): the author's side shows `lu_le`. Registered as
    MessageLuParEtablissement (candidature's topic) and MessageLuParArs (instruction's dossier topic)."""

    message_id: str
    dossier_type: TypeDossier
    dossier_id: str
    finess: Finess
    region: CodeRegion
    lu_par: str
    lu_role: CoteMessage
    lu_le: datetime


@enregistrer("MessageEnvoyeParEtablissement", 1)
class MessageEnvoyeParEtablissement(MessageEnvoye):
    """The establishment wrote to its ARS (auteur_role etablissement)."""


@enregistrer("MessageEnvoyeParArs", 1)
class MessageEnvoyeParArs(MessageEnvoye):
    """The ARS wrote to the establishment (auteur_role ars)."""


@enregistrer("MessageLuParEtablissement", 1)
class MessageLuParEtablissement(MessageLu):
    """The establishment read a message of the ARS."""


@enregistrer("MessageLuParArs", 1)
class MessageLuParArs(MessageLu):
    """The ARS read a message of the establishment."""


@enregistrer("AvisDemande", 1)
class AvisDemande(Payload):
    """The ARS asks an expert for an opinion on a dossier (instruction-internal topic avis)."""

    avis_id: str
    dossier_type: TypeDossier
    dossier_id: str
    region: CodeRegion
    expert: str
    question: str
    echeance: date
    demande_par: str
    demande_le: datetime


@enregistrer("AvisRendu", 1)
class AvisRendu(Payload):
    """The expert answered (once)."""

    avis_id: str
    dossier_type: TypeDossier
    dossier_id: str
    region: CodeRegion
    expert: str
    avis: SensAvis
    rendu_le: datetime
