"""The printable menu card of one house: large print, the hotline number, the keys of the services there.

Older callers do better with a printed aid beside the phone (Sharit et al. 2003, Human Factors 45(2)).
Only the services that reach the house's town are listed (the same routing the calls use), with
the person and emergency keys and the house's IT helpers. Drawn by reportlab: no browser, no fonts
to install (its built-in Helvetica covers German).
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from datetime import datetime, timezone
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import phonenumbers
from sqlalchemy import select
from sqlalchemy.orm import Session

from ivr.config import Settings
from ivr.db.models import House, Volunteer
from ivr.directory.routing import service_statuses
from ivr.flows.model import Flow, MenuNode

BODY_PT = 20  # at least 16 pt for large print; 20 reads from an arm's length
TITLE_PT = 30


class CardError(LookupError):
    """No such house, or the flow has no menu to print."""


@dataclass(frozen=True)
class Card:
    """What the card says, before it is drawn (tests and the page read it too)."""

    house: str
    town: str
    hotline: str
    keys: tuple[tuple[str, str], ...]  # (key, what it does), in key order
    helpers: tuple[str, ...]


def main_menu(flow: Flow) -> MenuNode:
    """The menu callers hear first: `main_menu`, else the first menu of the file."""
    node = flow.nodes.get("main_menu")
    if isinstance(node, MenuNode):
        return node
    for node in flow.nodes.values():
        if isinstance(node, MenuNode):
            return node
    raise CardError(f"flow {flow.name} has no menu to print")


def plain_words(option) -> str:
    """What the key does, as the menu announces it ("Einkäufe nach Hause: die 1" -> "Einkäufe nach Hause").

    Else the option's label; announcements with template parts are not printable and fall back too.
    """
    said = option.say.segments[0] if option.say and option.say.segments else ""
    words = said.split(":")[0].strip()
    if not words or "{" in words or len(words) > 60 or words == said.strip():
        return option.label
    return words


def card_for(session: Session, flow: Flow, house_id: str, settings: Settings,
             now: datetime | None = None) -> Card:
    """The card's content for one house."""
    house = session.get(House, house_id)
    if house is None:
        known = ", ".join(session.scalars(select(House.id).order_by(House.id))) or "none"
        raise CardError(f"there is no house '{house_id}'; known houses: {known}")
    local = (now or datetime.now(timezone.utc)).astimezone(ZoneInfo(settings.timezone))
    services = service_statuses(session, house.region_id, local, settings.holiday_region, flow.language)
    keys = []
    menu = main_menu(flow)
    for option in menu.options:
        if option.service and services[option.service].status == "unavailable":
            continue
        keys.append((option.key, plain_words(option)))
    for name in ("person", "emergency"):
        option = flow.globals.get(name)
        if option is not None:
            keys.append((option.key, plain_words(option)))
    if menu.repeat_key:
        keys.append((menu.repeat_key, "alles noch einmal hören" if flow.language == "de" else "hear it all again"))
    helpers = tuple(session.scalars(select(Volunteer.name).where(Volunteer.house_id == house.id,
                                                                  Volunteer.active.is_(True)).order_by(Volunteer.name)))
    return Card(house=house.name, town=house.region.name, hotline=_spoken_number(settings.phone_number),
                keys=tuple(keys), helpers=helpers)


def _spoken_number(number: str | None) -> str:
    if not number:
        return "(Nummer noch nicht eingestellt: HAUSRUF_PHONE_NUMBER)"
    try:
        return phonenumbers.format_number(phonenumbers.parse(number, "DE"), phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        return number


def card_pdf(card: Card) -> bytes:
    """The card as an A4 PDF."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    body = ParagraphStyle("body", fontName="Helvetica", fontSize=BODY_PT, leading=BODY_PT * 1.35)
    bold = ParagraphStyle("bold", parent=body, fontName="Helvetica-Bold")
    title = ParagraphStyle("title", parent=bold, fontSize=TITLE_PT, leading=TITLE_PT * 1.25, spaceAfter=4 * mm)
    key_style = ParagraphStyle("key", parent=bold, fontSize=TITLE_PT, leading=TITLE_PT * 1.2, alignment=1)
    out = io.BytesIO()
    doc = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=16 * mm,
                            bottomMargin=16 * mm, title=f"Hausruf – {card.house}", author="Hausruf")
    rows = [[Paragraph(escape(key), key_style), Paragraph(escape(text), body)] for key, text in card.keys]
    table = Table(rows, colWidths=[28 * mm, None])
    table.setStyle(TableStyle([("BOX", (0, 0), (0, -1), 1.5, colors.black), ("INNERGRID", (0, 0), (0, -1), 1.5,
                                                                                colors.black),
                               ("VALIGN", (0, 0), (-1, -1), "MIDDLE"), ("TOPPADDING", (0, 0), (-1, -1), 1.5 * mm),
                               ("BOTTOMPADDING", (0, 0), (-1, -1), 1.5 * mm), ("LEFTPADDING", (1, 0), (1, -1), 5 * mm)]))
    story = [
        Paragraph("Hausruf – Ihr Haustelefon", title),
        Paragraph(escape(f"{card.house}, {card.town}"), body),
        Spacer(1, 6 * mm),
        Paragraph("Rufen Sie an:", body),
        Paragraph(escape(card.hotline), ParagraphStyle("number", parent=title, fontSize=36, leading=44)),
        Paragraph("Dann drücken Sie eine Taste:", body),
        Spacer(1, 3 * mm),
        table,
        Spacer(1, 8 * mm),
    ]
    if card.helpers:
        story.append(Paragraph("Ihre IT-Helfer im Haus: " + escape(", ".join(card.helpers)), body))
    story.append(Spacer(1, 4 * mm))
    story.append(Paragraph("Bei Lebensgefahr rufen Sie direkt 112.", bold))
    doc.build(story)
    return out.getvalue()
