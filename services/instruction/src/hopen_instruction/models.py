"""ORM models of the instruction service. Decisions are append-only: never updated in place."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    Numeric,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.courriel import CourrielMixin
from hopen_common.db import new_metadata
from hopen_common.db.copie_locale import CopieLocale
from hopen_common.fil import MessageMixin
from hopen_common.rappels import RappelEmisMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Dossier(Base):
    """A deposited candidature to instruct; its id is the candidature's id."""

    __tablename__ = "dossier"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3), index=True)
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    domaines_sun_es: Mapped[list[str]] = mapped_column(JSONB)
    # GHT candidature: [{finess_ej, raison_sociale, activite_combinee, domaines_sun_es, objectifs}].
    perimetre: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # contracts/etats.py STATUTS_CANDIDATURE from deposee on (etats/rules.py: what may follow what)
    statut: Mapped[str] = mapped_column(String(20))
    deposee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Phase-1 GHT support: the GHT criteria and capacity proof deposited (CandidatureDeposee.criteres_ght).
    criteres_ght: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    # The agent (token subject of an ARS of the region) the dossier is assigned to; history: affectation.
    affecte_a: Mapped[str | None] = mapped_column(String(200), index=True)


class PieceRecue(Base):
    """A piece deposited on a candidature or an AAP project (PieceDeposee), every version kept: the
    checklist shows the latest of each (type, finess_ej). No foreign key to the dossier on purpose:
    pieces are uploaded on the draft, so they arrive before CandidatureDeposee (same key, in order)."""

    __tablename__ = "piece_recue"
    __table_args__ = (Index("ix_piece_recue_dossier", "dossier_type", "dossier_id"),)

    piece_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))  # candidature | projet
    dossier_id: Mapped[str] = mapped_column(String(36))
    type: Mapped[str] = mapped_column(String(50))
    finess_ej: Mapped[str | None] = mapped_column(String(9))
    version: Mapped[int] = mapped_column(Integer)
    nom: Mapped[str] = mapped_column(String(255))
    media_type: Mapped[str] = mapped_column(String(150))
    taille: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class IndicateurRecu(Base):
    __tablename__ = "indicateur_recu"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))  # the EJ measured (GHT member or the applicant)
    objectif: Mapped[str] = mapped_column(String(10))
    indicateur: Mapped[str] = mapped_column(String(20))
    numerateur: Mapped[int] = mapped_column(BigInteger)
    denominateur: Mapped[int] = mapped_column(BigInteger)
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    event_id: Mapped[str] = mapped_column(String(64), unique=True)


