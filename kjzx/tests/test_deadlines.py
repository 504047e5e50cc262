"""Deadline sweeps: reminders before a review step is due, escalation after (R-DL-2, R-DL-3)."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Role
from kjzx.audit import event_label, history_for
from kjzx.models import Notification, StepDeadline
from kjzx.tasks import escalate_overdue_steps, remind_due_steps
from kjzx.workflow import history_rows
from records.models import CollectionApplication
from tests.factories import make_accountant, make_change, make_collection, make_staff

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SUBMITTED = dt.datetime(2025, 3, 3, 10, 0, tzinfo=SHANGHAI)  # a Monday; 5 working days → due Mon 2025-03-10
DUE = dt.date(2025, 3, 10)


def at(time_machine, day: dt.date, hour: int = 8):
    time_machine.move_to(dt.datetime(day.year, day.month, day.day, hour, 0, tzinfo=SHANGHAI), tick=False)


def titles(user) -> list[str]:
    return list(Notification.objects.filter(user=user).values_list("title", flat=True))


@pytest.fixture
def submitted(time_machine, accountant):
    """A collection of 城区 (140502) submitted on 2025-03-03, due 2025-03-10."""
    time_machine.move_to(SUBMITTED, tick=False)
    collection = make_collection(accountant, "submitted")
    assert collection.due_date == DUE
    return collection


def test_reminder_is_sent_once_the_working_day_before_the_due_date(
        time_machine, submitted, county_reviewer, second_reviewer, city_reviewer, other_county_reviewer):
    """One working day before the due date the jurisdiction's reviewers are reminded, once (R-DL-2, R-COL-5)."""
    at(time_machine, dt.date(2025, 3, 6))  # Thursday: 2 working days left, not yet
    assert remind_due_steps() == 0
    at(time_machine, dt.date(2025, 3, 7))  # Friday: 1 working day left
    assert remind_due_steps() == 1
    expected = f"待办提醒：信息采集 {submitted.number} 将于 2025-03-10 到期"
    assert titles(county_reviewer) == [expected] and titles(second_reviewer) == [expected]
    assert titles(city_reviewer) == [] and titles(other_county_reviewer) == []
    assert remind_due_steps() == 0
    at(time_machine, DUE)  # the due date itself is still within the lead, but already reminded
    assert remind_due_steps() == 0
    assert Notification.objects.filter(title__startswith="待办提醒").count() == 2


def test_reminder_lead_is_the_provinces_policy(time_machine, submitted, county_reviewer):
    """Provincial staff set how many working days ahead reviewers are reminded (R-DL-2; policy, not code)."""
    StepDeadline.objects.filter(key="collection.review").update(remind_days_before=3)
    at(time_machine, dt.date(2025, 3, 4))  # 4 working days left
    assert remind_due_steps() == 0
    at(time_machine, dt.date(2025, 3, 5))  # 3 working days left
    assert remind_due_steps() == 1
    assert len(titles(county_reviewer)) == 1


def test_overdue_step_is_escalated_to_the_county_and_its_city_once(
        time_machine, submitted, county_reviewer, city_reviewer, other_county_reviewer, other_city_reviewer,
        province_staff):
    """After the due date the county's and the city's reviewers are told, once; nobody else (R-DL-2)."""
    at(time_machine, DUE)
    assert escalate_overdue_steps() == 0  # due today: not overdue yet
    at(time_machine, dt.date(2025, 3, 11))
    assert escalate_overdue_steps() == 1
    expected = f"逾期提醒：信息采集 {submitted.number} 已超过办理时限（2025-03-10）"
    assert titles(county_reviewer) == [expected] and titles(city_reviewer) == [expected]
    assert titles(other_county_reviewer) == titles(other_city_reviewer) == titles(province_staff) == []
    assert escalate_overdue_steps() == 0
    at(time_machine, dt.date(2025, 3, 12))
    assert escalate_overdue_steps() == 0
    assert Notification.objects.filter(title__startswith="逾期提醒").count() == 2


def test_escalation_is_written_to_the_history_as_a_system_event(time_machine, submitted):
    """The overdue mark is one audit event by the system, with the due date (R-DL-2, STYLE §3)."""
    at(time_machine, dt.date(2025, 3, 11))
    escalate_overdue_steps()
    escalate_overdue_steps()
    events = [e for e in history_for(submitted) if e.event_type == "collection.overdue"]
    assert len(events) == 1
    assert events[0].actor is None and events[0].extra["due_date"] == "2025-03-10"
    assert event_label("collection.overdue") == "逾期未办理"
    assert history_rows(submitted)[-1]["by"] == "系统"


def test_a_sweep_that_did_not_run_for_days_still_escalates(
        time_machine, submitted, county_reviewer, city_reviewer):
    """The machine was down over the due date: the next run escalates, and does not send a stale reminder (R-DL-3)."""
    at(time_machine, dt.date(2025, 3, 20))
    assert remind_due_steps() == 0
    assert escalate_overdue_steps() == 1
    assert len(titles(county_reviewer)) == len(titles(city_reviewer)) == 1
    submitted.refresh_from_db()
    assert submitted.escalated_for == DUE and submitted.overdue


def test_decided_and_returned_applications_are_never_reminded(time_machine, accountant, other_accountant,
                                                             county_reviewer):
    """Only steps waiting for a bureau are swept: approved and returned ones are not (R-DL-2)."""
    time_machine.move_to(SUBMITTED, tick=False)
    make_collection(accountant, "approved")
    make_collection(other_accountant, "returned", jurisdiction="140502")
    at(time_machine, dt.date(2025, 3, 7))
    assert remind_due_steps() == 0
    at(time_machine, dt.date(2025, 3, 20))
    assert escalate_overdue_steps() == 0
    assert titles(county_reviewer) == []


