"""Calls: state by provider and call id in the database, one engine step per provider event, and the audit trail."""
