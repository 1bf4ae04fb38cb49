"""ORM models of the candidature service (persistence only; rules live in candidatures/rules.py)."""

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
    Numeric,
    String,
    Text,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from hopen_common.courriel import CourrielMixin
from hopen_common.db import new_metadata
from hopen_common.db.copie_locale import CopieLocale
from hopen_common.fil import MessageMixin
from hopen_common.rappels import RappelEmisMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class EtablissementConnu(CopieLocale, Base):
    """Local copy of the referentiel's establishments (fed by EtablissementPublie)."""

    __tablename__ = "etablissement_connu"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    raison_sociale: Mapped[str] = mapped_column(String(300))
    region: Mapped[str] = mapped_column(String(3))
    secteur: Mapped[str] = mapped_column(String(30))
    niveau: Mapped[str] = mapped_column(String(2))
    ght_code: Mapped[str | None] = mapped_column(String(20))
    ght_role: Mapped[str | None] = mapped_column(String(1))
    finess_pmsi: Mapped[str] = mapped_column(String(9))
    activite_combinee: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligible_phase1: Mapped[bool] = mapped_column(Boolean)
    maille_phase1: Mapped[str | None] = mapped_column(String(9))
    domaines_sun_es: Mapped[list[str]] = mapped_column(JSONB, default=list)
    ferme: Mapped[bool] = mapped_column(Boolean)
    # Phase 2 (EtablissementPublie v1 optional fields; None: the referentiel did not say).
    effectifs: Mapped[int | None] = mapped_column(Integer)
    finess_pmsi_phase2: Mapped[str | None] = mapped_column(String(9), index=True)
    activite_combinee_2024: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    eligible_hospiconnect: Mapped[bool | None] = mapped_column(Boolean)
    maille_hospiconnect: Mapped[str | None] = mapped_column(String(9), index=True)
    eligible_aap: Mapped[bool | None] = mapped_column(Boolean)
    maille_aap: Mapped[str | None] = mapped_column(String(9))
    mis_a_jour_le: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now()
    )


# The statuses during which a candidature holds its applicant and its EJ (issue 7, "pay once"); a
# refused or withdrawn one frees them. A withdrawal asked of a deposited candidature holds them until
# instruction answers (ADR 0010): the ARS may have validated it meanwhile, and then it is paid. The
# partial indexes below spell the same list in SQL.
# Issue 9: a dossier in instruction or waiting for a correction is still open (ADR 0013).
STATUTS_OUVERTS = ("brouillon", "deposee", "en_instruction", "correction_demandee", "desistement_demande",
                   "validee")
_OUVERTE = text("statut IN ('brouillon', 'deposee', 'en_instruction', 'correction_demandee',"
                " 'desistement_demande', 'validee')")


