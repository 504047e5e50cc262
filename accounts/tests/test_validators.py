"""Identity documents and credit codes (R-COL-3)."""

from datetime import date

import pytest
from django.core.exceptions import ValidationError

from accounts.validators import (
    gb11643_check_char,
    normalise_id_number,
    parse_resident_id,
    uscc_check_char,
    validate_credit_code,
)
from tests.factories import make_id_number


def test_check_digit_follows_gb11643_weights():
    """The 18th character is sum(digit × weight) mod 11 mapped to 1 0 X 9 8 7 6 5 4 3 2 (R-COL-3)."""
    assert gb11643_check_char("14058119851231002") == "2"
    assert gb11643_check_char("11010519491231002") == "X"


def test_number_with_a_county_code_younger_than_its_holder_is_accepted():
    """高平市 (140581) was created in 1993; a number issued under it to someone born in 1985 is valid (R-COL-3)."""
    parsed = parse_resident_id("140581198512310022")
    assert parsed.birth_date == date(1985, 12, 31)
    assert parsed.sex == "F"


def test_number_with_a_retired_county_code_is_accepted():
    """大同县 (140221) was renamed 云州区 (140215) in 2018; its people keep their numbers (R-COL-3)."""
    number = make_id_number("140221", date(1970, 6, 1), 11)
    assert parse_resident_id(number).number == number


def test_hong_kong_residence_permit_codes_are_accepted():
    """港澳台居民居住证 use the address codes 810000/820000/830000 (R-COL-3)."""
    for code in ("810000", "820000", "830000"):
        assert parse_resident_id(make_id_number(code, date(1991, 2, 3), 21)).sex == "M"


@pytest.mark.parametrize(
    ("number", "code"),
    [
        ("140581198512310023", "check_digit"),
        ("14058119851231002", "format"),
        ("1405811985123100220", "format"),
        ("14058119851331002X", "birth_date"),
        ("990581198512310022", "address"),
        ("14058121001231002X", "birth_date"),
    ],
)
def test_bad_resident_numbers_are_refused_with_their_reason(number, code):
    """Format, address, birth date and check digit are each checked (R-COL-3)."""
    with pytest.raises(ValidationError) as exc:
        parse_resident_id(number)
    assert exc.value.code == code


def test_every_single_character_change_is_caught():
    """Changing any one digit of a valid number breaks it (the check digit catches single errors)."""
    number = "140581198512310022"
    for position in range(18):
        for replacement in "0123456789X":
            mutated = number[:position] + replacement + number[position + 1:]
            if mutated == number or (position < 17 and replacement == "X"):
                continue
            with pytest.raises(ValidationError):
                parse_resident_id(mutated)


def test_lower_case_x_is_normalised():
    """A final x typed in lower case is the same number (R-COL-3)."""
    assert normalise_id_number("resident_id", "11010519491231002x") == "11010519491231002X"


@pytest.mark.parametrize(
    ("id_type", "number", "ok"),
    [
        ("hk_mo_permit", "H12345678", True),
        ("hk_mo_permit", "M87654321", True),
        ("hk_mo_permit", "X12345678", False),
        ("tw_permit", "12345678", True),
        ("tw_permit", "1234567", False),
        ("passport", "E12345678", True),
        ("passport", "E1234-567", False),
    ],
)
def test_other_documents_get_a_format_check(id_type, number, ok):
    """Passports and travel permits are allowed with a format check (R-COL-3)."""
    if ok:
        assert normalise_id_number(id_type, number) == number
    else:
        with pytest.raises(ValidationError):
            normalise_id_number(id_type, number)


def test_unified_social_credit_code_check_character():
    """GB 32100: the 18th character is a MOD 31 check (used for employers in the collection)."""
    code = "91140500MA0GRA2B1"
    full = code + uscc_check_char(code)
    validate_credit_code(full)
    with pytest.raises(ValidationError):
        validate_credit_code(code + ("0" if full[-1] != "0" else "1"))
