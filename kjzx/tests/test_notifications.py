"""Notifications (站内消息): the API of API.md and the page; a user sees only their own (R-ACL-2)."""

import pytest
from django.urls import reverse

from kjzx.models import Notification
from kjzx.notifications import notification_send

pytestmark = pytest.mark.django_db


def test_api_lists_own_notifications_newest_first_with_the_unread_count(api_client, accountant, other_accountant):
    """GET /api/v1/me/notifications/ → {"unread", "results": [{id, title, body, created_at, read, link}]}."""
    first = notification_send(user=accountant, title="信息采集已提交", body="等待初审", link="/me/")
    notification_send(user=accountant, title="初审通过")
    notification_send(user=other_accountant, title="别人的消息")
    api_client.force_authenticate(accountant)
    body = api_client.get("/api/v1/me/notifications/").json()
    assert body["unread"] == 2
    assert [item["title"] for item in body["results"]] == ["初审通过", "信息采集已提交"]
    assert set(body["results"][1]) == {"id", "title", "body", "created_at", "read", "link"}
    assert body["results"][1]["id"] == first.pk and body["results"][1]["read"] is False


def test_marking_read_is_idempotent_and_only_for_ones_own(api_client, accountant, other_accountant):
    """Another person's notification does not exist for the caller: 404, and it stays unread (R-ACL-2)."""
    mine = notification_send(user=accountant, title="初审通过")
    theirs = notification_send(user=other_accountant, title="别人的消息")
    api_client.force_authenticate(accountant)
    url = "/api/v1/me/notifications/{}/read/"
    assert api_client.post(url.format(mine.pk)).json()["read"] is True
    assert api_client.post(url.format(mine.pk)).status_code == 200
    assert api_client.post(url.format(theirs.pk)).status_code == 404
    theirs.refresh_from_db()
    assert theirs.read_at is None
    assert api_client.get("/api/v1/me/notifications/").json()["unread"] == 0


def test_list_costs_a_fixed_number_of_queries(api_client, accountant, django_assert_max_num_queries):
    """No query per row: 3 or 30 notifications cost the same."""
    Notification.objects.bulk_create(Notification(user=accountant, title=f"消息{i}") for i in range(30))
    api_client.force_authenticate(accountant)
    with django_assert_max_num_queries(4):
        assert len(api_client.get("/api/v1/me/notifications/").json()["results"]) == 20


def test_page_shows_unread_badge_and_opening_marks_read(client, accountant, other_accountant):
    note = notification_send(user=accountant, title="复审通过", body="信息采集完成", link="/me/")
    notification_send(user=other_accountant, title="别人的消息")
    client.force_login(accountant)
    page = client.get(reverse("notifications")).content.decode()
    assert "复审通过" in page and "别人的消息" not in page and 'class="badge"' in page
    response = client.post(reverse("notification_open", args=[note.pk]))
    assert response.status_code == 302 and response["Location"] == "/me/"
    note.refresh_from_db()
    assert note.read
    assert client.get(reverse("notification_open", args=[note.pk])).status_code == 405


def test_opening_someone_elses_notification_is_404(client, accountant, other_accountant):
    theirs = notification_send(user=other_accountant, title="别人的消息")
    client.force_login(accountant)
    assert client.post(reverse("notification_open", args=[theirs.pk])).status_code == 404


def test_an_outside_link_is_never_followed(client, accountant):
    note = notification_send(user=accountant, title="钓鱼", link="https://evil.example/")
    client.force_login(accountant)
    assert client.post(reverse("notification_open", args=[note.pk]))["Location"] == reverse("notifications")


def test_read_all(client, accountant):
    for title in ("一", "二"):
        notification_send(user=accountant, title=title)
    client.force_login(accountant)
    client.post(reverse("notification_read_all"))
    assert not Notification.objects.filter(user=accountant, read_at__isnull=True).exists()
