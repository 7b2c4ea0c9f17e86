"""Baseline for bench/webhooks.py: a bare Flask endpoint answering constant TwiML, nothing else."""

from __future__ import annotations

from flask import Flask, Response

TWIML = ('<?xml version="1.0" encoding="UTF-8"?><Response><Gather action="/twilio/voice/gather?step=2" '
         'input="dtmf" numDigits="1" timeout="12"><Say language="de-DE">Bitte wählen Sie.</Say></Gather>'
         '<Redirect>/twilio/voice/noinput?step=2</Redirect></Response>')


def create_bare_app() -> Flask:
    app = Flask("bare")

    @app.post("/twilio/voice/gather")
    def constant():
        return Response(TWIML, mimetype="text/xml")

    return app
