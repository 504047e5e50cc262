"""Sessions that end (security issue, decision "Sessions"; docs/security.md items 22–25).

30 idle minutes (test_login.py), 12 hours at most however busy, a new session key at login, and
logout or a password change end the user's other sessions at their next request, whatever the
session backend (the check reads ``User.sessions_valid_after``, not the session table).
"""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from kjzx.models import AuditEvent
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")


def logged_in(user) -> Client:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.login_name, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_a_busy_session_still_ends_twelve_hours_after_login(accountant):
    """ASVS 7.3.2: activity every 20 minutes keeps the session past 30 minutes, never past 12 hours."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in(accountant)
    minutes = 0
    while minutes + 20 < 12 * 60:
        minutes += 20
        with time_machine.travel(start + timedelta(minutes=minutes), tick=False):
            assert client.get(HOME).status_code == 200, minutes
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        response = client.get(HOME, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "登录已超过12小时" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="account.session_ended", target_id=str(accountant.pk)).count() == 1
    assert settings.SESSION_ABSOLUTE_HOURS == 12


def test_login_issues_a_new_session_key_and_the_old_one_is_dead(client, accountant):
    """ASVS 7.2.4: the key a visitor had before logging in is not the logged-in session's key."""
    session = client.session
    session["visited"] = True
    session.save()
    before = session.session_key
    client.cookies[settings.SESSION_COOKIE_NAME] = before
    client.post(reverse("accounts:login"), {"username": accountant.login_name, "password": PASSWORD})
    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not Session.objects.filter(session_key=before).exists()
    replay = Client()
    replay.cookies[settings.SESSION_COOKIE_NAME] = before
    assert replay.get(HOME).status_code == 302


def test_logout_ends_the_users_other_sessions_too(accountant, other_accountant):
    """Logging out on one device ends the others at their next request; other people are untouched."""
    phone, desk, someone_else = logged_in(accountant), logged_in(accountant), logged_in(other_accountant)
    phone_key = phone.cookies[settings.SESSION_COOKIE_NAME].value
    phone.post(reverse("accounts:logout"))
    assert not Session.objects.filter(session_key=phone_key).exists()  # the server-side row is gone
    response = desk.get(HOME, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "您已在其他地方退出登录或修改了密码" in response.content.decode()
    assert someone_else.get(HOME).status_code == 200
    assert logged_in(accountant).get(HOME).status_code == 200  # a later login is a new, valid session


def test_password_change_ends_the_other_sessions_and_keeps_this_one(accountant):
    """ASVS 7.4.3: the session that changed the password stays (under a new key); the others end."""
    here, elsewhere = logged_in(accountant), logged_in(accountant)
    key_before = here.cookies[settings.SESSION_COOKIE_NAME].value
    response = here.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password": "Kq8$wNv3xR", "new_password2": "Kq8$wNv3xR"})
    assert response.status_code == 302
    assert here.cookies[settings.SESSION_COOKIE_NAME].value != key_before
    assert here.get(HOME).status_code == 200
    assert elsewhere.get(HOME).status_code == 302


def test_the_twelve_hours_count_from_login_not_from_a_password_change(accountant, settings):
    """Changing the password renews this session's key but not its 12 hours."""
    settings.SESSION_COOKIE_AGE = 24 * 3600  # no idle end here: only the absolute one is under test
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in(accountant)
    with time_machine.travel(start + timedelta(hours=11), tick=False):
        client.post(reverse("accounts:password_change"), {
            "old_password": PASSWORD, "new_password": "Kq8$wNv3xR", "new_password2": "Kq8$wNv3xR"})
    with time_machine.travel(start + timedelta(hours=11, minutes=25), tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + timedelta(hours=12, minutes=1), tick=False):
        assert client.get(HOME).status_code == 302


def test_an_ended_session_is_anonymous_to_the_api_too(accountant):
    """Session authentication of the API follows the same end (a 401/403, never the old user)."""
    client, other = logged_in(accountant), logged_in(accountant)
    assert client.get("/api/v1/me/").status_code == 200
    other.post(reverse("accounts:logout"))
    assert client.get("/api/v1/me/").status_code in (401, 403)


def test_a_session_without_a_login_time_is_not_trusted(client, accountant):
    """A session that no login began (its stamps removed) is ended, not kept (fail closed)."""
    client.force_login(accountant)
    session = client.session
    del session["_kjzx_login_at"]
    session.save()
    assert client.get(HOME).status_code == 302
