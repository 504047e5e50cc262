"""Sessions that are not written on every request (docs/security.md, items 22–25; 等保 8.1.4.1 b).

A request reads its session and writes it only when the idle timer's last renewal is a minute old
(``SESSION_TOUCH_SECONDS``); the 30 idle minutes then count from that renewal, so a session ends 29 to
30 minutes after its last request, whatever the backend keeps (``kjzx.middleware.SessionLimitsMiddleware``).
With Redis, sessions are read from the cache and written through to the table (``cached_db``).
"""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

HOME = reverse("accounts:home")


def logged_in(user) -> Client:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def session_queries(captured, *verbs: str) -> list[str]:
    return [query["sql"] for query in captured
            if '"django_session"' in query["sql"] and query["sql"].lstrip().upper().startswith(verbs)]


def test_requests_write_the_session_at_most_once_a_minute(accountant):
    """36 pages in three minutes, one every 5 seconds: the session row is written twice (at 61 s and 121 s after
    login, each a minute after the last renewal), never on the other 34 requests."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in(accountant)
    writes = []
    for offset in range(1, 180, 5):
        with (time_machine.travel(start + timedelta(seconds=offset), tick=False),
              CaptureQueriesContext(connection) as captured):
            assert client.get(HOME).status_code == 200
        writes += [offset] * len(session_queries(captured.captured_queries, "UPDATE", "INSERT"))
    assert writes == [61, 121]
    assert settings.SESSION_TOUCH_SECONDS == 60 and not settings.SESSION_SAVE_EVERY_REQUEST


def test_the_session_is_read_from_the_cache_not_the_table(accountant):
    """With Redis configured (cached_db) a request finds its session in the cache: no query on the session
    table. (The test settings give the sessions a cache of the test process's own, kjzx/settings_test.py.)"""
    assert settings.SESSION_ENGINE == "django.contrib.sessions.backends.cached_db"
    client = logged_in(accountant)
    with CaptureQueriesContext(connection) as captured:
        for _ in range(10):
            assert client.get(HOME).status_code == 200
    assert session_queries(captured.captured_queries, "SELECT", "UPDATE", "INSERT") == []


def test_the_idle_half_hour_counts_from_the_last_renewal(accountant):
    """A request 59 s after login renews nothing; one at 29 min 59 s renews (the session had 1 s left), one
    29 min 59 s later again; 30 min 1 s after that last renewal the session is gone."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in(accountant)
    with time_machine.travel(start + timedelta(seconds=59), tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + timedelta(minutes=29, seconds=59), tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + timedelta(minutes=59, seconds=58), tick=False):
        assert client.get(HOME).status_code == 200
    with time_machine.travel(start + timedelta(minutes=89, seconds=59), tick=False):
        response = client.get(HOME)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))


def test_the_middleware_ends_an_idle_session_the_backend_still_holds(accountant):
    """The session saved for another reason 10 minutes after login (the backend's expiry moves on, the idle
    timer does not): 30 minutes after the last renewal the middleware ends it, says why and writes the audit
    row, whatever the backend (or a cache) still keeps."""
    from kjzx.models import AuditEvent

    start = timezone.now()
    with time_machine.travel(start, tick=False):
        client = logged_in(accountant)
    with time_machine.travel(start + timedelta(minutes=10), tick=False):
        session = client.session
        session["something_else"] = True
        session.save()  # the table's expiry is now 10 + 30 minutes
    with time_machine.travel(start + timedelta(minutes=30, seconds=1), tick=False):
        response = client.get(HOME, follow=True)
    assert response.redirect_chain[-1][0].startswith(reverse("accounts:login"))
    assert "长时间未操作" in response.content.decode()
    assert AuditEvent.objects.filter(event_type="account.session_ended", target_id=str(accountant.pk)).count() == 1


def test_a_visitor_without_a_session_gets_none(client):
    """Renewing the idle timer never creates a session: an anonymous page sets no session cookie."""
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("home"))
    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert session_queries(captured.captured_queries, "SELECT", "UPDATE", "INSERT") == []
