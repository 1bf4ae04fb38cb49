"""mail to establishments (issue 9 item 6): their contact address and the outbox of mails; the
evidence of attainment of AAP projects and the reminders of the draft deadlines (issue 9 item 5)

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.courriel import creer_table_courriel
from hopen_common.db.migrations import rendre_immuables
from hopen_common.rappels import creer_table_rappel_emis

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "contact_etablissement",
        sa.Column("finess", sa.String(length=9), nullable=False),
        sa.Column("courriel", sa.String(length=320), nullable=False),
        sa.Column("maj_par", sa.String(length=200), nullable=False),
        sa.Column("maj_le", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("finess", name=op.f("pk_contact_etablissement")),
    )
    creer_table_courriel(op)
    op.create_table(
        "preuve_aap",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("projet_id", sa.String(length=36), nullable=False),
        sa.Column("objectif", sa.String(length=50), nullable=False),
        sa.Column("piece_id", sa.String(length=36), nullable=False),
        sa.Column("commentaire", sa.Text(), nullable=True),
        sa.Column("depose_par", sa.String(length=200), nullable=False),
        sa.Column("depose_le", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["projet_id"], ["projet_aap.id"], name=op.f("fk_preuve_aap_projet_id_projet_aap")),
        sa.ForeignKeyConstraint(["piece_id"], ["piece.id"], name=op.f("fk_preuve_aap_piece_id_piece")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_preuve_aap")),
    )
    op.create_index(op.f("ix_preuve_aap_projet_id"), "preuve_aap", ["projet_id"], unique=False)
    rendre_immuables(op, "preuve_aap")
    creer_table_rappel_emis(op)


def downgrade() -> None:
    op.drop_table("rappel_emis")
    op.drop_table("preuve_aap")
    op.drop_table("courriel")
    op.drop_table("contact_etablissement")
