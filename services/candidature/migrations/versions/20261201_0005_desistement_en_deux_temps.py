"""two-phase withdrawal (issue 7, ADR 0010): `desistement_demande` holds the applicant and its EJ

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01

A deposited candidature being withdrawn is `desistement_demande` until instruction answers
(DesistementEnregistre -> desistee, DesistementRefuse -> the ARS decision): it stays open, so the
partial unique indexes of 0003 are recreated with that status in their predicate. No row has the new
status yet; existing `desistee` rows are left as they are (a decision crossing one is parked by the
consumer with motif `desistement-croise`).
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

AVANT = "statut IN ('brouillon', 'deposee', 'validee')"
APRES = "statut IN ('brouillon', 'deposee', 'desistement_demande', 'validee')"


def _index(predicat: str) -> None:
    op.create_index('uq_candidature_ouverte', 'candidature', ['finess', 'dispositif'], unique=True,
                    postgresql_where=sa.text(predicat))
    op.create_index('uq_candidature_ej_ouverte', 'candidature_ej', ['dispositif', 'finess_ej'], unique=True,
                    postgresql_where=sa.text(predicat))


def _sans_index(predicat: str) -> None:
    op.drop_index('uq_candidature_ej_ouverte', table_name='candidature_ej', postgresql_where=sa.text(predicat))
    op.drop_index('uq_candidature_ouverte', table_name='candidature', postgresql_where=sa.text(predicat))


def upgrade() -> None:
    _sans_index(AVANT)
    _index(APRES)


def downgrade() -> None:
    # The earlier code withdrew a deposited candidature at once: a pending withdrawal becomes what it
    # would have written (instruction's later answer is then ignored by that code).
    for table in ('candidature', 'candidature_ej'):
        op.execute(f"UPDATE {table} SET statut = 'desistee' WHERE statut = 'desistement_demande'")
    _sans_index(APRES)
    _index(AVANT)
