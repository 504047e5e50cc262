"""The reviewers' figures: /api/v1/stats/reviews/, /api/v1/stats/cpe/{year}/ and 统计看板 (R-ACL-1, R-DL-2, R-CE-3)."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from accounts.models import Region
from cpe.ledger.selectors import year_status
from cpe.ledger.services import ce_year_close, credit_register
from cpe.models import IntegrityRecord
from kjzx.workdays import working_days_between
from kjzx.workflow import workflow_transition
from records.models import CollectionApplication
from tests.factories import login_staff, make_accountant, make_active_archive, make_collection, make_staff
from workbench.selectors import QUEUE_MODELS

pytestmark = pytest.mark.django_db

REVIEWS = "/api/v1/stats/reviews/"
BEIJING = dt.timezone(dt.timedelta(hours=8))


def cpe_url(year):
    return f"/api/v1/stats/cpe/{year}/"


def person(n: int, address="140502"):
    return make_accountant(address=address, sequence=500 + n, name=f"测试{n}")


def get(api_client, user, url):
    api_client.force_authenticate(user)
    return api_client.get(url)


def rows_by(response, kind="collection"):
    assert response.status_code == 200, response.content
    return {row["region"]: row for row in response.json() if row.get("kind", kind) == kind}


def give(archive, credits, *, kind="professional", form="online", source="c1", year=2026):
    credit_register(archive=archive, year=year, subject_kind=kind, form=form, credits=credits,
                    source_type="course", source_id=source, source_label=f"课程{source}")


def test_county_reviewer_sees_only_their_county(api_client, county_reviewer):
    """R-ACL-1: a county bureau's figures are its county's, one row per kind."""
    make_collection(person(1), "submitted")
    make_collection(person(2, "140521"), "submitted", jurisdiction="140521")
    response = get(api_client, county_reviewer, REVIEWS)
    assert {row["region"] for row in response.json()} == {"140502"}
    assert {row["kind"] for row in response.json()} == set(QUEUE_MODELS)
    assert rows_by(response)["140502"]["open"] == 1


def test_city_reviewer_sees_city_units_and_each_county(api_client, city_reviewer):
    """R-ACL-1: 市直 (140500) plus every county of the city, each with its own count."""
    make_collection(person(1), "submitted")
    make_collection(person(2, "140521"), "submitted", jurisdiction="140521")
    make_collection(person(3, "140521"), "submitted", jurisdiction="140500")
    rows = rows_by(get(api_client, city_reviewer, REVIEWS))
    counties = set(Region.objects.filter(parent="140500").values_list("code", flat=True))
    assert set(rows) == {"140500"} | counties
    assert (rows["140500"]["open"], rows["140502"]["open"], rows["140521"]["open"]) == (1, 1, 1)


def test_province_staff_see_province_units_and_cities_a_city_summing_its_counties(api_client, province_staff):
    """R-ACL-1: 省直 (140000) plus each city; a city's row aggregates its whole subtree."""
    make_collection(person(1), "submitted")
    make_collection(person(2, "140521"), "submitted", jurisdiction="140521")
    make_collection(person(3, "140521"), "submitted", jurisdiction="140500")
    make_collection(person(4, "140105"), "submitted", jurisdiction="140000")
    rows = rows_by(get(api_client, province_staff, REVIEWS))
    cities = set(Region.objects.filter(parent="140000").values_list("code", flat=True))
    assert set(rows) == {"140000"} | cities
    assert rows["140500"]["open"] == 3 and rows["140000"]["open"] == 1 and rows["140100"]["open"] == 0


def test_due_today_and_overdue_are_counted(api_client, county_reviewer):
    """R-DL-2: of the open items, those due today and those past their due date."""
    today = timezone.localdate()
    items = [make_collection(person(n), "submitted") for n in range(3)]
    CollectionApplication.objects.filter(pk=items[0].pk).update(due_date=today)
    CollectionApplication.objects.filter(pk=items[1].pk).update(due_date=today - dt.timedelta(days=3))
    CollectionApplication.objects.filter(pk=items[2].pk).update(due_date=today + dt.timedelta(days=30))
    row = rows_by(get(api_client, county_reviewer, REVIEWS))["140502"]
    assert (row["open"], row["due_today"], row["overdue"]) == (3, 1, 1)


