"""the audit journal proves itself: hash chain by trigger, region column, signed checkpoints (ADR 0024)

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02
"""

from alembic import op

from hopen_common.audit import chainer_journal_audit, dechainer_journal_audit

revision = "0011"
# On today's head; the integrator re-chains it on the habilitations revision at merge.
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    chainer_journal_audit(op)


def downgrade() -> None:
    dechainer_journal_audit(op)
