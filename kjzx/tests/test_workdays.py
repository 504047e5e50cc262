"""The working-day calendar (工作日历): due dates, gaps and the coverage sweep, R-DL-1 and R-DL-3."""

import datetime as dt
import uuid
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.db import connection
from django.template.loader import render_to_string
from django.test import RequestFactory
from django.urls import reverse

from kjzx.calendar import calendar_year_save
from kjzx.context_processors import portal
from kjzx.models import AuditEvent, CalendarDay, CalendarYear
from kjzx.tasks import check_calendar_coverage
from kjzx.workdays import (
    calendar_gaps,
    is_provisional,
    is_working_day,
    working_days_after,
    working_days_between,
    year_is_known,
)
from tests.factories import login_staff, make_admin

SHANGHAI = ZoneInfo("Asia/Shanghai")
D = dt.date


@pytest.fixture
def late_2026(time_machine):
    """"Today" is 2026-11-29: the 60-day horizon reaches into 2027, which the library does not know."""
    time_machine.move_to(dt.datetime(2026, 11, 29, 9, 0, tzinfo=SHANGHAI), tick=False)
    return time_machine


def holiday(day, name="假期"):
    return CalendarDay.objects.create(date=day, is_working_day=False, name=name)


def working_weekend(day, name="调休上班"):
    return CalendarDay.objects.create(date=day, is_working_day=True, name=name)


def gap_events():
    return AuditEvent.objects.filter(event_type="calendar.gap")


@pytest.mark.django_db
class TestDueDates:
    def test_five_working_days_over_spring_festival_2025(self):
        """Submitted 2025-01-24, 5 working days (R-COL-5) are due 2025-02-07 across 春节 (R-DL-1)."""
        assert working_days_after(D(2025, 1, 24), 5) == D(2025, 2, 7)

    def test_ten_working_days_over_spring_festival_2025(self):
        """Submitted 2025-01-24, 10 working days (R-CHG-3) are due 2025-02-13 (R-DL-1)."""
        assert working_days_after(D(2025, 1, 24), 10) == D(2025, 2, 13)

    def test_start_day_on_a_working_day_does_not_count(self):
        """The day the step began never counts, even a working day (R-DL-1)."""
        assert working_days_after(D(2025, 3, 7), 1) == D(2025, 3, 10)

    def test_start_day_on_a_weekend_does_not_count(self):
        """A step begun on a Saturday: the first working day after it is Monday (R-DL-1)."""
        assert working_days_after(D(2025, 3, 1), 1) == D(2025, 3, 3)

    def test_start_day_on_a_holiday_does_not_count(self):
        """Begun on 2025-10-01 (国庆, off until 10-08): one working day later is 10-09 (R-DL-1)."""
        assert working_days_after(D(2025, 10, 1), 1) == D(2025, 10, 9)

    def test_adjusted_working_sunday_counts(self):
        """2025-01-26 is a 调休 working Sunday, so it is the first working day after Saturday (R-DL-1)."""
        assert is_working_day(D(2025, 1, 26))
        assert working_days_after(D(2025, 1, 25), 1) == D(2025, 1, 26)

    def test_holiday_on_a_weekday_does_not_count(self):
        """2025-01-28..02-04 are 春节 holidays although most are weekdays (R-DL-1)."""
        assert not is_working_day(D(2025, 1, 28))
        assert not is_working_day(D(2025, 2, 4))

    def test_zero_days_is_the_start_and_negative_is_refused(self):
        """n = 0 is the start day itself; a negative step length is a programming error (R-DL-1)."""
        assert working_days_after(D(2025, 1, 24), 0) == D(2025, 1, 24)
        with pytest.raises(ValueError):
            working_days_after(D(2025, 1, 24), -1)

    def test_datetime_start_is_read_in_local_time(self):
        """A submission at 23:30 UTC on 01-23 was made on 01-24 in Shanxi (R-DL-1)."""
        submitted = dt.datetime(2025, 1, 23, 23, 30, tzinfo=dt.UTC)
        assert working_days_after(submitted, 5) == D(2025, 2, 7)


