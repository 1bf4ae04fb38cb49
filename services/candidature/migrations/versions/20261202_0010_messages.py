"""messages (issue 9 item 3): the establishment's copy of each dossier's thread with its ARS

Revision ID: 0010
Revises: 0008
Create Date: 2026-12-02
"""

from alembic import op

from hopen_common.fil import creer_table_message

revision = "0010"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    creer_table_message(op)


def downgrade() -> None:
    op.drop_index("ix_message_dossier", table_name="message")
    op.drop_table("message")
