"""bulk decisions (issue 9 item 8, ADR 0018): a lot and the outcome of each of its dossiers

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from hopen_common.db.migrations import rendre_immuables

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "lot",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("type", sa.String(length=20), nullable=False),
        sa.Column("decision", JSONB(), nullable=False),
        sa.Column("demande_par", sa.String(length=200), nullable=False),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("total", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_lot")),
    )
    op.create_index(op.f("ix_lot_region"), "lot", ["region"])
    op.create_table(
        "lot_dossier",
        sa.Column("lot_id", sa.String(length=36), nullable=False),
        sa.Column("rang", sa.Integer(), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("cree_le", sa.DateTime(timezone=True), nullable=False),
        sa.Column("statut", sa.String(length=20), nullable=False),
        sa.Column("decision_id", sa.String(length=36), nullable=True),
        sa.Column("probleme", JSONB(), nullable=True),
        sa.Column("traite_le", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["lot_id"], ["lot.id"], name=op.f("fk_lot_dossier_lot_id_lot")),
        sa.PrimaryKeyConstraint("lot_id", "rang", name=op.f("pk_lot_dossier")),
    )
    op.create_index("ix_lot_dossier_en_attente", "lot_dossier", ["cree_le", "lot_id", "rang"],
                    postgresql_where=sa.text("statut = 'en_attente'"))
    rendre_immuables(op, "lot")
    # An outcome is written once: a pending dossier becomes ok or refuse, then never changes (the
    # worker can never decide a dossier twice, even through a bug).
    op.execute("""
        CREATE FUNCTION lot_dossier_une_issue() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            IF TG_OP = 'DELETE' OR OLD.statut <> 'en_attente'
               OR (NEW.lot_id, NEW.rang, NEW.dossier_id) IS DISTINCT FROM (OLD.lot_id, OLD.rang, OLD.dossier_id) THEN
                RAISE EXCEPTION 'lot_dossier : une issue s''écrit une fois'
                    USING ERRCODE = 'integrity_constraint_violation';
            END IF;
            RETURN NEW;
        END
        $$
    """)
    op.execute("CREATE TRIGGER lot_dossier_une_issue BEFORE UPDATE OR DELETE ON lot_dossier"
               " FOR EACH ROW EXECUTE FUNCTION lot_dossier_une_issue()")


def downgrade() -> None:
    op.drop_index("ix_lot_dossier_en_attente", table_name="lot_dossier")
    op.drop_table("lot_dossier")
    op.execute("DROP FUNCTION lot_dossier_une_issue()")
    op.drop_index(op.f("ix_lot_region"), table_name="lot")
    op.drop_table("lot")
