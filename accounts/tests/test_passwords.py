"""Guessable passwords are refused at every door (security issue, "Weak passwords pass"; item 13).

Before this, ``Kjzx@2026``, ``Caizheng@2026``, ``Zhangwei@1990`` for 张伟 born in 1990, the birth date
from the ID, ``Qwer1234!`` and the published demo password all passed registration.
"""

import re
from datetime import date

import pytest
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.urls import reverse

from accounts.demo import DEMO_PASSWORD
from accounts.models import User
from accounts.passwords import GuessablePasswordValidator, weak_digits, weak_letters
from kjzx.sms import MemoryBackend
from tests.factories import PASSWORD, make_accountant

pytestmark = pytest.mark.django_db

ZHANG_WEI_ID = "140502199003151018"  # 张伟, born 1990-03-15 (the demo's accountant without an archive)


def zhang_wei(**fields) -> User:
    """The person registering, as registration builds him before he exists."""
    return User(username=ZHANG_WEI_ID, name="张伟", id_type="resident_id", id_number=ZHANG_WEI_ID,
                birth_date=date(1990, 3, 15), mobile="13812345678", **fields)


ISSUE_EXAMPLES = ["Kjzx@2026", "Caizheng@2026", "Zhangwei@1990", "Zw@19900315", "Qwer1234!", DEMO_PASSWORD]
MORE_GUESSABLE = [
    "Shanxi@2026", "KuaiJi#2025", "Jincheng@888", "Sxczt@2026", "Zhang.wei2026", "ZhangWei@0315",
    "Zw#151018ab", "Ab#140502199003151018", "Woaini@1314", "1qaz@WSX", "Zxcv@1234", "Asdf!2026",
    "P@ssw0rd", "Admin@123", "Abc@12345", "Aaaa@1111", "Wang@19900101", "Qazwsx@123",
]


@pytest.mark.parametrize("password", ISSUE_EXAMPLES + MORE_GUESSABLE)
def test_guessable_passwords_are_refused(password):
    with pytest.raises(ValidationError) as refused:
        validate_password(password, zhang_wei())
    assert all(re.search(r"[\u4e00-\u9fff]", message) for message in refused.value.messages)  # in Chinese


@pytest.mark.parametrize("password", ["Hq7#vTz2mK", "Shanxi@83920174", "Zhangwei@8h3k2m", "Tz9#kqLm",
                                      "New@pass123", "Xkvq@2026", "晋城·会计Qr7!", "correct-Horse-battery-9"])
def test_unguessable_passwords_pass(password):
    """The rule is about guessable parts, not about every word: a random remainder makes it strong."""
    validate_password(password, zhang_wei())


def test_the_birth_date_and_id_fragments_are_refused_with_their_own_message():
    for password in ("Qx#19900315", "Qx#900315z", "Qx#0315abc", "Qx#151018k", "Qx#13812345678"):
        with pytest.raises(ValidationError, match="证件号码、出生日期或手机号码"):
            GuessablePasswordValidator().validate(password, zhang_wei())


def test_another_persons_name_is_not_this_persons_name():
    """张伟's pinyin is refused for 张伟, not for 李娜 (who has her own)."""
    li_na = User(username="x", name="李娜", birth_date=date(1985, 6, 1))
    GuessablePasswordValidator().validate("Zhangwei@kq1990x", li_na)
    with pytest.raises(ValidationError):
        GuessablePasswordValidator().validate("Lina@1985", li_na)


def test_every_reading_of_a_name_counts():
    """曾 reads zeng (a surname) or ceng: both are the person's name."""
    person = User(username="x", name="曾单")
    for password in ("Zengshan@2020", "Cengdan@2020", "Zs@2020abc"):
        with pytest.raises(ValidationError):
            GuessablePasswordValidator().validate(password, person)


@pytest.mark.parametrize(("digits", "weak"), [
    ("", True), ("2026", True), ("19900315", True), ("123456", True), ("888888", True), ("5201314", True),
    ("20261234", True), ("123123", True), ("83920174", False), ("739105", False)])
def test_what_counts_as_simple_digits(digits, weak):
    assert weak_digits(digits) is weak


@pytest.mark.parametrize(("letters", "weak"), [
    ("kjzx", True), ("caizhengting", True), ("qwer", True), ("qazwsx", True), ("abcd", True), ("z", True),
    ("kjzxdemo", True), ("woaini", True), ("hkqv", False), ("zhangweihkm", False)])
def test_what_counts_as_guessable_letters(letters, weak):
    assert weak_letters(letters) is weak


REGISTRATION = {"name": "张伟", "id_type": "resident_id", "id_number": ZHANG_WEI_ID, "sex": "M",
                "birth_date": "1990-03-15", "mobile": "13812345678"}


@pytest.mark.parametrize("password", ISSUE_EXAMPLES)
def test_registration_page_refuses_them(client, password):
    data = REGISTRATION | {"password": password, "password2": password, "agree": "on"}
    response = client.post(reverse("accounts:register"), data)
    assert response.status_code == 200 and response.context["form"].errors["password"]
    assert not User.objects.exists()


@pytest.mark.parametrize("password", ISSUE_EXAMPLES)
def test_registration_api_refuses_them(api_client, password):
    response = api_client.post("/api/v1/auth/register/", REGISTRATION | {"password": password}, format="json")
    assert response.status_code == 400 and response.json()["password"]
    assert not User.objects.exists()


def test_registration_with_a_strong_password_still_works(api_client):
    response = api_client.post("/api/v1/auth/register/", REGISTRATION | {"password": "Hq7#vTz2mK"}, format="json")
    assert response.status_code == 201


def test_password_change_refuses_them(client):
    person = make_accountant(born=date(1990, 3, 15), name="张伟")
    client.force_login(person)
    for password in ("Kjzx@2026", "Zhangwei@1990", DEMO_PASSWORD):
        response = client.post(reverse("accounts:password_change"), {
            "old_password": PASSWORD, "new_password": password, "new_password2": password})
        assert response.status_code == 200 and response.context["form"].errors["new_password"], password
    person.refresh_from_db()
    assert person.check_password(PASSWORD)


def test_password_reset_refuses_them(client, accountant, django_capture_on_commit_callbacks):
    MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"id_number": accountant.login_name,
                                                         "mobile": accountant.mobile})
    code = re.search(r"验证码为(\d{6})", MemoryBackend.outbox[0][1]).group(1)
    response = client.post(reverse("accounts:password_reset_confirm"), {
        "id_number": accountant.login_name, "mobile": accountant.mobile, "code": code,
        "new_password": "Caizheng@2026", "new_password2": "Caizheng@2026"})
    assert response.context["form"].errors["new_password"]
    accountant.refresh_from_db()
    assert accountant.check_password(PASSWORD)


def test_staff_accounts_are_held_to_it_too():
    from accounts.services import staff_create
    from kjzx.api import DomainError

    with pytest.raises(DomainError) as refused:
        staff_create(role="county_reviewer", region_code="140502", username="chengqu9", password="Chengqu@2026")
    assert refused.value.errors["password"]


def test_the_validator_is_wired_and_explains_itself():
    from django.conf import settings
    from django.contrib.auth.password_validation import password_validators_help_texts

    assert {"NAME": "accounts.passwords.GuessablePasswordValidator"} in settings.AUTH_PASSWORD_VALIDATORS
    assert any("键盘序列" in text for text in password_validators_help_texts())