class Decision(Base):
    """Who decided what, when, why, on which evidence. `objet` is "candidature" or an objective."""

    __tablename__ = "decision"
    # One initial decision per object (and per member EJ of a GHT); a correction is a new row
    # that `remplace` it.
    __table_args__ = (
        Index("uq_decision_initiale", "dossier_id", "objet", "finess_ej", unique=True,
              postgresql_where=text("remplace IS NULL"), postgresql_nulls_not_distinct=True),
        # A decision is superseded at most once: corrections form a chain, never a fork.
        Index("uq_decision_remplace", "remplace", unique=True, postgresql_where=text("remplace IS NOT NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id"), index=True)
    # "candidature", a phase-1 objective, or "hospiconnect.<annee>" (the yearly HospiConnect decision).
    objet: Mapped[str] = mapped_column(String(20))
    finess_ej: Mapped[str | None] = mapped_column(String(9))  # GHT: the member EJ judged
    decision: Mapped[str] = mapped_column(String(20))
    motivation: Mapped[str] = mapped_column(Text)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Evidence the decision was taken on (indicator rates and targets), frozen.
    elements: Mapped[dict[str, object]] = mapped_column(JSONB, default=dict)
    remplace: Mapped[str | None] = mapped_column(String(36))
    # Two-person rule (ADR 0023): who proposed it and who confirmed it (None before issue 10).
    proposee_par: Mapped[str | None] = mapped_column(String(200))
    confirmee_par: Mapped[str | None] = mapped_column(String(200))


class PreuveHospiconnectRecue(Base):
    """HospiConnect evidence deposited by the establishment (PreuveHospiconnectDeposee)."""

    __tablename__ = "preuve_hospiconnect_recue"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the preuve_id
    dossier_id: Mapped[str] = mapped_column(ForeignKey("dossier.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    annee: Mapped[int] = mapped_column(Integer)
    objectif: Mapped[str] = mapped_column(String(10))
    nature: Mapped[str] = mapped_column(String(10))  # document | taux
    document: Mapped[dict[str, Any] | None] = mapped_column(JSONB)  # {nom, type, sha256, piece_id}
    numerateur: Mapped[int | None] = mapped_column(BigInteger)
    denominateur: Mapped[int | None] = mapped_column(BigInteger)
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EtablissementConnu(CopieLocale, Base):
    """What instruction needs of the referentiel (fed by EtablissementPublie): the AC 2024 of AAP
    participants (the theoretical maximum grows with it) and the staff of HospiConnect EJ."""

    __tablename__ = "etablissement_connu"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3))
    secteur: Mapped[str] = mapped_column(String(30))
    niveau: Mapped[str] = mapped_column(String(2))
    ferme: Mapped[bool] = mapped_column(Boolean)
    effectifs: Mapped[int | None] = mapped_column(Integer)
    finess_pmsi_phase2: Mapped[str | None] = mapped_column(String(9))
    activite_combinee_2024: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligible_aap: Mapped[bool | None] = mapped_column(Boolean)


class Projet(Base):
    """A deposited AAP project to select (ProjetAapDepose); its id is the project's id."""

    __tablename__ = "projet"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    finess: Mapped[str] = mapped_column(String(9), index=True)  # the lead ES (FINESS PMSI)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3), index=True)
    theme: Mapped[str] = mapped_column(String(50))
    titre: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    participants: Mapped[list[str]] = mapped_column(JSONB)
    perimetre: Mapped[list[str]] = mapped_column(JSONB)
    equipe: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    lettres_partenaires: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    sans_versement_usage: Mapped[bool | None] = mapped_column(Boolean)
    depenses_prevues: Mapped[Decimal] = mapped_column(Numeric(14, 2))  # 2026 + 2027
    # contracts/etats.py STATUTS_PROJET from depose on, then atteint | non_atteint
    statut: Mapped[str] = mapped_column(String(20))
    deposee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # Participants that are public GHT members (ProjetAapDepose, issue 8); None: deposited before.
    participants_publics_ght: Mapped[list[str] | None] = mapped_column(JSONB)
    affecte_a: Mapped[str | None] = mapped_column(String(200), index=True)


class DepensePrevueProjet(Base):
    __tablename__ = "depense_prevue_projet"

    projet_id: Mapped[str] = mapped_column(ForeignKey("projet.id"), primary_key=True)
    annee: Mapped[int] = mapped_column(Integer, primary_key=True)
    montant: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class DecisionProjet(Base):
    """The ARS selection (selectionne | non_retenu, with the amount granted) and the 2027 attainment
    (atteint | non_atteint) of a project; immutable, one of each per project."""

    __tablename__ = "decision_projet"
    __table_args__ = (
        Index("uq_decision_projet_initiale", "projet_id", "objet", unique=True,
              postgresql_where=text("remplace IS NULL")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    projet_id: Mapped[str] = mapped_column(ForeignKey("projet.id"), index=True)
    objet: Mapped[str] = mapped_column(String(20))  # selection | atteinte
    decision: Mapped[str] = mapped_column(String(20))
    montant_accorde: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    motivation: Mapped[str] = mapped_column(Text)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # What the decision was taken on (participants' AC 2024, forecast, envelope figures), frozen.
    elements: Mapped[dict[str, Any]] = mapped_column(JSONB, default=dict)
    remplace: Mapped[str | None] = mapped_column(String(36), unique=True)
    # Two-person rule (ADR 0023): who proposed it and who confirmed it (None before issue 10).
    proposee_par: Mapped[str | None] = mapped_column(String(200))
    confirmee_par: Mapped[str | None] = mapped_column(String(200))


class EnveloppeConnue(Base):
    """Local copy of a regional envelope account of financement (its Enveloppe* events carry the four
    figures after each entry), seeded with the published allocations until the first event."""

    __tablename__ = "enveloppe_connue"

    dispositif: Mapped[str] = mapped_column(String(20), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), primary_key=True)
    alloue: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    engage: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    consomme: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    disponible: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    derniere_ecriture: Mapped[int] = mapped_column(BigInteger)  # 0: seeded from the data file
    source: Mapped[str] = mapped_column(String(100))
    maj_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class EngagementConnu(Base):
    """A selection financement has engaged (EnveloppeEngagee): no longer in flight."""

    __tablename__ = "engagement_connu"

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    projet_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str] = mapped_column(String(3))
    montant: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    ecriture_id: Mapped[int] = mapped_column(BigInteger)


class TransitionDossier(Base):
    """Every state a dossier (candidature or AAP project) entered: who, when, from what, why.
    Immutable (the processing time is computed from it); the id is the event's when one was consumed
    or published."""

    __tablename__ = "transition_dossier"
    __table_args__ = (Index("ix_transition_dossier", "dossier_type", "dossier_id", "le"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))
    dossier_id: Mapped[str] = mapped_column(String(36))
    de: Mapped[str | None] = mapped_column(String(20))  # None: the deposit
    vers: Mapped[str] = mapped_column(String(20))
    par: Mapped[str] = mapped_column(String(200))
    le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str | None] = mapped_column(Text)


