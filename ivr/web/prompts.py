"""Prompt audio for <Play>: rendered files served at /prompts/<language>/<file>, rendered on demand.

A prompt plays from a file when one exists (rendered by `hausruf prompts build`, or a staff
recording); otherwise Twilio's <Say> speaks it this once and the file is rendered in the
background, so templated prompts (with the caller's name) are cached after their first use.
Rendering never happens inside a webhook: espeak takes longer than a caller should wait.

Prompt URLs carry a key made with the server's secret (ivr.privacy.keys): a file name is the hash of
the prompt's text, so without the key anyone could ask for "Guten Tag, Frau Becker" and learn from a
200 that Frau Becker has called. Without the right key every prompt answers 404.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor

from flask import Blueprint, Flask, abort, current_app, send_from_directory

from ivr.privacy.keys import key_matches, server_secret, url_key
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.prompts")
bp = Blueprint("prompts", __name__)
FILE_NAME = re.compile(r"^[0-9a-f]{20}(\.recorded)?\.wav$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# A menu has up to ten prompts and each needs a hash and two stat() calls to find its file: a third
# of a webhook's time before this cache (bench/webhooks.py). Files made or dropped in by another
# process (`hausruf prompts build`, a staff recording) are seen within this many seconds.
LOOKUP_TTL_SECONDS = 10.0
LOOKUP_MAX_ENTRIES = 4096  # templated prompts (callers' names) would otherwise grow it without end


class PromptUrls:
    """prompt_url(text, language) for the TwiML renderer: a URL when the audio exists, else None."""

    def __init__(self, renderer, public_url: str | None, on_demand: bool = True, secret: bytes = b""):
        self.renderer = renderer
        self.public_url = public_url
        self.secret = secret
        self.on_demand = on_demand
        # One background renderer: pyttsx3 is not thread-safe (speech.tts serialises it anyway).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prompt-render")
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._looked_up: dict[tuple[str, str], tuple[float, str | None]] = {}

    def __call__(self, text: str, language: str) -> str | None:
        if not self.public_url:
            return None
        key = (text, language)
        hit = self._looked_up.get(key)
        if hit is not None and time.monotonic() < hit[0]:
            return hit[1]
        path = self.renderer.path_for(text, language)
        url = f"{self.public_url}{prompt_path(self.secret, language, path.name)}" if path.is_file() else None
        if url is None and self.on_demand:
            self.render_later(text, language)
        if len(self._looked_up) >= LOOKUP_MAX_ENTRIES:
            self._looked_up.clear()
        self._looked_up[key] = (time.monotonic() + LOOKUP_TTL_SECONDS, url)
        return url

    def render_later(self, text: str, language: str):
        """Queue a render unless one is queued already; returns the future (or None)."""
        key = (text, language)
        with self._lock:
            if key in self._pending:
                return None
            self._pending.add(key)
        return self._executor.submit(self._render, key)

    def _render(self, key: tuple[str, str]) -> None:
        try:
            self.renderer.render(*key)
            self._looked_up.pop(key, None)  # the next call plays the new file at once
        except Exception:  # noqa: BLE001 - <Say> keeps working; the log says what espeak disliked
            log.exception("could not render prompt %r", key[0][:60])
        finally:
            with self._lock:
                self._pending.discard(key)


def prompt_path(secret: bytes, language: str, name: str) -> str:
    """The keyed path of a prompt file: /prompts/<language>/<key>/<name>."""
    return f"/prompts/{language}/{url_key(secret, 'prompt', language, name)}/{name}"


@bp.get("/prompts/<language>/<key>/<name>")
def prompt_file(language: str, key: str, name: str):
    """The audio of one prompt; 404 unless the key is the server's for this file (known caller or not)."""
    secret = hausruf(current_app).prompt_url.secret
    if not (LANGUAGE.match(language) and FILE_NAME.match(name) and key_matches(secret, key, "prompt", language, name)):
        abort(404)
    folder = current_app.config["HAUSRUF"].prompts_dir / language
    return send_from_directory(folder, name, mimetype="audio/wav", max_age=86400)


def init_app(app: Flask) -> None:
    """Serve prompt files and give the TwiML renderer their URLs."""
    from speech.prompts import PromptRenderer

    settings = app.config["HAUSRUF"]
    renderer = PromptRenderer(settings.prompts_dir, overrides_dir=settings.flows_dir / "prompts")
    hausruf(app).prompt_renderer = renderer
    hausruf(app).prompt_url = PromptUrls(renderer, settings.public_url, on_demand=settings.render_prompts_on_demand,
                                         secret=server_secret(settings))
    app.register_blueprint(bp)