def test_resubmission_starts_a_new_step_that_is_reminded_again(time_machine, submitted, accountant,
                                                               county_reviewer):
    """A returned and resubmitted collection has a new due date and gets its own reminder (R-COL-5, R-DL-2)."""
    from kjzx.workflow import workflow_transition

    at(time_machine, dt.date(2025, 3, 7))
    assert remind_due_steps() == 1
    returned = workflow_transition(submitted, "return", by=county_reviewer, reason="照片不清晰")
    resubmitted = workflow_transition(returned, "submit", by=accountant)
    assert resubmitted.due_date == dt.date(2025, 3, 14) and resubmitted.reminded_for is None
    at(time_machine, dt.date(2025, 3, 13))
    assert remind_due_steps() == 1
    assert len(titles(county_reviewer)) == 2


def test_a_due_date_moved_by_staff_is_reminded_and_escalated_again(time_machine, submitted, county_reviewer):
    """The stamps hold the due date they were sent for: a new due date is a new reminder (R-DL-2)."""
    CollectionApplication.objects.filter(pk=submitted.pk).update(reminded_for=dt.date(2025, 3, 5),
                                                                 escalated_for=dt.date(2025, 3, 5))
    at(time_machine, dt.date(2025, 3, 7))
    assert remind_due_steps() == 1
    at(time_machine, dt.date(2025, 3, 11))
    assert escalate_overdue_steps() == 1
    assert len(titles(county_reviewer)) == 2


def test_city_level_item_escalates_to_the_province(time_machine, accountant, city_reviewer, province_staff,
                                                  county_reviewer):
    """A 市直 application (140500) is reminded to the city and escalated to the province (R-DL-2)."""
    time_machine.move_to(SUBMITTED, tick=False)
    make_staff("jincheng_b", Role.CITY_REVIEWER, "140500")
    collection = make_collection(accountant, "submitted", jurisdiction="140500")
    at(time_machine, dt.date(2025, 3, 7))
    assert remind_due_steps() == 1
    assert len(titles(city_reviewer)) == 1 and titles(province_staff) == [] and titles(county_reviewer) == []
    at(time_machine, dt.date(2025, 3, 11))
    assert escalate_overdue_steps() == 1
    assert titles(province_staff) == [f"逾期提醒：信息采集 {collection.number} 已超过办理时限（2025-03-10）"]
    assert len(titles(city_reviewer)) == 2 and titles(county_reviewer) == []


def test_province_level_item_goes_to_province_staff_only(time_machine, accountant, province_staff, city_reviewer):
    """A 省直 application (140000) has no level above: the province is told, once (R-DL-2)."""
    time_machine.move_to(SUBMITTED, tick=False)
    make_collection(accountant, "submitted", jurisdiction="140000")
    at(time_machine, dt.date(2025, 3, 11))
    assert escalate_overdue_steps() == 1
    assert len(titles(province_staff)) == 1 and titles(city_reviewer) == []


def test_county_without_reviewers_is_covered_by_its_city(time_machine, accountant, city_reviewer, province_staff):
    """A county not yet on the portal: its city, which may act there, is reminded; the province hears of overdue."""
    time_machine.move_to(SUBMITTED, tick=False)
    make_collection(accountant, "submitted", jurisdiction="140524")
    at(time_machine, dt.date(2025, 3, 7))
    assert remind_due_steps() == 1
    at(time_machine, dt.date(2025, 3, 11))
    assert escalate_overdue_steps() == 1
    assert len(titles(city_reviewer)) == 2 and len(titles(province_staff)) == 1


def test_changes_are_swept_with_their_own_ten_working_days(time_machine, accountant, county_reviewer, city_reviewer):
    """A change is due 10 working days after submission, reminded the day before, escalated after (R-CHG-3)."""
    time_machine.move_to(SUBMITTED, tick=False)
    change = make_change(accountant, "submitted", reviewer=county_reviewer)
    assert change.due_date == dt.date(2025, 3, 17)
    at(time_machine, dt.date(2025, 3, 14))
    assert remind_due_steps() == 1
    assert titles(county_reviewer)[0] == f"待办提醒：档案变更 {change.number} 将于 2025-03-17 到期"
    at(time_machine, dt.date(2025, 3, 18))
    assert escalate_overdue_steps() == 1
    assert len(titles(city_reviewer)) == 1


def test_sweeps_do_not_query_per_item(time_machine, county_reviewer, city_reviewer):
    """Reviewers load in one query and notifications in one insert: ten items cost what two do (STYLE §4)."""
    time_machine.move_to(SUBMITTED, tick=False)
    people = [make_accountant(sequence=201 + i, mobile=f"1380000{i:04d}") for i in range(10)]
    for person in people[:2]:
        make_collection(person, "submitted")
    at(time_machine, dt.date(2025, 3, 7))
    with CaptureQueriesContext(connection) as few:
        assert remind_due_steps() == 2
    CollectionApplication.objects.update(reminded_for=None)
    time_machine.move_to(SUBMITTED, tick=False)
    for person in people[2:]:
        make_collection(person, "submitted")
    at(time_machine, dt.date(2025, 3, 7))
    with CaptureQueriesContext(connection) as many:
        assert remind_due_steps() == 10
    assert len(many) == len(few)
