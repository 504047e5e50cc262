"""A CE year's deadline approaching (继续教育年度截止提醒): 30 and 7 days before, to the people who owe the
year and have not completed it, once per round ("year deadline approaching" is an action event;
R-CE-1 who owes a year, R-CE-3 what completes it, R-CE-5 the deadline)."""

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core import mail

from cpe.ledger import reminders
from cpe.ledger.reminders import year_deadlines_remind
from cpe.ledger.services import credit_register
from cpe.models import CEYear
from kjzx.audit import history_for
from kjzx.models import Delivery, Notification, ReminderRun
from kjzx.notifications import YEAR_DEADLINE_EVENT
from kjzx.tasks import remind_cpe_year_deadlines
from tests.factories import make_accountant, make_active_archive

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
DEADLINE = dt.date(2025, 3, 31)  # the 2024 year's (R-CE-5, the seeded policy)


def at(time_machine, day: dt.date):
    time_machine.move_to(dt.datetime(day.year, day.month, day.day, 9, tzinfo=SHANGHAI), tick=False)


def give(archive, credits, kind="professional", source="c1"):
    credit_register(archive=archive, year=2024, subject_kind=kind, form="online", credits=Decimal(credits),
                    source_type="course", source_id=source, source_label=f"课程{source}")


@pytest.fixture
def people(time_machine, accountant):
    """Four people of 城区 who owe 2024 (work began 2012): nothing, 60 professional only, complete
    (60 + 30), and one without an approved collection (no archive owes anything, R-CE-1/R-CE-12)."""
    at(time_machine, dt.date(2025, 2, 1))
    nothing = make_active_archive(accountant)
    partial = make_active_archive(make_accountant(sequence=211, name="部分"))
    complete = make_active_archive(make_accountant(sequence=212, name="完成"))
    give(partial, "60")
    give(complete, "60")
    give(complete, "30", kind="general", source="c2")
    bystander = make_accountant(sequence=213, name="未采集")
    for user in (nothing.person, partial.person, complete.person, bystander):
        user.email = f"u{user.pk}@example.cn"
        user.save(update_fields=["email"])
    return nothing, partial, complete, bystander


def told(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, event=YEAR_DEADLINE_EVENT))


def test_30_days_before_only_those_behind_are_told_once(time_machine, people):
    """R-CE-3, R-CE-5: 30 days before 2025-03-31 the two behind are told what they lack; running again tells nobody."""
    nothing, partial, complete, bystander = people
    at(time_machine, dt.date(2025, 2, 28))  # 31 days before: not yet
    assert year_deadlines_remind() == {}
    at(time_machine, dt.date(2025, 3, 1))
    assert year_deadlines_remind() == {"cpe.year_deadline:2024:30": 2}
    [note] = told(partial.person)
    assert note.title == "继续教育提醒：2024年度学分须于2025-03-31前完成（还有30天）"
    assert "已登记60学分（其中专业科目60学分），还差30学分，其中专业科目还差0学分" in note.body
    assert note.link == "/me/cpe/2024/"
    assert len(told(nothing.person)) == 1 and told(complete.person) == [] and told(bystander) == []
    assert year_deadlines_remind() == {"cpe.year_deadline:2024:30": 2}  # the finished round, reported again
    at(time_machine, dt.date(2025, 3, 10))
    year_deadlines_remind()
    assert Notification.objects.filter(event=YEAR_DEADLINE_EVENT).count() == 2
    assert ReminderRun.objects.get(key="cpe.year_deadline:2024:30").finished_at is not None
    [event] = [e for e in history_for(CEYear.objects.get(pk=2024)) if e.event_type == "cpe.deadline_reminded"]
    assert event.extra == {"year": 2024, "days_before": 30, "people": 2} and event.actor is None