class Candidature(Base):
    __tablename__ = "candidature"
    # One open candidature per applicant and dispositif (phase 1 and HospiConnect alike): enforced
    # here so that concurrent requests cannot both pass the service's readable check.
    __table_args__ = (
        Index("uq_candidature_ouverte", "finess", "dispositif", unique=True, postgresql_where=_OUVERTE),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    # brouillon | deposee | en_instruction | correction_demandee (instruction's transitions, by events)
    # | desistement_demande (withdrawal asked, instruction's answer awaited) | validee | refusee (the ARS
    # decision, from instruction) | classee_sans_suite | desistee (contracts/etats.py)
    statut: Mapped[str] = mapped_column(String(20))
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    # GHT candidature: [{finess_ej, raison_sociale, activite_combinee, domaines_sun_es, objectifs}].
    perimetre: Mapped[list[dict[str, Any]] | None] = mapped_column(JSONB)
    # Phase-1 GHT support (annex 4): the GHT criteria and capacity proof as entered, possibly
    # incomplete while brouillon (schemas.CriteresGhtDemande, JSON mode); the deposit checks them.
    criteres_ght: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    cree_par: Mapped[str] = mapped_column(String(200))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deposee_par: Mapped[str | None] = mapped_column(String(200))
    deposee_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class CandidatureEj(Base):
    """One row per EJ a candidature counts (a GHT support's perimeter members, else the applicant's
    own FINESS), so that no EJ is in two open candidatures of a dispositif whatever the local copy of
    the referentiel said at the time (an EJ applied alone then published as a GHT member; an EJ
    moving from one GHT to another). `statut` is the candidature's, copied in the same transaction
    by the one function that changes it (service.changer_statut): the index can only read its own
    table."""

    __tablename__ = "candidature_ej"
    __table_args__ = (
        Index("uq_candidature_ej_ouverte", "dispositif", "finess_ej", unique=True,
              postgresql_where=_OUVERTE),
    )

    candidature_id: Mapped[str] = mapped_column(ForeignKey("candidature.id"), primary_key=True)
    # The FINESS counted: the EJ, or the applicant's own FINESS (a private ES applies to phase 1 under
    # its FINESS geographique).
    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    statut: Mapped[str] = mapped_column(String(20))


class IndicateurDeclare(Base):
    """Evidence: append-only, the latest declaration of an indicator is the one instructed."""

    __tablename__ = "indicateur_declare"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    candidature_id: Mapped[str] = mapped_column(ForeignKey("candidature.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))  # the EJ measured (GHT member or the applicant)
    objectif: Mapped[str] = mapped_column(String(10))
    indicateur: Mapped[str] = mapped_column(String(20))
    numerateur: Mapped[int] = mapped_column(BigInteger)
    denominateur: Mapped[int] = mapped_column(BigInteger)
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    version: Mapped[int] = mapped_column(Integer, default=1)


class DeclarationDepenses(Base):
    """HospiConnect eligible expenses declared for one EJ and one year. Immutable: one current
    declaration per (candidature, EJ, year) (ADR 0010: declarations never add up); a correction is a
    new row naming the one it replaces (each replaced at most once)."""

    __tablename__ = "declaration_depenses"
    __table_args__ = (Index("uq_declaration_depenses_premiere", "candidature_id", "finess_ej", "annee",
                            unique=True, postgresql_where=text("remplace IS NULL")),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(ForeignKey("candidature.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    annee: Mapped[int] = mapped_column(Integer)
    montant: Mapped[Decimal] = mapped_column(Numeric(14, 2))
    remplace: Mapped[str | None] = mapped_column(ForeignKey("declaration_depenses.id"), unique=True)
    declare_par: Mapped[str] = mapped_column(String(200))
    declare_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class PreuveHospiconnect(Base):
    """HospiConnect evidence for one objective, EJ and year: a document's metadata or a rate.
    Append-only: for a rate the latest deposit is the one instructed."""

    __tablename__ = "preuve_hospiconnect"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(ForeignKey("candidature.id"), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9))
    annee: Mapped[int] = mapped_column(Integer)
    objectif: Mapped[str] = mapped_column(String(10))
    nature: Mapped[str] = mapped_column(String(10))  # document | taux
    document_nom: Mapped[str | None] = mapped_column(String(255))
    document_type: Mapped[str | None] = mapped_column(String(100))
    document_sha256: Mapped[str | None] = mapped_column(String(64))
    # Issue 8: the uploaded piece the document is (nom, type, sha256 above are copied from it); None
    # for evidence deposited before, whose metadata the client typed.
    piece_id: Mapped[str | None] = mapped_column(ForeignKey("piece.id"))
    numerateur: Mapped[int | None] = mapped_column(BigInteger)
    denominateur: Mapped[int | None] = mapped_column(BigInteger)
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class HospiconnectValide(Base):
    """EJ covered by a HospiConnect candidature the ARS validated (CandidatureValidee): what the AAP
    themes other than rattrapage require of every participating ES."""

    __tablename__ = "hospiconnect_valide"

    finess_ej: Mapped[str] = mapped_column(String(9), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    decision_id: Mapped[str] = mapped_column(String(36))
    valide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ProjetAap(Base):
    """An AAP project of a lead ES (chef de file, FINESS PMSI): a draft, then deposited."""

    __tablename__ = "projet_aap"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    finess: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    # brouillon | depose, then instruction's states by events (contracts/etats.py STATUTS_PROJET)
    statut: Mapped[str] = mapped_column(String(20))
    theme: Mapped[str] = mapped_column(String(50))
    titre: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    objectifs: Mapped[list[str]] = mapped_column(JSONB)
    participants: Mapped[list[str]] = mapped_column(JSONB)  # FINESS PMSI, the lead first
    perimetre: Mapped[list[str]] = mapped_column(JSONB)  # FINESS of EG
    equipe: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    lettres_partenaires: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)
    sans_versement_usage: Mapped[bool | None] = mapped_column(Boolean)
    cree_par: Mapped[str] = mapped_column(String(200))
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    deposee_par: Mapped[str | None] = mapped_column(String(200))
    deposee_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DecisionProjetConnue(Base):
    """The ARS decisions on a project (ProjetAapSelectionne | ProjetAapNonRetenu, AtteinteProjetAapDecidee),
    so that the establishment sees the outcome of what it submitted."""

    __tablename__ = "decision_projet_connue"

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    projet_id: Mapped[str] = mapped_column(ForeignKey("projet_aap.id"), index=True)
    objet: Mapped[str] = mapped_column(String(20))  # selection | atteinte
    decision: Mapped[str] = mapped_column(String(20))  # selectionne | non_retenu | atteint | non_atteint
    montant_accorde: Mapped[Decimal | None] = mapped_column(Numeric(14, 2))
    motivation: Mapped[str] = mapped_column(Text)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remplace: Mapped[str | None] = mapped_column(String(36))  # a corrected decision names the one replaced


class DepensePrevue(Base):
    """Forecast expenses of a project for one year (money in NUMERIC, never JSON)."""

    __tablename__ = "depense_prevue"

    projet_id: Mapped[str] = mapped_column(ForeignKey("projet_aap.id"), primary_key=True)
    annee: Mapped[int] = mapped_column(Integer, primary_key=True)
    montant: Mapped[Decimal] = mapped_column(Numeric(14, 2))


class Piece(Base):
    """One uploaded file of a dossier (candidature or AAP project): metadata here, bytes in the store
    under `cle` (ADR 0011: the row is inserted only once the object is complete). Immutable: a new
    upload of the same (type, finess_ej) is the next version, earlier ones stay readable."""

    __tablename__ = "piece"
    __table_args__ = (
        # A piece about the whole dossier has no finess_ej: NULLs are distinct in a unique index, so
        # the index reads them as '' to keep one version n per (dossier, type, EJ or none).
        Index("uq_piece_version", "dossier_type", "dossier_id", "type",
              func.coalesce(text("finess_ej"), text("''")), "version", unique=True),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))  # candidature | projet
    dossier_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9))  # the dossier's owner when uploaded
    region: Mapped[str] = mapped_column(String(3))
    type: Mapped[str] = mapped_column(String(40))  # the piece type's code (programme data)
    finess_ej: Mapped[str | None] = mapped_column(String(9))  # member EJ of a GHT dossier, if per EJ
    version: Mapped[int] = mapped_column(Integer)
    nom: Mapped[str] = mapped_column(String(255))  # the client's file name: shown, never a path
    media_type: Mapped[str] = mapped_column(String(100))  # detected from the content
    taille: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    cle: Mapped[str] = mapped_column(String(200), unique=True)  # the object's key in the store
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class DecisionConnue(Base):
    """The ARS decisions on a candidature (validation/refusal, phase-1 objectives, HospiConnect years),
    from instruction's events, so that the establishment sees each with its motivation (issue 9)."""

    __tablename__ = "decision_connue"

    decision_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    candidature_id: Mapped[str] = mapped_column(ForeignKey("candidature.id"), index=True)
    objet: Mapped[str] = mapped_column(String(20))  # candidature | a phase-1 objective | hospiconnect.<annee>
    finess_ej: Mapped[str | None] = mapped_column(String(9))
    # validee | refusee | atteint | non_atteint | a HospiConnect year's objectives reached ("1.0,2.1")
    decision: Mapped[str] = mapped_column(String(100))
    motivation: Mapped[str] = mapped_column(Text)
    decide_par: Mapped[str] = mapped_column(String(200))
    decide_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remplace: Mapped[str | None] = mapped_column(String(36))


class TransitionConnue(Base):
    """Instruction's transitions of a dossier (DossierPrisEnInstruction, CorrectionDemandee,
    DossierClasseSansSuite, DossierRouvert): the history the establishment sees, with the motivation."""

    __tablename__ = "transition_connue"
    __table_args__ = (Index("ix_transition_connue_dossier", "dossier_type", "dossier_id"),)

    transition_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))
    dossier_id: Mapped[str] = mapped_column(String(36))
    de: Mapped[str] = mapped_column(String(20))
    vers: Mapped[str] = mapped_column(String(20))
    par: Mapped[str] = mapped_column(String(200))
    le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    motivation: Mapped[str | None] = mapped_column(Text)


