"""user session generation: signing out or changing the password ends every session

Revision ID: c8d9e0f1a208
Revises: b7e2c4d5f607
Create Date: 2026-12-07 01:00:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "c8d9e0f1a208"
down_revision = "b7e2c4d5f607"
branch_labels = None
depends_on = None


def upgrade():
    # Existing sessions carry a bare id, read as generation 0: they stay signed in until the
    # person signs out or changes their password.
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("session_generation", sa.Integer(), nullable=False, server_default="0")
        )


def downgrade():
    with op.batch_alter_table("user_account", schema=None) as batch_op:
        batch_op.drop_column("session_generation")
