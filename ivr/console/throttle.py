"""Login throttling: after a few wrong passwords for one account or from one address, sign-ins wait.

Failures are rows of the audit log (action "login.failed"), so every server process sees the same
count and a restart forgets nothing. The account is identified by a hash of its e-mail: the log
tells attempts apart without holding the address, and an unknown e-mail counts exactly like a
known one, so the wait reveals nothing about which accounts exist.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ivr.db.models import StaffAuditEntry

FAILED = "login.failed"
WINDOW = timedelta(minutes=15)
FREE_ATTEMPTS = 5  # wrong passwords in the window before waits start
FIRST_WAIT_SECONDS = 30  # doubled per further failure
MAX_WAIT_SECONDS = 15 * 60


def account_key(email: str) -> str:
    """What the audit log stores for the account of a failed sign-in."""
    return "login:" + hashlib.sha256(email.strip().lower().encode()).hexdigest()[:24]


def wait_seconds(session: Session, email: str, address: str, now: datetime) -> int:
    """Seconds until this account or address may try again (0: now)."""
    failures = (StaffAuditEntry.action == FAILED, StaffAuditEntry.at >= now - WINDOW)
    worst = 0
    for condition in (StaffAuditEntry.target == account_key(email), StaffAuditEntry.address == address):
        count, last = session.execute(select(func.count(), func.max(StaffAuditEntry.at))
                                      .where(*failures, condition)).one()
        if count >= FREE_ATTEMPTS and last is not None:
            last = _aware(last)
            wait = min(FIRST_WAIT_SECONDS * 2 ** (count - FREE_ATTEMPTS), MAX_WAIT_SECONDS)
            worst = max(worst, int((last + timedelta(seconds=wait) - now).total_seconds()) + 1)
    return max(worst, 0)


def record_failure(session: Session, email: str, address: str, now: datetime, masked: str) -> None:
    """One wrong sign-in in the audit log (the e-mail only masked and hashed)."""
    session.add(StaffAuditEntry(at=now, staff_id=None, actor="", action=FAILED, target=account_key(email),
                                detail=f"wrong password or unknown account {masked}", address=address))


def recent_failures(session: Session, now: datetime) -> int:
    """Failed sign-ins in the window, for the overview page."""
    return session.scalar(select(func.count()).select_from(StaffAuditEntry).where(
        StaffAuditEntry.action == FAILED, StaffAuditEntry.at >= now - WINDOW)) or 0


def _aware(value):
    # func.max() bypasses the column type on SQLite, which hands back naive UTC text.
    from datetime import timezone

    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=timezone.utc)


__all__ = ["account_key", "record_failure", "recent_failures", "wait_seconds"]