class DemandeCorrection(Base):
    """An ARS request for corrections of named pieces and fields, by a due date. Immutable: its answer
    is a ReponseCorrection row."""

    __tablename__ = "demande_correction"
    __table_args__ = (Index("ix_demande_correction_dossier", "dossier_type", "dossier_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))
    dossier_id: Mapped[str] = mapped_column(String(36))
    pieces: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{type, finess_ej}]
    champs: Mapped[list[str]] = mapped_column(JSONB)
    motivation: Mapped[str] = mapped_column(Text)
    echeance: Mapped[date] = mapped_column(Date)
    demandee_par: Mapped[str] = mapped_column(String(200))
    demandee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReponseCorrection(Base):
    """The establishment's answer to one request (CandidatureRedeposee): what changed. Immutable."""

    __tablename__ = "reponse_correction"

    correction_id: Mapped[str] = mapped_column(ForeignKey("demande_correction.id"), primary_key=True)
    event_id: Mapped[str] = mapped_column(String(64))
    champs: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{champ, avant, apres}]
    pieces: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{piece_id, type, finess_ej, version...}]
    repondue_par: Mapped[str] = mapped_column(String(200))
    repondue_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))

class Message(MessageMixin, Base):
    """One message of a dossier's thread (issue 9, ADR 0015): written here by the ARS, or copied from
    candidature's MessageEnvoyeParEtablissement."""


