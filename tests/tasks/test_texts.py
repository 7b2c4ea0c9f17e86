"""SMS texts: measured in GSM-7 septets, one SMS each for realistic data, both languages."""

from __future__ import annotations

import pytest

from ivr.db.models import CallbackTask, House
from ivr.tasks.texts import TEXTS, gsm_septets, render, sms_parts, spoken_phone


def task(number=17, name="Frau Becker", house="Lindenhof", topic="Hilfe mit Telefon, Computer oder Haus-Chat"):
    return CallbackTask(number=number, caller_name=name, house=House(id="h", name=house, region_id="r"),
                        topic=topic, callback_number="+493023125301")


FIELDS = {"name": "Petra Wolf", "how": "erledigt", "why": "Kein IT-Helfer hat übernommen.", "example": 17,
          "mine": "Ihre Aufgaben: #17, #18.", "numbers": "#17, #18"}


@pytest.mark.parametrize("language", ["de", "en"])
@pytest.mark.parametrize("key", sorted(TEXTS["de"]))
def test_every_text_fits_one_gsm_sms_for_a_three_digit_task(language, key):
    text = render(key, language, task(number=417, name="Frau Müller-Lüdenscheidt"), **FIELDS)
    assert "{" not in text
    assert gsm_septets(text) is not None, text
    assert gsm_septets(text) <= 160, (len(text), text)


def test_the_offer_reads_like_the_issue_example():
    text = render("offer", "de", task())
    assert text == ("Hausruf #17: Frau Becker (Lindenhof) bittet um Rückruf: Hilfe mit Telefon, Computer oder "
                    "Haus-Chat. Tel. 030 23125301. OK 17 = übernehme, NEIN 17 = kann nicht.")
    assert gsm_septets(text) == 159 and sms_parts(text) == 1


def test_a_long_topic_is_cut_at_a_word_to_stay_in_one_sms():
    text = render("offer", "de", task(topic="Hilfe beim Einrichten des neuen Tablets für Videoanrufe mit den Enkeln"))
    assert gsm_septets(text) <= 160 and sms_parts(text) == 1
    assert "bittet um Rückruf: Hilfe beim Einrichten des neuen Tablets... Tel. 030 23125301." in text


def test_typographic_characters_are_replaced_to_keep_gsm():
    text = render("offer", "de", task(topic="Handy – „WhatsApp“ geht nicht…"))
    assert gsm_septets(text) is not None and '- "WhatsApp" geht nicht...' in text


def test_non_gsm_names_are_kept_and_counted_as_ucs2():
    text = render("offer", "de", task(name="Frau Łukasiewicz"))
    assert gsm_septets(text) is None and sms_parts(text) == 3


@pytest.mark.parametrize("number, shown", [("+493023125301", "030 23125301"), ("+4927150199999", "0271 50199999"),
                                           ("+442071838750", "+44 20 7183 8750"), ("", "")])
def test_phone_numbers_are_national_at_home(number, shown):
    assert spoken_phone(number) == shown
