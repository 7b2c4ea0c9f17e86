"""Alembic environment: the URL comes from config.attributes (see ivr.db.migrate), never from a file."""

from __future__ import annotations

from alembic import context

from ivr.db.engine import make_engine
from ivr.db.models import Base

config = context.config


def run_migrations_online() -> None:
    """Run the migrations on a live connection; batch mode lets SQLite alter tables."""
    engine = make_engine(config.attributes["database_url"])
    try:
        with engine.connect() as connection:
            if connection.dialect.name == "sqlite":
                # Batch mode rebuilds a table by dropping the old one: with foreign keys on, that
                # deletes the rows referring to it (ON DELETE CASCADE). SQLite's own recipe for
                # altering tables switches them off first, outside any transaction
                # (sqlite.org/lang_altertable.html, "Making Other Kinds Of Table Schema Changes").
                connection.connection.driver_connection.execute("PRAGMA foreign_keys=OFF")
            context.configure(
                connection=connection,
                target_metadata=Base.metadata,
                render_as_batch=True,
                compare_type=True,
            )
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    raise SystemExit("offline (--sql) migrations are not supported; run `hausruf db upgrade`")
run_migrations_online()
