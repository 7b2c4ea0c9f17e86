"""How the housing nodes speak about projects and what they lack, and the SMS texts, in the flow's language."""

from __future__ import annotations

from collections.abc import Callable

from ivr.housing.ranking import Project, Scored

ORDINALS = {
    "de": ("Erstens", "Zweitens", "Drittens"),
    "en": ("First", "Second", "Third"),
}
MISSING = {
    "de": {"region": "es liegt in einem anderen Ort", "budget": "die Miete ist höher",
           "flat": "gerade ist keine Wohnung frei", "waiting_list": "die Warteliste ist geschlossen",
           "step_free": "es ist nicht stufenlos", "care": "es gibt keinen Pflegedienst im Haus",
           "lift": "es gibt keinen Aufzug", "garden": "es gibt keinen Garten", "pets": "Haustiere sind nicht erlaubt",
           "shared_rooms": "es gibt keine Gemeinschaftsräume"},
    "en": {"region": "it is in another town", "budget": "the rent is higher", "flat": "no flat is free now",
           "waiting_list": "the waiting list is closed", "step_free": "it is not step-free",
           "care": "there is no care service in the house", "lift": "there is no lift", "garden": "there is no garden",
           "pets": "pets are not allowed", "shared_rooms": "there are no shared rooms"},
}
PHRASES = {
    "de": {"in": "in", "free": {0: "Zurzeit ist keine Wohnung frei, die Warteliste ist offen.",
                                1: "Eine Wohnung ist frei.", "n": "{n} Wohnungen sind frei."},
           "closest": "Am nächsten kommt {name} in {town}, aber {missing}.",
           "and": "und", "sms_head": "Wohnprojekte für Sie:", "sms_contact": "Kontakt",
           "task_topic": "Wohnprojekt {name}: Rückruf",
           "task_sms": "Hausruf #{n}: Anfrage für {name}. Bitte rufen Sie zurück: Tel. {phone}. "
                       "Danach: ERLEDIGT {n}, geht nicht: NEIN {n}. Angaben: {answers}",
           "contact_declined": "Das Wohnprojekt kann nicht zurückrufen.",
           "task_sms_staff": "Hausruf #{n}: Wohnungssuche, bitte zurückrufen: Tel. {phone}. Angaben: {answers}"},
    "en": {"in": "in", "free": {0: "No flat is free now; the waiting list is open.",
                                1: "One flat is free.", "n": "{n} flats are free."},
           "closest": "The closest is {name} in {town}, but {missing}.",
           "and": "and", "sms_head": "Housing projects for you:", "sms_contact": "Contact",
           "task_topic": "Housing project {name}: call back",
           "task_sms": "Hausruf #{n}: enquiry for {name}. Please call back: tel. {phone}. "
                       "Afterwards: DONE {n}, can't: NO {n}. Answers: {answers}",
           "contact_declined": "The housing project cannot call back.",
           "task_sms_staff": "Hausruf #{n}: housing enquiry, please call back: tel. {phone}. Answers: {answers}"},
}


def lang_of(language: str) -> str:
    return language if language in PHRASES else "de"


def phrase(language: str, key: str) -> str:
    """One fixed phrase."""
    return PHRASES[lang_of(language)][key]


def said_matches(matches: tuple[Scored, ...], language: str) -> tuple[str, ...]:
    """One segment per project (pauses between them): ordinal, name and town, the phone text, free flats."""
    return _one_segment_each(matches[:len(ORDINALS[lang_of(language)])], language, _said_match)


def said_closest(closest: tuple[Scored, ...], language: str) -> tuple[str, ...]:
    """What came closest when nothing fits, and what each one lacks."""
    return _one_segment_each(closest, language, _said_closest)


def _one_segment_each(projects: tuple[Scored, ...], language: str,
                      say: Callable[[Scored, str, int], str]) -> tuple[str, ...]:
    """say(scored, lang, position) for each project: one segment each, in the flow's language."""
    lang = lang_of(language)
    return tuple(say(scored, lang, position) for position, scored in enumerate(projects))


def _said_match(scored: Scored, lang: str, position: int) -> str:
    p = scored.project
    return f"{ORDINALS[lang][position]}: {p.name} {PHRASES[lang]['in']} {p.town}. {p.phone_text} {_free(p, lang)}"


def _said_closest(scored: Scored, lang: str, position: int) -> str:
    missing = [MISSING[lang].get(code, code) for code in scored.missing]
    text = f" {PHRASES[lang]['and']} ".join(missing) if len(missing) < 3 else ", ".join(missing)
    return PHRASES[lang]["closest"].format(name=scored.project.name, town=scored.project.town, missing=text)


def _free(project: Project, lang: str) -> str:
    free = PHRASES[lang]["free"]
    if project.flats_free in (0, 1):
        return free[project.flats_free]
    return free["n"].format(n=project.flats_free)