class DemandeCorrectionRecue(Base):
    """An ARS correction request (CorrectionDemandee): what the establishment is asked, by when. The
    named fields' values at the request are kept (`valeurs_avant`) so the re-deposit says what changed;
    `repondue_le` is set by the re-deposit that answers it."""

    __tablename__ = "demande_correction_recue"
    __table_args__ = (Index("ix_demande_correction_recue_dossier", "dossier_type", "dossier_id"),)

    correction_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dossier_type: Mapped[str] = mapped_column(String(20))
    dossier_id: Mapped[str] = mapped_column(String(36))
    pieces: Mapped[list[dict[str, Any]]] = mapped_column(JSONB)  # [{type, finess_ej}]
    champs: Mapped[list[str]] = mapped_column(JSONB)
    valeurs_avant: Mapped[dict[str, Any]] = mapped_column(JSONB)
    motivation: Mapped[str] = mapped_column(Text)
    echeance: Mapped[date] = mapped_column(Date)
    demandee_par: Mapped[str] = mapped_column(String(200))
    demandee_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    repondue_le: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))

class Message(MessageMixin, Base):
    """One message of a dossier's thread (issue 9, ADR 0015): written here by the establishment, or
    copied from instruction's MessageEnvoyeParArs; its pieces are pieces of the dossier (table piece)."""


