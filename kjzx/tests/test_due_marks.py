"""The review queue's marks at fixed dates (R-DL-1, R-DL-2).

Seen on Saturday 2026-12-05: an item due Friday 12-04 read "今日到期". Overdue means the due date has passed,
whatever kind of day today is; "今日到期" only on the due date itself; working days left are counted across
weekends, holidays and 调休 working days; a step due within two working days carries an amber mark, in words
(即将到期) as well as colour. The 2026 arrangement (chinese-calendar): 国庆 Oct 1–7 off, Sunday Sep 20 and
Saturday Oct 10 worked.
"""

from __future__ import annotations

import datetime as dt
import re
from itertools import count

import pytest
import time_machine

from kjzx.workflow import DUE_LATER, DUE_OVERDUE, DUE_SOON, DUE_TODAY, annotate_days_left
from kjzx.workflow_views import workflow_rows
from records.models import CollectionApplication
from tests.factories import login_staff, make_accountant, make_collection

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
D = dt.date
_sequence = count(951, 2)


def at(day: dt.date, hour: int = 10):
    return time_machine.travel(dt.datetime(day.year, day.month, day.day, hour, tzinfo=BEIJING), tick=False)


def due_on(*dues: dt.date) -> list[CollectionApplication]:
    """Open collections due on these days (the step's start is irrelevant to how a due date is shown)."""
    found = []
    for due in dues:
        collection = make_collection(make_accountant(sequence=next(_sequence), name=f"申请人{due:%m%d}"))
        CollectionApplication.objects.filter(pk=collection.pk).update(due_date=due)
        collection.refresh_from_db()
        found.append(collection)
    return found


def marks(objects, today: dt.date) -> list[tuple[str, int | None, str]]:
    rows = workflow_rows(annotate_days_left(objects, today))
    return [(row.due_state, row.days_left, row.days_left_text) for row in rows]


def queue_cells(client, reviewer) -> dict[str, tuple[str, str]]:
    """Application number → (row class, the 剩余工作日 cell's text) as the queue page shows them."""
    login_staff(client, reviewer)
    html = client.get("/workbench/").content.decode()
    cells = {}
    for row in re.findall(r'<tr class="([^"]*)">(.*?)</tr>', html, re.S):
        number = re.search(r">([A-Z]{2}\d{4}-\d{6})<", row[1])
        left = re.search(r'data-label="剩余工作日"[^>]*>(.*?)</td>', row[1], re.S)
        if number and left:
            cells[number.group(1)] = (row[0].strip(), re.sub(r"<[^>]+>", "", left.group(1)).strip())
    return cells


def test_saturday_after_a_friday_due_date_is_overdue_not_due_today(client, county_reviewer):
    """Saturday 2026-12-05: due Friday 12-04 is overdue (已逾期, red); due Monday is 1 working day away and
    Tuesday 2 (amber, 即将到期); Wednesday 3 (no mark). The page says so in words (R-DL-2)."""
    with at(D(2026, 11, 27)):  # submitted Friday 11-27: 5 working days (R-COL-5) end Friday 12-04
        friday = make_collection(make_accountant(sequence=next(_sequence), name="周五到期"))
    assert friday.due_date == D(2026, 12, 4)
    monday, tuesday, wednesday = due_on(D(2026, 12, 7), D(2026, 12, 8), D(2026, 12, 9))
    saturday = D(2026, 12, 5)
    assert marks([friday, monday, tuesday, wednesday], saturday) == [
        (DUE_OVERDUE, 0, "已逾期"), (DUE_SOON, 1, "1（即将到期）"), (DUE_SOON, 2, "2（即将到期）"), (DUE_LATER, 3, "3")]
    with at(saturday):
        cells = queue_cells(client, county_reviewer)
        assert friday.overdue
    assert cells[friday.number] == ("is-overdue", "已逾期")
    assert cells[monday.number] == ("is-due-soon", "1（即将到期）")
    assert cells[wednesday.number] == ("", "3")
    assert "今日到期" not in "".join(text for _, text in cells.values())
    with at(D(2026, 12, 5)):
        login_staff(client, county_reviewer)
        overdue_only = client.get("/workbench/", {"overdue": "on"}).content.decode()
    assert friday.number in overdue_only and monday.number not in overdue_only


def test_sunday_and_the_monday_after(client, county_reviewer):
    """Sunday 12-06 reads like Saturday; on Monday the Friday item is 1 working day overdue and Monday's is
    "今日到期" (R-DL-2)."""
    friday, monday, tuesday = due_on(D(2026, 12, 4), D(2026, 12, 7), D(2026, 12, 8))
    assert marks([friday, monday, tuesday], D(2026, 12, 6)) == [
        (DUE_OVERDUE, 0, "已逾期"), (DUE_SOON, 1, "1（即将到期）"), (DUE_SOON, 2, "2（即将到期）")]
    assert marks([friday, monday, tuesday], D(2026, 12, 7)) == [
        (DUE_OVERDUE, -1, "逾期1个工作日"), (DUE_TODAY, 0, "今日到期"), (DUE_SOON, 1, "1（即将到期）")]
    with at(D(2026, 12, 7)):
        cells = queue_cells(client, county_reviewer)
    assert cells[monday.number] == ("is-due-today", "今日到期")
    assert cells[friday.number] == ("is-overdue", "逾期1个工作日")


def test_a_holiday_counts_no_working_days(client, county_reviewer):
    """On 国庆 (Thursday 2026-10-01): due 09-30 is overdue though no working day has passed; due Friday 10-09 is
    only 2 working days away (Oct 8 and 9) — amber, though 8 calendar days off; due Monday 10-12 is 4 (Oct 8, 9,
    the worked Saturday 10-10, and 12) (R-DL-1, R-DL-2)."""
    before, after_holiday, later = due_on(D(2026, 9, 30), D(2026, 10, 9), D(2026, 10, 12))
    assert marks([before, after_holiday, later], D(2026, 10, 1)) == [
        (DUE_OVERDUE, 0, "已逾期"), (DUE_SOON, 2, "2（即将到期）"), (DUE_LATER, 4, "4")]
    with at(D(2026, 10, 1)):
        cells = queue_cells(client, county_reviewer)
    assert cells[after_holiday.number] == ("is-due-soon", "2（即将到期）")


def test_a_working_sunday_is_a_working_day(client, county_reviewer):
    """调休 Sunday 2026-09-20 is worked: an item due that day is "今日到期"; one due Friday 09-18 is 1 working
    day overdue; one due Tuesday 09-22 is 2 working days away (R-DL-1, R-DL-2)."""
    friday, sunday, tuesday = due_on(D(2026, 9, 18), D(2026, 9, 20), D(2026, 9, 22))
    assert marks([friday, sunday, tuesday], D(2026, 9, 20)) == [
        (DUE_OVERDUE, -1, "逾期1个工作日"), (DUE_TODAY, 0, "今日到期"), (DUE_SOON, 2, "2（即将到期）")]
    with at(D(2026, 9, 20)):
        cells = queue_cells(client, county_reviewer)
    assert cells[sunday.number] == ("is-due-today", "今日到期")


def test_the_application_page_shows_the_same_mark(client, county_reviewer):
    """The reviewer's page of one application says what its queue row says (R-DL-2)."""
    from django.urls import reverse

    (friday,) = due_on(D(2026, 12, 4))
    with at(D(2026, 12, 5)):
        login_staff(client, county_reviewer)
        page = client.get(reverse("workbench_collection", args=[friday.pk])).content.decode()
    assert 'class="days-left is-overdue"' in page and "已逾期" in page and "今日到期" not in page