def test_on_time_rate_and_p90_from_decided_items(api_client, county_reviewer):
    """R-DL-1: working days from the last submission to the decision against the kind's 5-day step."""
    reviewers = [make_staff(f"otr{n}", "county_reviewer", "140502") for n in range(2)]
    with time_machine.travel(dt.datetime(2026, 10, 12, 10, tzinfo=BEIJING), tick=False):  # a Monday
        quick = make_collection(person(1), "submitted")
        slow = make_collection(person(2), "submitted")
    with time_machine.travel(dt.datetime(2026, 10, 14, 10, tzinfo=BEIJING), tick=False):  # 2 working days later
        for name, by in (("approve_first", reviewers[0]), ("approve_second", reviewers[1])):
            quick = workflow_transition(quick, name, by=by)
    with time_machine.travel(dt.datetime(2026, 11, 23, 10, tzinfo=BEIJING), tick=False):  # 30 working days later
        for name, by in (("approve_first", reviewers[0]), ("approve_second", reviewers[1])):
            slow = workflow_transition(slow, name, by=by)
        row = rows_by(get(api_client, county_reviewer, REVIEWS))["140502"]
        empty = rows_by(get(api_client, county_reviewer, REVIEWS), "change")["140502"]
    assert row["open"] == 0 and row["on_time_rate"] == 0.5
    assert row["p90_working_days"] == working_days_between(dt.date(2026, 10, 12), dt.date(2026, 11, 23)) == 30
    assert empty["on_time_rate"] is None and empty["p90_working_days"] is None


def test_decisions_older_than_twelve_months_leave_the_rate(api_client, county_reviewer):
    """on-time rate and p90 count the last twelve months, this one included."""
    with time_machine.travel(dt.datetime(2025, 10, 13, 10, tzinfo=BEIJING), tick=False):
        make_collection(person(1), "approved")
    with time_machine.travel(dt.datetime(2026, 9, 21, 10, tzinfo=BEIJING), tick=False):  # window 2025-10 … 2026-09
        assert rows_by(get(api_client, county_reviewer, REVIEWS))["140502"]["on_time_rate"] == 1.0
    with time_machine.travel(dt.datetime(2026, 11, 2, 10, tzinfo=BEIJING), tick=False):  # window 2025-12 … 2026-11
        assert rows_by(get(api_client, county_reviewer, REVIEWS))["140502"]["on_time_rate"] is None


def test_accountant_gets_403_on_both_apis_and_the_pages(api_client, client, accountant):
    """R-ACL-2: the figures are for bureaus only."""
    assert get(api_client, accountant, REVIEWS).status_code == 403
    assert get(api_client, accountant, cpe_url(2026)).status_code == 403
    client.force_login(accountant)
    for url in ("/dashboard/", "/dashboard/reviews.xlsx", "/dashboard/cpe/2026.xlsx"):
        assert client.get(url).status_code == 403


def test_unknown_ce_year_is_404(api_client, county_reviewer):
    """A year without a policy has no figures."""
    assert get(api_client, county_reviewer, cpe_url(2011)).status_code == 404


def test_open_year_figures_match_year_status(api_client, city_reviewer):
    """R-CE-3: completed counts are year_status's, person by person; credits by form summed."""
    archives = [make_active_archive(person(n)) for n in range(3)]
    give(archives[0], 60)
    give(archives[0], 30, kind="general", form="face_to_face", source="c2")
    give(archives[1], 90, kind="general", source="c3")  # enough in total, not enough professional
    other = make_active_archive(person(9, "140521"), jurisdiction="140521")
    give(other, 95, source="c4")
    rows = rows_by(get(api_client, city_reviewer, cpe_url(2026)))
    expected = sum(year_status(a, 2026).completed for a in archives)
    assert expected == 1
    assert rows["140502"]["obliged"] == sum(year_status(a, 2026).obliged for a in archives) == 3
    assert rows["140502"]["completed"] == expected and rows["140502"]["rate"] == round(1 / 3, 4)
    assert rows["140502"]["credits_by_form"] == {"online": "150.0", "face_to_face": "30.0"}
    assert (rows["140521"]["obliged"], rows["140521"]["completed"], rows["140521"]["rate"]) == (1, 1, 1.0)
    assert rows["140500"]["obliged"] == 0 and rows["140500"]["rate"] is None


