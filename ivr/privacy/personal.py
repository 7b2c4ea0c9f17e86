"""Personal prompt fragments (a caller's salutation, a first name): rendered locally, kept under keyed names.

A fragment's file name is a key made with the server's secret from its text, so neither the name nor
the URL reveals whom it speaks, and `hausruf person erase` finds a person's files from their names.
"""

from __future__ import annotations

from pathlib import Path

from ivr.privacy.keys import server_secret, url_key

FOLDER = "personal"


def fragment_name(secret: bytes, language: str, text: str) -> str:
    """The file name of one personal fragment."""
    return f"{url_key(secret, 'personal', language, ' '.join(text.split()))}.wav"


def fragment_path(prompts_dir: Path, secret: bytes, language: str, text: str) -> Path:
    """Where the fragment's audio lives."""
    return Path(prompts_dir) / FOLDER / language / fragment_name(secret, language, text)


def files_for_texts(settings, texts: list[str]) -> list[Path]:
    """The rendered fragments, in any language, of these texts."""
    folder = Path(settings.prompts_dir) / FOLDER
    if not folder.is_dir() or not texts:
        return []
    secret = server_secret(settings)
    found = []
    for language_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        for text in texts:
            path = fragment_path(settings.prompts_dir, secret, language_dir.name, text)
            if path.exists():
                found.append(path)
    return found
