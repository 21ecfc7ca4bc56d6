"""programme content version: keys the cached parts of its public page

Revision ID: a6d0e1f2a306
Revises: d4f6a7b8c904
Create Date: 2026-11-28 13:20:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "a6d0e1f2a306"
down_revision = "d4f6a7b8c904"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("content_version", sa.Integer(), server_default="1", nullable=False)
        )


def downgrade():
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_column("content_version")
