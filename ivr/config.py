"""Every setting of Hausruf, declared once in a registry: parsed, checked and reported together.

A setting is a dataclass field made with `setting(...)`: the environment variable, a parser that
turns the text into a value (or raises ValueError saying what is allowed), a default, whether it
is a secret (masked by `hausruf config`), a help text, and optionally a check that needs the other
settings or the disk (a flow of that name exists, a model folder is there). Settings reads every
field of the registry, collects every problem (variable, bad value, what is allowed) and reports
them together: `Settings.from_env()` raises SettingsError for values that cannot be parsed, and
`startup_problems(settings)` adds the checks that `hausruf serve|worker|demo|config` run at start.

How to add a setting:

- One that several parts need: add a field to `Settings` below, e.g.
      retention_days: int = setting("HAUSRUF_RETENTION_DAYS", integer(minimum=1), 30,
                                    help="days until call records and recordings are deleted")
- One that only your subsystem reads (SIP, Matrix, the console ...): declare a frozen dataclass of
  `setting(...)` fields in your own module and add "module:ClassName" to SETTINGS_GROUPS below;
  read it with `settings.group(SipSettings)`. Keep that module light (it is imported at start).
      @dataclass(frozen=True)
      class SipSettings:
          \"\"\"SIP trunk or PBX (hausruf sip).\"\"\"
          listen: str = setting("HAUSRUF_SIP_LISTEN", text, "0.0.0.0:5060", help="address:port to listen on")
          password: str | None = setting("HAUSRUF_SIP_PASSWORD", text, None, secret=True, help="...")
Parsers for common kinds are here: text, integer, number, boolean, choice, phone, url,
database, queue, time_zone, holiday_area, language_code, level, path. Write the README row too.
"""

from __future__ import annotations

import difflib
import importlib
import os
from collections.abc import Callable, Mapping
from dataclasses import MISSING, dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from typing import Any, TypeVar

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Subsystems' own setting groups, as "module:ClassName" (see the module docstring).
SETTINGS_GROUPS: tuple[str, ...] = (
    "ivr.tasks.config:TaskSettings",
    "ivr.telephony.sip.settings:SipSettings",
    "ivr.telephony.matrix.settings:MatrixSettings",
)

T = TypeVar("T")


# --- the registry --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Setting:
    """One environment variable: how to read it, its default and what it means."""

    env: str
    parse: Callable[[str], Any]
    default: Any = None  # a value, or a callable(values so far) -> value for defaults that depend on others
    secret: bool = False
    help: str = ""
    check: Callable[[Any, Mapping[str, Any]], str | None] | None = None  # at start-up: a problem or None
    prefix: bool = False  # env is a prefix: HAUSRUF_VOSK_MODEL_<LANG> gives {lang: parsed value}

    def default_for(self, values: Mapping[str, Any]) -> Any:
        """The default, computed from the settings read before it when it is a callable."""
        return self.default(values) if callable(self.default) else self.default


def setting(env: str, parse: Callable[[str], Any] = None, default: Any = None, *, secret: bool = False,
            help: str = "", check: Callable[[Any, Mapping[str, Any]], str | None] | None = None,
            prefix: bool = False) -> Any:
    """A dataclass field that is read from the environment variable env (see the module docstring)."""
    declared = Setting(env, parse or text, default, secret, help, check, prefix)
    if prefix:
        return field(default_factory=dict, metadata={"setting": declared})
    static = None if callable(default) else default
    return field(default=static, metadata={"setting": declared})


@dataclass(frozen=True, order=True)
class SettingProblem:
    """One bad setting: the variable, its value and what is allowed."""

    env: str
    value: str
    message: str
    secret: bool = False

    def __str__(self) -> str:
        shown = mask(self.value) if self.secret else self.value
        return f"{self.env}={shown!r}: {self.message}"