def test_frozen_year_figures_are_the_integrity_records(api_client, province_staff):
    """R-CE-13: a closed year reads the credit-information file."""
    archives = [make_active_archive(person(n)) for n in range(2)]
    give(archives[0], 60, year=2025)
    give(archives[0], 30, kind="general", source="c2", year=2025)
    give(archives[1], 10, year=2025)
    ce_year_close(year=2025)
    records = IntegrityRecord.objects.filter(year=2025, archive__in=archives)
    row = rows_by(get(api_client, province_staff, cpe_url(2025)))["140500"]
    assert row["obliged"] == records.count() == 2
    assert row["completed"] == records.filter(completed=True).count() == 1
    assert row["credits_by_form"] == {"online": "100.0"}


def test_excel_exports_have_the_api_numbers(api_client, client, city_reviewer):
    """The workbooks open with openpyxl and hold the same figures as the API and the page."""
    make_collection(person(1), "submitted")
    archive = make_active_archive(person(2))
    give(archive, 95)
    login_staff(client, city_reviewer)
    page = client.get("/dashboard/")
    assert page.status_code == 200 and "晋城市城区" in page.text and "信息采集" in page.text
    book = load_workbook(io.BytesIO(client.get("/dashboard/reviews.xlsx").content))
    assert book.sheetnames == ["按属地", "按类别", "本年按月"]
    lines = list(book["按属地"].iter_rows(values_only=True))
    assert lines[0][:2] == ("属地", "待办件数")
    api = rows_by(get(api_client, city_reviewer, REVIEWS))
    assert len(lines) - 1 == len(api)  # every region, zero rows too
    chengqu = next(line for line in lines if line[0] == "晋城市城区")
    assert chengqu[1] == api["140502"]["open"] == 1
    kinds = {line[0]: line for line in book["按类别"].iter_rows(values_only=True)}
    assert kinds["信息采集"][1] == 1
    sheet = load_workbook(io.BytesIO(client.get("/dashboard/cpe/2026.xlsx").content)).worksheets[0]
    line = next(line for line in sheet.iter_rows(values_only=True) if line[0] == "晋城市城区")
    row = rows_by(get(api_client, city_reviewer, cpe_url(2026)))["140502"]
    assert (line[1], line[2], line[3]) == (row["obliged"], row["completed"], row["rate"]) == (1, 1, 1.0)
    assert Decimal(str(line[4])) == Decimal(row["credits_by_form"]["online"]) == 95


def test_dashboard_year_selector_rejects_an_unknown_year(client, county_reviewer):
    """Bad input: a clear Chinese message, never a 500."""
    login_staff(client, county_reviewer)
    page = client.get("/dashboard/?year=abc")
    assert page.status_code == 200 and "没有该年度的继续教育安排" in page.text


def test_figures_take_a_fixed_number_of_queries(api_client, province_staff):
    """Set-based: the same queries for 2 people as for 10."""
    def measure():
        counts = []
        for url in (REVIEWS, cpe_url(2026)):
            api_client.force_authenticate(province_staff)
            with CaptureQueriesContext(connection) as queries:
                assert api_client.get(url).status_code == 200
            counts.append(len(queries))
        return counts

    def add(numbers):
        for n in numbers:
            archive = make_active_archive(person(n, "140521" if n % 2 else "140502"),
                                          jurisdiction="140521" if n % 2 else "140502")
            give(archive, 30 + n)
            make_collection(person(n + 50), "submitted")

    add(range(2))
    measure()  # the persona's region is loaded once, then cached on the user
    small = measure()
    add(range(2, 10))
    assert measure() == small