@pytest.mark.django_db
class TestWorkingDaysBetween:
    def test_inverse_of_working_days_after(self):
        """Counting back the days of a due date gives the step length (R-DL-1)."""
        for n in (1, 5, 10, 60):
            assert working_days_between(D(2025, 1, 24), working_days_after(D(2025, 1, 24), n)) == n

    def test_zero_on_the_due_date_and_negative_when_overdue(self):
        """Days left: 0 on the due date, -1 a working day after it (R-DL-1, R-DL-2)."""
        assert working_days_between(D(2025, 2, 7), D(2025, 2, 7)) == 0
        assert working_days_between(D(2025, 2, 11), D(2025, 2, 10)) == -1
        # 2025-02-08 is a 调休 working Saturday, so 02-07 → 02-10 is two working days.
        assert working_days_between(D(2025, 2, 10), D(2025, 2, 7)) == -2
        assert working_days_between(D(2025, 2, 7), D(2025, 1, 24)) == -5


@pytest.mark.django_db
class TestUnknownYears:
    def test_unknown_year_counts_monday_to_friday(self):
        """2027 and 2031 are beyond chinese_calendar: Mon–Fri, and never a crash (R-DL-1)."""
        assert working_days_after(D(2027, 1, 1), 1) == D(2027, 1, 4)
        assert working_days_after(D(2031, 1, 3), 5) == D(2031, 1, 10)
        assert not is_working_day(D(2031, 1, 4))
        assert working_days_between(D(2026, 12, 31), D(2031, 1, 3)) > 0

    def test_unknown_years_are_provisional_and_reported(self, late_2026):
        """Due dates in 2027 are provisional; calendar_gaps lists 2027..2031 (R-DL-1)."""
        assert is_provisional(D(2027, 1, 4))
        assert not is_provisional(D(2026, 12, 31))
        assert calendar_gaps() == [2027]
        assert calendar_gaps(until=D(2031, 6, 1)) == [2027, 2028, 2029, 2030, 2031]

    def test_no_gap_while_the_horizon_stays_in_known_years(self, time_machine):
        """In June 2026 the 60-day horizon is inside 2026, which the library knows (R-DL-1)."""
        time_machine.move_to(dt.datetime(2026, 6, 1, 9, tzinfo=SHANGHAI), tick=False)
        assert calendar_gaps() == []

    def test_calendar_day_in_unknown_year_is_honoured(self):
        """A 2027-01-01 holiday entered by staff moves a due date past it (R-DL-1)."""
        assert working_days_after(D(2026, 12, 31), 1) == D(2027, 1, 1)
        holiday(D(2027, 1, 1), "元旦")
        working_weekend(D(2027, 1, 9))
        assert not is_working_day(D(2027, 1, 1))
        assert working_days_after(D(2026, 12, 31), 1) == D(2027, 1, 4)
        assert working_days_after(D(2027, 1, 8), 1) == D(2027, 1, 9)

    def test_confirmed_year_removes_the_gap(self, late_2026):
        """A confirmed 2027 is known and not provisional; an unconfirmed one is not enough (R-DL-1)."""
        CalendarYear.objects.create(year=2027, confirmed=False)
        assert calendar_gaps() == [2027]
        CalendarYear.objects.filter(year=2027).update(confirmed=True, source="国办发明电〔2026〕x号")
        assert calendar_gaps() == []
        assert year_is_known(2027)
        assert not is_provisional(D(2027, 3, 1))
        assert calendar_gaps(until=D(2028, 2, 1)) == [2028]

    def test_calendar_day_overrides_a_library_year(self):
        """Staff corrections win over chinese_calendar, both ways (R-DL-1)."""
        holiday(D(2025, 3, 10), "临时调整")
        working_weekend(D(2025, 3, 8))
        assert not is_working_day(D(2025, 3, 10))
        assert is_working_day(D(2025, 3, 8))
        assert working_days_after(D(2025, 3, 7), 2) == D(2025, 3, 11)


