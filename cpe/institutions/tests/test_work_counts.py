"""A training institution's own pending work at the top of its workbench: 待办, 今日到期, 逾期 (R-CE-9, R-CE-14)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpe.institutions import services
from cpe.institutions.selectors import institution_work_counts
from cpe.models import AnnualReport, AttendanceList, ReportKind, TrainingInstitution, TrainingPlan
from kjzx.workflow import workflow_transition
from tests.factories import login_staff, valid_credit_code

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
COUNTS = re.compile(r"<strong>(\d+)</strong><span>(待办|今日到期|逾期)</span>")


def on(year, month, day):
    return time_machine.travel(dt.datetime(year, month, day, 10, 0, tzinfo=BEIJING), tick=False)


def institution(owner, *, kind="face_to_face", name="城区面授中心", first17="52140502MJ0A1B2C3", filed=True):
    return TrainingInstitution.objects.create(name=name, credit_code=valid_credit_code(first17), kind=kind,
                                              region_id="140502", filed=filed, owner=owner, address="城区",
                                              contact="0356-1")


def training(inst, title, starts_on, ends_on):
    return TrainingPlan.objects.create(institution=inst, year_id=starts_on.year, title=title, starts_on=starts_on,
                                       ends_on=ends_on, hours_per_day=Decimal(6), subject_kind="professional",
                                       venue="城区", capacity=30, filed_by=inst.owner)


def attendance(plan, status):
    return AttendanceList.objects.create(training=plan, file="lists/x.xlsx", file_name="x.xlsx", sha256="0" * 64,
                                         status=status, uploaded_by=plan.institution.owner)


def returned_filing(owner, reviewer, name="晋城财会学校", first17="52140502MJ0K7H3L2"):
    filing = services.filing_apply(user=owner, data={"name": name, "credit_code": valid_credit_code(first17),
                                                     "kind": "face_to_face", "address": "城区泽州路8号",
                                                     "contact": "王老师 0356-1234567"})
    return workflow_transition(filing, "return", by=reviewer, reason="缺少办学许可证")


def texts(counts) -> list[str]:
    return [item.text for item in counts.items]


def test_what_an_institution_owes_is_counted_and_nobody_elses(institution_user, other_institution_user,
                                                              county_reviewer):
    """A returned filing, a missing plan and last year's report (both late), trainings ended without a list
    (none sent, or only a failed one) count; a list checked or registered, a training not yet over, or another
    institution's work do not (R-CE-9, R-CE-14)."""
    with on(2025, 6, 1):
        online = institution(institution_user, kind="online", name="晋城网络学院", first17="52140502MJ0A1B2C5")
        face = institution(institution_user)
    with on(2026, 2, 10):
        returned_filing(institution_user, county_reviewer)
        returned_filing(other_institution_user, county_reviewer, name="别家学校", first17="52140502MJ0K7H3L3")
        nothing_sent = training(face, "一月班", dt.date(2026, 1, 12), dt.date(2026, 1, 13))
        attendance(training(face, "二月班", dt.date(2026, 2, 2), dt.date(2026, 2, 3)), AttendanceList.Status.FAILED)
        attendance(training(face, "已报送", dt.date(2026, 2, 4), dt.date(2026, 2, 5)), AttendanceList.Status.CHECKED)
        attendance(training(face, "已登记", dt.date(2026, 2, 4), dt.date(2026, 2, 5)),
                   AttendanceList.Status.REGISTERED)
        training(face, "三月班", dt.date(2026, 3, 2), dt.date(2026, 3, 3))
        found = institution_work_counts(institution_user)
        assert (found.open, found.due_today, found.overdue) == (5, 0, 2)
        assert texts(found) == [
            "晋城财会学校：备案申请已退回，请修改后重新提交",
            "晋城网络学院：2026年度培训方案未报送（应于1月31日前报送）",
            "晋城网络学院：2025年度继续教育整体情况未报送",
            "城区面授中心：面授培训“一月班”已结束，取得学分人员名单尚未报送",
            "城区面授中心：面授培训“二月班”已结束，取得学分人员名单尚未报送",
        ]
        AnnualReport.objects.create(institution=online, year_id=2026, kind=ReportKind.ANNUAL_PLAN, content="方案",
                                    submitted_by=institution_user)
        attendance(nothing_sent, AttendanceList.Status.CHECKING)
        assert (institution_work_counts(institution_user).open, institution_work_counts(institution_user).overdue) \
            == (3, 1)
        assert institution_work_counts(other_institution_user).open == 1
    assert institution_work_counts(county_reviewer) is None


def test_the_plan_is_due_on_31_january_and_late_only_for_an_institution_that_existed_then(institution_user):
    """R-CE-14: the year's plan by the end of January: due today on the 31st, overdue after it; an institution
    filed later owes it without being late."""
    with on(2026, 1, 5):
        institution(institution_user, kind="online", name="早网校", first17="52140502MJ0A1B2C5")
    with on(2026, 1, 31):
        found = institution_work_counts(institution_user)
        assert (found.open, found.due_today, found.overdue) == (1, 1, 0)
    with on(2026, 3, 1):
        institution(institution_user, kind="both", name="晚网校", first17="52140502MJ0A1B2C6")
        found = institution_work_counts(institution_user)
        assert (found.open, found.due_today, found.overdue) == (2, 0, 1)
        assert [item.overdue for item in found.items] == [True, False]


def test_the_years_report_is_due_on_its_last_day(institution_user):
    with on(2025, 12, 1):
        online = institution(institution_user, kind="online", name="晋城网络学院", first17="52140502MJ0A1B2C5")
        AnnualReport.objects.create(institution=online, year_id=2025, kind=ReportKind.ANNUAL_PLAN, content="方案",
                                    submitted_by=institution_user)
    with on(2025, 12, 31):
        found = institution_work_counts(institution_user)
        assert (found.open, found.due_today, found.overdue) == (1, 1, 0)
        assert texts(found) == ["晋城网络学院：2025年度继续教育整体情况未报送"]
    with on(2026, 1, 2):  # the new year: last year's report late, this year's plan not yet
        found = institution_work_counts(institution_user)
        assert (found.open, found.due_today, found.overdue) == (2, 0, 1)


def test_the_counts_take_three_queries_whatever_they_hold(institution_user, county_reviewer):
    with on(2026, 2, 10):
        face = institution(institution_user)
        sizes = set()
        for n in range(4):
            training(face, f"第{n}期", dt.date(2026, 1, 5 + n), dt.date(2026, 1, 5 + n))
            institution(institution_user, kind="online", name=f"网校{n}", first17=f"52140502MJ0A1B3C{n}")
            with CaptureQueriesContext(connection) as queries:
                found = institution_work_counts(institution_user)
            assert found.open == 2 * (n + 1)
            sizes.add(len(queries))
    assert sizes == {3}


def test_the_institution_workbench_shows_the_counts_and_what_they_are(client, institution_user, county_reviewer):
    with on(2025, 6, 1):
        institution(institution_user, kind="online", name="晋城网络学院", first17="52140502MJ0A1B2C5")
    with on(2026, 2, 10):
        returned_filing(institution_user, county_reviewer)
        login_staff(client, institution_user)
        page = client.get(reverse("institution_home")).content.decode()
    assert COUNTS.findall(page) == [("3", "待办"), ("0", "今日到期"), ("2", "逾期")]
    assert "晋城财会学校：备案申请已退回，请修改后重新提交" in page
    assert page.count('<span class="badge">逾期</span>') == 2
