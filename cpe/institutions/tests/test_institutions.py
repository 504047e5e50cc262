"""Training institutions: filing, teacher pool, plans, reports, the bureau's overview, evaluation (R-CE-9, 14)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from cpe.institutions import selectors, services
from cpe.learning import selectors as learning_selectors
from cpe.ledger.policy import credit_standard_save
from cpe.models import (
    AnnualReport,
    Course,
    CreditStandard,
    Evaluation,
    InstitutionFiling,
    ReportKind,
    Teacher,
    TrainingInstitution,
    TrainingPlan,
)
from kjzx.api import DomainError
from kjzx.models import AuditEvent
from tests.factories import login_staff, valid_credit_code

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))


def on(year, month, day):
    return time_machine.travel(dt.datetime(year, month, day, 10, 0, tzinfo=BEIJING), tick=False)


def filing_data(name="晋城市财会培训学校", first17="52140502MJ0K7H3L2", kind="face_to_face"):
    return {"name": name, "credit_code": valid_credit_code(first17), "kind": kind,
            "address": "晋城市城区泽州路8号", "contact": "王老师 0356-1234567"}


def make_filed(owner, *, kind="face_to_face", name="城区会计培训中心", first17="52140502MJ0A1B2C3", region="140502",
               filed=True) -> TrainingInstitution:
    return TrainingInstitution.objects.create(name=name, credit_code=valid_credit_code(first17), kind=kind,
                                              region_id=region, filed=filed, owner=owner, address="城区",
                                              contact="0356-1")


def logged_in(client, user):
    login_staff(client, user)
    return client


def training_post(institution, teacher, **changes):
    data = {"institution": institution.pk, "title": "新收入准则面授班", "starts_on": "2026-04-10",
            "ends_on": "2026-04-11", "hours_per_day": "8", "subject_kind": "professional", "venue": "城区会议中心",
            "teachers": [teacher.pk], "capacity": "60"}
    data.update(changes)
    return data


# --- the filing journey (R-CE-14) ----------------------------------------------------------------

def test_filing_journey_return_resubmit_approve_then_listed_and_revoke_hides_it_and_its_courses(
        client, institution_user, county_reviewer):
    """R-CE-14: 申请备案 → 退回（原因）→ 重新提交 → 准予备案 → 公布; 撤销备案 → 不再公布，课程退出目录."""
    applicant = logged_in(client, institution_user)
    response = applicant.post(reverse("institution_filing"), filing_data())
    assert response.status_code == 302
    institution = TrainingInstitution.objects.get(owner=institution_user)
    filing = InstitutionFiling.objects.get(institution=institution)
    assert (institution.filed, institution.region_id, filing.status, filing.jurisdiction_id) == (
        False, "140502", "submitted", "140502")
    assert filing.due_date is not None

    reviewer = logged_in(type(client)(), county_reviewer)
    page = reviewer.get(reverse("workbench_filing", args=[filing.pk]))
    assert page.status_code == 200 and "晋城市财会培训学校" in page.content.decode()
    assert {"准予备案", "退回"} <= set(a.label for a in page.context["actions"])
    no_reason = reviewer.post(reverse("workbench_filing_transition", args=[filing.pk, "return"]), {"reason": ""})
    assert no_reason.status_code == 400 and "请填写原因" in no_reason.content.decode()
    reviewer.post(reverse("workbench_filing_transition", args=[filing.pk, "return"]), {"reason": "地址与执照不一致"})
    filing.refresh_from_db()
    assert filing.status == "returned" and filing.reason == "地址与执照不一致"
    assert "地址与执照不一致" in applicant.get(reverse("institution_home")).content.decode()

    again = filing_data()
    again["address"] = "晋城市城区泽州路18号"
    response = applicant.post(reverse("institution_filing"), {**again, "institution": institution.pk})
    assert response.status_code == 302
    filing.refresh_from_db()
    institution.refresh_from_db()
    assert filing.status == "submitted" and institution.address == "晋城市城区泽州路18号"
    assert InstitutionFiling.objects.count() == 1

    reviewer.post(reverse("workbench_filing_transition", args=[filing.pk, "approve"]))
    filing.refresh_from_db()
    institution.refresh_from_db()
    assert filing.status == "filed" and institution.filed
    assert AuditEvent.objects.filter(event_type="institution.filed", target_id=str(institution.pk)).exists()
    assert "晋城市财会培训学校" in client_anonymous_list()

    course = Course.objects.create(institution=institution, title="面授配套网络课", subject_kind="professional",
                                   credits=Decimal(6), hours=Decimal(2), year_id=2026, published=True)
    assert course in learning_selectors.offered_courses()
    reviewer.post(reverse("workbench_filing_transition", args=[filing.pk, "revoke"]), {"reason": "年度评价不合格"})
    filing.refresh_from_db()
    institution.refresh_from_db()
    assert filing.status == "revoked" and not institution.filed
    assert "晋城市财会培训学校" not in client_anonymous_list()
    assert course not in learning_selectors.offered_courses()
    assert AuditEvent.objects.filter(event_type="institution.unfiled", reason="年度评价不合格").exists()


def client_anonymous_list(query=""):
    from django.test import Client

    response = Client().get(reverse("public_institutions"), {"q": query} if query else {})
    assert response.status_code == 200
    return response.content.decode()


def test_bad_credit_code_is_refused_with_a_message_and_nothing_written(client, institution_user):
    """R-CE-14: the credit code is checked (GB 32100); nothing half-written."""
    data = filing_data()
    data["credit_code"] = "52140502MJ0K7H3L2X"
    response = logged_in(client, institution_user).post(reverse("institution_filing"), data)
    assert response.status_code == 400 and "校验位" in response.content.decode()
    assert not TrainingInstitution.objects.exists() and not InstitutionFiling.objects.exists()


def test_another_countys_reviewer_gets_404_on_the_filing_and_its_transitions(
        client, institution_user, other_county_reviewer):
    """R-ACL-1: a filing outside the reviewer's region does not exist for them."""
    filing = services.filing_apply(user=institution_user, data=filing_data())
    outsider = logged_in(client, other_county_reviewer)
    assert outsider.get(reverse("workbench_filing", args=[filing.pk])).status_code == 404
    assert outsider.post(reverse("workbench_filing_transition", args=[filing.pk, "approve"])).status_code == 404
    filing.refresh_from_db()
    assert filing.status == "submitted" and not filing.institution.filed


