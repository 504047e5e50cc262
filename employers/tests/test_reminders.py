"""单位提醒: an employer reminds those behind on CE — a notification "单位提醒：…" linking to the person's CE
page, at most one per person per day, audited (R-CE-3, R-CE-5)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from employers.conftest import STAFF_PASSWORD, UNIT_A, give_credits
from employers.models import EmployerReminder
from employers.services import employer_account_create, reminder_send, reminders_send_behind
from kjzx.api import Conflict
from kjzx.models import AuditEvent, Notification
from tests.factories import login_staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def behind(year_2026, person_in):
    archive = person_in(UNIT_A, sequence=501, name="落后者")
    give_credits(archive, 24)
    give_credits(archive, 10, kind="general", source="g1")
    return archive


@pytest.fixture
def done(year_2026, person_in):
    archive = person_in(UNIT_A, sequence=503, name="完成者")
    give_credits(archive, 90)
    return archive


def _reminders(archive) -> list[Notification]:
    return list(Notification.objects.filter(user=archive.person, event="employer.reminder"))


def test_a_reminder_lands_as_a_notification_with_a_link_to_the_ce_page(client, employer_a, behind):
    """The person gets "单位提醒：…" saying what they have and lack, linking to their CE page of the year; the
    employer's act is an audit row on the archive."""
    login_staff(client, employer_a)
    response = client.post(f"/employer/people/{behind.pk}/remind/", {"year": "2026"})
    assert response.status_code == 302 and response["Location"] == "/employer/?year=2026"
    [notification] = _reminders(behind)
    assert notification.title.startswith("单位提醒：") and "2026年度" in notification.title
    assert "还差56学分（其中专业科目还差36学分）" in notification.body
    assert "已取得34学分（其中专业科目24学分）" in notification.body and "2027年3月31日" in notification.body
    assert notification.link == "/me/cpe/2026/"
    reminder = EmployerReminder.objects.get(archive=behind)
    assert (reminder.sent_by, reminder.credit_code, reminder.notification) == (employer_a, UNIT_A, notification)
    event = AuditEvent.objects.get(event_type="employer.reminder_sent", target_id=str(behind.pk))
    assert event.actor == employer_a and event.extra["year"] == 2026 and event.extra["missing_total"] == "56.0"
    page = client.get("/employer/?year=2026").content.decode()
    assert "已发送提醒" in page and "今日已提醒" in page


def test_one_reminder_per_person_per_day_whoever_sends_it(client, employer_a, behind, clock):
    """A second reminder the same day is refused (409 in the API, a message on the page), also from another
    administrator of the same unit; the next day one may go again."""
    colleague = employer_account_create(username="danwei_a2", password=STAFF_PASSWORD, region_code="140502",
                                        credit_codes=[UNIT_A])
    login_staff(client, employer_a)
    url = f"/api/v1/employer/people/{behind.pk}/remind/"
    first = client.post(url, {"year": 2026}, content_type="application/json")
    assert first.status_code == 201
    assert set(first.json()) == {"id", "person", "year", "sent_at", "sent_by", "missing_total", "missing_professional"}
    login_staff(client, colleague)
    again = client.post(url, {}, content_type="application/json")
    assert again.status_code == 409 and "今天已提醒过" in again.json()["detail"][0]
    page = client.post(f"/employer/people/{behind.pk}/remind/", {"year": "2026"}, follow=True)
    assert "今天已提醒过" in page.content.decode()
    assert len(_reminders(behind)) == 1
    clock.shift(dt.timedelta(days=1))
    login_staff(client, colleague)  # a new day, a new session (sessions last 12 hours at most)
    assert client.post(url, {}, content_type="application/json").status_code == 201
    assert len(_reminders(behind)) == 2


