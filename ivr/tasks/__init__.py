"""Callback tasks for volunteers and staff: booking, state machine, SMS outbox, replies, escalation, worker."""