def test_another_institution_account_cannot_see_or_edit_my_institution(
        client, institution_user, other_institution_user):
    """R-ACL-1: my institution, its teachers and its filing are 404 for another institution account."""
    mine = make_filed(institution_user)
    teacher = services.teacher_save(user=institution_user, institution=mine,
                               data={"name": "赵老师", "title": "高级会计师", "field": "税法"})
    other = logged_in(client, other_institution_user)
    assert other.get(reverse("institution_teachers"), {"institution": mine.pk}).status_code == 404
    assert other.get(reverse("institution_teacher_edit", args=[teacher.pk])).status_code == 404
    assert other.post(reverse("institution_teacher_edit", args=[teacher.pk]),
                      {"name": "改名", "title": "x", "field": "y"}).status_code == 404
    assert other.post(reverse("institution_teacher_delete", args=[teacher.pk])).status_code == 404
    assert other.post(reverse("institution_filing"), {**filing_data(), "institution": mine.pk}).status_code == 404
    assert other.get(reverse("institution_training_new"), {"institution": mine.pk}).status_code == 404
    assert "城区会计培训中心" not in other.get(reverse("institution_home")).content.decode()
    teacher.refresh_from_db()
    assert teacher.name == "赵老师"


def test_reviewers_and_accountants_cannot_open_institution_pages(client, county_reviewer, accountant):
    """R-ACL: the institution pages are the institution role's only."""
    assert logged_in(client, county_reviewer).get(reverse("institution_home")).status_code == 403
    assert logged_in(client, accountant).get(reverse("workbench_institutions")).status_code == 403


