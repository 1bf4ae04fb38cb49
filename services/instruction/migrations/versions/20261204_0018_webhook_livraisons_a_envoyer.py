"""A subscription's pending deliveries in the store's order: the claim (`worker._PRENDRE`) and the
pass (`Livreur.passer`) read them by subscription without scanning every other subscription's due
deliveries nor sorting them (under a backlog of 100 000 due rows each claim of 20 did both: ADR 0026).

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04
"""

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_webhook_livraison_a_envoyer", "webhook_livraison",
                    ["abonnement_id", "evenement_position", "cree_le"],
                    postgresql_where=sa.text("statut = 'en_attente'"))


def downgrade() -> None:
    op.drop_index("ix_webhook_livraison_a_envoyer", table_name="webhook_livraison")