def test_the_database_keeps_one_a_day_when_two_click_at_once(employer_a, behind, year_2026, clock, monkeypatch):
    """Two administrators at the same moment: the unique constraint decides; the loser gets a Conflict and
    nothing of theirs is written (no second notification)."""
    from django.utils import timezone

    EmployerReminder.objects.create(archive=behind, year=year_2026, sent_by=employer_a, credit_code=UNIT_A,
                                    sent_on=timezone.localdate(), missing_total=56, missing_professional=36)
    with pytest.raises(IntegrityError), transaction.atomic():
        EmployerReminder.objects.create(archive=behind, year=year_2026, sent_by=employer_a, credit_code=UNIT_A,
                                        sent_on=timezone.localdate(), missing_total=56, missing_professional=36)
    # The service reads "reminded today" first; a row made between its read and its write is the race:
    from employers import selectors

    real = selectors.person_rows

    def stale(archives, policy):
        rows = real(archives, policy)
        return [selectors.PersonRow(**{**row.__dict__, "reminded_today": False}) for row in rows]

    monkeypatch.setattr(selectors, "person_rows", stale)
    with pytest.raises(Conflict):
        reminder_send(employer=employer_a, archive_id=behind.pk, policy=year_2026)
    assert _reminders(behind) == []


def test_no_reminder_for_someone_done_or_not_owing_the_year(client, employer_a, done, person_in):
    """Only those behind may be reminded (R-CE-3): a completed year, or a year not owed (R-CE-1), is a 409."""
    new = person_in(UNIT_A, sequence=505, name="新入职",
                    data={"career": {"began_accounting_on": "2026-02-01"}, "qualifications": []})
    login_staff(client, employer_a)
    for archive in (done, new):
        response = client.post(f"/api/v1/employer/people/{archive.pk}/remind/", {}, content_type="application/json")
        assert response.status_code == 409 and "无需提醒" in response.json()["detail"][0]
        assert _reminders(archive) == []


def test_remind_everyone_behind_once(client, employer_a, behind, done, person_in):
    """提醒全部未完成人员: everyone behind and not yet reminded today, one notification each, each audited; a
    second press the same day sends nothing more."""
    other = person_in(UNIT_A, sequence=507, name="另一落后者")
    login_staff(client, employer_a)
    client.post(f"/employer/people/{behind.pk}/remind/", {"year": "2026"})
    response = client.post("/employer/remind/", {"year": "2026"}, follow=True)
    assert "已向1名未完成2026年度继续教育的人员发送提醒" in response.content.decode()
    assert len(_reminders(other)) == 1 and len(_reminders(behind)) == 1 and _reminders(done) == []
    assert AuditEvent.objects.filter(event_type="employer.reminder_sent").count() == 2
    again = client.post("/employer/remind/", {"year": "2026"}, follow=True)
    assert "没有需要提醒的人员" in again.content.decode()
    assert Notification.objects.filter(event="employer.reminder").count() == 2


def test_remind_everyone_sends_nothing_for_another_employers_people(employer_a, employer_b, behind, year_2026):
    """The bulk reminder goes through the same scope: employer B reminds none of A's people (R-ACL-1's rule)."""
    assert reminders_send_behind(employer=employer_b, policy=year_2026) == 0
    assert _reminders(behind) == []


def test_a_frozen_year_cannot_be_reminded(client, employer_a, behind):
    """A closed year no longer changes (R-CE-13): its reminders are refused, one and all."""
    from cpe.ledger.policy import ce_year_ensure
    from cpe.ledger.services import ce_year_close

    ce_year_ensure(2025)
    ce_year_close(year=2025)
    login_staff(client, employer_a)
    response = client.post(f"/api/v1/employer/people/{behind.pk}/remind/", {"year": 2025},
                           content_type="application/json")
    assert response.status_code == 409 and "已归档" in response.json()["detail"][0]
    page = client.post("/employer/remind/", {"year": "2025"}, follow=True)
    assert "已归档" in page.content.decode()
    assert _reminders(behind) == []