# --- teacher pool ----------------------------------------------------------------------------------

def test_teacher_pool_add_edit_delete_and_cv_limit(client, institution_user):
    """R-CE-14: the institution keeps its teacher pool (师资库); a CV is at most 2000 characters."""
    mine = make_filed(institution_user)
    page = logged_in(client, institution_user)
    url = reverse("institution_teachers")
    assert page.post(url, {"institution": mine.pk, "name": "钱老师", "title": "教授", "field": "管理会计",
                           "cv": "长" * 2001}).status_code == 400
    assert page.post(url, {"institution": mine.pk, "name": "钱老师", "title": "教授", "field": "管理会计",
                           "cv": "从事管理会计教学二十年"}).status_code == 302
    teacher = Teacher.objects.get(institution=mine)
    page.post(reverse("institution_teacher_edit", args=[teacher.pk]),
              {"name": "钱老师", "title": "教授", "field": "管理会计与内部控制", "cv": ""})
    teacher.refresh_from_db()
    assert teacher.field == "管理会计与内部控制"
    assert "钱老师" in page.get(url, {"institution": mine.pk}).content.decode()
    page.post(reverse("institution_teacher_delete", args=[teacher.pk]))
    assert not Teacher.objects.filter(pk=teacher.pk).exists()
    assert AuditEvent.objects.filter(event_type="institution.teacher_deleted").exists()


# --- plans and reports (R-CE-9, R-CE-14) -----------------------------------------------------------

def test_an_unfiled_institution_cannot_file_a_training_plan(client, institution_user):
    """R-CE-9, R-CE-14: only a filed institution trains; a clear refusal, nothing written."""
    mine = make_filed(institution_user, filed=False)
    teacher = Teacher.objects.create(institution=mine, name="孙老师", title="讲师", field="会计")
    with on(2026, 3, 1):
        response = logged_in(client, institution_user).post(reverse("institution_training_new"),
                                                            training_post(mine, teacher))
    assert response.status_code == 400 and "尚未备案" in response.content.decode()
    assert not TrainingPlan.objects.exists()


def test_more_than_ten_hours_a_day_and_past_dates_are_refused(client, institution_user):
    """R-CE-9: at most 10 学时 a day (the seeded standard); a plan comes before the training, never for one past."""
    mine = make_filed(institution_user)
    teacher = Teacher.objects.create(institution=mine, name="孙老师", title="讲师", field="会计")
    page = logged_in(client, institution_user)
    with on(2026, 3, 1):
        too_long = page.post(reverse("institution_training_new"), training_post(mine, teacher, hours_per_day="10.5"))
        past = page.post(reverse("institution_training_new"), training_post(mine, teacher, starts_on="2026-02-27",
                                                                            ends_on="2026-02-28"))
        ok = page.post(reverse("institution_training_new"), training_post(mine, teacher, hours_per_day="10"))
    assert too_long.status_code == 400 and "不能超过10学时" in too_long.content.decode()
    assert past.status_code == 400 and "开始日期已过" in past.content.decode()
    assert ok.status_code == 302
    plan = TrainingPlan.objects.get()
    assert plan.hours_per_day == 10 and not plan.filed_late and list(plan.teachers.all()) == [teacher]


