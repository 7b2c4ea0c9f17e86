"""The production server: gunicorn with threaded workers (flask-sock WebSockets need threads)."""

from __future__ import annotations

import logging

from gunicorn.app.base import BaseApplication

log = logging.getLogger("hausruf")


class HausrufServer(BaseApplication):
    """gunicorn run programmatically, so `hausruf serve` needs no separate config file."""

    def __init__(self, options: dict):
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from ivr.app import create_app

        return create_app()


def server_options(host: str, port: int, workers: int | None = None, threads: int | None = None,
                   settings=None) -> dict:
    """gunicorn settings; HAUSRUF_WORKERS / HAUSRUF_THREADS (environment or .env) override the defaults."""
    if settings is None:
        from ivr.config import Settings

        settings = Settings.from_env()
    return {
        "bind": f"{host}:{port}",
        "worker_class": "gthread",
        # Two processes keep a crash or a long speech decode from stalling every call; threads
        # carry the many short webhooks and the long-lived media-stream WebSockets.
        "workers": workers or settings.workers,
        "threads": threads or settings.threads,
        "timeout": 60,
        "graceful_timeout": 10,
        "accesslog": settings.access_log,
        "errorlog": "-",
        "loglevel": settings.log_level.lower(),
        "preload_app": False,
        "child_exit": _worker_exited,
    }


def _worker_exited(server, worker) -> None:
    """gunicorn's child_exit hook: a dead worker's live gauges are dropped from /metrics (counters stay)."""
    from ivr.web.metrics import worker_exited

    worker_exited(server, worker)


def prepare_metrics_dir(settings) -> str:
    """An empty folder for prometheus_client's multiprocess files, in the environment before gunicorn forks.

    It must be set before prometheus_client is first imported (its value class is chosen then), so
    this module does not import it. An operator's own PROMETHEUS_MULTIPROC_DIR is kept.
    """
    import os
    import shutil

    folder = os.environ.get("PROMETHEUS_MULTIPROC_DIR") or str(settings.data_dir / "metrics")
    shutil.rmtree(folder, ignore_errors=True)  # counters start at zero with every server start
    os.makedirs(folder, exist_ok=True)
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = folder
    return folder


def serve(host: str, port: int, workers: int | None = None, threads: int | None = None, settings=None) -> None:
    """Migrate the database, then run until stopped (migrations run once, before the workers fork)."""
    if settings is None:
        from ivr.config import Settings

        settings = Settings.from_env()
    from ivr.config import configure_logging

    configure_logging(settings)
    migrate(settings.database_url)
    prepare_metrics_dir(settings)
    from speech.service import preload_for_server

    preload_for_server(settings)  # one copy of each speech model for all workers (copy-on-write after fork)
    HausrufServer(server_options(host, port, workers, threads, settings)).run()


def migrate(database_url: str) -> None:
    """Bring the schema up to date; a broken database must not stop the server answering calls."""
    from ivr.db import upgrade

    try:
        upgrade(database_url)
    except Exception:  # noqa: BLE001 - calls still get the staff fallback; the log says why
        log.exception("database migration failed; calls will fall back to staff until it is fixed")
