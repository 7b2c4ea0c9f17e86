"""The audit log of staff actions (who, when, what) and the client address it records."""

from __future__ import annotations

from flask import request
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import StaffAuditEntry
from ivr.db.types import utcnow


def record(session: Session, action: str, target: str = "", detail: str = "") -> StaffAuditEntry:
    """Add one entry for the signed-in staff member, in the session's transaction (it commits with the action)."""
    user = current_user if current_user and current_user.is_authenticated else None
    entry = StaffAuditEntry(at=utcnow(), staff_id=user.id if user else None, actor=user.email if user else "",
                            action=action, target=target[:200], detail=detail, address=client_address())
    session.add(entry)
    return entry


def recent(session: Session, limit: int = 200) -> list[StaffAuditEntry]:
    """The newest entries first."""
    return list(session.scalars(select(StaffAuditEntry).order_by(StaffAuditEntry.id.desc()).limit(limit)))


def client_address() -> str:
    """The client's address: behind HAUSRUF_TRUSTED_PROXIES proxies, ProxyFix (ivr.app) has already taken it
    from their X-Forwarded-For, so it is the client's and never the proxy's own address."""
    return request.remote_addr or ""
