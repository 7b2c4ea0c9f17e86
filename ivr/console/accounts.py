"""Staff accounts: create, list, disable, change password, check a sign-in; passwords hashed with Argon2id."""

from __future__ import annotations

import re
from datetime import datetime

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.db.models import STAFF_ROLES, StaffAccount

# Argon2id with OWASP's recommended minimum (19 MiB, 2 passes, 1 lane): argon2-cffi's default (64 MiB,
# 3 passes, 4 lanes) took 0.8 s of a loaded 2-core server per sign-in, an easy way to starve the calls.
HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
# Verified when the e-mail is unknown, so a wrong address takes as long as a wrong password.
_DUMMY_HASH = HASHER.hash("not a password of anyone")
MIN_PASSWORD_LENGTH = 10
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class AccountError(ValueError):
    """A request about accounts that cannot be done, with the reason in plain words."""


def normal_email(email: str) -> str:
    """E-mail addresses are compared in lower case without surrounding spaces."""
    return (email or "").strip().lower()


def check_password_rules(password: str) -> None:
    """AccountError unless the password is long enough (length beats complexity rules, NIST SP 800-63B)."""
    if len(password or "") < MIN_PASSWORD_LENGTH:
        raise AccountError(f"the password must have at least {MIN_PASSWORD_LENGTH} characters")


def find(session: Session, email: str) -> StaffAccount | None:
    """The account with this e-mail, active or not."""
    return session.scalar(select(StaffAccount).where(StaffAccount.email == normal_email(email)))


def create(session: Session, email: str, name: str, password: str, role: str = "staff") -> StaffAccount:
    """A new account; AccountError if the e-mail is taken or malformed, the role unknown or the password short."""
    email = normal_email(email)
    if not _EMAIL.match(email):
        raise AccountError(f"{email!r} is not an e-mail address")
    if role not in STAFF_ROLES:
        raise AccountError(f"unknown role {role!r}; expected one of: {', '.join(STAFF_ROLES)}")
    if not (name or "").strip():
        raise AccountError("a name is needed")
    check_password_rules(password)
    if find(session, email) is not None:
        raise AccountError(f"there is already an account for {email}")
    account = StaffAccount(email=email, name=name.strip(), role=role, password_hash=HASHER.hash(password),
                           active=True)
    session.add(account)
    session.flush()
    return account


def set_password(session: Session, email: str, password: str) -> StaffAccount:
    """Give an account a new password (its open sessions end: see ConsoleUser.get_id)."""
    account = _existing(session, email)
    check_password_rules(password)
    account.password_hash = HASHER.hash(password)
    return account


def set_active(session: Session, email: str, active: bool) -> StaffAccount:
    """Disable (or enable again) an account; a disabled account cannot sign in and its sessions end."""
    account = _existing(session, email)
    account.active = active
    return account


def _existing(session: Session, email: str) -> StaffAccount:
    account = find(session, email)
    if account is None:
        raise AccountError(f"there is no account for {normal_email(email)}; `hausruf staff list` shows them")
    return account


def all_accounts(session: Session) -> list[StaffAccount]:
    """Every account, by e-mail."""
    return list(session.scalars(select(StaffAccount).order_by(StaffAccount.email)))


def authenticate(session: Session, email: str, password: str, now: datetime) -> StaffAccount | None:
    """The active account if the password fits, else None; the same work whether the account exists or not."""
    account = find(session, email)
    stored = account.password_hash if account is not None else _DUMMY_HASH
    try:
        HASHER.verify(stored, password or "")
    except (VerificationError, InvalidHashError):
        return None
    if account is None or not account.active:
        return None
    if HASHER.check_needs_rehash(account.password_hash):
        account.password_hash = HASHER.hash(password)
    account.last_login_at = now
    return account


def mask_email(email: str) -> str:
    """'e***@example.org': enough for a log reader to tell attempts apart, not to read the address."""
    local, _, domain = normal_email(email).partition("@")
    return f"{local[:1]}***@{domain}" if domain else f"{local[:1]}***"