class SettingsError(ValueError):
    """Settings that cannot be used; carries every problem, one line each."""

    def __init__(self, problems: list[SettingProblem]):
        self.problems = sorted(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def mask(value: Any) -> str:
    """A secret as shown by `hausruf config`: set or not, never the value."""
    return "***" if value not in (None, "") else ""


def declared_settings(cls: type) -> list[tuple[str, Setting]]:
    """(field name, Setting) of every registry field of a settings class, in declaration order."""
    return [(f.name, f.metadata["setting"]) for f in fields(cls) if "setting" in f.metadata]


def read_settings(cls: type[T], environ: Mapping[str, str], overrides: Mapping[str, Any] | None = None
                  ) -> tuple[T, list[SettingProblem]]:
    """An instance of cls from environ; a bad value takes its default and becomes a problem (never raises)."""
    overrides = dict(overrides or {})
    values: dict[str, Any] = {}
    problems: list[SettingProblem] = []
    for name, declared in declared_settings(cls):
        if name in overrides:
            values[name] = overrides.pop(name)
            continue
        if declared.prefix:
            values[name] = {}
            for key in sorted(environ):
                raw = (environ[key] or "").strip()
                if key.startswith(declared.env) and raw:
                    try:
                        values[name][key[len(declared.env):].lower()] = declared.parse(raw)
                    except ValueError as exc:
                        problems.append(SettingProblem(key, raw, str(exc), declared.secret))
            continue
        raw = (environ.get(declared.env) or "").strip()
        if not raw:
            values[name] = declared.default_for(values)
            continue
        try:
            values[name] = declared.parse(raw)
        except ValueError as exc:
            problems.append(SettingProblem(declared.env, raw, str(exc), declared.secret))
            values[name] = declared.default_for(values)
    values.update(overrides)  # fields outside the registry (Settings.groups)
    return cls(**values), problems


def check_settings(instance: Any, context: Mapping[str, Any] | None = None) -> list[SettingProblem]:
    """The start-up checks of one settings object (those that need other settings or the disk)."""
    values = {f.name: getattr(instance, f.name) for f in fields(instance)}
    values.update(context or {})
    problems = []
    for name, declared in declared_settings(type(instance)):
        if declared.check is None:
            continue
        message = declared.check(values[name], values)
        if message:
            problems.append(SettingProblem(declared.env, _shown(values[name]), message, declared.secret))
    return problems


def _shown(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k}={v}" for k, v in value.items())
    return "" if value is None else str(value)


# --- parsers: text -> value, or ValueError saying what is allowed ----------------------------------

def text(raw: str) -> str:
    """Any text."""
    return raw


def integer(minimum: int | None = None, maximum: int | None = None) -> Callable[[str], int]:
    """A whole number, optionally within bounds."""
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise ValueError(f"not a whole number; allowed: {_bounds(minimum, maximum, 'a whole number')}") from None
        _within(value, minimum, maximum, "a whole number")
        return value
    return parse


def number(minimum: float | None = None, maximum: float | None = None) -> Callable[[str], float]:
    """A number (decimals allowed), optionally within bounds."""
    def parse(raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            raise ValueError(f"not a number; allowed: {_bounds(minimum, maximum, 'a number')}") from None
        if value != value or value in (float("inf"), float("-inf")):
            raise ValueError(f"not a number; allowed: {_bounds(minimum, maximum, 'a number')}")
        _within(value, minimum, maximum, "a number")
        return value
    return parse


def _bounds(minimum, maximum, kind: str) -> str:
    if minimum is not None and maximum is not None:
        return f"{kind} from {minimum:g} to {maximum:g}"
    if minimum is not None:
        return f"{kind} of at least {minimum:g}"
    if maximum is not None:
        return f"{kind} of at most {maximum:g}"
    return kind


def _within(value, minimum, maximum, kind: str) -> None:
    if (minimum is not None and value < minimum) or (maximum is not None and value > maximum):
        raise ValueError(f"out of range; allowed: {_bounds(minimum, maximum, kind)}")


TRUE_WORDS = ("on", "1", "true", "yes")
FALSE_WORDS = ("off", "0", "false", "no")


def boolean(raw: str) -> bool:
    """on/off, true/false, yes/no, 1/0 in any case."""
    word = raw.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ValueError(f"not on or off; allowed: {', '.join(TRUE_WORDS)} or {', '.join(FALSE_WORDS)}")


def choice(*allowed: str, upper: bool = False) -> Callable[[str], str]:
    """One of the allowed words (case-insensitive); returned in the case of the allowed list."""
    def parse(raw: str) -> str:
        by_fold = {a.casefold(): a for a in allowed}
        if raw.casefold() in by_fold:
            return by_fold[raw.casefold()]
        raise ValueError(f"not allowed{_did_you_mean(raw, allowed)}; allowed: {', '.join(allowed)}")
    return parse


def _did_you_mean(raw: str, candidates) -> str:
    close = difflib.get_close_matches(raw, list(candidates), n=1, cutoff=0.75)
    return f" (did you mean {close[0]!r}?)" if close else ""


def phone(raw: str) -> str:
    """A dialable phone number in any usual form -> E.164 ('0271 123456' -> '+49271123456')."""
    from ivr.directory.phones import normalise

    try:
        return normalise(raw)
    except ValueError:
        raise ValueError("not a phone number; allowed: a dialable number such as +49 271 123456 "
                         "or 0271 123456 (German numbers without +49)") from None


def url(*schemes: str) -> Callable[[str], str]:
    """An absolute URL with one of the schemes and a host; the trailing slash is dropped."""
    def parse(raw: str) -> str:
        from urllib.parse import urlsplit

        parts = urlsplit(raw)
        if parts.scheme not in schemes or not parts.hostname:
            raise ValueError(f"not a URL with a host; allowed: {' or '.join(s + '://host' for s in schemes)}"
                             f", e.g. {schemes[0]}://hotline.example.org")
        return raw.rstrip("/")
    return parse


DATABASE_SCHEMES = ("sqlite", "postgresql")


def database(raw: str) -> str:
    """An SQLAlchemy URL for SQLite or PostgreSQL."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    allowed = "sqlite:///path/to/file.sqlite3 or postgresql://user:password@host/database"
    try:
        parsed = make_url(raw)
    except (ArgumentError, ValueError):
        raise ValueError(f"not a database URL; allowed: {allowed}") from None
    if parsed.get_backend_name() not in DATABASE_SCHEMES:
        raise ValueError(f"unsupported database {parsed.get_backend_name()!r}; allowed: {allowed}")
    if parsed.get_backend_name() == "postgresql" and not parsed.host and "host" not in parsed.query:
        raise ValueError(f"no database host; allowed: {allowed}")
    return raw


def queue(raw: str) -> str:
    """The task queue: a SQLite file or a Redis server."""
    from urllib.parse import urlsplit

    parts = urlsplit(raw)
    ok = ((parts.scheme == "sqlite" and raw.startswith("sqlite:///") and len(raw) > len("sqlite:///"))
          or (parts.scheme in ("redis", "rediss") and parts.hostname) or (parts.scheme == "unix" and parts.path))
    if not ok:
        raise ValueError("not a queue URL; allowed: sqlite:///path/to/huey.sqlite3 or redis://host:6379/0")
    return raw


def time_zone(raw: str) -> str:
    """An IANA time zone known to zoneinfo, e.g. Europe/Berlin."""
    import zoneinfo

    try:
        zoneinfo.ZoneInfo(raw)
        return raw
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        pass
    hint = _did_you_mean(raw, zoneinfo.available_timezones())
    raise ValueError(f"unknown time zone{hint}; allowed: an IANA time zone such as Europe/Berlin")


def holiday_area(raw: str) -> str:
    """A country with optional subdivision known to the holidays package, e.g. DE-NW."""
    import holidays

    supported = holidays.list_supported_countries()
    country, _, subdivision = raw.partition("-")
    if country.upper() not in supported:
        raise ValueError(f"unknown country {country!r}; allowed: a country code such as DE, AT or CH, "
                         "optionally with a state: DE-NW")
    subdivisions = [s for s in supported[country.upper()] if s.isupper()]
    if subdivision and subdivision.upper() not in subdivisions:
        raise ValueError(f"unknown state {subdivision!r} of {country.upper()}; allowed: "
                         + ", ".join(f"{country.upper()}-{s}" for s in subdivisions))
    return f"{country.upper()}-{subdivision.upper()}" if subdivision else country.upper()


def path(raw: str) -> Path:
    """A file system path."""
    return Path(raw)


def language_code(raw: str) -> str:
    """A language code of two or three letters (ISO 639), e.g. de."""
    if not (2 <= len(raw) <= 3 and raw.isascii() and raw.isalpha()):
        raise ValueError("not a language code; allowed: two or three letters such as de or en")
    return raw.lower()


def level(raw: str) -> str:
    """A logging level in any case (gunicorn takes `info`, logging wants `INFO`)."""
    return choice(*LOG_LEVELS)(raw)


# --- start-up checks that need other settings or the disk ------------------------------------------

def flow_exists(name: str, values: Mapping[str, Any]) -> str | None:
    """A flow called name must exist in the flows folder for the default language."""
    language = values["default_language"]
    found = flow_names(Path(values["flows_dir"]), language)
    if (name, language) in found:
        return None
    names = sorted({n for n, lang in found if lang == language})
    if not found:
        return f"no flow files in {values['flows_dir']}; allowed: the name of a flow in that folder"
    hint = _did_you_mean(name, names)
    return (f"no flow of that name in language {language!r}{hint}; allowed: "
            f"{', '.join(names) or '(none in that language)'}")


def called_numbers(raw: str) -> dict[str, str]:
    """HAUSRUF_NUMBERS: 'NUMBER=FLOW,NUMBER=FLOW' -> {E.164: flow} (ivr.numbers)."""
    from ivr.numbers import parse_numbers

    return parse_numbers(raw)


def numbers_flows_exist(numbers: dict[str, str], values: Mapping[str, Any]) -> str | None:
    """Every flow HAUSRUF_NUMBERS names must exist in the flows folder (in any language)."""
    from ivr.numbers import missing_flows

    found = flow_names(Path(values["flows_dir"]), values["default_language"])
    return missing_flows(numbers or {}, {name for name, _ in found})


def flow_names(directory: Path, default_language: str = "de") -> set[tuple[str, str]]:
    """(name, language) of every flow file in a folder; a broken file counts by what it still says.

    A broken file still names its flow: the server serves that flow's last good revision, so the
    setting is right even while the file is being fixed; a text that is no YAML at all counts by its
    file name (hotline.en.yaml: hotline in English; hotline.yaml: hotline in the default language).
    """
    from ivr.flows.loader import flow_files
    from ivr.flows.runtime import peek_flow_key

    if not directory.is_dir():
        return set()
    return {peek_flow_key(path) or (path.name.split(".")[0], default_language) for path in flow_files(directory)}


def directories_exist(models: dict[str, str], values: Mapping[str, Any]) -> str | None:
    """Every configured Vosk model is an existing folder."""
    missing = [f"{lang}={p}" for lang, p in models.items() if not Path(p).is_dir()]
    return f"no such folder: {', '.join(missing)}; allowed: the folder of an unpacked Vosk model" if missing else None


# --- the settings every part reads ---------------------------------------------------------------

def _data(name: str) -> Callable[[Mapping[str, Any]], Any]:
    return lambda values: Path(values["data_dir"]) / name


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set; see README, section Configuration."""

    data_dir: Path = setting("HAUSRUF_DATA_DIR", path, DEFAULT_DATA_DIR,
                             help="SQLite file, rendered prompts, recordings, spool of missed calls")
    database_url: str = setting("HAUSRUF_DATABASE_URL", database,
                                lambda v: f"sqlite:///{Path(v['data_dir']) / 'hausruf.sqlite3'}",
                                help="SQLAlchemy URL of the database (SQLite or PostgreSQL)")
    public_url: str | None = setting("HAUSRUF_PUBLIC_URL", url("https", "http"),
                                     help="the base URL Twilio calls; signatures are checked against it")
    twilio_account_sid: str | None = setting("TWILIO_ACCOUNT_SID", help="the Twilio account")
    twilio_auth_token: str | None = setting("TWILIO_AUTH_TOKEN", secret=True, help="the Twilio account's auth token")
    # Only for tests and self-hosted stand-ins of the REST API.
    twilio_api_base: str | None = setting("HAUSRUF_TWILIO_API_BASE", url("http", "https"),
                                          help="base URL of the Twilio REST API (tests only)")
    phone_number: str | None = setting("HAUSRUF_PHONE_NUMBER", phone,
                                       help="the hotline's own number (caller ID for transfers, SMS sender)")
    staff_number: str | None = setting("HAUSRUF_STAFF_NUMBER", phone,
                                       help="the office: 'a person', and where every failure falls back to")
    flows_dir: Path = setting("HAUSRUF_FLOWS_DIR", path, PROJECT_ROOT / "flows", help="where the flow files are")
    default_language: str = setting("HAUSRUF_LANGUAGE", language_code, "de",
                                    help="flow language for callers whose language has no flow")
    flow_name: str = setting("HAUSRUF_FLOW", text, "hotline", check=flow_exists,
                             help="the flow that answers calls to numbers HAUSRUF_NUMBERS does not name")
    numbers: dict[str, str] = setting("HAUSRUF_NUMBERS", called_numbers, lambda v: {}, check=numbers_flows_exist,
                                      help="called number -> flow, e.g. +4927150000001=hotline,+4927150000002=wohnen")
    timezone: str = setting("HAUSRUF_TIMEZONE", time_zone, "Europe/Berlin",
                            help="the cooperative's time zone (opening hours, quiet hours)")
    holiday_region: str = setting("HAUSRUF_HOLIDAYS", holiday_area, "DE-NW",
                                  help="public holidays: country and state, e.g. DE-NW")
    prompts_dir: Path = setting("HAUSRUF_PROMPTS_DIR", path, _data("prompts"), help="rendered prompt audio")
    recordings_dir: Path = setting("HAUSRUF_RECORDINGS_DIR", path, _data("recordings"),
                                   help="local copies of spoken messages")
    queue_url: str = setting("HAUSRUF_QUEUE_URL", queue,
                             lambda v: f"sqlite:///{Path(v['data_dir']) / 'huey.sqlite3'}",
                             help="task queue: sqlite:///file or redis://host:6379/0")
    vosk_models: dict[str, str] = setting("HAUSRUF_VOSK_MODEL_", text, prefix=True, check=directories_exist,
                                           help="HAUSRUF_VOSK_MODEL_<LANG>: folder of an unpacked Vosk model")
    speech_enabled: bool = setting("HAUSRUF_SPEECH", boolean, True, help="off disables media streams (keys only)")
    speech_preload: bool = setting("HAUSRUF_SPEECH_PRELOAD", boolean, True,
                                   help="load speech models once before the server forks (off: each worker loads its own)")
    render_prompts_on_demand: bool = setting("HAUSRUF_RENDER_PROMPTS", boolean, True,
                                             help="render a missing prompt in the background after its first <Say>")
    log_level: str = setting("HAUSRUF_LOG_LEVEL", level, "INFO", help="DEBUG, INFO, WARNING, ERROR or CRITICAL")
    # How long a webhook's database work may wait (locks, a stalled server) before it gives up and the
    # caller is put through to staff: well inside the 15 s Twilio waits for an answer.
    database_timeout: float = setting("HAUSRUF_DB_TIMEOUT", number(minimum=0.1, maximum=14), 5.0,
                                      help="seconds a webhook waits for the database before the staff fallback")
    # Connections per server process for the webhooks' database work, and as many threads running it
    # (ivr.db.deadline); README, "Connection budget", sizes it against PostgreSQL's max_connections.
    database_pool_size: int = setting("HAUSRUF_DB_POOL_SIZE", integer(minimum=1, maximum=200), 10,
                                      help="database connections per server process for webhooks")
    workers: int = setting("HAUSRUF_WORKERS", integer(minimum=1, maximum=64), 2, help="server processes")
    threads: int = setting("HAUSRUF_THREADS", integer(minimum=1, maximum=1000), 32, help="threads per server process")
    access_log: str | None = setting("HAUSRUF_ACCESS_LOG", help="gunicorn access log file ('-': standard error)")
    recording_retention_days: int = setting("HAUSRUF_RECORDING_RETENTION_DAYS", integer(minimum=1), 30,
                                            help="local copies of spoken messages are deleted after this many days")
    metrics_token: str | None = setting("HAUSRUF_METRICS_TOKEN", secret=True,
                                        help="bearer token for /metrics; required when HAUSRUF_PUBLIC_URL is set")
    trusted_proxies: int = setting("HAUSRUF_TRUSTED_PROXIES", integer(minimum=0, maximum=5), 0,
                                   help="reverse proxies in front of the server (client address from X-Forwarded-For)")
    worker_stale_minutes: float = setting("HAUSRUF_WORKER_STALE_MINUTES", number(minimum=1), 5,
                                          help="/healthz is degraded when the worker has not run for this long")
    # Privacy (ivr.privacy): retention of personal data, and the key of unguessable URLs.
    retention_days: int = setting("HAUSRUF_RETENTION_DAYS", integer(minimum=1), 90,
                                  help="calls, events, finished tasks, SMS and transcripts are deleted after this many days")
    audit_retention_days: int = setting("HAUSRUF_AUDIT_RETENTION_DAYS", integer(minimum=1), 365,
                                        help="staff audit log entries are deleted after this many days (their "
                                             "details about a task go with the task)")
    secret_key: str | None = setting("HAUSRUF_SECRET_KEY", secret=True,
                                     help="signs the staff console's cookies (serve and demo need it) and keys "
                                          "prompt URLs")
    # Subsystems' own groups (SETTINGS_GROUPS), by class: settings.group(TaskSettings).
    groups: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Read the environment (after .env); keyword overrides win. SettingsError lists every bad value."""
        settings, problems = load_settings(overrides=overrides)
        if problems:
            raise SettingsError(problems)
        return settings

    def group(self, cls: type[T]) -> T:
        """A subsystem's settings group (read with the environment of these settings)."""
        found = self.groups.get(cls)
        if found is None:
            found, _ = read_settings(cls, os.environ)
        return found


def load_env_file(environ: Mapping[str, str] | None = None) -> None:
    """Read .env (or HAUSRUF_ENV_FILE) into the environment once; variables already set win."""
    name = (os.environ.get("HAUSRUF_ENV_FILE") or ".env").strip()
    if name and Path(name).is_file():
        from dotenv import load_dotenv

        load_dotenv(name, override=False)


def settings_groups() -> list[type]:
    """The classes named in SETTINGS_GROUPS."""
    return [_import(spec) for spec in SETTINGS_GROUPS]


@lru_cache(maxsize=None)
def _import(spec: str) -> type:
    module, _, name = spec.partition(":")
    return getattr(importlib.import_module(module), name)


def load_settings(environ: Mapping[str, str] | None = None, overrides: Mapping[str, Any] | None = None
                  ) -> tuple[Settings, list[SettingProblem]]:
    """Settings and every value problem, never raising: bad values take their defaults (for `hausruf config`)."""
    if environ is None:
        load_env_file()
        environ = os.environ
    settings, problems = read_settings(Settings, environ, overrides)
    groups = {}
    for cls in settings_groups():
        groups[cls], found = read_settings(cls, environ)
        problems += found
    object.__setattr__(settings, "groups", groups)
    return settings, sorted(problems)


def startup_problems(settings: Settings, environ: Mapping[str, str] | None = None) -> list[SettingProblem]:
    """Every problem that stops a start: bad values and failed checks (flow exists, folders exist)."""
    _, problems = load_settings(environ)
    problems += check_settings(settings)
    core = {f.name: getattr(settings, f.name) for f in fields(settings)}
    for group in settings.groups.values():
        problems += check_settings(group, context=core)
    return sorted(set(problems))


def settings_for_start(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Settings for a command that starts serving (serve, worker, demo): every problem on stderr, exit 2."""
    import sys

    settings, _ = load_settings(overrides=overrides)
    problems = startup_problems(settings)
    if problems:
        print("Hausruf cannot start; fix these settings (environment or .env):", file=sys.stderr)
        for problem in problems:
            print(f"  {problem}", file=sys.stderr)
        raise SystemExit(2)
    return settings


def effective_settings(settings: Settings) -> list[tuple[str, str, str]]:
    """(variable, value as shown, help) of every setting; secrets masked."""
    rows = []
    for instance in (settings, *settings.groups.values()):
        for name, declared in declared_settings(type(instance)):
            value = getattr(instance, name)
            if declared.prefix:
                for key, item in value.items():
                    rows.append((f"{declared.env}{key.upper()}", mask(item) if declared.secret else str(item),
                                 declared.help))
                continue
            shown = mask(value) if declared.secret else _shown(value)
            rows.append((declared.env, shown, declared.help))
    return rows


def configure_logging(settings) -> None:
    """The log format of every long-running command (serve, worker, sip); create_app leaves logging alone."""
    import logging

    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
