"""Logging in and out, lockout, session timeout, changing and resetting the password."""

import re
from datetime import date, timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from kjzx.models import AuditEvent
from kjzx.sms import MemoryBackend
from tests.factories import PASSWORD, make_accountant

pytestmark = pytest.mark.django_db


def login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_accountant_logs_in_with_the_id_number_and_out_again(client, accountant):
    """The ID number is the accountant's user name (API.md §1); logout ends the session."""
    response = login(client, accountant.login_name)
    assert response.status_code == 302 and response["Location"] == reverse("accounts:home")
    page = client.get(reverse("accounts:home")).content.decode()
    assert "我的信息" in page and "我的档案" in page and "继续教育" in page
    assert accountant.id_number not in page  # the ID is shown masked
    client.post(reverse("accounts:logout"))
    assert client.get(reverse("accounts:home")).status_code == 302
    assert AuditEvent.objects.filter(event_type__in=["account.login", "account.logout"]).count() == 2


def test_lower_case_x_in_the_id_logs_in(client, api_client, db):
    """The page and the token API read a final lower-case x of an ID number the same way."""
    person = make_accountant(address="110105", sequence=2, born=date(1949, 12, 31))
    assert person.login_name.endswith("X")
    assert login(client, person.login_name.lower()).status_code == 302
    response = api_client.post("/api/v1/auth/token/", {"username": person.login_name.lower(), "password": PASSWORD})
    assert response.status_code == 200


def test_wrong_password_is_told_in_chinese(client, accountant):
    response = login(client, accountant.login_name, "Wrong@pass1")
    assert response.status_code == 200
    assert "证件号码/用户名或密码不正确" in response.content.decode()


def test_five_failures_lock_the_account_for_thirty_minutes_even_with_the_right_password(client, accountant):
    """等保 8.1.4.1 b): after 5 failures the 6th (correct) attempt is refused; after 30 minutes it works."""
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, accountant.login_name, "Wrong@pass1")
    locked = login(client, accountant.login_name)
    assert locked.status_code == 429
    assert "已锁定30分钟" in locked.content.decode()
    assert AuditEvent.objects.filter(event_type="account.locked_out").exists()
    with time_machine.travel(timezone.now() + timedelta(minutes=31)):
        assert login(client, accountant.login_name).status_code == 302


def test_lockout_of_one_user_does_not_lock_another_behind_the_same_address(client, accountant, other_accountant):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, accountant.login_name, "Wrong@pass1")
    assert login(client, other_accountant.login_name).status_code == 302


def test_api_token_is_locked_out_the_same_way(api_client, accountant):
    """The token endpoint counts failures with the login page: the 5th failure locks (等保 8.1.4.1 b)."""
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = api_client.post("/api/v1/auth/token/", {"username": accountant.login_name, "password": "x"})
        assert response.status_code == 400
    api_client.post("/api/v1/auth/token/", {"username": accountant.login_name, "password": "x"})
    response = api_client.post("/api/v1/auth/token/", {"username": accountant.login_name, "password": PASSWORD})
    assert response.status_code == 429


def test_api_token_authenticates_as_bearer(api_client, accountant):
    """POST /api/v1/auth/token/ → {"token"}; then Authorization: Bearer <token> (API.md §1)."""
    response = api_client.post("/api/v1/auth/token/", {"username": accountant.login_name, "password": PASSWORD})
    token = response.json()["token"]
    assert api_client.get("/api/v1/me/").status_code in (401, 403)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = api_client.get("/api/v1/me/").json()
    assert me["username"] == accountant.login_name and me["role"] == "accountant"


def test_session_ends_after_thirty_idle_minutes(client, accountant):
    """等保 8.1.4.1 b): an idle session expires after 30 minutes; activity keeps it alive."""
    login(client, accountant.login_name)
    start = timezone.now()
    with time_machine.travel(start + timedelta(minutes=29)):
        assert client.get(reverse("accounts:home")).status_code == 200
    with time_machine.travel(start + timedelta(minutes=29 + 31)):
        assert client.get(reverse("accounts:home")).status_code == 302


def test_password_change_needs_the_old_password_and_a_strong_new_one(client, accountant):
    login(client, accountant.login_name)
    url = reverse("accounts:password_change")
    response = client.post(url, {"old_password": "nope", "new_password": "New@pass123", "new_password2": "New@pass123"})
    assert response.context["form"].errors["old_password"] == ["原密码不正确。"]
    response = client.post(url, {"old_password": PASSWORD, "new_password": "weakweak", "new_password2": "weakweak"})
    assert response.context["form"].errors["new_password"]
    response = client.post(url, {"old_password": PASSWORD, "new_password": "New@pass123",
                                 "new_password2": "New@pass123"})
    assert response.status_code == 302
    accountant.refresh_from_db()
    assert accountant.check_password("New@pass123")
    assert client.get(reverse("accounts:home")).status_code == 200  # still logged in


