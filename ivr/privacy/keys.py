"""The server's secret, and keys derived from it for URLs that must not be guessable (personal prompts)."""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_LENGTH = 24  # hex characters: 96 bits, far beyond guessing one URL at a time
SECRET_FILE = "secret.key"


def server_secret(settings) -> bytes:
    """HAUSRUF_SECRET_KEY, else a random secret kept in the data folder (made once, 0600)."""
    if getattr(settings, "secret_key", None):
        return settings.secret_key.encode("utf-8")
    path = Path(settings.data_dir) / SECRET_FILE
    if not path.is_file():
        path.parent.mkdir(parents=True, exist_ok=True)
        draft = path.with_name(f".{SECRET_FILE}.{os.getpid()}")
        fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_hex(32))
        try:
            # link() fails if the file exists: processes starting at once agree on the first whole file.
            os.link(draft, path)
        except FileExistsError:
            pass
        finally:
            draft.unlink(missing_ok=True)
    return path.read_text().strip().encode("utf-8")


def url_key(secret: bytes, *parts: str) -> str:
    """A short keyed hash of parts: the same for the same parts, unguessable without the secret."""
    message = "\x1f".join(parts).encode("utf-8")
    return hmac.new(secret, message, hashlib.sha256).hexdigest()[:KEY_LENGTH]


def key_matches(secret: bytes, key: str, *parts: str) -> bool:
    """Whether key was made by url_key for these parts (compared in constant time)."""
    return hmac.compare_digest(url_key(secret, *parts), key or "")