@pytest.mark.django_db
class TestQueryCount:
    @pytest.mark.parametrize("n", [10, 60])
    def test_due_date_costs_one_query(self, n, django_assert_max_num_queries):
        """The overrides of the whole span load in one query, not one per day (R-DL-1)."""
        holiday(D(2027, 1, 1))
        with django_assert_max_num_queries(1):
            working_days_after(D(2026, 12, 20), n)

    def test_long_run_of_overrides_beyond_the_first_window(self):
        """Rows past the first window are still loaded and honoured (R-DL-1)."""
        for offset in range(1, 61):
            holiday(D(2027, 3, 1) + dt.timedelta(days=offset))
        assert working_days_after(D(2027, 3, 1), 1) == D(2027, 5, 3)

    def test_between_costs_one_query(self, django_assert_max_num_queries):
        """A year of "days left" arithmetic is one query (R-DL-1)."""
        with django_assert_max_num_queries(1):
            working_days_between(D(2025, 1, 1), D(2025, 12, 31))


@pytest.mark.django_db
class TestCoverageTask:
    def test_one_gap_event_per_day(self, late_2026):
        """The sweep records a gap once a day, however often it runs (R-DL-1, R-DL-3)."""
        assert check_calendar_coverage() == [2027]
        assert check_calendar_coverage() == [2027]
        event = gap_events().get()
        assert event.extra == {"years": [2027]}
        assert event.actor is None
        assert event.label == "工作日历缺失"
        late_2026.move_to(dt.datetime(2026, 11, 30, 8, tzinfo=SHANGHAI), tick=False)
        check_calendar_coverage()
        assert gap_events().count() == 2

    def test_no_event_without_gaps(self, late_2026):
        """A confirmed year leaves nothing to report (R-DL-1, R-DL-3)."""
        CalendarYear.objects.create(year=2027, confirmed=True)
        assert check_calendar_coverage() == []
        assert not gap_events().exists()


@pytest.fixture
def redis_celery():
    """The project's Celery app on the test Redis, with a result backend and a queue of its own.

    Other test sessions on this machine may run workers on the same Redis database: a private
    queue keeps them from taking this test's task. Config and cached state are restored after.
    """
    from kjzx.celery import app

    queue = f"kjzx-test-{uuid.uuid4().hex}"
    saved = {key: app.conf[key] for key in ("broker_url", "result_backend", "task_default_queue")}
    redis_url = settings.REDIS_URL
    app.conf.update(broker_url=redis_url, result_backend=redis_url, task_default_queue=queue)
    app.__dict__.pop("amqp", None)  # rebuild queues and router around the private queue
    _forget_backend(app)  # an earlier test in this thread may have cached the disabled backend
    yield app
    with app.connection_for_write() as conn:
        conn.default_channel.queue_delete(queue)
    app.conf.update(saved)
    app.__dict__.pop("amqp", None)
    _forget_backend(app)  # drop the Redis result backend built for this test


def _forget_backend(app):
    """Celery caches the result backend per thread (``app._local``) or app-wide (``_backend_cache``)."""
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.mark.django_db(transaction=True)
def test_task_runs_on_a_real_worker(redis_celery):
    """The beat task runs through Redis on a real worker and is idempotent there (R-DL-3)."""
    from celery.contrib.testing.worker import start_worker
    from celery.signals import task_postrun

    def close_worker_connection(**kwargs):
        connection.close()  # the worker thread's own connection; lets the test database drop

    task_postrun.connect(close_worker_connection, weak=False)
    try:
        with start_worker(redis_celery, perform_ping_check=False, shutdown_timeout=10):
            first = check_calendar_coverage.delay().get(timeout=10)
            second = check_calendar_coverage.delay().get(timeout=10)
    finally:
        task_postrun.disconnect(close_worker_connection)
    assert first == second == calendar_gaps()
    assert gap_events().count() == (1 if first else 0)