def test_7_days_before_a_second_round_and_it_goes_by_sms_too(time_machine, people, django_capture_on_commit_callbacks):
    """the deadline approaching is an action event: e-mail and SMS, after the commit."""
    from kjzx.celery import app
    from kjzx.sms import MemoryBackend

    nothing, partial, _complete, _bystander = people
    at(time_machine, dt.date(2025, 3, 1))
    year_deadlines_remind()
    at(time_machine, dt.date(2025, 3, 24))
    saved = app.conf.task_always_eager
    app.conf.task_always_eager = True
    MemoryBackend.outbox.clear()
    mail.outbox = []
    try:
        with django_capture_on_commit_callbacks(execute=True):
            assert remind_cpe_year_deadlines() == {"cpe.year_deadline:2024:7": 2}
    finally:
        app.conf.task_always_eager = saved
    assert [n.title[-6:] for n in told(partial.person)] == ["（还有7天）", "还有30天）"]
    assert sorted(m.to[0] for m in mail.outbox) == sorted(f"u{a.person.pk}@example.cn" for a in (nothing, partial))
    assert len(MemoryBackend.outbox) == 2
    assert all("2024年度学分须于2025-03-31前完成" in text for _mobile, text in MemoryBackend.outbox)
    sent = Delivery.objects.filter(notification__title__contains="还有7天").values_list("status", flat=True)
    assert set(sent) == {"sent"}
    MemoryBackend.outbox.clear()


def test_a_portal_down_over_the_30_day_mark_sends_only_the_7_day_round(time_machine, people):
    """R-DL-3: catching up does not send two reminders on the same day."""
    at(time_machine, dt.date(2025, 3, 26))
    assert year_deadlines_remind() == {"cpe.year_deadline:2024:7": 2}
    assert not ReminderRun.objects.filter(key="cpe.year_deadline:2024:30").exists()
    at(time_machine, dt.date(2025, 4, 1))  # past the deadline: nothing more
    assert year_deadlines_remind() == {}


def test_completing_the_year_before_the_round_means_no_reminder(time_machine, people):
    """R-CE-3: 30 more professional credits complete the partial year; the round skips that person."""
    _nothing, partial, _complete, _bystander = people
    give(partial, "30", kind="general", source="c3")
    at(time_machine, dt.date(2025, 3, 1))
    assert year_deadlines_remind() == {"cpe.year_deadline:2024:30": 1}
    assert told(partial.person) == []


def test_a_round_killed_half_way_resumes_and_tells_nobody_twice(time_machine, people, monkeypatch):
    """Background work: batches commit with the round's cursor; a failure in the
    second batch rolls back that batch only; the next run tells exactly those left."""
    nothing, partial, _complete, _bystander = people
    monkeypatch.setattr(reminders, "BATCH", 1)
    real = reminders.notifications_send_bulk
    calls = []

    def dies_on_the_second_batch(notifications):
        calls.append(len(notifications))
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(notifications)

    monkeypatch.setattr(reminders, "notifications_send_bulk", dies_on_the_second_batch)
    at(time_machine, dt.date(2025, 3, 1))
    with pytest.raises(RuntimeError):
        year_deadlines_remind()  # each batch is its own transaction (a savepoint here): the first one stays
    run = ReminderRun.objects.get(key="cpe.year_deadline:2024:30")
    first = min(nothing.pk, partial.pk)
    assert (run.cursor, run.sent, run.finished_at) == (first, 1, None)
    assert Notification.objects.filter(event=YEAR_DEADLINE_EVENT).count() == 1
    monkeypatch.setattr(reminders, "notifications_send_bulk", real)
    assert year_deadlines_remind() == {"cpe.year_deadline:2024:30": 2}
    assert len(told(nothing.person)) == len(told(partial.person)) == 1


def test_a_round_costs_the_same_number_of_queries_for_2_or_5_people(time_machine, people,
                                                                   django_assert_num_queries):
    """Set-based: the obligation and the year's sums in SQL, not a query per person."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    at(time_machine, dt.date(2025, 3, 1))
    with CaptureQueriesContext(connection) as two:
        assert year_deadlines_remind() == {"cpe.year_deadline:2024:30": 2}
    for i in range(3):
        make_active_archive(make_accountant(sequence=220 + i, name=f"新{i}"))
    at(time_machine, dt.date(2025, 3, 24))
    with django_assert_num_queries(len(two)):
        assert year_deadlines_remind() == {"cpe.year_deadline:2024:7": 5}
