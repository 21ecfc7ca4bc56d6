"""seat counters per statement on PostgreSQL: one UPDATE per programme, however many rows

The triggers of b7e2c4d5f607 updated the programme row once per registration row. On
PostgreSQL every UPDATE of a row leaves a new version of it that this transaction cannot prune,
and the next UPDATE of the same row walks past them all, so one INSERT of N registrations into
one programme cost O(N^2) (1,000 rows 98 ms, 8,000 rows 2.5 s; seeding a million registrations
never finished). They are replaced by statement-level triggers with transition tables: after
each statement the rows it inserted, updated or deleted are summed per programme and every
programme concerned is updated once. A programme row is only written when its counters move,
so a statement that changes nothing they follow (a version raised, an answer edited) locks no
programme.

PostgreSQL allows a transition table only on a trigger with one event and no column list, so
there are three triggers, and the UPDATE one fires for every UPDATE statement; its sum nets to
zero and writes nothing when no status, programme or waiting-list key changed.

SQLite keeps the row-level triggers of b7e2c4d5f607: each updates the programme by its primary
key in place, the same cost for the first row as for the 8,000th.

Revision ID: d1e2f3a4b509
Revises: c8d9e0f1a208
Create Date: 2026-12-08 09:00:00.000000

"""

from alembic import op

# revision identifiers, used by Alembic.
revision = "d1e2f3a4b509"
down_revision = "c8d9e0f1a208"
branch_labels = None
depends_on = None

#: What a statement's rows add (+1) and take away (-1), summed per programme; a programme is
#: written only when one of its counters moves. The tail never goes down (rule 5).
_APPLY = """
    UPDATE programme SET
        confirmed_count = programme.confirmed_count + seats.confirmed,
        waitlisted_count = programme.waitlisted_count + seats.waitlisted,
        waitlist_tail = GREATEST(programme.waitlist_tail, seats.tail)
    FROM (
        SELECT programme_id,
            sum(sign * (status = 'confirmed')::int) AS confirmed,
            sum(sign * (status = 'waitlisted')::int) AS waitlisted,
            COALESCE(max(waitlist_position) FILTER (WHERE sign > 0), 0) AS tail
        FROM ({rows}) AS changed
        GROUP BY programme_id
    ) AS seats
    WHERE programme.id = seats.programme_id
        AND (seats.confirmed <> 0 OR seats.waitlisted <> 0
            OR seats.tail > programme.waitlist_tail)"""
_ADDED = "SELECT 1 AS sign, programme_id, status, waitlist_position FROM added"
_REMOVED = "SELECT -1 AS sign, programme_id, status, waitlist_position FROM removed"
#: (event, its transition tables, the rows it counts)
_EVENTS = (
    ("insert", "NEW TABLE AS added", _ADDED),
    ("update", "OLD TABLE AS removed NEW TABLE AS added", f"{_REMOVED} UNION ALL {_ADDED}"),
    ("delete", "OLD TABLE AS removed", _REMOVED),
)


def _create_statement_triggers() -> None:
    for event, tables, rows in _EVENTS:
        op.execute(
            f"""
            CREATE FUNCTION registration_seats_after_{event}() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
                {_APPLY.format(rows=rows)};
                RETURN NULL;
            END
            $$
            """
        )
        op.execute(
            f"""
            CREATE TRIGGER registration_seats_{event} AFTER {event.upper()} ON registration
            REFERENCING {tables}
            FOR EACH STATEMENT EXECUTE FUNCTION registration_seats_after_{event}()
            """
        )


def _drop_statement_triggers() -> None:
    for event, _tables, _rows in _EVENTS:
        op.execute(f"DROP TRIGGER IF EXISTS registration_seats_{event} ON registration")
        op.execute(f"DROP FUNCTION IF EXISTS registration_seats_after_{event}()")


#: b7e2c4d5f607's row-level triggers, for the downgrade.
_ROW_TRIGGERS = (
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


def _drop_row_triggers() -> None:
    op.execute("DROP TRIGGER IF EXISTS registration_seats_update ON registration")
    op.execute("DROP TRIGGER IF EXISTS registration_seats_insert_delete ON registration")
    op.execute("DROP FUNCTION IF EXISTS registration_seats()")


def upgrade():
    if op.get_bind().dialect.name != "postgresql":
        return  # SQLite keeps its row-level triggers (see above)
    # One transaction (PostgreSQL's DDL is transactional; DROP TRIGGER locks the table), so
    # no registration is written while neither set of triggers is in place.
    _drop_row_triggers()
    _create_statement_triggers()


def downgrade():
    if op.get_bind().dialect.name != "postgresql":
        return
    _drop_statement_triggers()
    for statement in _ROW_TRIGGERS:
        op.execute(statement)