@pytest.mark.django_db
class TestGapVisibility:
    """Personas come from the shared conftest (STYLE §9)."""

    def context_for(self, user):
        request = RequestFactory().get("/")
        request.user = user
        return portal(request)

    def test_province_staff_see_the_gaps(self, late_2026, province_staff):
        """Provincial staff are told which years are missing (R-DL-1)."""
        context = self.context_for(province_staff)
        assert context["calendar_gaps"] == [2027]
        assert context["PORTAL_NAME"] == settings.PORTAL_NAME

    def test_others_get_nothing_and_cost_no_query(self, late_2026, city_reviewer, accountant,
                                                  django_assert_num_queries):
        """Reviewers, accountants and anonymous visitors see no banner, and no query is spent (R-DL-1)."""
        from django.contrib.auth.models import AnonymousUser

        with django_assert_num_queries(0):
            for user in (city_reviewer, accountant, AnonymousUser()):
                assert self.context_for(user)["calendar_gaps"] == []

    def test_banner_names_the_years_and_links_the_admin(self):
        """The banner says the dates are Mon–Fri for now and where to enter the arrangement (R-DL-1)."""
        html = render_to_string("kjzx/_calendar_gap_banner.html", {"calendar_gaps": [2027]})
        assert "2027年的节假日安排尚未录入：该年的办理期限暂按周一至周五计算" in html
        html = render_to_string("kjzx/_calendar_gap_banner.html", {"calendar_gaps": [2027, 2028]})
        assert "2027年、2028年的节假日安排尚未录入：这些年份的办理期限暂按周一至周五计算" in html
        assert reverse("admin:kjzx_calendarday_changelist") in html
        assert render_to_string("kjzx/_calendar_gap_banner.html", {"calendar_gaps": []}).strip() == ""


@pytest.mark.django_db
class TestAdmin:
    @pytest.fixture
    def admin_client(self, client):
        user = make_admin("system_admin", "xitong_t")  # the calendar is the system administrator's (三权分立)
        login_staff(client, user)
        client.user = user
        return client

    def test_calendar_changelist_filters_by_year(self, admin_client):
        """Staff list the calendar by year and kind (R-DL-1)."""
        holiday(D(2027, 1, 1), "元旦")
        holiday(D(2026, 10, 1), "国庆节")
        url = reverse("admin:kjzx_calendarday_changelist")
        response = admin_client.get(url, {"year": "2027", "is_working_day__exact": "0", "q": "元旦"})
        assert response.status_code == 200
        assert list(response.context["cl"].queryset) == [CalendarDay.objects.get(date=D(2027, 1, 1))]

    def test_confirming_a_year_stamps_who_and_when(self, late_2026, admin_client):
        """Confirming a year records the confirmer, the time and an audit event (R-DL-1).

        The clock is set before the login: a jump of more than the 30 idle minutes after it would
        end the session, and the test would pass or fail with the day it runs.
        """
        response = admin_client.post(reverse("admin:kjzx_calendaryear_add"),
                                     {"year": "2027", "confirmed": "on", "source": "国办发明电〔2026〕x号"})
        assert response.status_code == 302
        year = CalendarYear.objects.get(year=2027)
        assert year.confirmed_by == admin_client.user
        assert year.confirmed_at is not None
        assert AuditEvent.objects.filter(event_type="calendar.year_confirmed").count() == 1
        assert calendar_gaps() == []

    def test_unconfirming_clears_the_stamp(self, admin_client):
        """Withdrawing a confirmation makes the year a gap again (R-DL-1)."""
        year, _moved = calendar_year_save(calendar_year=CalendarYear(year=2027, confirmed=True), by=admin_client.user)
        year.confirmed = False
        calendar_year_save(calendar_year=year, by=admin_client.user)
        year.refresh_from_db()
        assert (year.confirmed_by, year.confirmed_at) == (None, None)
        assert not year_is_known(2027)
