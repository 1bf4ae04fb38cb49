from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import Mapped, mapped_column

from hopen_financement.db import Base, Montant


class Notification(Base):
    """An amount decided and notified. Immutable (a trigger refuses UPDATE and DELETE); a correction
    is a new row whose `remplace` names the one it supersedes, and a row is superseded at most once."""

    __tablename__ = "notification"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    dispositif: Mapped[str] = mapped_column(String(20))  # phase1 | hospiconnect | aap
    candidature_id: Mapped[str] = mapped_column(String(36), index=True)  # candidature or AAP project
    finess: Mapped[str] = mapped_column(String(9), index=True)  # who is paid (GHT: the support ES)
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)  # whom it was computed for
    region: Mapped[str] = mapped_column(String(3), index=True)
    nature: Mapped[str] = mapped_column(String(20))  # amorcage | solde | hospiconnect | aap_*
    annee: Mapped[int | None] = mapped_column(Integer)
    montant_net: Mapped[Decimal] = mapped_column(Montant)  # reprises count negative
    decision_id: Mapped[str] = mapped_column(String(36))  # the decision the amount follows from
    decide_par: Mapped[str] = mapped_column(String(200))
    motif: Mapped[str] = mapped_column(String(500))
    cause_evenement: Mapped[str] = mapped_column(String(100))  # event id that caused it
    notifie_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    remplace: Mapped[str | None] = mapped_column(ForeignKey("notification.id"), unique=True)


class LigneFinancement(Base):
    """One amount of a notification, under its business key (notifications/cles.py: phase 1 per EJ,
    objective and poste; HospiConnect per EJ and year; AAP per project and tranche). Version 1 is
    the first amount of the key; a correction is version n + 1 and must name version n of the same
    key (composite foreign key + check): with (key, version) unique, a key has exactly one current
    line, its highest version, and a second "first" payment is refused by the database itself
    whatever a consumer's deduplication does."""

    __tablename__ = "ligne_financement"
    __table_args__ = (
        UniqueConstraint("cle_metier", "version", name="uq_ligne_financement_cle_metier"),
        ForeignKeyConstraint(["cle_metier", "version_precedente"],
                             ["ligne_financement.cle_metier", "ligne_financement.version"],
                             name="fk_ligne_financement_version_precedente"),
        CheckConstraint("(version = 1 AND version_precedente IS NULL)"
                        " OR (version > 1 AND version_precedente = version - 1)",
                        name="chaine_des_versions"),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    notification_id: Mapped[str] = mapped_column(ForeignKey("notification.id"), index=True)
    dispositif: Mapped[str] = mapped_column(String(20))
    candidature_id: Mapped[str] = mapped_column(String(36))
    finess: Mapped[str] = mapped_column(String(9), index=True)
    finess_ej: Mapped[str] = mapped_column(String(9), index=True)
    region: Mapped[str] = mapped_column(String(3), index=True)
    objectif: Mapped[str] = mapped_column(String(10))  # P1.Ox, HC.<annee>, AAP.<annee>
    cle_metier: Mapped[str] = mapped_column(String(120))  # notifications/cles.py
    nature: Mapped[str] = mapped_column(String(20))  # amorcage | solde | reprise | hospiconnect | aap_*
    annee: Mapped[int | None] = mapped_column(Integer)
    version: Mapped[int] = mapped_column(Integer)  # 1, then +1 per correction of the same amount
    version_precedente: Mapped[int | None] = mapped_column(Integer)  # the version this one supersedes
    montant: Mapped[Decimal] = mapped_column(Montant)  # >= 0; a reprise is owed by the ES
    forfait: Mapped[Decimal] = mapped_column(Montant)  # the whole amount this line is a share of
    # How it was computed: tranche, bounds, AC, maximum, formula inputs, programme version...
    calcul: Mapped[dict[str, Any]] = mapped_column(JSONB)
    cree_le: Mapped[datetime] = mapped_column(DateTime(timezone=True))
