"""speakers' preferred language: their run-sheet reminders in their own language

Revision ID: d4f6a7b8c904
Revises: b3d4e5f6a703
Create Date: 2026-11-28 13:14:42.607637

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "d4f6a7b8c904"
down_revision = "b3d4e5f6a703"
branch_labels = None
depends_on = None


def upgrade():
    # Nullable: existing people keep reading their account's language, else English.
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.add_column(sa.Column("preferred_language", sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table("person", schema=None) as batch_op:
        batch_op.drop_column("preferred_language")
