"""The Twilio adapter: pure translation (translate.py), signature checks, webhooks, REST client."""
