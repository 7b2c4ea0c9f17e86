"""Database models of community housing: projects, seekers (with consent) and the anonymous demand counts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ivr.db.models import NAME, PHONE, SLUG, Base, Call, Region
from ivr.db.types import utcnow


class HousingProject(Base):
    """A community housing project callers can be matched with (directory file projects.yaml/.csv)."""

    __tablename__ = "housing_projects"

    id: Mapped[str] = mapped_column(String(SLUG), primary_key=True)
    name: Mapped[str] = mapped_column(String(NAME))
    town: Mapped[str] = mapped_column(String(NAME))
    region_id: Mapped[str] = mapped_column(ForeignKey("regions.id"), index=True)
    address: Mapped[str] = mapped_column(String(300), default="")
    contact_name: Mapped[str] = mapped_column(String(NAME), default="")
    contact_phone: Mapped[str] = mapped_column(String(PHONE))
    kinds: Mapped[list[str]] = mapped_column(JSON, default=list)  # of vocabulary.LIVING_KINDS
    features: Mapped[list[str]] = mapped_column(JSON, default=list)  # of vocabulary.FEATURES
    rent_band: Mapped[str] = mapped_column(String(16))  # one of vocabulary.RENT_BANDS
    flats_free: Mapped[int] = mapped_column(Integer, default=0)
    waiting_list: Mapped[bool] = mapped_column(Boolean, default=False)
    phone_text: Mapped[str] = mapped_column(Text)  # one or two sentences, read out on the phone
    sms_text: Mapped[str] = mapped_column(Text)  # the details sent by SMS
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    region: Mapped[Region] = relationship()


class HousingSeeker(Base):
    """A caller who agreed that their answers are stored (and maybe shared with the chosen projects).

    Needs such as care are health data: a row exists only with consent to store; `share_consent`
    says whether the projects may get the answers. Retention and erasure by number apply as to calls.
    """

    __tablename__ = "housing_seekers"

    id: Mapped[int] = mapped_column(primary_key=True)
    phone: Mapped[str] = mapped_column(String(PHONE), index=True)
    call_id: Mapped[int | None] = mapped_column(ForeignKey("calls.id", ondelete="SET NULL"), index=True)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    matched: Mapped[list[str]] = mapped_column(JSON, default=list)  # project ids the caller heard, best first
    share_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)

    call: Mapped[Call | None] = relationship()


class HousingDemand(Base):
    """Anonymous demand: how many callers of a calendar month asked for a value of one dimension.

    Counters only (no row per caller, no time finer than the month, no link to a call), so they
    are kept without consent. Dimensions: callers (value 'all'), region, kind, need, budget;
    outcome: match or no_match.
    """

    __tablename__ = "housing_demand"
    __table_args__ = (UniqueConstraint("month", "dimension", "value", "outcome", name="uq_housing_demand_cell"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[str] = mapped_column(String(7))  # YYYY-MM, local time of the cooperative
    dimension: Mapped[str] = mapped_column(String(16))
    value: Mapped[str] = mapped_column(String(SLUG))
    outcome: Mapped[str] = mapped_column(String(16))
    count: Mapped[int] = mapped_column(Integer, default=0)
