"""The task queue: Huey on a SQLite file by default, on Redis when several machines share the work.

HAUSRUF_QUEUE_URL=sqlite:///path/huey.sqlite3 (default: data/huey.sqlite3) or redis://host:6379/0.
The queue only carries wake-up calls; the database rows (outbox, next_step_at) say what is to do,
so a lost queue loses nothing but a second of latency.
"""

from __future__ import annotations

from pathlib import Path

from huey import Huey, RedisHuey, SqliteHuey

NAME = "hausruf"


def make_huey(queue_url: str) -> Huey:
    """A Huey instance for the URL; ValueError names the accepted forms."""
    if queue_url.startswith(("redis://", "rediss://", "unix://")):
        return RedisHuey(NAME, url=queue_url)
    if queue_url.startswith("sqlite:///"):
        path = Path(queue_url[len("sqlite:///"):])
        path.parent.mkdir(parents=True, exist_ok=True)
        return SqliteHuey(NAME, filename=str(path))
    raise ValueError(f"HAUSRUF_QUEUE_URL={queue_url!r}: expected sqlite:///path/to/huey.sqlite3 or redis://host:port/db")
