"""Explicit DDL of the tables every service shares (outbox, inbox, dead letters, audit, idempotency).

Each service's first migration calls ``creer_tables_communes``; a later change to
``hopen_common.db.messaging`` comes with a new function here, called by a new
revision of every service. Written out (not ``create_all``) so that a migration
always creates what it created the day it was written.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql


def rendre_immuables(op: Any, *tables: str) -> None:
    """Refuse UPDATE, DELETE and TRUNCATE on these tables, whatever the code does: decisions,
    amounts, ledger entries and the audit journal are corrected by new rows, never edited."""
    op.execute("""
        CREATE OR REPLACE FUNCTION hopen_ligne_immuable() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'table % : ligne immuable (une correction est une nouvelle ligne qui remplace)',
                TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
        END
        $$
    """)
    for table in tables:
        op.execute(f"CREATE TRIGGER {table}_immuable BEFORE UPDATE OR DELETE ON {table}"
                   " FOR EACH ROW EXECUTE FUNCTION hopen_ligne_immuable()")
        op.execute(f"CREATE TRIGGER {table}_immuable_truncate BEFORE TRUNCATE ON {table}"
                   " FOR EACH STATEMENT EXECUTE FUNCTION hopen_ligne_immuable()")


def creer_tables_communes(op: Any) -> None:
    op.create_table(
        "dead_letter",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("partition", sa.Integer(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=True),
        sa.Column("event_id", sa.String(length=100), nullable=True),
        sa.Column("event_type", sa.String(length=100), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("error", sa.Text(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), server_default="parked", nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_dead_letter")),
        sa.UniqueConstraint("consumer", "topic", "partition", "offset", name="uq_dead_letter_position"),
    )
    op.create_index(op.f("ix_dead_letter_key"), "dead_letter", ["key"], unique=False)
    op.create_table(
        "inbox",
        sa.Column("consumer", sa.String(length=100), nullable=False),
        sa.Column("event_id", sa.String(length=100), nullable=False),
        sa.Column("event_type", sa.String(length=100), nullable=False),
        sa.Column(
            "processed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False
        ),
        sa.PrimaryKeyConstraint("consumer", "event_id", name=op.f("pk_inbox")),
    )
    op.create_table(
        "journal_audit",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("acteur", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=50), nullable=False),
        sa.Column("action", sa.String(length=100), nullable=False),
        sa.Column("objet_type", sa.String(length=100), nullable=False),
        sa.Column("objet_id", sa.String(length=200), nullable=False),
        sa.Column("motivation", sa.Text(), nullable=True),
        sa.Column("details", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("horodatage", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_journal_audit")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("event_id", sa.UUID(), nullable=False),
        sa.Column("topic", sa.String(length=200), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("envelope", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "txid",
            sa.BigInteger(),
            server_default=sa.text("(pg_current_xact_id()::text)::bigint"),
            nullable=False,
        ),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
        sa.UniqueConstraint("event_id", name=op.f("uq_outbox_event_id")),
    )
    op.create_index(
        "ix_outbox_a_envoyer", "outbox", ["id"], unique=False, postgresql_where=sa.text("sent_at IS NULL")
    )
    op.create_table(
        "requete_idempotente",
        sa.Column("cle", sa.String(length=200), nullable=False),
        sa.Column("appelant", sa.String(length=200), nullable=False),
        sa.Column("route", sa.String(length=300), nullable=False),
        sa.Column("empreinte", sa.String(length=64), nullable=False),
        sa.Column("statut", sa.Integer(), nullable=False),
        sa.Column("reponse", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("cle", "appelant", name=op.f("pk_requete_idempotente")),
    )
    rendre_immuables(op, "journal_audit")


def supprimer_tables_communes(op: Any) -> None:
    # CASCADE: the triggers of every table made immutable go with the function.
    op.execute("DROP FUNCTION IF EXISTS hopen_ligne_immuable() CASCADE")
    op.drop_table("requete_idempotente")
    op.drop_index("ix_outbox_a_envoyer", table_name="outbox", postgresql_where=sa.text("sent_at IS NULL"))
    op.drop_table("outbox")
    op.drop_table("journal_audit")
    op.drop_table("inbox")
    op.drop_index(op.f("ix_dead_letter_key"), table_name="dead_letter")
    op.drop_table("dead_letter")


def ajouter_motif_lettres_mortes(op: Any) -> None:
    """Revision 2 of the common tables: why an event was parked, as a code operators filter and count."""
    op.add_column("dead_letter", sa.Column("motif", sa.String(length=50), nullable=True))
    op.create_index(op.f("ix_dead_letter_motif"), "dead_letter", ["motif"], unique=False)


def retirer_motif_lettres_mortes(op: Any) -> None:
    op.drop_index(op.f("ix_dead_letter_motif"), table_name="dead_letter")
    op.drop_column("dead_letter", "motif")


def scoper_idempotence_par_emetteur(op: Any) -> None:
    """Revision 3 of the common tables: an Idempotency-Key is scoped to (key, issuer, subject, rights),
    not the subject alone (two issuers may give the same `sub` to two persons; a replay skips the use
    case's scope checks, so other rights are another scope). Existing rows get the issuer and rights
    '' that no caller has: a retry spanning the upgrade executes again (with its checks) rather than
    replaying an answer given to other rights."""
    for colonne, longueur in (("emetteur", 500), ("droits", 64)):
        op.add_column("requete_idempotente", sa.Column(colonne, sa.String(length=longueur), nullable=False,
                                                       server_default=""))
        op.alter_column("requete_idempotente", colonne, server_default=None)
    op.drop_constraint("pk_requete_idempotente", "requete_idempotente", type_="primary")
    op.create_primary_key("pk_requete_idempotente", "requete_idempotente",
                          ["cle", "emetteur", "appelant", "droits"])


def descoper_idempotence_par_emetteur(op: Any) -> None:
    # Back to (key, subject): of several scopes' rows for one (key, subject), keep the oldest.
    op.execute("""
        DELETE FROM requete_idempotente a USING requete_idempotente b
        WHERE a.cle = b.cle AND a.appelant = b.appelant
          AND (a.cree_le, a.emetteur, a.droits) > (b.cree_le, b.emetteur, b.droits)
    """)
    op.drop_constraint("pk_requete_idempotente", "requete_idempotente", type_="primary")
    op.drop_column("requete_idempotente", "droits")
    op.drop_column("requete_idempotente", "emetteur")
    op.create_primary_key("pk_requete_idempotente", "requete_idempotente", ["cle", "appelant"])


def creer_habilitations_connues(op: Any) -> None:
    """Revision 4 of the common tables (issue 10, ADR 0022): the rights of each person known to the
    service (`hopen_common.habilitations`): written by the referentiel, its owner, and copied by the
    other services from its `HabilitationModifiee` events (last version wins)."""
    op.create_table(
        "habilitation_connue",
        sa.Column("emetteur", sa.String(length=500), nullable=False),
        sa.Column("sujet", sa.String(length=200), nullable=False),
        sa.Column("id", postgresql.UUID(as_uuid=True), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=True),
        sa.Column("finess", postgresql.ARRAY(sa.String(length=9)), nullable=False),
        sa.Column("profils", postgresql.ARRAY(sa.String(length=20)), nullable=False),
        sa.Column("referent", sa.Boolean(), nullable=False),
        sa.Column("actif", sa.Boolean(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("modifie_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("emetteur", "sujet", name=op.f("pk_habilitation_connue")),
        sa.UniqueConstraint("id", name=op.f("uq_habilitation_connue_id")),
    )


def supprimer_habilitations_connues(op: Any) -> None:
    op.drop_table("habilitation_connue")


def versionner_copie_locale(op: Any, table: str) -> None:
    """The snapshot time of a local copy (`hopen_common.db.copie_locale.CopieLocale`)."""
    op.add_column(table, sa.Column("instantane_le", sa.DateTime(timezone=True), nullable=True))


def deversionner_copie_locale(op: Any, table: str) -> None:
    op.drop_column(table, "instantane_le")
