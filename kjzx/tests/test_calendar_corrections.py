"""A calendar that corrects open deadlines (R-DL-1): entering or correcting a year's holiday arrangement
recomputes every open due date that reaches into it, from the day its step began, with a history event saying why;
until the year is known its due dates are shown as provisional (暂按周一至周五计算) to reviewers and applicants.

The dates: chinese-calendar 1.11 knows 2026 and not 2027. A collection submitted on Monday 2026-12-28 has 5
working days (R-COL-5): Dec 29, 30, 31, then — counted Monday to Friday — Fri 2027-01-01 and Mon 01-04. Once staff
enter 元旦 (Fri 2027-01-01) it is due Tue 01-05; a change (10 working days, R-CHG-3) moves from 01-11 to 01-12.
"""

from __future__ import annotations

import datetime as dt
from itertools import count

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kjzx.calendar import (
    DayArrangement,
    arrangement_parse,
    arrangement_text,
    calendar_day_save,
    calendar_year_arrange,
)
from kjzx.models import AuditEvent, CalendarDay, CalendarYear
from records.models import CollectionApplication
from tests.factories import login_staff, make_accountant, make_admin, make_change, make_collection

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
D = dt.date
PROVISIONAL = "暂按周一至周五计算"
ARRANGEMENT_2027 = "2027-01-01 放假 元旦\n2027-02-06至2027-02-12 放假 春节\n2027-02-14 上班 春节调休"
_sequence = count(901, 2)


def at(year, month, day, hour=10):
    return time_machine.travel(dt.datetime(year, month, day, hour, tzinfo=BEIJING), tick=False)


def person(name="赵一"):
    return make_accountant(sequence=next(_sequence), name=name)


def moves(obj):
    return AuditEvent.objects.filter(event_type=f"{obj.KIND}.due_date_recomputed", target_id=str(obj.pk))


@pytest.fixture
def system_admin(client):
    user = make_admin("system_admin", "xitong_c")  # the calendar is the system administrator's (三权分立)
    return user


def test_entering_the_2027_calendar_moves_an_open_due_date_and_writes_the_event(client, county_reviewer,
                                                                                 system_admin):
    """entering 2027 moves an open due date, with an event saying why; a due date in a
    known year does not move; the provisional mark goes away for reviewers and applicants (R-DL-1)."""
    with at(2026, 12, 21):
        known = make_collection(person("钱二"))  # due Mon 2026-12-28: all in 2026, which the library knows
    with at(2026, 12, 28):
        applicant = person("赵一")
        collection = make_collection(applicant)
        change = make_change(person("孙三"))
    assert (known.due_date, collection.due_date, change.due_date) == (D(2026, 12, 28), D(2027, 1, 4), D(2027, 1, 11))
    assert collection.step_started_on == D(2026, 12, 28) and collection.step_days == 5

    with at(2026, 12, 29):
        login_staff(client, county_reviewer)
        queue = client.get("/workbench/").content.decode()
        assert queue.count(PROVISIONAL) == 2  # the two reaching into 2027, not the one of 2026
        detail = client.get(reverse("workbench_collection", args=[collection.pk])).content.decode()
        assert PROVISIONAL in detail
        login_staff(client, applicant)
        assert PROVISIONAL in client.get(reverse("person_collection")).content.decode()

        login_staff(client, system_admin)
        response = client.post(reverse("admin:kjzx_calendaryear_add"), {
            "year": "2027", "arrangement": ARRANGEMENT_2027, "confirmed": "on", "source": "国办发明电〔2026〕x号"},
            follow=True)
        assert response.status_code == 200
        assert "已按新的工作日历重新计算 2 件在办申请的办理期限" in response.content.decode()

    collection.refresh_from_db()
    change.refresh_from_db()
    known.refresh_from_db()
    assert (known.due_date, collection.due_date, change.due_date) == (D(2026, 12, 28), D(2027, 1, 5), D(2027, 1, 12))
    event = moves(collection).get()
    assert event.reason == "因 2027 年节假日安排更新，办理期限由 2027-01-04 调整为 2027-01-05"
    assert event.actor == system_admin and event.extra["before"] == "2027-01-04"
    assert moves(change).get().reason.endswith("由 2027-01-11 调整为 2027-01-12")
    assert not moves(known).exists()
    assert CalendarDay.objects.filter(date__year=2027).count() == 1 + 7 + 1
    assert CalendarYear.objects.get(year=2027).confirmed

    with at(2026, 12, 29, 11):
        login_staff(client, applicant)
        page = client.get(reverse("person_collection")).content.decode()
        assert PROVISIONAL not in page
        assert "因 2027 年节假日安排更新，办理期限由 2027-01-04 调整为 2027-01-05" in page  # the applicant's history
        login_staff(client, county_reviewer)
        assert PROVISIONAL not in client.get("/workbench/").content.decode()


