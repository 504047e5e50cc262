"""统计看板: drill-down, jurisdiction, the page's charts and tables, the landing counts, and the
demo province's figures against a hand count for each scope (R-ACL-1, R-DL-1, R-DL-2, R-CE-1, R-CE-3)."""

from __future__ import annotations

import json
import math
import re
from collections import Counter, defaultdict
from decimal import Decimal

import pytest
from django.utils import timezone

from accounts.models import Region, User
from cpe.ledger.selectors import year_status
from cpe.models import CEYear, CreditEntry
from kjzx.workdays import working_days_between
from records.models import Archive
from tests.factories import login_staff, make_accountant, make_active_archive, make_collection
from workbench.selectors import QUEUE_MODELS
from workbench.stats import allowed_working_days, review_figures, work_counts
from workbench.tallies import NOT_DECISIONS

pytestmark = pytest.mark.django_db


def person(n, address="140502"):
    return make_accountant(address=address, sequence=700 + n, name=f"看板{n}")


def page(client, user, url="/dashboard/"):
    login_staff(client, user)
    return client.get(url)


def chart_data(response) -> dict:
    found = re.search(r'<script id="dashboard-data" type="application/json">(.*?)</script>', response.text, re.S)
    return json.loads(found.group(1))


def test_province_rows_are_labelled_by_what_they_add_up(client, province_staff):
    """省直 for the province's own units, "晋城市（含所辖县区）" for a city's whole subtree."""
    make_collection(person(1), "submitted")
    response = page(client, province_staff)
    assert response.status_code == 200
    assert "省直" in response.text and "晋城市（含所辖县区）" in response.text
    assert "晋城市市直" not in response.text  # that is only the city's own units
    assert 'href="/dashboard/?region=140500' in response.text


def test_drill_down_province_to_city_to_county_to_the_queue(client, province_staff):
    """one click each: province → city → county → the queue of that county and kind."""
    make_collection(person(1), "submitted")
    city = page(client, province_staff, "/dashboard/?region=140500")
    assert city.status_code == 200 and "晋城市市直" in city.text and 'href="/dashboard/?region=140502' in city.text
    county = client.get("/dashboard/?region=140502")
    assert county.status_code == 200
    link = re.search(r'href="(/workbench/\?region=140502&amp;kind=collection)"', county.text)
    assert link, county.text
    queue = client.get(link.group(1).replace("&amp;", "&"))
    assert queue.status_code == 200 and "看板1" in queue.text


def test_a_county_reviewer_sees_nothing_outside_the_county(client, api_client, county_reviewer):
    """R-ACL-1: another county asked for by code is a 404 on the page, both APIs and both exports."""
    make_collection(person(1, "140521"), "submitted", jurisdiction="140521")
    for url in ("/dashboard/?region=140521", "/dashboard/?region=140500", "/dashboard/reviews.xlsx?region=140521",
                "/dashboard/cpe/2026.xlsx?region=140521"):
        assert page(client, county_reviewer, url).status_code == 404, url
    api_client.force_authenticate(county_reviewer)
    for url in ("/api/v1/stats/reviews/?region=140521", "/api/v1/stats/cpe/2026/?region=140000"):
        assert api_client.get(url).status_code == 404, url
    own = page(client, county_reviewer)
    assert own.status_code == 200 and "沁水" not in own.text and "140521" not in own.text
    assert {row["region"] for row in api_client.get("/api/v1/stats/reviews/").json()} == {"140502"}


@pytest.mark.usefixtures("in_ce_calendar")  # the year picked by default is 2026
def test_zero_rows_collapse_behind_show_all_and_the_charts_have_their_data(client, province_staff):
    """regions with nothing are hidden until "显示全部"; the charts read the page's own JSON."""
    make_collection(person(1), "submitted")
    response = page(client, province_staff)
    assert "显示全部（另有11个属地暂无数据）" in response.text
    assert response.text.count('class="is-zero"') >= 11
    data = chart_data(response)
    jincheng = next(row for row in data["regions"] if row["label"].startswith("晋城市"))
    assert jincheng["open"] == 1 and jincheng["url"] == "/dashboard/?region=140500&year=2026"
    assert data["map"] and {row["name"] for row in data["map"]} >= {"太原市", "晋城市"}
    scripts = re.findall(r'<script src="([^"]+)"', response.text)
    assert scripts == ["/static/vendor/echarts/echarts.min.js", "/static/vendor/echarts/shanxi.js",
                       "/static/js/dashboard.js"]
    assert "<script>" not in response.text  # no inline script (CSP)


def test_the_staff_landing_page_shows_the_workbench_counts(client, county_reviewer):
    """staff land on their workbench with 待办, 今日到期, 逾期 at the top."""
    today = timezone.localdate()
    items = [make_collection(person(n), "submitted") for n in range(3)]
    type(items[0]).objects.filter(pk=items[0].pk).update(due_date=today)
    type(items[1]).objects.filter(pk=items[1].pk).update(due_date=today.replace(year=today.year - 1))
    response = page(client, county_reviewer, "/me/")
    numbers = re.findall(r"<strong>(\d+)</strong><span>(待办|今日到期|逾期)</span>", response.text)
    assert numbers == [("3", "待办"), ("1", "今日到期"), ("1", "逾期")]


