"""Telephony adapters: translate a provider's webhooks into engine events and engine actions back.

Twilio is the first adapter (ivr.telephony.twilio). Nothing in ivr.engine knows about it, so a
self-hosted SIP path (an open-source PBX speaking to the same engine) stays possible.
"""
