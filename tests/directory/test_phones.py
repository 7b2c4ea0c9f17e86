"""Phone numbers: every way people write them becomes E.164; logs see only a masked form."""

from __future__ import annotations

import pytest

from ivr.directory.phones import PhoneNumberError, caller_number, mask, normalise


@pytest.mark.parametrize(
    "written",
    ["0271 123456", "+49 (271) 12 34 56", "0049 271 123456", "+49271123456", "(0271) 12-34-56", " 0271/123456 "],
)
def test_normalise_any_format_to_e164(written):
    assert normalise(written) == "+49271123456"


def test_foreign_numbers_keep_their_country():
    assert normalise("+1 202 555 0123") == "+12025550123"
    assert normalise("0031 20 123 4567") == "+31201234567"


@pytest.mark.parametrize(
    "written, message",
    [
        ("", "phone number is empty"),
        ("12", "'12' is not a valid phone number; write it like '0271 123456' or '+49 271 123456'"),
        ("hallo", "'hallo' is not a phone number; write it like '0271 123456' or '+49 271 123456'"),
    ],
)
def test_invalid_numbers_are_refused_with_the_form(written, message):
    with pytest.raises(PhoneNumberError) as info:
        normalise(written)
    assert str(info.value) == message


def test_caller_number_is_none_for_withheld_or_garbage_caller_ids():
    assert caller_number("anonymous") is None
    assert caller_number(None) is None
    assert caller_number("+49 30 23125301") == "+493023125301"


def test_mask_keeps_country_and_area_only():
    assert mask("+49271123456") == "+49 271 ***56"
    assert mask("+493023125301") == "+49 30 ***01"
    assert mask(None) == "(none)"
    assert mask("not a number") == "***"
