"""outbox rows rendered by the worker: render_args

Revision ID: b3d4e5f6a703
Revises: f6b8c2d3e406
Create Date: 2026-11-28 12:20:00.000000

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'b3d4e5f6a703'
down_revision = "f6b8c2d3e406"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('render_args', sa.JSON(), nullable=True))


def downgrade():
    with op.batch_alter_table('outbox_message', schema=None) as batch_op:
        batch_op.drop_column('render_args')
