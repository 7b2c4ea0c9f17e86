"""Prompt audio for <Play>: rendered files served at /prompts/<language>/<file>, rendered on demand.

A prompt plays from a file when one exists (rendered by `hausruf prompts build`, or a staff
recording); otherwise Twilio's <Say> speaks it this once and the file is rendered in the
background, so templated prompts (with the caller's name) are cached after their first use.
Rendering never happens inside a webhook: espeak takes longer than a caller should wait.

Prompt URLs carry a key made with the server's secret (ivr.privacy.keys): a file name is the hash of
the prompt's text, so without the key anyone could ask for "Guten Tag, Frau Becker" and learn from a
200 that Frau Becker has called. Without the right key every prompt answers 404.

A prompt that names a tenant is never handed to the provider's <Say>: ivr.privacy.personal renders
it locally (waiting at most a second at its first use), and until then the caller hears its neutral
form. The partner's whisper is rendered locally too; its URL carries a key, never the text.
"""

from __future__ import annotations

import logging
import re
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode

from flask import Blueprint, Flask, abort, current_app, send_from_directory

from ivr.privacy.keys import key_matches, server_secret, url_key
from ivr.privacy.personal import FOLDER as PERSONAL_FOLDER
from ivr.privacy.personal import WAIT_SECONDS, PersonalPrompts, neutral_text
from ivr.wiring import hausruf

log = logging.getLogger("hausruf.prompts")
bp = Blueprint("prompts", __name__)
FILE_NAME = re.compile(r"^[0-9a-f]{20}(\.recorded)?\.wav$")
KEY = re.compile(r"^[0-9a-f]{24}$")
PERSONAL_FILE = re.compile(r"^[0-9a-f]{24}\.wav$")
LANGUAGE = re.compile(r"^[a-z]{2,3}$")
# A menu has up to ten prompts and each needs a hash and two stat() calls to find its file: a third
# of a webhook's time before this cache (bench/webhooks.py). Files made or dropped in by another
# process (`hausruf prompts build`, a staff recording) are seen within this many seconds.
LOOKUP_TTL_SECONDS = 10.0
LOOKUP_MAX_ENTRIES = 4096  # templated prompts (callers' names) would otherwise grow it without end


class PromptUrls:
    """prompt_url(text, language) for the TwiML renderer: a URL when the audio exists, else None."""

    def __init__(self, renderer, public_url: str | None, on_demand: bool = True, secret: bytes = b"",
                 personal: PersonalPrompts | None = None):
        self.renderer = renderer
        self.public_url = public_url
        self.secret = secret
        self.personal = personal
        # Personal sentences have their own renderer thread: a queue of ordinary prompts must not
        # push a caller's name past the one second we wait for it.
        self._personal_executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="personal-render")
        self._personal_pending: dict[tuple[str, str], object] = {}
        self.on_demand = on_demand
        # One background renderer: pyttsx3 is not thread-safe (speech.tts serialises it anyway).
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prompt-render")
        self._pending: set[tuple[str, str]] = set()
        self._lock = threading.Lock()
        self._looked_up: dict[tuple[str, str], tuple[float, str | None]] = {}

    def __call__(self, text: str, language: str) -> str | None:
        if not self.public_url:
            return None
        values = self._personal_values(text)
        if values:
            return self._personal_url(text, language, values)
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

    def _personal_values(self, text: str, fresh: bool = False) -> list[str]:
        return self.personal.values_in(text, fresh) if self.personal is not None else []

    def sayable(self, text: str, language: str) -> str:
        """What the provider's <Say> may speak for text: the text, or its neutral form if it names someone."""
        # The last check before text leaves for the provider: ask the directory now, not a second ago
        # (a tenant imported a moment ago must not be greeted by the provider's voice).
        values = self._personal_values(text, fresh=True)
        return neutral_text(text, values) if values else text

    def _personal_url(self, text: str, language: str, values: list[str], wait: float = WAIT_SECONDS) -> str | None:
        """The keyed URL of the locally rendered sentence; at first use wait up to `wait`, then the neutral text."""
        path = self.personal.path_for(text, language, values)
        if not path.is_file() and self.on_demand:
            future = self._render_personal(text, language, values)
            try:
                future.result(timeout=wait)
            except Exception:  # noqa: BLE001 - too slow or failed: the neutral text now, the name next time
                pass
        if path.is_file():
            return f"{self.public_url}{self._personal_path(path)}"
        neutral = neutral_text(text, values)
        return self(neutral, language) if neutral else None

    def _render_personal(self, text: str, language: str, values: list[str]):
        key = (text, language)
        with self._lock:
            future = self._personal_pending.get(key)
            if future is None:
                future = self._personal_executor.submit(self._render_personal_now, key, values)
                self._personal_pending[key] = future
        return future

    def _render_personal_now(self, key: tuple[str, str], values: list[str]) -> None:
        try:
            self.personal.render(key[0], key[1], values)
        except Exception:  # noqa: BLE001 - the neutral text keeps playing; the log says what failed
            log.exception("could not render a personal prompt (%d characters)", len(key[0]))
        finally:
            with self._lock:
                self._personal_pending.pop(key, None)

    def _personal_path(self, path) -> str:
        relative = path.relative_to(self.renderer.cache_dir)
        return "/prompts/" + relative.as_posix()

    def whisper_url(self, text: str, language: str) -> str:
        """Where the partner's phone fetches the whisper: for a personal one a keyed audio path, never its text."""
        values = self._personal_values(text)
        if not values:  # nothing personal in it: the provider may speak it
            return "/twilio/voice/whisper?" + urlencode({"text": text, "lang": language})
        path = self.personal.path_for(text, language, values)
        if not path.is_file() and self.on_demand:
            self._render_personal(text, language, values)  # the partner answers seconds from now
        audio = path.relative_to(self.renderer.cache_dir).as_posix()
        return "/twilio/voice/whisper?" + urlencode({"lang": language, "audio": audio,
                                                      "key": url_key(self.secret, "whisper", audio)})

    def whisper_key_ok(self, audio: str, key: str) -> bool:
        """Whether a whisper URL's audio path is one whisper_url made."""
        return bool(audio) and key_matches(self.secret, key, "whisper", audio)

    def whisper_audio(self, audio: str) -> str | None:
        """The public URL of a (key-checked) whisper's audio once the file is there, waiting up to 1 s."""
        if not self.public_url:
            return None
        path = self.renderer.cache_dir / audio
        deadline = time.monotonic() + (WAIT_SECONDS if self.on_demand else 0)
        while not path.is_file() and time.monotonic() < deadline:
            time.sleep(0.05)
        return f"{self.public_url}/prompts/{audio}" if path.is_file() else None

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