def test_raising_the_daily_cap_of_the_standard_lets_a_plan_of_12_hours_a_day_be_filed(
        client, institution_user, province_staff):
    """Policy numbers from data, R-CE-9: the daily cap is the face-to-face CreditStandard's in force
    for the plan's year; the province raises it to 36 credits (12 学时) a day and a 12-学时 plan is filed."""
    mine = make_filed(institution_user)
    teacher = Teacher.objects.create(institution=mine, name="孙老师", title="讲师", field="会计")
    page = logged_in(client, institution_user)
    with on(2026, 3, 1):
        refused = page.post(reverse("institution_training_new"), training_post(mine, teacher, hours_per_day="12"))
        credit_standard_save(standard=CreditStandard(
            form="face_to_face", variant="per_hour", label="面授培训（每日上限调整）", credits=Decimal("3"), per="学时",
            daily_cap=Decimal("36"), effective_from=2026), by=province_staff)
        shown = page.get(reverse("institution_training_new")).content.decode()
        filed = page.post(reverse("institution_training_new"), training_post(mine, teacher, hours_per_day="12"))
        too_long = page.post(reverse("institution_training_new"), training_post(mine, teacher, hours_per_day="12.5"))
    assert refused.status_code == 400 and "不能超过10学时" in refused.content.decode()
    assert "每日不超过12学时" in shown
    assert filed.status_code == 302 and TrainingPlan.objects.get().hours_per_day == 12
    assert too_long.status_code == 400 and "不能超过12学时" in too_long.content.decode()


def test_a_plan_filed_on_the_first_day_is_kept_but_marked_late(institution_user):
    """R-CE-14: filed on or after the start → 逾期报送."""
    mine = make_filed(institution_user)
    teacher = Teacher.objects.create(institution=mine, name="孙老师", title="讲师", field="会计")
    with on(2026, 4, 10):
        plan = services.training_file(user=institution_user, institution=mine, title="当天报送",
                                 starts_on=dt.date(2026, 4, 10), ends_on=dt.date(2026, 4, 10),
                                 hours_per_day=Decimal(6), subject_kind="general", venue="城区", teachers=[teacher],
                                 capacity=30)
    assert plan.filed_late


def test_online_institution_reports_plan_and_year_report_once_each(client, institution_user):
    """R-CE-14: an online institution's plan at the start of the year and its report at the end, once each."""
    mine = make_filed(institution_user, kind="online")
    page = logged_in(client, institution_user)
    data = {"institution": mine.pk, "kind": ReportKind.ANNUAL_PLAN, "year": 2026, "content": "全年开设12门课程",
            "courses": "收入准则；内部控制"}
    with on(2026, 1, 10):
        assert page.post(reverse("institution_report_new"), data).status_code == 302
        twice = page.post(reverse("institution_report_new"), data)
        early = page.post(reverse("institution_report_new"), {**data, "kind": ReportKind.ANNUAL_REPORT})
    assert twice.status_code == 400 and "不能重复报送" in twice.content.decode()
    assert early.status_code == 400 and "年末" in early.content.decode()
    with on(2026, 12, 20):
        login_staff(page, institution_user)  # the session of January has long expired
        response = page.post(reverse("institution_report_new"),
                             {**data, "kind": ReportKind.ANNUAL_REPORT, "content": "全年培训3000人次"})
        assert response.status_code == 302 and response["Location"] == reverse("institution_home")
    assert AnnualReport.objects.filter(institution=mine).count() == 2


def test_a_face_to_face_institution_has_no_annual_plan_and_unfiled_cannot_report(institution_user):
    """R-CE-14: annual reports are the online institutions'; an unfiled one reports nothing."""
    face = make_filed(institution_user)
    unfiled = make_filed(institution_user, kind="online", name="未备案网校", first17="52140502MJ0A1B2C4", filed=False)
    with on(2026, 1, 10):
        with pytest.raises(DomainError):
            services.report_submit(user=institution_user, institution=face, year=2026, kind=ReportKind.ANNUAL_PLAN,
                              content="x")
        with pytest.raises(DomainError) as caught:
            services.report_submit(user=institution_user, institution=unfiled, year=2026, kind=ReportKind.ANNUAL_PLAN,
                              content="x")
    assert "尚未备案" in str(caught.value.errors)
    assert not AnnualReport.objects.exists()


# --- the bureau's overview and evaluation ----------------------------------------------------------

