"""Calls: state by CallSid in the database, one engine step per webhook, and the audit trail."""
