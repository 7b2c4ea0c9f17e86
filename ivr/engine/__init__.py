"""The pure call-flow engine: advance(flow, state, event, context) -> (state, actions).

Imports nothing from Flask, Twilio, SQLAlchemy, Vosk or the clock: time comes in through the context.
"""

from ivr.engine.actions import Action, Ask, BookCallback, Dial, Hangup, Outcome, Record, Say
from ivr.engine.context import CallContext, Caller, ServiceStatus
from ivr.engine.events import (
    CallerHungUp,
    CallStarted,
    DialFinished,
    DigitsPressed,
    Event,
    NoInput,
    RecordingFinished,
    Resume,
    WordsSpoken,
)
from ivr.engine.runner import advance, menu_phrases
from ivr.engine.state import CallState

__all__ = [
    "Action", "Ask", "BookCallback", "CallContext", "CallState", "Caller", "CallerHungUp", "CallStarted",
    "Dial", "DialFinished", "DigitsPressed", "Event", "Hangup", "NoInput", "Outcome", "Record",
    "RecordingFinished", "Resume", "Say", "ServiceStatus", "WordsSpoken", "advance", "menu_phrases",
]
