"""Telephony and messaging: the ports (ports.py) and one folder per provider that implements them.

A telephony adapter turns a provider's events into CallService calls and renders the StepResult;
a messaging channel sends and receives messages for the outbox. Twilio (ivr.telephony.twilio) is
the first of each; docs/adapters.md is the recipe for the next (SIP, a chat channel).
"""
