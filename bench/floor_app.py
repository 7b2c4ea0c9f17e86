"""Floor for bench/webhooks.py --floor: a Flask endpoint doing a menu step's database work and nothing else.

Per request it reads the call by CallSid and stores a step with its audit event, through the
same call store, writer lock and database settings as Hausruf's webhooks (ivr.calls.store), then
answers the bare endpoint's constant TwiML. No signature check, no engine, no directory context,
no TwiML rendering: what it costs is what any menu step must cost before Hausruf's own logic.
"""

from __future__ import annotations

import os
from datetime import datetime, timezone

from flask import Flask, Response, request

from bare_app import TWIML
from ivr.calls.store import CallStore
from ivr.db import make_engine
from ivr.db.writers import sqlite_writer

ATTEMPTS = 10  # as ivr.calls.handler.DECIDE_ATTEMPTS


def create_floor_app() -> Flask:
    app = Flask("floor")
    url = os.environ["HAUSRUF_DATABASE_URL"]
    engine = make_engine(url, timeout=5)

    @app.get("/healthz")
    def healthy():
        return "ok"

    @app.post("/twilio/voice/gather")
    def step():
        store = CallStore(engine)
        try:
            for _ in range(ATTEMPTS):
                call = store.read(request.form["CallSid"])
                changes = {"state": {**call.state, "steps": call.state.get("steps", 0) + 1},
                           "last_update": datetime.now(timezone.utc), "last_event_kind": "digits",
                           "last_event_node": call.state.get("node"), "last_event_detail": request.form.get("Digits", ""),
                           "last_event_outcome": ""}
                with sqlite_writer(url, transaction=False, timeout=5):
                    if store.store_step(call.id, call.version, changes):
                        break
        finally:
            store.close()
        return Response(TWIML, mimetype="text/xml")

    return app
