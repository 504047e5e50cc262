"""One birth-date/sex agreement check for resident ID numbers (R-COL-3).

Registration and the national exchange's person records both compare the birth date and sex given with
those a resident ID number carries. They did it in two places, in different words; both ask
:func:`accounts.validators.id_disagreements` now.
"""

from __future__ import annotations

from datetime import date

import pytest

from accounts.services import registration_check
from accounts.validators import id_disagreements
from tests.factories import inbound_body, make_id_number
from transfers.services import clean_person_record

pytestmark = pytest.mark.django_db

WOMAN = make_id_number("140581", date(1985, 12, 31), 2)  # 17th digit even: female
BIRTH = "出生日期与身份证号码中的出生日期不一致。"
SEX = "性别与身份证号码（第17位）不一致。"


def registration(**given) -> dict[str, list[str]]:
    fields = {"id_type": "resident_id", "id_number": WOMAN, "name": "刘敏", "sex": "F",
              "birth_date": date(1985, 12, 31), "mobile": "13812345678", "password": "Hq7#vTz2mK"}
    return registration_check(**{**fields, **given})[0]


def exchange(**given) -> dict[str, list[str]]:
    person = inbound_body(id_number=WOMAN)["person"]
    return clean_person_record({**person, **given})[1]


def test_the_check_reads_both_from_the_number():
    """The 7th–14th digits are the birth date, the 17th odd for men (R-COL-3); other documents carry neither."""
    assert id_disagreements("resident_id", WOMAN, birth_date=date(1985, 12, 31), sex="F") == {}
    assert id_disagreements("resident_id", WOMAN, birth_date=date(1985, 12, 30), sex="M") == {
        "birth_date": BIRTH, "sex": SEX}
    assert id_disagreements("resident_id", WOMAN, birth_date=None, sex="") == {}  # not given: not compared
    assert id_disagreements("passport", "E12345678", birth_date=date(1985, 12, 30), sex="M") == {}


def test_registration_and_the_exchange_refuse_in_the_same_words():
    """A wrong birth date or sex is the same error whether the person registers or the platform sends them."""
    assert registration() == {} and exchange() == {}
    assert registration(birth_date=date(1985, 12, 30))["birth_date"] == [BIRTH]
    assert exchange(birth_date="1985-12-30")["person.birth_date"] == [BIRTH]
    assert registration(sex="M")["sex"] == [SEX]
    assert exchange(sex="M")["person.sex"] == [SEX]
