"""SQLAlchemy 2 models: the directory, calls with their audit trail, flow revisions, callback tasks, SMS outbox.

All times are aware datetimes in UTC (see UTCDateTime); phone numbers are E.164 strings
(see ivr.directory.phones.normalise). Schema changes go through ivr/db/migrations.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (JSON, Boolean, Column, ForeignKey, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        false)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ivr.db.types import UTCDateTime, utcnow

# Named constraints: Alembic's batch mode on SQLite needs names to drop or alter them later.
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

PHONE = 20  # E.164 is at most 15 digits plus "+"; a little room for nothing else
ADDRESS = 255  # a caller as the provider names them: E.164, a SIP URI, a client identifier
CALL_ID = 128  # a provider's id for a call (Twilio CallSid, SIP Call-ID)
SLUG = 64
NAME = 200

TASK_STATES = ("open", "offered", "accepted", "done", "declined", "escalated", "expired", "cancelled")
TASK_AUDIENCES = ("volunteers", "staff")
# Provider-neutral: each telephony adapter maps its own status words to these.
CALL_STATUSES = ("active", "ended", "unanswered", "failed")
SMS_STATUSES = ("queued", "sending", "sent", "delivered", "failed", "undelivered", "received")
SMS_DIRECTIONS = ("outbound", "inbound")


class Base(DeclarativeBase):
    """Declarative base with the naming convention above."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON()}


partner_regions = Table(
    "partner_regions",
    Base.metadata,
    Column("partner_id", ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("region_id", ForeignKey("regions.id", ondelete="CASCADE"), primary_key=True, index=True),
)


class Region(Base):
    """A town or district; partners serve regions."""

    __tablename__ = "regions"

    id: Mapped[str] = mapped_column(String(SLUG), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))

    houses: Mapped[list[House]] = relationship(back_populates="region")
    partners: Mapped[list[Partner]] = relationship(secondary=partner_regions, back_populates="regions")


class House(Base):
    """A building of the cooperative, in one region."""

    __tablename__ = "houses"

    id: Mapped[str] = mapped_column(String(SLUG), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    address: Mapped[str] = mapped_column(String(300), default="")
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), index=True)
    chat_room: Mapped[str] = mapped_column(String(255), default="", server_default="")  # Matrix alias or room id

    region: Mapped[Region] = relationship(back_populates="houses")
    tenants: Mapped[list[Tenant]] = relationship(back_populates="house")
    volunteers: Mapped[list[Volunteer]] = relationship(back_populates="house")


class Tenant(Base):
    """A resident who may call; found by any of their phone numbers."""

    __tablename__ = "tenants"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(NAME), default="")
    last_name: Mapped[str] = mapped_column(String(NAME))
    salutation: Mapped[str] = mapped_column(String(NAME), default="")  # spoken, e.g. "Frau Becker"
    language: Mapped[str] = mapped_column(String(16), default="de")
    house_id: Mapped[str] = mapped_column(ForeignKey("houses.id"), index=True)
    notes: Mapped[str] = mapped_column(Text, default="")
    # Opted in to hear and write to the house's chat room by phone (ivr.telephony.matrix).
    house_chat: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    house: Mapped[House] = relationship(back_populates="tenants")
    phones: Mapped[list[TenantPhone]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantPhone.id"
    )


class TenantPhone(Base):
    """One number of a tenant (landline, mobile ...); a number belongs to one tenant only."""

    __tablename__ = "tenant_phones"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(PHONE), unique=True)
    tenant_id: Mapped[int] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)

    tenant: Mapped[Tenant] = relationship(back_populates="phones")


class Volunteer(Base):
    """A helper of one house (e.g. the IT helper), reached by SMS; natural key is the phone."""

    __tablename__ = "volunteers"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    phone: Mapped[str] = mapped_column(String(PHONE), unique=True)
    house_id: Mapped[str] = mapped_column(ForeignKey("houses.id"), index=True)
    role: Mapped[str] = mapped_column(String(32), default="it_helper")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    quiet_hours: Mapped[str] = mapped_column(String(32), default="")  # "22:00-08:00", local time; "" = none
    language: Mapped[str] = mapped_column(String(16), default="de")
    # Matrix user ID (@jonas:talblick.example): offers go there instead of SMS.
    matrix: Mapped[str] = mapped_column(String(255), default="", server_default="")

    house: Mapped[House] = relationship(back_populates="volunteers")


