"""The audit log of staff actions (who, when, what) and the client address it records."""

from __future__ import annotations

import ipaddress

from flask import current_app, request
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
    """The client's address: X-Forwarded-For is read only through proxies the operator listed as trusted.

    Walking from the right, each hop added by a trusted proxy is skipped; the first untrusted address
    is the client. Without trusted proxies, or from an untrusted peer, the peer's own address counts
    (a client could write any X-Forwarded-For it likes).
    """
    trusted = _networks(tuple(current_app.config["HAUSRUF"].trusted_proxies))
    peer = request.remote_addr or ""
    if not trusted or not _in(peer, trusted):
        return peer
    hops = [h.strip() for h in request.headers.get("X-Forwarded-For", "").split(",") if h.strip()]
    for hop in reversed(hops):
        if not _in(hop, trusted):
            return hop
    return hops[0] if hops else peer


def _networks(entries: tuple[str, ...]) -> list:
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            continue  # ivr.console.init_app refuses bad entries at start; never fail a request here
    return networks


def _in(address: str, networks: list) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)
