"""Column types shared by every feature."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from sqlalchemy import CheckConstraint, DateTime, ForeignKey
from sqlalchemy.orm import mapped_column
from sqlalchemy.types import TypeDecorator

#: A table's surrogate key: `id: Mapped[SurrogateKey]`.
SurrogateKey = Annotated[int, mapped_column(primary_key=True)]
#: A row that belongs to a registration: removed with it, indexed for the registration's pages.
RegistrationKey = Annotated[
    int, mapped_column(ForeignKey("registration.id", ondelete="CASCADE"), index=True)
]


class UTCDateTime(TypeDecorator):
    """A timezone-aware instant, stored in UTC and always read back as an aware UTC datetime.

    SQLite keeps no offset, so values are written there as naive UTC; PostgreSQL uses timestamptz.
    Naive datetimes are refused: they are the classic source of off-by-hours bugs.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given for a UTC column")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


#: An instant that defaults to the moment the row is written.
NowByDefault = Annotated[datetime, mapped_column(UTCDateTime, default=utcnow)]
#: A row that belongs to a programme: removed with it, indexed for the programme's pages.
ProgrammeKey = Annotated[
    int, mapped_column(ForeignKey("programme.id", ondelete="CASCADE"), index=True)
]
#: A row that belongs to a person's account: removed with it, indexed for their pages.
UserKey = Annotated[
    int, mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
]


def one_of(column: str, values: tuple[str, ...], name: str) -> CheckConstraint:
    """A CHECK constraint that keeps a string column inside a fixed set of values."""
    quoted = ", ".join(f"'{value}'" for value in values)
    return CheckConstraint(f"{column} IN ({quoted})", name=name)
