"""Configuration from the environment (and an optional .env file), in one frozen object."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATA_DIR = PROJECT_ROOT / "data"


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


def _log_level() -> str:
    """HAUSRUF_LOG_LEVEL in any case (gunicorn takes `info`, logging wants `INFO`)."""
    level = (_env("HAUSRUF_LOG_LEVEL", "INFO") or "INFO").upper()
    if level not in LOG_LEVELS:
        raise ValueError(f"HAUSRUF_LOG_LEVEL={level.lower()} is not a log level; use one of {', '.join(LOG_LEVELS)}")
    return level


def _vosk_models() -> dict[str, str]:
    """HAUSRUF_VOSK_MODEL_<LANG>=path, e.g. HAUSRUF_VOSK_MODEL_DE=/srv/vosk/de."""
    prefix = "HAUSRUF_VOSK_MODEL_"
    return {k[len(prefix):].lower(): v for k, v in os.environ.items() if k.startswith(prefix) and v}


@dataclass(frozen=True)
class Settings:
    """Everything an operator can set; see README, section Configuration."""

    database_url: str
    public_url: str | None
    twilio_account_sid: str | None
    twilio_auth_token: str | None
    twilio_api_base: str | None  # only for tests and self-hosted stand-ins of the REST API
    phone_number: str | None
    staff_number: str | None
    flows_dir: Path
    flow_name: str
    default_language: str
    timezone: str
    holiday_region: str  # e.g. "DE-NW": public holidays follow the cooperative's state
    data_dir: Path
    prompts_dir: Path
    recordings_dir: Path
    queue_url: str
    vosk_models: dict[str, str] = field(default_factory=dict)
    speech_enabled: bool = True
    render_prompts_on_demand: bool = True  # render a missing prompt in the background after its first <Say>
    log_level: str = "INFO"
    # How long a webhook's database work may wait (locks, a stalled server) before it gives up and the
    # caller is put through to staff: well inside the 15 s Twilio waits for an answer.
    database_timeout: float = 5.0
    # Connections per server process for the webhooks' database work (and as many threads that run
    # it; see ivr.db.deadline). README, "Connection budget", sizes it against max_connections.
    database_pool_size: int = 10

    @classmethod
    def from_env(cls, **overrides) -> "Settings":
        """Read the environment; keyword overrides win (used by tests and create_app)."""
        if _env("HAUSRUF_ENV_FILE", ".env") and Path(_env("HAUSRUF_ENV_FILE", ".env")).is_file():
            from dotenv import load_dotenv

            load_dotenv(_env("HAUSRUF_ENV_FILE", ".env"), override=False)
        data_dir = Path(_env("HAUSRUF_DATA_DIR", str(DEFAULT_DATA_DIR)))
        values = dict(
            database_url=_env("HAUSRUF_DATABASE_URL", f"sqlite:///{data_dir / 'hausruf.sqlite3'}"),
            public_url=(_env("HAUSRUF_PUBLIC_URL") or "").rstrip("/") or None,
            twilio_account_sid=_env("TWILIO_ACCOUNT_SID"),
            twilio_auth_token=_env("TWILIO_AUTH_TOKEN"),
            twilio_api_base=_env("HAUSRUF_TWILIO_API_BASE"),
            phone_number=_env("HAUSRUF_PHONE_NUMBER"),
            staff_number=_env("HAUSRUF_STAFF_NUMBER"),
            flows_dir=Path(_env("HAUSRUF_FLOWS_DIR", str(PROJECT_ROOT / "flows"))),
            flow_name=_env("HAUSRUF_FLOW", "hotline"),
            default_language=_env("HAUSRUF_LANGUAGE", "de"),
            timezone=_env("HAUSRUF_TIMEZONE", "Europe/Berlin"),
            holiday_region=_env("HAUSRUF_HOLIDAYS", "DE-NW"),
            data_dir=data_dir,
            prompts_dir=Path(_env("HAUSRUF_PROMPTS_DIR", str(data_dir / "prompts"))),
            recordings_dir=Path(_env("HAUSRUF_RECORDINGS_DIR", str(data_dir / "recordings"))),
            queue_url=_env("HAUSRUF_QUEUE_URL", f"sqlite:///{data_dir / 'huey.sqlite3'}"),
            vosk_models=_vosk_models(),
            speech_enabled=_env("HAUSRUF_SPEECH", "on") not in ("off", "0", "false", "no"),
            render_prompts_on_demand=_env("HAUSRUF_RENDER_PROMPTS", "on") not in ("off", "0", "false", "no"),
            log_level=_log_level(),
            database_timeout=float(_env("HAUSRUF_DB_TIMEOUT", "5")),
            database_pool_size=int(_env("HAUSRUF_DB_POOL_SIZE", "10")),
        )
        values.update(overrides)
        return cls(**values)
