"""Private files: databases, the spool, recordings and rendered prompts are readable by the service user only.

The process umask makes every file Hausruf (and SQLite, huey, espeak) creates 0600 and every folder
0700; files and folders made by an older version are tightened at start.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from sqlalchemy.engine import make_url

log = logging.getLogger("hausruf.privacy")
PRIVATE_UMASK = 0o077
FILE_MODE = 0o600
DIR_MODE = 0o700


def restrict_new_files() -> None:
    """New files 0600, new folders 0700, for this whole process and its children."""
    os.umask(PRIVATE_UMASK)


def sqlite_path(url: str) -> Path | None:
    """The database file of a SQLite URL; None for other databases and in-memory SQLite."""
    try:
        parsed = make_url(url)
    except Exception:  # noqa: BLE001 - a bad URL is reported where the engine is made
        return None
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def private_paths(settings) -> tuple[list[Path], list[Path]]:
    """(folders, files) that hold personal data under these settings."""
    folders = [settings.data_dir / "spool", settings.recordings_dir, settings.prompts_dir]
    files: list[Path] = []
    for url in (settings.database_url, settings.queue_url):
        path = sqlite_path(url)
        if path is not None:
            folders.append(path.parent)
            files += [path, Path(f"{path}-wal"), Path(f"{path}-shm"), Path(f"{path}-journal")]
    return folders, files


def tighten(settings) -> None:
    """Make existing private folders 0700 and their files 0600 (an install from before this rule)."""
    folders, files = private_paths(settings)
    for folder in folders:
        if folder.is_dir():
            _chmod(folder, DIR_MODE)
            for path in folder.rglob("*"):
                _chmod(path, DIR_MODE if path.is_dir() else FILE_MODE)
    for path in files:
        if path.is_file():
            _chmod(path, FILE_MODE)


def _chmod(path: Path, mode: int) -> None:
    try:
        if path.stat().st_mode & 0o777 != mode:
            path.chmod(mode)
    except OSError as exc:  # not ours (a shared folder): say so, serve anyway
        log.warning("could not make %s private: %s", path, exc)
