"""The exam registration period tightens reminders and escalation (R-TRF-5)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from kjzx.audit import history_for
from kjzx.models import ExamRegistrationPeriod, Notification
from kjzx.tasks import escalate_overdue_steps, remind_due_steps
from tests.factories import login_staff, make_collection, make_transfer

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(time_machine, day: dt.date):
    time_machine.move_to(dt.datetime(day.year, day.month, day.day, 8, 0, tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def submitted(time_machine, accountant):
    """A collection of 城区 submitted Monday 2025-03-03, due Monday 2025-03-10."""
    time_machine.move_to(dt.datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI), tick=False)
    return make_collection(accountant, "submitted")


@pytest.fixture
def period():
    return ExamRegistrationPeriod.objects.create(name="2025年度全国会计专业技术资格考试报名",
                                                 starts_on=dt.date(2025, 3, 1), ends_on=dt.date(2025, 3, 20))


def test_reminders_start_earlier_during_exam_registration(time_machine, submitted, period, county_reviewer):
    """R-TRF-5: 3 working days ahead instead of 1 while registration runs."""
    at(time_machine, dt.date(2025, 3, 5))  # Wednesday: 3 working days left
    assert remind_due_steps() == 1
    assert Notification.objects.filter(user=county_reviewer, title__startswith="待办提醒").count() == 1


def test_outside_the_period_the_usual_lead_holds(time_machine, submitted, county_reviewer):
    ExamRegistrationPeriod.objects.create(name="往年报名", starts_on=dt.date(2024, 3, 1), ends_on=dt.date(2024, 3, 20))
    at(time_machine, dt.date(2025, 3, 5))
    assert remind_due_steps() == 0


def test_the_level_above_hears_before_it_lapses(time_machine, submitted, period, county_reviewer, city_reviewer):
    """R-TRF-5: on the due date itself the city is told, not only after the step lapsed; once."""
    at(time_machine, dt.date(2025, 3, 7))  # Friday, 1 working day left: not yet
    assert escalate_overdue_steps() == 0
    at(time_machine, dt.date(2025, 3, 10))  # the due date
    assert escalate_overdue_steps() == 1
    title = f"考试报名期间督办：信息采集 {submitted.number} 将于 2025-03-10 到期"
    assert list(Notification.objects.filter(user=city_reviewer).values_list("title", flat=True)) == [title]
    assert [e.event_type for e in history_for(submitted)][-1] == "collection.escalated"
    assert escalate_overdue_steps() == 0


def test_transfers_are_swept_like_every_other_kind(time_machine, accountant, period, county_reviewer, city_reviewer):
    """R-TRF-2, R-TRF-5: a transfer's step is reminded and escalated by the same sweeps."""
    time_machine.move_to(dt.datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI), tick=False)
    transfer = make_transfer(accountant, "submitted")
    assert transfer.due_date == dt.date(2025, 3, 17)
    at(time_machine, dt.date(2025, 3, 17))
    assert remind_due_steps() == 1 and escalate_overdue_steps() == 1
    assert Notification.objects.filter(user=city_reviewer, title__contains=transfer.number).exists()


def test_reviewers_see_the_banner_accountants_do_not(client, time_machine, period, county_reviewer, accountant):
    at(time_machine, dt.date(2025, 3, 5))
    login_staff(client, county_reviewer)
    assert "不拖拉不遗留" in client.get("/workbench/").content.decode()
    client.force_login(accountant)
    assert "不拖拉不遗留" not in client.get("/me/").content.decode()
