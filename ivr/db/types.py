"""Column types that behave the same on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import DateTime
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator):
    """Aware datetimes stored as UTC; read back aware in UTC on both backends.

    SQLite has no time zones and would hand back naive values, PostgreSQL hands back the
    session's zone: normalising here spares every caller that difference. Naive values are
    refused, because a naive Berlin wall time silently stored as UTC is an hour or two wrong.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"naive datetime {value.isoformat()} given; pass an aware datetime (UTC)")
        value = value.astimezone(timezone.utc)
        # SQLite stores text; naive UTC keeps every row in one format so comparisons stay textual-correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=timezone.utc)
        return value.astimezone(timezone.utc)


def utcnow() -> datetime:
    """The current moment, aware in UTC (default for created_at columns)."""
    return datetime.now(timezone.utc)