class PreuveAap(Base):
    """Evidence of an objective reached, deposited by the lead of a selected AAP project (one piece of
    the project), until the AAP evidence deadline (ADR 0016). Append-only: a new deposit is a new row."""

    __tablename__ = "preuve_aap"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    projet_id: Mapped[str] = mapped_column(ForeignKey("projet_aap.id"), index=True)
    objectif: Mapped[str] = mapped_column(String(50))
    piece_id: Mapped[str] = mapped_column(ForeignKey("piece.id"))
    commentaire: Mapped[str | None] = mapped_column(Text)
    depose_par: Mapped[str] = mapped_column(String(200))
    depose_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class ContactEtablissement(Base):
    """The address an establishment (a FINESS of its token) receives HOP'EN mail at: decisions,
    correction requests, messages, reminders (ADR 0017). Optional: without it, no mail."""

    __tablename__ = "contact_etablissement"

    finess: Mapped[str] = mapped_column(String(9), primary_key=True)
    courriel: Mapped[str] = mapped_column(String(320))
    maj_par: Mapped[str] = mapped_column(String(200))
    maj_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class RappelEmis(RappelEmisMixin, Base):
    """Reminders of the draft deadlines (end of candidatures / deposits) sent by candidature's
    scheduler, once per (deadline, draft, J-7|J-1) (ADR 0016)."""


class Courriel(CourrielMixin, Base):
    """Mails to establishments, sent from this outbox (ADR 0017)."""


metadata = Base.metadata
