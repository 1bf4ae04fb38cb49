"""collaboration (issue 9 items 3 and 7): the message thread of each dossier, assignment to an agent
with its immutable history, expert opinions and their answers (immutable)

Revision ID: 0007
Revises: 0005
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.db.migrations import rendre_immuables
from hopen_common.fil import creer_table_message

revision = "0007"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for table in ("dossier", "projet"):
        op.add_column(table, sa.Column("affecte_a", sa.String(length=200), nullable=True))
        op.create_index(op.f(f"ix_{table}_affecte_a"), table, ["affecte_a"])
    creer_table_message(op)
    op.create_table(
        "affectation",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("agent", sa.String(length=200), nullable=True),
        sa.Column("precedent", sa.String(length=200), nullable=True),
        sa.Column("par", sa.String(length=200), nullable=False),
        sa.Column("le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_affectation")),
    )
    op.create_index("ix_affectation_dossier", "affectation", ["dossier_type", "dossier_id"])
    op.create_table(
        "avis",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("dossier_type", sa.String(length=20), nullable=False),
        sa.Column("dossier_id", sa.String(length=36), nullable=False),
        sa.Column("region", sa.String(length=3), nullable=False),
        sa.Column("expert", sa.String(length=200), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("echeance", sa.Date(), nullable=False),
        sa.Column("demande_par", sa.String(length=200), nullable=False),
        sa.Column("demande_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_avis")),
    )
    op.create_index("ix_avis_dossier", "avis", ["dossier_type", "dossier_id"])
    op.create_index(op.f("ix_avis_expert"), "avis", ["expert"])
    op.create_table(
        "reponse_avis",
        sa.Column("avis_id", sa.String(length=36), nullable=False),
        sa.Column("avis", sa.String(length=20), nullable=False),
        sa.Column("texte", sa.Text(), nullable=False),
        sa.Column("rendu_par", sa.String(length=200), nullable=False),
        sa.Column("rendu_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["avis_id"], ["avis.id"], name=op.f("fk_reponse_avis_avis_id_avis")),
        sa.PrimaryKeyConstraint("avis_id", name=op.f("pk_reponse_avis")),
    )
    rendre_immuables(op, "affectation", "avis", "reponse_avis")


def downgrade() -> None:
    op.drop_table("reponse_avis")
    op.drop_index(op.f("ix_avis_expert"), table_name="avis")
    op.drop_index("ix_avis_dossier", table_name="avis")
    op.drop_table("avis")
    op.drop_index("ix_affectation_dossier", table_name="affectation")
    op.drop_table("affectation")
    op.drop_index("ix_message_dossier", table_name="message")
    op.drop_table("message")
    for table in ("projet", "dossier"):
        op.drop_index(op.f(f"ix_{table}_affecte_a"), table_name=table)
        op.drop_column(table, "affecte_a")
