"""The SMS texts, German and English, kept to one GSM-7 SMS (160 characters) where the data allows."""

from __future__ import annotations

import phonenumbers

from ivr.db.models import CallbackTask

# GSM 03.38 default alphabet; the extension characters cost two septets (3GPP TS 23.038, 6.2.1).
GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("^{}\\[~]|€\f")
ONE_SMS = 160

TEXTS = {
    "de": {
        "offer": "Hausruf #{n}: {who}{house} bittet um Rückruf: {topic}. Tel. {phone}. "
                 "OK {n} = übernehme, NEIN {n} = kann nicht.",
        "staff": "Hausruf #{n}: {who}{house} bittet um Rückruf: {topic}. Tel. {phone}. "
                 "Erledigt: ERLEDIGT {n}.",
        "room_offer": "Hausruf #{n} an alle IT-Helfer: {who}{house} bittet um Rückruf: {topic}. Tel. {phone}. "
                      "Wer übernimmt? OK {n}.",
        "escalated": "Hausruf #{n} ans Büro: {why} {who}{house}: {topic}. Tel. {phone}.",
        "expired": "Hausruf #{n} abgelaufen, niemand hat übernommen: {who}{house}, Tel. {phone}.",
        "reminder": "Hausruf Erinnerung #{n}: {who} wartet auf Ihren Rückruf, Tel. {phone}. "
                    "Wenn erledigt: ERLEDIGT {n}.",
        "accepted": "Danke! #{n} ist Ihre Aufgabe: {who}, Tel. {phone}. Wenn erledigt: ERLEDIGT {n}. "
                    "Geht doch nicht: NEIN {n}.",
        "done": "Danke! #{n} ist erledigt.",
        "declined": "In Ordnung, #{n} geht an jemand anderen.",
        "taken": "#{n} hat schon {name} übernommen. Danke!",
        "yours": "Sie haben #{n} schon übernommen. Wenn erledigt: ERLEDIGT {n}.",
        "finished": "#{n} ist schon erledigt oder abgesagt. Danke!",
        "not_yours": "#{n} ist nicht Ihre Aufgabe.",
        "elsewhere": "#{n} ist bei jemand anderem in guten Händen. Danke!",
        "unknown_task": "Hausruf: Aufgabe #{n} gibt es für Sie nicht. Hilfe: ?",
        "which": "Hausruf: Welche Aufgabe? Bitte mit Nummer antworten, z.B. OK {example}. {mine}",
        "help": "Hausruf: OK 17 = übernehme, NEIN 17 = kann nicht, ERLEDIGT 17 = fertig. {mine}",
        "not_understood": "Hausruf: Nicht verstanden. OK 17 = übernehme, NEIN 17 = kann nicht, "
                          "ERLEDIGT 17 = fertig.",
        "mine": "Ihre Aufgaben: {numbers}.",
        "none_mine": "Sie haben keine offenen Aufgaben.",
        "closed_by_staff": "Hausruf #{n}: {how} durch die Genossenschaft. Bitte nicht mehr anrufen. Danke!",
        "how_done": "erledigt",
        "how_cancelled": "abgesagt",
        "why_no_one": "Kein IT-Helfer hat übernommen.",
        "why_no_helper": "Kein IT-Helfer im Haus.",
        "why_not_done": "Übernommen, aber nicht erledigt.",
        "taken_late": "Hausruf #{n}: doch übernommen von {name}. Danke!",
        "caller": "Anrufer",
        "missed": "Verpasster Anruf (Störung)",
    },
    "en": {
        "offer": "Hausruf #{n}: {who}{house} asks for a call back: {topic}. Tel. {phone}. "
                 "OK {n} = I take it, NO {n} = can't.",
        "staff": "Hausruf #{n}: {who}{house} asks for a call back: {topic}. Tel. {phone}. Done: DONE {n}.",
        "room_offer": "Hausruf #{n} to all IT helpers: {who}{house} asks for a call back: {topic}. Tel. {phone}. "
                      "Who takes it? OK {n}.",
        "escalated": "Hausruf #{n} to the office: {why} {who}{house}: {topic}. Tel. {phone}.",
        "expired": "Hausruf #{n} expired, nobody took it: {who}{house}, tel. {phone}.",
        "reminder": "Hausruf reminder #{n}: {who} is waiting for your call, tel. {phone}. When done: DONE {n}.",
        "accepted": "Thanks! #{n} is yours: {who}, tel. {phone}. When done: DONE {n}. Can't after all: NO {n}.",
        "done": "Thanks! #{n} is done.",
        "declined": "All right, #{n} goes to someone else.",
        "taken": "#{n} has already been taken by {name}. Thanks!",
        "yours": "You already took #{n}. When done: DONE {n}.",
        "finished": "#{n} is already done or cancelled. Thanks!",
        "not_yours": "#{n} is not your task.",
        "elsewhere": "#{n} is with someone else already. Thanks!",
        "unknown_task": "Hausruf: there is no task #{n} for you. Help: ?",
        "which": "Hausruf: which task? Please reply with its number, e.g. OK {example}. {mine}",
        "help": "Hausruf: OK 17 = I take it, NO 17 = can't, DONE 17 = finished. {mine}",
        "not_understood": "Hausruf: sorry, not understood. OK 17 = I take it, NO 17 = can't, DONE 17 = finished.",
        "mine": "Your tasks: {numbers}.",
        "none_mine": "You have no open tasks.",
        "closed_by_staff": "Hausruf #{n}: {how} by the cooperative. No need to call. Thanks!",
        "how_done": "done",
        "how_cancelled": "cancelled",
        "why_no_one": "No IT helper took it.",
        "why_no_helper": "No IT helper in the house.",
        "why_not_done": "Taken but not done.",
        "taken_late": "Hausruf #{n}: taken after all by {name}. Thanks!",
        "caller": "A caller",
        "missed": "Missed call (outage)",
    },
}


