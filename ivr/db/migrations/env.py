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
