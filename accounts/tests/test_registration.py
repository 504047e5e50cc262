"""Registration through the service, the page and the API (R-COL-2, R-COL-3)."""

from datetime import date

import pytest
from django.urls import reverse

from accounts.models import User, accountant_username
from kjzx.models import AuditEvent
from tests.factories import make_id_number

pytestmark = pytest.mark.django_db

GOOD_ID = "140581198512310022"  # female, born 1985-12-31


def form_data(**overrides):
    data = {
        "name": "刘敏", "id_type": "resident_id", "id_number": GOOD_ID, "sex": "F",
        "birth_date": "1985-12-31", "mobile": "13812345678", "password": "Hq7#vTz2mK",
        "password2": "Hq7#vTz2mK", "agree": "on",
    }
    data.update(overrides)
    return data


def api_data(**overrides):
    data = form_data(**overrides)
    data.pop("password2")
    data.pop("agree")
    return data


def test_registration_creates_an_accountant_logged_in_with_the_id_number(client):
    """The person logs in with the ID number, stored only as its keyed hash (R-COL-2)."""
    response = client.post(reverse("accounts:register"), form_data(), follow=True)
    assert response.redirect_chain[-1][0] == reverse("accounts:home")
    user = User.objects.get(id_number=GOOD_ID)
    assert user.username == accountant_username(GOOD_ID) and GOOD_ID not in user.username
    assert (user.role, user.name, user.sex, user.birth_date) == ("accountant", "刘敏", "F", date(1985, 12, 31))
    assert response.context["user"] == user
    assert "注册成功" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="account.registered", target_id=str(user.pk)).count() == 1


def _errors(response, field):
    return response.context["form"].errors.get(field, [])


def test_wrong_check_digit_is_refused_beside_the_field_keeping_what_was_typed(client):
    """A wrong check digit is named in Chinese beside the ID field; the typed values stay (R-COL-3)."""
    response = client.post(reverse("accounts:register"), form_data(id_number="140581198512310023"))
    assert response.status_code == 200
    assert _errors(response, "id_number") == ["身份证号码校验位不正确，请核对后重新输入。"]
    page = response.content.decode()
    assert 'value="140581198512310023"' in page and 'value="刘敏"' in page
    assert not User.objects.filter(role="accountant").exists()


def test_birth_date_that_disagrees_with_the_id_is_refused(client):
    """The birth date typed must be the one in the ID number (R-COL-3)."""
    response = client.post(reverse("accounts:register"), form_data(birth_date="1985-12-30"))
    assert _errors(response, "birth_date") == ["出生日期与身份证号码中的出生日期不一致。"]
    assert not User.objects.exists()


def test_sex_that_disagrees_with_the_id_is_refused(client):
    """The 17th digit is odd for men and even for women (R-COL-3)."""
    response = client.post(reverse("accounts:register"), form_data(sex="M"))
    assert _errors(response, "sex") == ["性别与身份证号码（第17位）不一致。"]


def test_the_same_id_cannot_register_twice(client, accountant):
    """One person, one archive (R-COL-3)."""
    response = client.post(reverse("accounts:register"), form_data(
        id_number=accountant.id_number, sex=accountant.sex, birth_date=str(accountant.birth_date)))
    assert "该证件号码已注册" in _errors(response, "id_number")[0]
    assert User.objects.filter(id_number=accountant.id_number).count() == 1


@pytest.mark.parametrize(
    ("password", "message"),
    [
        ("abcdefgh1", "密码须包含大写字母、小写字母、数字、符号中的至少3类。"),
        ("Ab1@", "密码长度太短，至少需要8个字符。"),
        ("Password1", None),  # too common
    ],
)
def test_weak_passwords_are_refused(client, password, message):
    """At least 8 characters and three character classes; common passwords refused (等保 8.1.4.1 a)."""
    response = client.post(reverse("accounts:register"), form_data(password=password, password2=password))
    errors = _errors(response, "password")
    assert errors, "a weak password must be refused"
    if message:
        assert message in errors
    assert not User.objects.exists()


def test_password_confirmation_must_match(client):
    response = client.post(reverse("accounts:register"), form_data(password2="Abc@12346"))
    assert _errors(response, "password2") == ["两次输入的密码不一致。"]


def test_pledge_to_the_privacy_notice_is_required(client):
    data = form_data()
    data.pop("agree")
    response = client.post(reverse("accounts:register"), data)
    assert _errors(response, "agree")
    assert not User.objects.exists()


def test_api_register_answers_201_with_the_masked_id(api_client):
    """POST /api/v1/auth/register/ (API.md §1)."""
    response = api_client.post("/api/v1/auth/register/", api_data(), format="json")
    assert response.status_code == 201
    assert response.json()["username"] == GOOD_ID
    assert response.json()["id_number"] == "140***********0022"


def test_api_register_answers_400_with_every_wrong_field(api_client, accountant):
    """Bad input → 400 with the fields, messages in Chinese (API.md §1)."""
    response = api_client.post("/api/v1/auth/register/", api_data(
        id_number=make_id_number("140502", date(1990, 1, 1), 101), sex="F", birth_date="1991-01-01",
        mobile="12345", password="short"), format="json")
    assert response.status_code == 400
    body = response.json()
    assert set(body) >= {"id_number", "birth_date", "sex", "mobile", "password"}
    assert "该证件号码已注册" in body["id_number"][0]


def test_api_register_with_garbage_never_gives_500(api_client):
    for payload in ({}, {"birth_date": "not a date"}, {"id_type": "alien", "id_number": "💥" * 40}):
        assert api_client.post("/api/v1/auth/register/", payload, format="json").status_code == 400
    assert api_client.post("/api/v1/auth/register/", "[]", content_type="application/json").status_code == 400