class Partner(Base):
    """A partner service (one of SERVICE_KINDS) serving some regions during its opening hours."""

    __tablename__ = "partners"

    id: Mapped[str] = mapped_column(String(SLUG), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    service_kind: Mapped[str] = mapped_column(String(32), index=True)
    phone: Mapped[str] = mapped_column(String(PHONE))
    opening_hours: Mapped[str] = mapped_column(Text, default="24/7")  # ivr.hours.OpeningHours text
    whisper: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    regions: Mapped[list[Region]] = relationship(
        secondary=partner_regions, back_populates="partners", order_by="Region.id"
    )


class DirectoryVersion(Base):
    """One row counting changes to the directory; database triggers bump it (migration 0012).

    Every INSERT, UPDATE and DELETE on a table the call path reads of the directory (DIRECTORY_TABLES)
    adds one in the writing transaction, whoever writes: an import, the console, an erasure, psql.
    ivr.directory.cache keeps its reads until the count moves.
    """

    __tablename__ = "directory_version"

    id: Mapped[int] = mapped_column(primary_key=True)  # always 1
    version: Mapped[int] = mapped_column(Integer, default=0)


# The tables whose rows build a caller's context (ivr.directory.routing.DirectoryReads).
DIRECTORY_TABLES = ("regions", "houses", "tenants", "tenant_phones", "volunteers", "partners", "partner_regions",
                    "housing_projects")


class Call(Base):
    """One phone call, keyed by its provider and the provider's id for it; state is CallState.to_dict().

    Provider-neutral: the telephony adapter (ivr.telephony) maps its own call ids and status words
    to these columns; from_number is the caller's address as the provider gave it (a number, a SIP
    URI, a client id).
    """

    __tablename__ = "calls"
    __table_args__ = (UniqueConstraint("provider", "provider_call_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(16), default="twilio", server_default="twilio")
    provider_call_id: Mapped[str] = mapped_column(String(CALL_ID))
    from_number: Mapped[str | None] = mapped_column(String(ADDRESS), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    flow_name: Mapped[str] = mapped_column(String(100), default="")
    flow_language: Mapped[str] = mapped_column(String(16), default="")
    flow_revision: Mapped[str] = mapped_column(String(64), default="")
    state: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[str] = mapped_column(String(20), default="active")  # one of CALL_STATUSES
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    ended_at: Mapped[datetime | None]
    duration_seconds: Mapped[int | None]
    outcome: Mapped[str] = mapped_column(Text, default="")
    last_update: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    # Optimistic locking: every change bumps it, and an UPDATE of a call that changed since it was
    # read raises StaleDataError (a key press and a spoken word racing: one wins, the other decides again).
    version: Mapped[int] = mapped_column(default=0, server_default="0")

    __mapper_args__ = {"version_id_col": version}

    tenant: Mapped[Tenant | None] = relationship()
    events: Mapped[list[CallEvent]] = relationship(
        back_populates="call", cascade="all, delete-orphan", order_by="CallEvent.id"
    )


class CallEvent(Base):
    """One step of a call, for the audit trail: what came in, where the flow was, what it did."""

    __tablename__ = "call_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    kind: Mapped[str] = mapped_column(String(32))  # e.g. "digits", "speech", "no_input", "dial_result"
    node: Mapped[str | None] = mapped_column(String(100))
    detail: Mapped[str] = mapped_column(Text, default="")  # the input: keys pressed, words heard
    outcome: Mapped[str] = mapped_column(Text, default="")

    call: Mapped[Call] = relationship(back_populates="events")


class FlowRevision(Base):
    """One flow file's text as it was loaded, so a call finishes on its revision after an edit and a restart.

    The loader needs nothing but the text and the file name to rebuild the very same Flow
    (a flow file includes no other file); the revision is the hash of the text (ivr.flows.loader).
    """

    __tablename__ = "flow_revisions"

    revision: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    language: Mapped[str] = mapped_column(String(16))
    path: Mapped[str] = mapped_column(String(500))  # the file it was loaded from: problems and lines name it
    source: Mapped[str] = mapped_column(Text)
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    # The last time a server loaded this text from a clean file or an upload: the newest of a flow is served
    # by every server (ivr/flows/revisions.py).
    loaded_at: Mapped[datetime | None]


class WorkerHeartbeat(Base):
    """When a worker process last ran its sweep: /healthz is degraded when none ran lately."""

    __tablename__ = "worker_heartbeats"

    name: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid
    ran_at: Mapped[datetime]


class FlowServerLoad(Base):
    """Which revision of a flow one server process serves and since when (the console's /flows lists them)."""

    __tablename__ = "flow_server_loads"

    server: Mapped[str] = mapped_column(String(100), primary_key=True)  # host:pid
    name: Mapped[str] = mapped_column(String(100), primary_key=True)
    language: Mapped[str] = mapped_column(String(16), primary_key=True)
    revision: Mapped[str] = mapped_column(String(64))
    loaded_at: Mapped[datetime]  # when this server began serving the revision
    seen_at: Mapped[datetime]  # when it last said so (ivr/flows/revisions.py: at most once a minute)


class CallbackTask(Base):
    """A request to call someone back; `number` is the short public number used in SMS replies."""

    __tablename__ = "callback_tasks"

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(unique=True)
    state: Mapped[str] = mapped_column(String(16), default="open", index=True)  # one of TASK_STATES
    audience: Mapped[str] = mapped_column(String(16), default="volunteers")  # one of TASK_AUDIENCES
    topic: Mapped[str] = mapped_column(String(100), default="")
    house_id: Mapped[str | None] = mapped_column(ForeignKey("houses.id"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="SET NULL"), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    callback_number: Mapped[str] = mapped_column(String(ADDRESS), default="")
    caller_name: Mapped[str] = mapped_column(String(NAME), default="")
    # The spoken message as the call's telephony adapter names it (ivr.telephony: fetch_recording).
    recording_ref: Mapped[str | None] = mapped_column(String(500))
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    due_at: Mapped[datetime | None]
    next_step_at: Mapped[datetime | None] = mapped_column(index=True)  # when the worker looks again
    assigned_volunteer_id: Mapped[int | None] = mapped_column(ForeignKey("volunteers.id", ondelete="SET NULL"))
    escalation_level: Mapped[int] = mapped_column(default=0)
    version: Mapped[int] = mapped_column(default=1)

    # Optimistic locking: an UPDATE that lost a race raises StaleDataError instead of overwriting.
    __mapper_args__ = {"version_id_col": version}

    house: Mapped[House | None] = relationship()
    tenant: Mapped[Tenant | None] = relationship()
    call: Mapped[Call | None] = relationship()
    assigned_volunteer: Mapped[Volunteer | None] = relationship()
    transitions: Mapped[list[TaskTransition]] = relationship(
        back_populates="task", cascade="all, delete-orphan", order_by="TaskTransition.id"
    )


class TaskTransition(Base):
    """Who moved a task from one state to another, when and why."""

    __tablename__ = "task_transitions"

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("callback_tasks.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime] = mapped_column(default=utcnow)
    from_state: Mapped[str | None] = mapped_column(String(16))
    to_state: Mapped[str] = mapped_column(String(16))
    actor: Mapped[str] = mapped_column(String(NAME), default="")  # e.g. "volunteer 3", "worker", "call CA..."
    reason: Mapped[str] = mapped_column(Text, default="")

    task: Mapped[CallbackTask] = relationship(back_populates="transitions")


class SmsMessage(Base):
    """One SMS in the outbox (written with the change that causes it) or received from outside."""

    __tablename__ = "sms_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    direction: Mapped[str] = mapped_column(String(8), default="outbound")  # one of SMS_DIRECTIONS
    to_number: Mapped[str] = mapped_column(String(ADDRESS))  # a phone number, or the channel's address
    from_number: Mapped[str] = mapped_column(String(ADDRESS), default="")
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="queued", index=True)  # one of SMS_STATUSES
    channel: Mapped[str] = mapped_column(String(16), default="sms", server_default="sms")  # the messaging channel
    provider_message_id: Mapped[str | None] = mapped_column(String(128), unique=True)  # the channel's id for it
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(index=True)
    last_error_code: Mapped[int | None]  # the channel's error code
    last_error_text: Mapped[str] = mapped_column(Text, default="")
    task_id: Mapped[int | None] = mapped_column(ForeignKey("callback_tasks.id", ondelete="SET NULL"), index=True)
    idempotency_key: Mapped[str | None] = mapped_column(String(100), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]

    task: Mapped[CallbackTask | None] = relationship()


# Tables kept by other packages, on the same Base so that migrations and metadata see them.
from ivr.housing import models as _housing_models  # noqa: E402,F401


STAFF_ROLES = ("staff", "admin")


class StaffAccount(Base):
    """A person of the cooperative's office who signs in to the staff console (ivr/console)."""

    __tablename__ = "staff_accounts"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)  # stored in lower case
    name: Mapped[str] = mapped_column(String(NAME))
    role: Mapped[str] = mapped_column(String(16), default="staff")  # one of STAFF_ROLES
    password_hash: Mapped[str] = mapped_column(String(200))  # argon2id, with its own salt and parameters
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None]


class StaffAuditEntry(Base):
    """One staff action (or failed sign-in): who, when, what, on what; the console's audit log."""

    __tablename__ = "staff_audit"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("staff_accounts.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(NAME), default="")  # the account's email, or "cli", at the time
    action: Mapped[str] = mapped_column(String(64), index=True)  # e.g. "login", "task.done", "directory.delete"
    target: Mapped[str] = mapped_column(String(200), default="")  # e.g. "task #17", "tenant 4"
    detail: Mapped[str] = mapped_column(Text, default="")
    address: Mapped[str] = mapped_column(String(64), default="")  # the client's address (via trusted proxies)


class MatrixState(Base):
    """What the Matrix channel keeps between runs (ivr.telephony.matrix.state), e.g. the sync token."""

    __tablename__ = "matrix_state"

    key: Mapped[str] = mapped_column(String(300), primary_key=True)  # e.g. "sync_token"
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class HouseChatMessage(Base):
    """A recent message of a house's chat room, kept by the worker so a call reads the database only.

    ivr.directory.housechat stores and trims them (the last few weeks, as much as a flow may ask for);
    tenant_id is set on a message the hotline posted for that tenant ("Frau Becker (am Telefon): ...").
    """

    __tablename__ = "house_chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    house_id: Mapped[str] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"), index=True)
    room_id: Mapped[str] = mapped_column(String(255))
    event_id: Mapped[str] = mapped_column(String(255), unique=True)
    sender: Mapped[str] = mapped_column(String(255))  # a Matrix ID
    sender_name: Mapped[str] = mapped_column(String(NAME), default="")  # display name in the room
    body: Mapped[str] = mapped_column(Text, default="")
    msgtype: Mapped[str] = mapped_column(String(32), default="m.text")
    sent_at: Mapped[datetime] = mapped_column(index=True)
    reply_to: Mapped[str | None] = mapped_column(String(255))  # the event this one answers
    from_hotline: Mapped[bool] = mapped_column(Boolean, default=False)  # posted by the hotline for a tenant
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)


HOUSE_MESSAGE_STATUSES = ("recorded", "transcribing", "ready", "failed", "discarded", "confirmed", "posted")


class HouseMessage(Base):
    """A tenant's spoken message to her house chat room ("Nachricht an die Nachbarn"), from recording to post.

    recorded -> transcribing -> ready (or failed) -> confirmed (she pressed 1) -> posted (in the room);
    discarded when she does not confirm it.
    Rows that are not confirmed are deleted with their recording when she cancels or the call ends
    (ivr.tasks.housemessages); posted ones follow the retention period.
    """

    __tablename__ = "house_messages"
    __table_args__ = (UniqueConstraint("call_id", "recording_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    call_id: Mapped[int] = mapped_column(ForeignKey("calls.id", ondelete="CASCADE"), index=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True)
    house_id: Mapped[str | None] = mapped_column(ForeignKey("houses.id", ondelete="CASCADE"))
    recording_ref: Mapped[str] = mapped_column(String(500))
    language: Mapped[str] = mapped_column(String(8), default="de")
    status: Mapped[str] = mapped_column(String(16), default="recorded", index=True)
    transcript: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(index=True)
    claimed_at: Mapped[datetime | None] = mapped_column()  # a worker began transcribing it
    confirmed_at: Mapped[datetime | None] = mapped_column()
    posted_at: Mapped[datetime | None] = mapped_column()
    event_ids: Mapped[str] = mapped_column(String(600), default="")  # the room's events, text first
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str] = mapped_column(String(500), default="")