class Affectation(Base):
    """Every assignment of a dossier or project to an agent (None: unassigned), never updated: the
    history of who had it, who decided it, when."""

    __tablename__ = "affectation"
    __table_args__ = (Index("ix_affectation_dossier", "dossier_type", "dossier_id"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    dossier_type: Mapped[str] = mapped_column(String(20))
    dossier_id: Mapped[str] = mapped_column(String(36))
    agent: Mapped[str | None] = mapped_column(String(200))
    precedent: Mapped[str | None] = mapped_column(String(200))
    par: Mapped[str] = mapped_column(String(200))
    le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Avis(Base):
    """An expert opinion the ARS requested on a dossier; immutable (the answer is ReponseAvis)."""

    __tablename__ = "avis"
    __table_args__ = (Index("ix_avis_dossier", "dossier_type", "dossier_id"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))
    dossier_id: Mapped[str] = mapped_column(String(36))
    region: Mapped[str] = mapped_column(String(3))
    expert: Mapped[str] = mapped_column(String(200), index=True)
    question: Mapped[str] = mapped_column(Text)
    echeance: Mapped[date] = mapped_column(Date)
    demande_par: Mapped[str] = mapped_column(String(200))
    demande_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ReponseAvis(Base):
    """The expert's answer, once per opinion (primary key): immutable."""

    __tablename__ = "reponse_avis"

    avis_id: Mapped[str] = mapped_column(ForeignKey("avis.id"), primary_key=True)
    avis: Mapped[str] = mapped_column(String(20))  # favorable | defavorable | reserve
    texte: Mapped[str] = mapped_column(Text)
    rendu_par: Mapped[str] = mapped_column(String(200))
    rendu_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class Lot(Base):
    """A bulk decision of the ARS (issue 9, ADR 0018): one decision for many dossiers, each decided in
    its own transaction by the lot worker. Who asked is kept so each decision is taken in their name."""

    __tablename__ = "lot"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    type: Mapped[str] = mapped_column(String(20))  # candidature | objectif | selection
    decision: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the request's decision, as validated
    demande_par: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    total: Mapped[int] = mapped_column(Integer)
    # Two-person rule: `demande_par` proposed the lot, `confirmee_par` confirmed it (ADR 0023).
    confirmee_par: Mapped[str | None] = mapped_column(String(200))


class LotDossier(Base):
    """One dossier of a lot and its outcome: `en_attente` until the worker decides it, then `ok` (with
    the decision's id) or `refuse` (with the problem it got), in the decision's own transaction."""

    __tablename__ = "lot_dossier"
    __table_args__ = (
        # The worker's queue: pending rows in lot order.
        Index("ix_lot_dossier_en_attente", "cree_le", "lot_id", "rang",
              postgresql_where=text("statut = 'en_attente'")),
    )

    lot_id: Mapped[str] = mapped_column(ForeignKey("lot.id"), primary_key=True)
    rang: Mapped[int] = mapped_column(Integer, primary_key=True)  # index in the request's list
    dossier_id: Mapped[str] = mapped_column(String(36))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    statut: Mapped[str] = mapped_column(String(20))  # en_attente | ok | refuse
    decision_id: Mapped[str | None] = mapped_column(String(36))
    probleme: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    traite_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class PreuveAapRecue(Base):
    """Evidence of an objective reached deposited by the lead of a selected AAP project
    (PreuveAtteinteAapDeposee): what the attainment decision is taken on."""

    __tablename__ = "preuve_aap_recue"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)  # the preuve_id
    projet_id: Mapped[str] = mapped_column(ForeignKey("projet.id"), index=True)
    objectif: Mapped[str] = mapped_column(String(50))
    piece_id: Mapped[str] = mapped_column(String(36))
    piece_nom: Mapped[str] = mapped_column(String(255))
    piece_sha256: Mapped[str] = mapped_column(String(64))
    commentaire: Mapped[str | None] = mapped_column(Text)
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RappelEmis(RappelEmisMixin, Base):
    """Deadline reminders sent by instruction's scheduler (ARS and evidence deadlines), ADR 0016."""


class Courriel(CourrielMixin, Base):
    """Mails to the ARS functional mailboxes, sent from this outbox (ADR 0017)."""


metadata = Base.metadata


class Proposition(Base):
    """A decision that moves money, proposed by an instructeur and waiting for a valideur of the same
    region who is not the proposer (issue 10, ADR 0023). `type` and `parametres` name the endpoint's use
    case, `demande` its request as validated; confirming runs that use case for real."""

    __tablename__ = "proposition"
    __table_args__ = (
        # One waiting proposal per target (a decision's object, or a lot): a second one is 409.
        Index("uq_proposition_en_attente", "cible", unique=True,
              postgresql_where=text("statut = 'en_attente'")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    # candidature | objectif | hospiconnect | selection | atteinte | lot
    type: Mapped[str] = mapped_column(String(20))
    cible: Mapped[str] = mapped_column(String(200))
    parametres: Mapped[dict[str, Any]] = mapped_column(JSONB)  # the path's ids
    demande: Mapped[dict[str, Any]] = mapped_column(JSONB)
    montants: Mapped[dict[str, Any]] = mapped_column(JSONB)  # financement's dry run, frozen
    statut: Mapped[str] = mapped_column(String(20), index=True)
    proposee_par: Mapped[str] = mapped_column(String(200))
    emetteur_proposeur: Mapped[str] = mapped_column(String(500))
    proposee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    traitee_par: Mapped[str | None] = mapped_column(String(200))
    traitee_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    motivation_traitement: Mapped[str | None] = mapped_column(Text)
    decision_id: Mapped[str | None] = mapped_column(String(36))  # or the lot's id


# --- webhooks and the event feed (issue 11, ADR 0026) ----------------------------------------------------

class WebhookAbonnement(Base):
    """An ARS system's (its region) or the DNS's (national, region None) subscription to event types."""

    __tablename__ = "webhook_abonnement"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    url: Mapped[str] = mapped_column(Text)
    types: Mapped[list[str]] = mapped_column(JSONB)
    description: Mapped[str | None] = mapped_column(Text)
    region: Mapped[str | None] = mapped_column(String(3), index=True)
    cree_par: Mapped[str] = mapped_column(String(200))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    actif: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    desactive_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    desactive_motif: Mapped[str | None] = mapped_column(Text)
    # The first failure of the current run of failures (None after a success): 5 days of it disable.
    en_echec_depuis: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # DELETE keeps the row (its deliveries and the audit name it) but nothing is delivered any more.
    supprime_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookSecret(Base):
    """A signing secret, encrypted (webhooks.chiffrement). `expire_le` None: the current one; a rotation
    gives the older ones an end, and until then both sign."""

    __tablename__ = "webhook_secret"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    abonnement_id: Mapped[str] = mapped_column(ForeignKey("webhook_abonnement.id"), index=True)
    chiffre: Mapped[bytes] = mapped_column(LargeBinary)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expire_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookEvenement(Base):
    """An event as delivered (the CloudEvent's JSON, byte for byte the body of every attempt and
    replay) and the feed's order (`position`)."""

    __tablename__ = "webhook_evenement"
    __table_args__ = (Index("ix_webhook_evenement_regions", "regions", postgresql_using="gin"),)

    position: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(100), unique=True)
    type: Mapped[str] = mapped_column(String(100), index=True)
    regions: Mapped[list[str]] = mapped_column(ARRAY(String(3)))
    horodatage: Mapped[datetime] = mapped_column(DateTime(timezone=True), index=True)  # the event's time
    corps: Mapped[bytes] = mapped_column(LargeBinary)
    # False for the test events of POST /v1/webhooks/{id}/test: delivered, never in the feed.
    diffuse: Mapped[bool] = mapped_column(Boolean, server_default=text("true"))
    recu_le: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=text("now()"))
    # The writer's transaction: the feed shows only rows below the snapshot's xmin, so an event
    # committed late never lands behind a cursor already handed out (as the outbox relay).
    txid: Mapped[int] = mapped_column(BigInteger,
                                      server_default=text("(pg_current_xact_id()::text)::bigint"))


class WebhookLivraison(Base):
    """One event to one subscription (a replay is another row, same event, same webhook-id):
    en_attente (due at `prochaine_le`, which is also the lease of the worker that took it), livree,
    echouee (schedule exhausted, or the subscription disabled by a 410) or annulee (subscription
    deleted)."""

    __tablename__ = "webhook_livraison"
    __table_args__ = (
        Index("ix_webhook_livraison_dues", "prochaine_le", "abonnement_id",
              postgresql_where=text("statut = 'en_attente'")),
        Index("ix_webhook_livraison_abonnement", "abonnement_id", "cree_le"),
        # The claim and the pass, per subscription, in the store's order (migration 0018).
        Index("ix_webhook_livraison_a_envoyer", "abonnement_id", "evenement_position", "cree_le",
              postgresql_where=text("statut = 'en_attente'")),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    abonnement_id: Mapped[str] = mapped_column(ForeignKey("webhook_abonnement.id"))
    evenement_position: Mapped[int] = mapped_column(ForeignKey("webhook_evenement.position"))
    origine: Mapped[str] = mapped_column(String(10))  # flux | rejeu | test
    statut: Mapped[str] = mapped_column(String(20))
    tentatives: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    prochaine_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    termine_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class WebhookTentative(Base):
    """One HTTP attempt of a delivery: when, the answer's status (None: none), how long, why it
    failed, and at most a short excerpt of what the receiver answered."""

    __tablename__ = "webhook_tentative"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    livraison_id: Mapped[str] = mapped_column(ForeignKey("webhook_livraison.id"), index=True)
    numero: Mapped[int] = mapped_column(Integer)
    debut_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    duree_ms: Mapped[int] = mapped_column(Integer)
    statut_http: Mapped[int | None] = mapped_column(Integer)
    erreur: Mapped[str | None] = mapped_column(Text)
    extrait: Mapped[str | None] = mapped_column(Text)