def test_the_overview_marks_a_missing_annual_plan_and_a_late_training(client, institution_user, county_reviewer):
    """R-CE-14: no annual plan by the end of January, a training filed on its first day — both shown."""
    with on(2025, 6, 1):
        online = make_filed(institution_user, kind="online", name="晋城网络学院", first17="52140502MJ0A1B2C5")
        face = make_filed(institution_user, name="城区面授中心")
    teacher = Teacher.objects.create(institution=face, name="孙老师", title="讲师", field="会计")
    with on(2026, 4, 10):
        services.training_file(user=institution_user, institution=face, title="当天报送的培训",
                          starts_on=dt.date(2026, 4, 10), ends_on=dt.date(2026, 4, 10), hours_per_day=Decimal(6),
                          subject_kind="general", venue="城区", teachers=[teacher], capacity=30)
    with on(2026, 5, 1):
        body = logged_in(client, county_reviewer).get(reverse("workbench_institutions")).content.decode()
        rows = {row.institution.pk: row for row in selectors.institution_overview(county_reviewer, 2026)}
    assert "2026年度培训方案未报送" in body and "2025年度继续教育整体情况未报送" in body
    assert "当天报送的培训" in body and "1项面授培训方案未在开训前报送" in body
    assert rows[online.pk].issues and len(rows[face.pk].late_trainings) == 1


def test_the_overview_is_scoped_and_takes_a_fixed_number_of_queries(client, institution_user, county_reviewer,
                                                                   other_county_reviewer):
    """R-ACL-1, R-CE-14: a bureau sees its region's institutions; no per-row queries."""
    make_filed(institution_user, name="城区一号")
    page = logged_in(client, county_reviewer)
    with CaptureQueriesContext(connection) as few:
        page.get(reverse("workbench_institutions"), {"year": 2026})
    for n in range(2, 6):
        inst = make_filed(institution_user, name=f"城区{n}号", first17=f"52140502MJ0A1B2D{n}")
        Teacher.objects.create(institution=inst, name="某", title="讲师", field="会计")
        InstitutionFiling.objects.create(institution=inst, jurisdiction_id="140502", applicant=institution_user)
    with CaptureQueriesContext(connection) as many:
        page.get(reverse("workbench_institutions"), {"year": 2026})
    assert len(few) == len(many)
    assert "城区一号" not in logged_in(type(client)(), other_county_reviewer).get(
        reverse("workbench_institutions")).content.decode()


def test_evaluation_once_per_year_and_the_province_sees_it(client, institution_user, county_reviewer, province_staff,
                                                          other_county_reviewer):
    """R-CE-14: the bureau evaluates each institution once a year; the province sees every evaluation."""
    mine = make_filed(institution_user)
    page = logged_in(client, county_reviewer)
    url = reverse("workbench_institution_evaluate", args=[mine.pk])
    page.post(url, {"year": 2026, "score": 88, "comment": "课程质量良好"})
    again = page.post(url, {"year": 2026, "score": 60, "comment": "再评一次"}, follow=True)
    assert "每年只评价一次" in again.content.decode()
    assert list(Evaluation.objects.values_list("score", flat=True)) == [88]
    assert page.post(url, {"year": 2026, "score": 101, "comment": "x"}).status_code == 302
    assert Evaluation.objects.count() == 1
    assert logged_in(type(client)(), other_county_reviewer).post(url, {"year": 2025, "score": 70,
                                                                       "comment": "越权"}).status_code == 404
    province = logged_in(type(client)(), province_staff).get(reverse("workbench_institutions"), {"year": 2026})
    assert "课程质量良好" in province.content.decode()
    assert list(selectors.evaluations_for_province(province_staff)) == list(Evaluation.objects.all())


# --- public list ---------------------------------------------------------------------------------

def test_the_public_list_needs_no_login_shows_only_filed_and_searches_by_name(institution_user):
    """R-CE-14: anyone can see the filed (已备案、公布) institutions, with kind and region."""
    make_filed(institution_user, name="城区会计培训中心")
    make_filed(institution_user, name="未备案的培训班", first17="52140502MJ0A1B2C6", filed=False)
    body = client_anonymous_list()
    assert "城区会计培训中心" in body and "面授培训" in body and "晋城市城区" in body
    assert "未备案的培训班" not in body
    assert "城区会计培训中心" not in client_anonymous_list("网络学院")