def test_a_year_without_credits_and_a_frozen_year_show(client, city_reviewer):
    """R-CE-13: a frozen year says it reads the credit-information file; the page answers for every year."""
    make_active_archive(person(1))
    from cpe.ledger.services import ce_year_close

    ce_year_close(year=2024)
    response = page(client, city_reviewer, "/dashboard/?year=2024")
    assert response.status_code == 200 and "数据取自会计人员信用信息档案" in response.text


# --- the demo province against a hand count ------------------------------------------------------

def _row_of(scope: Region, regions: dict[str, Region]):
    """jurisdiction code → the code of the dashboard row it falls in (independent of the stats code)."""
    def row(code):
        if code is None:
            return None
        path = regions[code].path
        if not path.startswith(scope.path):
            return None
        rest = path[len(scope.path):]
        return rest[:6] if rest else scope.pk
    return row


def hand_review(scope: Region, today) -> dict[str, dict]:
    regions = {r.pk: r for r in Region.objects.all()}
    row_of = _row_of(scope, regions)
    allowed = allowed_working_days()
    first = (today.year * 12 + today.month - 12)
    since = (first // 12, first % 12 + 1)
    counts: dict[str, dict] = defaultdict(lambda: {"open": 0, "due_today": 0, "overdue": 0, "days": []})
    for kind, model in QUEUE_MODELS.items():
        waiting = set(model.objects.filter(model.review_q()).values_list("pk", flat=True))
        for obj in model.objects.all():
            row = row_of(obj.jurisdiction_id)
            if row is None:
                continue
            key = f"{row}/{kind}"
            if obj.pk in waiting:
                counts[key]["open"] += 1
                counts[key]["due_today"] += obj.due_date == today
                counts[key]["overdue"] += bool(obj.due_date and obj.due_date < today)
            if obj.decided_at and obj.submitted_at and obj.status not in NOT_DECISIONS:
                decided = timezone.localdate(obj.decided_at)
                if (decided.year, decided.month) >= since:
                    days = working_days_between(timezone.localdate(obj.submitted_at), decided)
                    counts[key]["days"].append((days, days <= allowed[kind]))
    result = {}
    for key, found in counts.items():
        days = sorted(d for d, _ok in found["days"])
        result[key] = {"open": found["open"], "due_today": found["due_today"], "overdue": found["overdue"],
                       "on_time_rate": round(sum(ok for _d, ok in found["days"]) / len(days), 4) if days else None,
                       "p90_working_days": days[math.ceil(0.9 * len(days)) - 1] if days else None}
    return result


def hand_cpe(scope: Region, policy: CEYear) -> dict[str, dict]:
    regions = {r.pk: r for r in Region.objects.all()}
    row_of = _row_of(scope, regions)
    result: dict[str, dict] = defaultdict(lambda: {"obliged": 0, "completed": 0, "credits_by_form": Counter()})
    for archive in Archive.objects.prefetch_related("qualifications"):
        row = row_of(archive.jurisdiction_id)
        if row is None:
            continue
        status = year_status(archive, policy)
        result[row]["obliged"] += status.obliged
        result[row]["completed"] += status.obliged and status.completed
    for archive_id, form, credits in CreditEntry.objects.filter(year=policy).values_list("archive_id", "form",
                                                                                          "credits"):
        row = row_of(Archive.objects.get(pk=archive_id).jurisdiction_id)
        if row is not None:
            result[row]["credits_by_form"][form] += credits
    return result


@pytest.mark.parametrize("username", ["chengqu1", "jincheng", "sheng"])
def test_the_demo_province_matches_a_hand_count(demo, api_client, username):
    """for a county, a city and the province, every API figure equals a count made here,
    object by object, with the one rules (review_q, working days, year_status) and no summary table."""
    user = User.objects.get(username=username)
    scope = user.region
    today = timezone.localdate()
    api_client.force_authenticate(user)
    expected = hand_review(scope, today)
    rows = api_client.get("/api/v1/stats/reviews/").json()
    assert rows, username
    for row in rows:
        hand = expected.get(f"{row['region']}/{row['kind']}",
                            {"open": 0, "due_today": 0, "overdue": 0, "on_time_rate": None, "p90_working_days": None})
        assert {k: row[k] for k in hand} == hand, (row["region"], row["kind"])
    assert sum(row["open"] for row in rows) > 0 and any(row["on_time_rate"] is not None for row in rows)
    for policy in CEYear.objects.filter(year__in=(today.year, today.year - 1)):
        hand = hand_cpe(scope, policy)
        for row in api_client.get(f"/api/v1/stats/cpe/{policy.year}/").json():
            found = hand[row["region"]]
            assert (row["obliged"], row["completed"]) == (found["obliged"], found["completed"]), (policy, row)
            assert {form: Decimal(v) for form, v in row["credits_by_form"].items()} == {
                form: v for form, v in found["credits_by_form"].items() if v}, (policy, row)
    figures = review_figures(user)
    assert figures.total.open == sum(row["open"] for row in rows)
    counts = work_counts(user)  # the workbench's head (landing): the same hand count, summed over the scope
    assert (counts.open, counts.due_today, counts.overdue) == tuple(
        sum(found[name] for found in expected.values()) for name in ("open", "due_today", "overdue"))
