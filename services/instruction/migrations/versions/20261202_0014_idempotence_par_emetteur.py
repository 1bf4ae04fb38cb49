"""Idempotency-Key scoped by (issuer, subject, rights), not the subject alone (hostile review of issue 10)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-02
"""

from alembic import op

from hopen_common.db.migrations import descoper_idempotence_par_emetteur, scoper_idempotence_par_emetteur

revision = "0014"
# On today's head; the integrator re-chains it.
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    scoper_idempotence_par_emetteur(op)


def downgrade() -> None:
    descoper_idempotence_par_emetteur(op)
