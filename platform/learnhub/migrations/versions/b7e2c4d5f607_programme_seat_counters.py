"""programme seat counters: confirmed and waitlisted registrations kept by triggers

Registering decided its seat by counting the programme's registrations under the write lock:
a cost that grew with every registration (about 0.3 ms at 2,000, held while no one else could
register). The programme row now carries the counts, kept by database triggers on
`registration`, so every way a registration is written (the ORM, Core statements, a cascade,
the demo loader, a console) keeps them right, and reading them costs nothing extra once the
programme row is locked.

Note for later migrations: SQLite's batch mode rebuilds a table by copying it, which drops its
triggers. A migration that batch-alters `registration` must create them again
(tests/registration/test_seat_counters.py fails otherwise). Rebuilding `programme` needs
nothing: migrations run with legacy renames on SQLite (database.sqlite_migration_settings).

Revision ID: b7e2c4d5f607
Revises: a6d0e1f2a306
Create Date: 2026-11-28 17:30:00.000000

"""

import sqlalchemy as sa
from alembic import op

# revision identifiers, used by Alembic.
revision = "b7e2c4d5f607"
down_revision = "a6d0e1f2a306"
branch_labels = None
depends_on = None

#: SQLite: what a row adds to its programme's counters (NEW) and takes away from them (OLD).
_SQLITE_ADD = """
        UPDATE programme SET
            confirmed_count = confirmed_count + (NEW.status = 'confirmed'),
            waitlisted_count = waitlisted_count + (NEW.status = 'waitlisted'),
            waitlist_tail = MAX(waitlist_tail, COALESCE(NEW.waitlist_position, 0))
        WHERE id = NEW.programme_id;"""
_SQLITE_REMOVE = """
        UPDATE programme SET
            confirmed_count = confirmed_count - (OLD.status = 'confirmed'),
            waitlisted_count = waitlisted_count - (OLD.status = 'waitlisted')
        WHERE id = OLD.programme_id;"""
_SQLITE_TRIGGERS = (
    f"CREATE TRIGGER registration_seats_insert AFTER INSERT ON registration BEGIN {_SQLITE_ADD} END",
    f"""
    CREATE TRIGGER registration_seats_update AFTER UPDATE OF status, programme_id,
        waitlist_position ON registration
    WHEN OLD.status IS NOT NEW.status OR OLD.programme_id IS NOT NEW.programme_id
        OR OLD.waitlist_position IS NOT NEW.waitlist_position
    BEGIN {_SQLITE_REMOVE} {_SQLITE_ADD}
    END
    """,
    f"CREATE TRIGGER registration_seats_delete AFTER DELETE ON registration BEGIN {_SQLITE_REMOVE} END",
)

_POSTGRES_TRIGGERS = (
    """
    CREATE FUNCTION registration_seats() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE programme SET
                confirmed_count = confirmed_count - (OLD.status = 'confirmed')::int,
                waitlisted_count = waitlisted_count - (OLD.status = 'waitlisted')::int
            WHERE id = OLD.programme_id;
        END IF;
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            UPDATE programme SET
                confirmed_count = confirmed_count + (NEW.status = 'confirmed')::int,
                waitlisted_count = waitlisted_count + (NEW.status = 'waitlisted')::int,
                waitlist_tail = GREATEST(waitlist_tail, COALESCE(NEW.waitlist_position, 0))
            WHERE id = NEW.programme_id;
        END IF;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER registration_seats_insert_delete AFTER INSERT OR DELETE ON registration
    FOR EACH ROW EXECUTE FUNCTION registration_seats()
    """,
    """
    CREATE TRIGGER registration_seats_update AFTER UPDATE OF status, programme_id,
        waitlist_position ON registration
    FOR EACH ROW
    WHEN (OLD.status IS DISTINCT FROM NEW.status
        OR OLD.programme_id IS DISTINCT FROM NEW.programme_id
        OR OLD.waitlist_position IS DISTINCT FROM NEW.waitlist_position)
    EXECUTE FUNCTION registration_seats()
    """,
)


def create_seat_triggers() -> None:
    statements = (
        _POSTGRES_TRIGGERS if op.get_bind().dialect.name == "postgresql" else _SQLITE_TRIGGERS
    )
    for statement in statements:
        op.execute(statement)


def drop_seat_triggers() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP TRIGGER IF EXISTS registration_seats_update ON registration")
        op.execute("DROP TRIGGER IF EXISTS registration_seats_insert_delete ON registration")
        op.execute("DROP FUNCTION IF EXISTS registration_seats()")
    else:
        for name in ("insert", "update", "delete"):
            op.execute(f"DROP TRIGGER IF EXISTS registration_seats_{name}")


def upgrade():
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("confirmed_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("waitlisted_count", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.add_column(
            sa.Column("waitlist_tail", sa.Integer(), server_default="0", nullable=False)
        )
        batch_op.create_check_constraint(
            "seat_counters_not_negative",
            "confirmed_count >= 0 AND waitlisted_count >= 0 AND waitlist_tail >= 0",
        )
    if op.get_bind().dialect.name == "postgresql":
        # No registration may change between the count and the triggers taking over.
        op.execute("LOCK TABLE registration IN SHARE MODE")
    op.execute(
        """
        UPDATE programme SET
            confirmed_count = (SELECT count(*) FROM registration
                WHERE registration.programme_id = programme.id
                AND registration.status = 'confirmed'),
            waitlisted_count = (SELECT count(*) FROM registration
                WHERE registration.programme_id = programme.id
                AND registration.status = 'waitlisted'),
            waitlist_tail = COALESCE((SELECT max(waitlist_position) FROM registration
                WHERE registration.programme_id = programme.id
                AND registration.status = 'waitlisted'), 0)
        """
    )
    create_seat_triggers()


def downgrade():
    drop_seat_triggers()
    with op.batch_alter_table("programme", schema=None) as batch_op:
        batch_op.drop_constraint("seat_counters_not_negative", type_="check")
        batch_op.drop_column("waitlist_tail")
        batch_op.drop_column("waitlisted_count")
        batch_op.drop_column("confirmed_count")