def test_correcting_one_day_moves_due_dates_later_and_deleting_it_moves_them_back(client, system_admin):
    """A correction in either direction recomputes from the step's start, each move with its event (R-DL-1)."""
    with at(2026, 12, 28):
        collection = make_collection(person())
    with at(2026, 12, 29):
        login_staff(client, system_admin)
        response = client.post(reverse("admin:kjzx_calendarday_add"),
                               {"date": "2027-01-04", "name": "临时调整", "note": ""})  # not working
        assert response.status_code == 302
        collection.refresh_from_db()
        assert collection.due_date == D(2027, 1, 5)  # Dec 29, 30, 31, Jan 1, (not Jan 4), Jan 5
        day = CalendarDay.objects.get(date=D(2027, 1, 4))
        response = client.post(reverse("admin:kjzx_calendarday_delete", args=[day.pk]), {"post": "yes"})
        assert response.status_code == 302
    collection.refresh_from_db()
    assert collection.due_date == D(2027, 1, 4)
    assert [e.extra["after"] for e in moves(collection).order_by("id")] == ["2027-01-05", "2027-01-04"]
    assert AuditEvent.objects.filter(event_type__in=["calendar.day_saved", "calendar.day_deleted"]).count() == 2


def test_a_step_begun_before_steps_were_stored_is_recomputed_from_its_submission(system_admin):
    """A row whose start was not stored (older data, a bulk load) counts from submitted_at, with its number of
    working days read off its due date before the change (R-DL-1)."""
    with at(2026, 12, 28):
        collection = make_collection(person())
    CollectionApplication.objects.filter(pk=collection.pk).update(step_started_on=None, step_days=None)
    with at(2026, 12, 29):
        moved = calendar_day_save(day=CalendarDay(date=D(2027, 1, 1), is_working_day=False, name="元旦"),
                                  by=system_admin)
    assert moved == 1
    collection.refresh_from_db()
    assert (collection.due_date, collection.step_started_on, collection.step_days) == (D(2027, 1, 5),
                                                                                       D(2026, 12, 28), 5)


def test_a_step_keeps_the_number_of_working_days_it_began_with(system_admin):
    """Editing StepDeadline changes new steps only; a calendar correction keeps the old number (R-DL-1, R-COL-5)."""
    from kjzx.models import StepDeadline

    with at(2026, 12, 28):
        collection = make_collection(person())
    StepDeadline.objects.filter(key="collection.review").update(working_days=8)
    with at(2026, 12, 29):
        calendar_day_save(day=CalendarDay(date=D(2027, 1, 1), is_working_day=False, name="元旦"), by=system_admin)
    collection.refresh_from_db()
    assert collection.due_date == D(2027, 1, 5) and collection.step_days == 5


def test_the_recompute_is_set_based(system_admin):
    """Moving three due dates or nine costs the same number of queries: one UPDATE per new date, one INSERT of
    events (R-DL-1; no per-row queries)."""
    def queries_for(n: int, day: dt.date) -> int:
        with at(2026, 12, 28):
            for _ in range(n):
                make_collection(person())
        with at(2026, 12, 29), CaptureQueriesContext(connection) as captured:
            calendar_day_save(day=CalendarDay(date=day, is_working_day=False, name="临时"), by=system_admin)
        return len(captured)

    small = queries_for(3, D(2027, 1, 1))
    CollectionApplication.objects.all().delete()
    assert queries_for(9, D(2027, 1, 4)) == small
    assert AuditEvent.objects.filter(event_type="collection.due_date_recomputed").count() == 3 + 9


def test_a_wrong_arrangement_line_saves_nothing(client, system_admin):
    """A line staff mistype is named with its number and nothing is saved, never half (R-DL-1)."""
    with at(2026, 12, 29):
        login_staff(client, system_admin)
        response = client.post(reverse("admin:kjzx_calendaryear_add"), {
            "year": "2027", "arrangement": "2027-01-01 放假 元旦\n2027-13-01 放假\n2028-01-01 放假", "source": ""})
    page = response.content.decode()
    assert response.status_code == 200
    assert "第2行：日期不存在" in page and "第3行：日期应在2027年内" in page
    assert not CalendarDay.objects.exists() and not CalendarYear.objects.exists()


def test_arrangement_text_reads_back_what_was_entered(system_admin):
    """The year's box shows its days as lines, runs joined, and reads back to the same days (R-DL-1)."""
    days = arrangement_parse(ARRANGEMENT_2027, 2027)
    assert DayArrangement(D(2027, 2, 14), True, "春节调休") in days and len(days) == 9
    calendar_year_arrange(year=2027, days=days, by=system_admin)
    assert arrangement_text(2027) == ARRANGEMENT_2027
    assert arrangement_parse(arrangement_text(2027), 2027) == days
    with pytest.raises(ValueError, match="第1行"):
        arrangement_parse("2027-01-01 休假", 2027)


def test_the_transfer_destination_step_counts_from_its_acceptance(county_reviewer, system_admin):
    """The destination's 10 working days start when the origin accepts (R-TRF-2); a correction counts from there."""
    from kjzx.workflow import workflow_transition
    from tests.factories import make_transfer

    with at(2026, 12, 21):
        transfer = make_transfer(person())
    with at(2026, 12, 28):
        transfer = workflow_transition(transfer, "accept", by=county_reviewer)
    assert (transfer.step_started_on, transfer.step_days, transfer.due_date) == (D(2026, 12, 28), 10, D(2027, 1, 11))
    with at(2026, 12, 29):
        calendar_day_save(day=CalendarDay(date=D(2027, 1, 1), is_working_day=False, name="元旦"), by=system_admin)
    transfer.refresh_from_db()
    assert transfer.due_date == D(2027, 1, 12)