def language_of(code: str | None) -> str:
    """'de', 'de-DE', 'en_GB' -> a language we have texts for (German by default)."""
    base = (code or "de").replace("_", "-").split("-")[0].lower()
    return base if base in TEXTS else "de"


def word(language: str, key: str) -> str:
    """One fixed phrase in the language."""
    return TEXTS[language_of(language)][key]


def gsm_septets(text: str) -> int | None:
    """Length in GSM-7 septets, or None if the text needs UCS-2 (then an SMS holds only 70 characters)."""
    if any(ch not in GSM_BASIC and ch not in GSM_EXTENSION for ch in text):
        return None
    return sum(2 if ch in GSM_EXTENSION else 1 for ch in text)


def sms_parts(text: str) -> int:
    """How many SMS the provider bills for text (153 septets or 67 UCS-2 characters per part when split)."""
    septets = gsm_septets(text)
    if septets is not None:
        return 1 if septets <= ONE_SMS else -(-septets // 153)
    return 1 if len(text) <= 70 else -(-len(text) // 67)


def to_gsm(text: str) -> str:
    """Replace the few characters people type that would switch the SMS to UCS-2 (70 characters)."""
    table = str.maketrans({"…": "...", "–": "-", "—": "-", "„": '"', "“": '"', "”": '"', "‚": "'", "‘": "'",
                           "’": "'", "ê": "e", "á": "a", "ó": "o", "í": "i", "ú": "u", "ç": "c", "â": "a",
                           "ô": "o", "î": "i", "û": "u", "ë": "e", "ï": "i", "ş": "s", "ğ": "g", "ı": "i",
                           "\u00a0": " "})
    return text.translate(table)


def spoken_phone(number: str, home: str = "DE") -> str:
    """'+493023125301' -> '030 23125301' (national at home, saves 4 characters), else '+44 20 ...'."""
    try:
        parsed = phonenumbers.parse(number, home)
    except phonenumbers.NumberParseException:
        return number
    local = phonenumbers.region_code_for_number(parsed) == home
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL if local
                                      else phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def render(key: str, language: str, task: CallbackTask | None = None, **fields) -> str:
    """The text for key, filled from the task; a long topic or name is shortened to keep one SMS."""
    lang = language_of(language)
    values = dict(fields)
    if task is not None:
        values.setdefault("n", task.number)
        values.setdefault("who", task.caller_name or TEXTS[lang]["caller"])
        values.setdefault("house", f" ({task.house.name})" if task.house is not None else "")
        values.setdefault("topic", task.topic.rstrip(". ") or "-")
        values.setdefault("phone", spoken_phone(task.callback_number) if task.callback_number else "?")
    text = to_gsm(TEXTS[lang][key].format(**values))
    for field in ("topic", "who"):
        text = _shorten(key, lang, values, field, text)
    return text


def _shorten(key: str, lang: str, values: dict, field: str, text: str) -> str:
    septets = gsm_septets(text)
    original = str(values.get(field, ""))
    # A name in a non-GSM script needs UCS-2 anyway (70 characters): shortening cannot save the split.
    if septets is None or septets <= ONE_SMS or "{%s}" % field not in TEXTS[lang][key] or len(original) < 8:
        return text
    excess = septets - ONE_SMS
    keep = max(4, len(original) - excess - 3)
    cut = original[:keep]
    # End on a whole word when that costs little: "Hilfe mit Telefon, Computer..." not "Comp...".
    if " " in cut[keep // 2:]:
        cut = cut[:cut.rindex(" ")]
    values[field] = cut.rstrip(" ,;:.") + "..."
    return to_gsm(TEXTS[lang][key].format(**values)).replace("....", "...")
