"""pieces (issue 8): the uploaded files of a dossier, metadata here and bytes in the store

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02

`piece` holds one row per uploaded version (immutable, like the evidence it backs); the unique index
reads a missing finess_ej as '' so that version n is unique per (dossier, type, EJ or none).
`preuve_hospiconnect.piece_id` names the piece an evidence document is; evidence deposited before
this revision keeps it NULL (its metadata was typed by the client).
"""

import sqlalchemy as sa
from alembic import op

from hopen_common.db.migrations import rendre_immuables

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('piece',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('dossier_type', sa.String(length=20), nullable=False),
    sa.Column('dossier_id', sa.String(length=36), nullable=False),
    sa.Column('finess', sa.String(length=9), nullable=False),
    sa.Column('region', sa.String(length=3), nullable=False),
    sa.Column('type', sa.String(length=40), nullable=False),
    sa.Column('finess_ej', sa.String(length=9), nullable=True),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('nom', sa.String(length=255), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('taille', sa.BigInteger(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('cle', sa.String(length=200), nullable=False),
    sa.Column('depose_par', sa.String(length=200), nullable=False),
    sa.Column('depose_le', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_piece')),
    sa.UniqueConstraint('cle', name=op.f('uq_piece_cle'))
    )
    op.create_index('uq_piece_version', 'piece',
                    ['dossier_type', 'dossier_id', 'type', sa.text("coalesce(finess_ej, '')"), 'version'],
                    unique=True)
    rendre_immuables(op, "piece")
    op.add_column('preuve_hospiconnect', sa.Column('piece_id', sa.String(length=36), nullable=True))
    op.create_foreign_key(op.f('fk_preuve_hospiconnect_piece_id_piece'), 'preuve_hospiconnect', 'piece',
                          ['piece_id'], ['id'])


def downgrade() -> None:
    op.drop_constraint(op.f('fk_preuve_hospiconnect_piece_id_piece'), 'preuve_hospiconnect',
                       type_='foreignkey')
    op.drop_column('preuve_hospiconnect', 'piece_id')
    op.drop_index('uq_piece_version', table_name='piece')
    op.drop_table('piece')