def _prerender(personal: PersonalPrompts, app: Flask) -> None:
    try:
        languages = sorted({flow.language for flow in hausruf(app).flows.current().flows()})
        made = personal.prerender(languages or [app.config["HAUSRUF"].default_language])
        if made:
            log.info("rendered %d personal prompt fragments ahead of time", made)
    except Exception:  # noqa: BLE001 - first uses render them instead
        log.warning("could not render the directory's names ahead of time", exc_info=True)


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


@bp.get("/prompts/personal/<language>/<folder>/<name>")
def personal_file(language: str, folder: str, name: str):
    """A locally rendered personal sentence; folder and name are keys made with the server's secret."""
    if not (LANGUAGE.match(language) and KEY.match(folder) and PERSONAL_FILE.match(name)):
        abort(404)
    base = current_app.config["HAUSRUF"].prompts_dir / PERSONAL_FOLDER / language / folder
    return send_from_directory(base, name, mimetype="audio/wav", max_age=86400)


def _directory_names(engine):
    """(load, version): the directory's personal values, and a cheap sign that tenants were added or removed."""
    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from ivr.db.engine import READ_ONLY
    from ivr.db.models import Tenant

    reader = engine.execution_options(**{READ_ONLY: True})

    def load() -> list[tuple[str, str, bool]]:
        with Session(reader) as session:
            rows = session.execute(select(Tenant.salutation, Tenant.first_name, Tenant.last_name,
                                          Tenant.language)).all()
        # Greetings name the salutation, whispers the first name: those two are rendered ahead.
        return [entry for salutation, first, last, language in rows
                for entry in ((salutation, language, True), (first, language, True), (last, language, False))]

    def version() -> tuple:
        with Session(reader) as session:
            return tuple(session.execute(select(func.count(), func.max(Tenant.id)).select_from(Tenant)).one())

    return load, version


def init_app(app: Flask) -> None:
    """Serve prompt files and give the TwiML renderer their URLs."""
    from speech.prompts import PromptRenderer

    settings = app.config["HAUSRUF"]
    renderer = PromptRenderer(settings.prompts_dir, overrides_dir=settings.flows_dir / "prompts")
    hausruf(app).prompt_renderer = renderer
    from ivr.db import engine_of

    secret = server_secret(settings)
    load, version = _directory_names(engine_of(app))
    personal = PersonalPrompts(renderer, settings.prompts_dir, secret, load_values=load, version=version)
    urls = PromptUrls(renderer, settings.public_url, on_demand=settings.render_prompts_on_demand, secret=secret,
                      personal=personal)
    hausruf(app).prompt_url = urls
    if settings.render_prompts_on_demand:
        # The directory's names ahead of time, so a known caller's first greeting is joined, not synthesised.
        urls._executor.submit(_prerender, personal, app)
    app.register_blueprint(bp)
