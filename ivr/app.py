"""The Flask app factory: every subsystem registers its blueprints and fills its part of the wiring here."""

from __future__ import annotations

import logging

from flask import Flask

from ivr import privacy
from ivr.config import Settings
from ivr.wiring import EXTENSION, Hausruf

log = logging.getLogger("hausruf")


def create_app(test_config: dict | None = None) -> Flask:
    """Build the web app; test_config overrides Settings fields (e.g. {"database_url": ...}).

    The database must be migrated already: `hausruf serve` and `make demo` do it before the server
    processes start (ivr.web.server), tests in their fixtures. Logging is set up by the command.
    """
    settings = Settings.from_env(**(test_config or {}))
    from ivr import db
    from ivr.directory.cache import DirectoryCache
    from ivr.flows import runtime
    from ivr.housing import effects as housing_effects
    from ivr.tasks import web as tasks_web
    from ivr.tasks.config import TaskConfig
    from ivr.telephony.twilio import sms_webhooks, stream, webhooks
    from ivr.web import health, metrics, prompts

    app = Flask("ivr")
    app.config["HAUSRUF"] = settings
    privacy.init_app(app)
    wiring = app.extensions[EXTENSION] = Hausruf(settings=settings, tasks=TaskConfig.for_settings(settings),
                                                 build_context=DirectoryCache())
    wiring.erase_at_provider = provider_eraser(settings)
    db.init_app(app)
    runtime.init_app(app)
    app.register_blueprint(health.bp)
    metrics.init_app(app)  # /metrics, and the latency of every webhook
    if settings.trusted_proxies:  # client addresses (logs, throttles) from the proxies' X-Forwarded-For
        from werkzeug.middleware.proxy_fix import ProxyFix

        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=settings.trusted_proxies, x_proto=settings.trusted_proxies)
    app.register_blueprint(webhooks.bp)
    app.register_blueprint(sms_webhooks.bp)
    # Subsystems that register their own routes and fill their part of the wiring.
    tasks_web.init_app(app, jobs=lambda: worker_jobs(settings))
    housing_effects.init_app(app)  # after tasks: its booker hands callbacks on to theirs
    tasks_web.init_house_messages(app)  # after housing: messages to the neighbours, the rest handed on
    stream.init_app(app)
    prompts.init_app(app)
    wiring.telephony = webhooks.init_app(app)  # after prompts and speech: it renders with both
    from ivr import console

    console.init_app(app)  # the staff console: login, tasks, calls, directory, flows, simulator at /
    if not (settings.twilio_auth_token and settings.public_url):
        log.warning("TWILIO_AUTH_TOKEN or HAUSRUF_PUBLIC_URL not set: every /twilio/* request gets 403")
    return app


def twilio_messaging(settings: Settings):
    """The Twilio SMS channel; ValueError without credentials (then messages wait in the outbox)."""
    from ivr.telephony.twilio.sms import TwilioSms

    return TwilioSms(settings)


def provider_eraser(settings: Settings):
    """Deletes a person's records at the provider by their ids (ivr.privacy.person.erase_person)."""
    from ivr.telephony.twilio.erase import delete_at_twilio

    return lambda ids: delete_at_twilio(settings, ids)


def worker_jobs(settings: Settings, config=None):
    """The worker's jobs, wired with the Twilio adapters (built on first use)."""
    from ivr.tasks.jobs import Jobs
    from ivr.telephony.sip.recordings import SipRecordings
    from ivr.telephony.twilio.voice import TwilioVoice

    from ivr.telephony.matrix.wiring import messaging_channel

    # SMS and, when configured, Matrix: each message goes by its address (a number or a Matrix ID).
    return Jobs(settings, config, channel=lambda: messaging_channel(settings, lambda: twilio_messaging(settings)),
                telephony={"twilio": lambda: TwilioVoice(settings), "sip": lambda: SipRecordings(settings)})


def listen_beside_worker(queue) -> None:
    """With Matrix configured, one sync connection beside the worker's consumer: helpers' replies, then the outbox."""
    from ivr.telephony.matrix.wiring import start_listener

    try:
        channel = queue.jobs.channel
    except ValueError:
        return  # nothing configured: the outbox says so
    if getattr(channel, "matrix", None) is not None:
        start_listener(channel, queue.jobs.sessions, queue.jobs.config, on_queued=queue.send_outbox)