def _request_code(client, user, capture):
    """Ask for a code and read it from the SMS outbox (sent after commit)."""
    MemoryBackend.outbox.clear()
    with capture(execute=True):
        client.post(reverse("accounts:password_reset"), {"id_number": user.login_name, "mobile": user.mobile})
    assert len(MemoryBackend.outbox) == 1
    assert MemoryBackend.outbox[0][0] == user.mobile
    return re.search(r"验证码为(\d{6})", MemoryBackend.outbox[0][1]).group(1)


def test_password_reset_by_sms_code_works_once(client, accountant, django_capture_on_commit_callbacks):
    code = _request_code(client, accountant, django_capture_on_commit_callbacks)
    url = reverse("accounts:password_reset_confirm")
    data = {"id_number": accountant.login_name, "mobile": accountant.mobile, "code": code,
            "new_password": "Reset@pass1", "new_password2": "Reset@pass1"}
    assert client.post(url, data).status_code == 302
    accountant.refresh_from_db()
    assert accountant.check_password("Reset@pass1")
    again = client.post(url, dict(data, new_password="Other@pass1", new_password2="Other@pass1"))
    assert again.context["form"].errors["code"] == ["验证码错误或已过期，请重新获取。"]


def test_password_reset_answers_the_same_for_unknown_people(client, accountant):
    """The reset page does not reveal whether an ID and mobile are registered."""
    MemoryBackend.outbox.clear()
    known = client.post(reverse("accounts:password_reset"), {"id_number": accountant.login_name,
                                                             "mobile": accountant.mobile}, follow=True)
    unknown = client.post(reverse("accounts:password_reset"), {"id_number": "140581198512310022",
                                                               "mobile": "13900000009"}, follow=True)
    assert [m.message for m in known.context["messages"]] == [m.message for m in unknown.context["messages"]]


def test_password_reset_code_expires_and_limits_attempts(client, accountant, django_capture_on_commit_callbacks):
    code = _request_code(client, accountant, django_capture_on_commit_callbacks)
    url = reverse("accounts:password_reset_confirm")
    base = {"id_number": accountant.login_name, "mobile": accountant.mobile,
            "new_password": "Reset@pass1", "new_password2": "Reset@pass1"}
    for _ in range(settings.SMS_CODE_MAX_ATTEMPTS):
        client.post(url, dict(base, code="000000" if code != "000000" else "111111"))
    assert client.post(url, dict(base, code=code)).status_code == 200  # burnt after 5 wrong tries
    with time_machine.travel(timezone.now() + timedelta(minutes=2)):
        code = _request_code(client, accountant, django_capture_on_commit_callbacks)
    with time_machine.travel(timezone.now() + timedelta(minutes=2 + settings.SMS_CODE_TTL_MINUTES + 1)):
        assert client.post(url, dict(base, code=code)).status_code == 200  # expired
    accountant.refresh_from_db()
    assert accountant.check_password(PASSWORD)


def test_a_spoofed_forwarded_header_does_not_escape_the_lock(client, accountant):
    """With no trusted proxy, X-Forwarded-For from the client is ignored by the lockout (等保 8.1.4.1 b)."""
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": accountant.login_name, "password": "Wrong@pass1"},
                    HTTP_X_FORWARDED_FOR=f"10.0.0.{n}")
    response = client.post(reverse("accounts:login"), {"username": accountant.login_name, "password": PASSWORD},
                           HTTP_X_FORWARDED_FOR="10.9.9.9")
    assert response.status_code == 429


def test_behind_a_trusted_proxy_the_lock_follows_the_real_client(client, accountant, settings):
    """With one trusted proxy, the client address is the proxy's X-Forwarded-For entry (docs/deployment.md)."""
    settings.TRUSTED_PROXY_COUNT = 1
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": accountant.login_name, "password": "Wrong@pass1"},
                    HTTP_X_FORWARDED_FOR="203.0.113.7")
    elsewhere = client.post(reverse("accounts:login"), {"username": accountant.login_name, "password": PASSWORD},
                            HTTP_X_FORWARDED_FOR="198.51.100.8")
    assert elsewhere.status_code == 302  # the attacker's address is locked, not the owner's
