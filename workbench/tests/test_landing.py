"""Landing: reviewers and training institutions log in onto their workbench, whose head shows their counts
(待办, 今日到期, 逾期), each count one query whatever the work (R-ACL-1, R-DL-2, R-COL-4)."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Role
from records.models import CollectionApplication
from tests.factories import (
    PASSWORD,
    login_staff,
    make_accountant,
    make_change,
    make_collection,
    make_staff,
    make_transfer,
    totp_now,
)
from workbench.stats import work_counts

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
SATURDAY = dt.datetime(2026, 12, 5, 10, 0, tzinfo=BEIJING)  # the day before: Friday 2026-12-04, a working day
COUNTS = re.compile(r"<strong>(\d+)</strong><span>(待办|今日到期|逾期)</span>")


def person(n, address="140502"):
    return make_accountant(address=address, sequence=800 + n, name=f"落地{n}")


def due(application, day: dt.date):
    type(application).objects.filter(pk=application.pk).update(due_date=day)


def log_in(client, user, next_url=""):
    """The real login: the password, then the second factor's code; returns where it lands."""
    response = client.post(reverse("accounts:login") + (f"?next={next_url}" if next_url else ""),
                           {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302, response.status_code
    if response["Location"] == reverse("accounts:otp_setup"):
        pytest.fail("the persona has no second factor")
    response = client.post(response["Location"], {"code": totp_now(user)})
    assert response.status_code == 302, response.status_code
    return response["Location"]


@pytest.mark.parametrize("role, region", [(Role.COUNTY_REVIEWER, "140502"), (Role.CITY_REVIEWER, "140500"),
                                          (Role.PROVINCE_STAFF, "140000")])
def test_reviewers_land_on_their_workbench_with_the_counts_at_the_top(client, role, region):
    """County, city and provincial staff land on 审核工作台 after the code, counts first (R-DL-2)."""
    reviewer = make_staff(f"landing_{role}", role, region)
    login_staff(client.__class__(), reviewer)  # binds the device the real login asks a code of
    with time_machine.travel(SATURDAY, tick=False):
        items = [make_collection(person(n), "submitted") for n in range(3)]
        due(items[0], dt.date(2026, 12, 5))
        due(items[1], dt.date(2026, 12, 4))  # Friday's: overdue on Saturday, not "today" (R-DL-2)
        landed = log_in(client, reviewer)
        assert landed == reverse("accounts:workbench")
        page = client.get(landed).content.decode()
    assert COUNTS.findall(page) == [("3", "待办"), ("1", "今日到期"), ("1", "逾期")]
    assert page.index("待办") < page.index('class="queue-filters"')  # at the top, before the filters
    assert 'href="/workbench/?overdue=on"' in page


def test_a_next_page_still_wins_and_an_accountant_lands_on_the_personal_centre(client, county_reviewer, accountant):
    login_staff(client.__class__(), county_reviewer)
    assert log_in(client, county_reviewer, next_url=reverse("accounts:dashboard")) == reverse("accounts:dashboard")
    other = client.__class__()
    response = other.post(reverse("accounts:login"), {"username": accountant.username, "password": PASSWORD})
    assert response["Location"] == reverse("accounts:home")


def test_an_institution_lands_on_its_workbench_with_its_own_counts(client):
    """A training institution lands on 培训机构工作台, its counts at the top (R-CE-14)."""
    institution = make_staff("landing_jigou", Role.INSTITUTION, "140502")
    login_staff(client.__class__(), institution)
    landed = log_in(client, institution)
    assert landed == reverse("institution_home")
    page = client.get(landed).content.decode()
    assert COUNTS.findall(page) == [("0", "待办"), ("0", "今日到期"), ("0", "逾期")]


def test_the_counts_are_the_callers_region_and_every_kind(county_reviewer, other_county_reviewer, city_reviewer,
                                                         province_staff):
    """A county sees its own, the city its counties', the province all; changes and transfers count too (R-ACL-1)."""
    with time_machine.travel(SATURDAY, tick=False):
        mine = make_collection(person(1), "submitted")
        due(mine, dt.date(2026, 11, 30))
        make_change(person(2), "submitted")
        transfer = make_transfer(person(3), "submitted")
        due(transfer, dt.date(2026, 12, 5))
        make_collection(person(4, "140521"), "submitted", jurisdiction="140521")  # 沁水县: the same city
        make_collection(person(5, "140105"), "first_reviewed", jurisdiction="140105")  # 太原市小店区
        make_collection(person(6), "returned")  # back with the applicant: nobody's work
        counts = {user.username: dataclasses.astuple(work_counts(user))
                  for user in (county_reviewer, other_county_reviewer, city_reviewer, province_staff)}
    assert counts[county_reviewer.username] == (3, 1, 1)
    assert counts[other_county_reviewer.username] == (1, 0, 0)
    assert counts[city_reviewer.username] == (4, 1, 1)
    assert counts[province_staff.username] == (5, 1, 1)
    assert work_counts(make_accountant(sequence=899)) is None


def test_each_count_is_one_query_whatever_the_work(county_reviewer, province_staff):
    """The region's codes once, then one query per count (a UNION ALL over the kinds), for 1 or 6 items."""
    seen = set()
    work_counts(county_reviewer), work_counts(province_staff)  # the users' regions, loaded once and kept
    for n in range(6):
        make_collection(person(10 + n), "submitted")
        with CaptureQueriesContext(connection) as county:
            found = work_counts(county_reviewer)
        with CaptureQueriesContext(connection) as province:
            work_counts(province_staff)
        assert found.open == n + 1
        seen.add((len(county), len(province)))
        counts = [q["sql"] for q in province.captured_queries if "UNION ALL" in q["sql"]]
        assert len(counts) == 3 and all(sql.count("UNION ALL") == 4 for sql in counts)
        assert not any("accounts_region" in sql for sql in counts)  # no join on the region tree
    assert seen == {(4, 3)}


def test_the_workbench_head_has_the_counts_and_the_open_state_is_the_queues(client, county_reviewer):
    """What the head counts is exactly what the queue lists (open states only), R-COL-4."""
    for n, state in enumerate(("submitted", "first_reviewed", "returned", "approved")):
        make_collection(person(20 + n), state)
    login_staff(client, county_reviewer)
    page = client.get(reverse("accounts:workbench")).content.decode()
    waiting = CollectionApplication.objects.filter(CollectionApplication.review_q()).count()
    assert waiting == 2 and COUNTS.findall(page)[0] == ("2", "待办")
