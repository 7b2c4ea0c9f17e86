"""The counters and histograms of /metrics (ivr.web.metrics serves them); any layer may count here.

Under `hausruf serve` they live in prometheus_client's multiprocess files, so /metrics adds up every
gunicorn worker; elsewhere (tests, the worker) in the process.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

CALLS = Counter("hausruf_calls", "Calls that ended, by outcome", ["outcome"])
WEBHOOK_SECONDS = Histogram("hausruf_webhook_seconds", "Time to answer a Twilio webhook", ["endpoint"],
                            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
FALLBACKS = Counter("hausruf_fallbacks", "Calls put through to staff because something failed", ["reason"])
SPEECH_DECISIONS = Counter("hausruf_speech_decisions", "What became of a word the recogniser heard", ["decision"])

# The outcome a call is counted under: the first of these its outcome text mentions.
OUTCOMES = (("emergency", "emergency"), ("connected", "connected"), ("callback", "callback"),
            ("dial_failed", "dial_failed"), ("error", "error"), ("hung up", "hung_up"))


def outcome_of(text: str | None) -> str:
    """A call's stored outcome ('connected groceries; hung up at ...') as one label value."""
    text = text or ""
    for marker, label in OUTCOMES:
        if marker in text:
            return label
    return "other"


def count_call(outcome_text: str | None) -> None:
    """A call ended."""
    CALLS.labels(outcome_of(outcome_text)).inc()


def count_fallback(reason: str) -> None:
    """A caller was put through to staff because something failed."""
    FALLBACKS.labels(reason).inc()


def count_speech(decision: str) -> None:
    """A recognised word moved the call on, came too late, or could not be acted on."""
    SPEECH_DECISIONS.labels(decision).inc()
