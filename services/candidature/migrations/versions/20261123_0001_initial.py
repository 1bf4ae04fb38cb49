"""initial: candidatures, evidence, local copy of establishments, messaging tables

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""
from alembic import op

from hopen_candidature.models import Base
from hopen_common.db.messaging import creer_tables_messagerie, supprimer_tables_messagerie

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    # The initial schema is the models' schema at this revision; later revisions are explicit.
    Base.metadata.create_all(op.get_bind())
    creer_tables_messagerie(op)


def downgrade() -> None:
    supprimer_tables_messagerie(op)
    Base.metadata.drop_all(op.get_bind())
