"""Writes of training institutions (继续教育培训机构): filing, teacher pool, plans, reports, evaluations.

R-CE-9, R-CE-14. Every write is one transaction with its audit row. The filing moves only through
:func:`kjzx.workflow.workflow_transition` (``draft → submitted → filed``, ``submitted → returned``,
``filed → revoked``); its effects are registered here — 准予备案 files and publishes the institution,
撤销备案 withdraws it, so its courses leave the catalogue at once — which is why ``cpe.apps`` imports
this module at start-up. A face-to-face training's plan is filed before it starts, within the daily
cap of the face-to-face credit standard in force for its year
(:func:`cpe.institutions.selectors.face_to_face_standard`).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.scoping import can_act_in, region_scope
from accounts.validators import validate_credit_code
from cpe.institutions.selectors import (
    FACE_TO_FACE_KINDS,
    ONLINE_KINDS,
    face_to_face_standard,
    is_institution_user,
    latest_filing,
)
from cpe.models import (
    AnnualReport,
    CEYear,
    Evaluation,
    InstitutionFiling,
    InstitutionKind,
    ReportKind,
    Teacher,
    TrainingInstitution,
    TrainingPlan,
)
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.workflow import workflow_create, workflow_effect, workflow_transition

register_event_labels({
    "filing.created": "创建培训机构备案申请",
    "filing.submit": "提交培训机构备案申请",
    "filing.approve": "准予备案",
    "filing.return": "退回备案申请",
    "filing.revoke": "撤销备案",
    "institution.updated": "修改培训机构信息",
    "institution.filed": "培训机构已备案并公布",
    "institution.unfiled": "培训机构备案已撤销",
    "institution.teacher_saved": "保存师资信息",
    "institution.teacher_deleted": "删除师资信息",
    "institution.report_submitted": "报送年度方案或报告",
    "institution.training_filed": "报送面授培训方案",
    "institution.evaluated": "培训机构年度评价",
})

INSTITUTION_FIELDS = ("name", "credit_code", "kind", "address", "contact")
HOURS_IN_A_DAY = Decimal(32)  # 24 hours of 学时 of 45 minutes: the bound of any plan, whatever the standard

NOT_FILED = _("本机构尚未备案（或备案已撤销），不能开展培训或报送方案；请先办理备案，经财政部门准予备案后再报送。")


# --- services: filing ------------------------------------------------------------------------------

def _clean_institution(data: dict, *, instance: TrainingInstitution | None) -> dict:
    errors: dict[str, list[str]] = {}
    cleaned = {key: str(data.get(key) or "").strip() for key in INSTITUTION_FIELDS}
    cleaned["credit_code"] = cleaned["credit_code"].upper()
    if not cleaned["name"]:
        errors["name"] = [_("请填写机构名称。")]
    elif len(cleaned["name"]) > 100:
        errors["name"] = [_("机构名称不能超过100个字符。")]
    try:
        validate_credit_code(cleaned["credit_code"])
    except ValidationError as exc:
        errors["credit_code"] = list(exc.messages)
    else:
        taken = TrainingInstitution.objects.filter(credit_code=cleaned["credit_code"])
        if instance is not None:
            taken = taken.exclude(pk=instance.pk)
        if taken.exists():
            errors["credit_code"] = [_("该统一社会信用代码的机构已在本系统登记，请勿重复申请。")]
    if cleaned["kind"] not in InstitutionKind.values:
        errors["kind"] = [_("请选择培训形式。")]
    if not cleaned["address"]:
        errors["address"] = [_("请填写机构地址。")]
    if not cleaned["contact"]:
        errors["contact"] = [_("请填写联系方式。")]
    for key, limit in (("address", 200), ("contact", 100)):
        if len(cleaned[key]) > limit:
            errors[key] = [_("不能超过%(n)s个字符。") % {"n": limit}]
    if errors:
        raise DomainError(errors)
    return cleaned


def filing_apply(*, user, data: dict, institution: TrainingInstitution | None = None) -> InstitutionFiling:
    """申请备案: a new institution (not filed, owned by ``user``, in ``user``'s region) and its filing,
    submitted at once; or, for an institution of ``user`` whose filing was returned or revoked, its
    details updated and the filing submitted again (R-CE-14)."""
    if not is_institution_user(user) or not user.region_id:
        raise DomainError({"institution": [_("只有培训机构账号可以申请备案。")]})
    with transaction.atomic():
        if institution is not None:
            institution = TrainingInstitution.objects.select_for_update().get(pk=institution.pk, owner=user)
        cleaned = _clean_institution(data, instance=institution)
        if institution is None:
            institution = TrainingInstitution.objects.create(filed=False, owner=user, region_id=user.region_id,
                                                             **cleaned)
            record_event(institution, "institution.updated", by=user, extra={"created": True})
            filing = None
        else:
            filing = latest_filing(institution)
            if filing is not None and filing.status in ("submitted", "filed"):
                raise DomainError({"institution": [
                    _("该机构的备案申请正在审核或已备案，无需重复申请。")]})
            changed = [key for key, value in cleaned.items() if getattr(institution, key) != value]
            for key in changed:
                setattr(institution, key, cleaned[key])
            if changed:
                institution.save(update_fields=changed)
                record_event(institution, "institution.updated", by=user, extra={"fields": changed})
            if filing is not None and filing.status == "revoked":
                filing = None
        if filing is None:
            filing = workflow_create(InstitutionFiling, applicant=user, institution=institution,
                                     jurisdiction=institution.region)
        return workflow_transition(filing, "submit", by=user)


@workflow_effect(InstitutionFiling, "approve")
def _filed(filing: InstitutionFiling, *, by, reason, data) -> None:
    """准予备案: the institution is filed and published; its courses join the catalogue (R-CE-14)."""
    TrainingInstitution.objects.filter(pk=filing.institution_id).update(filed=True)
    record_event(filing.institution, "institution.filed", by=by, before="unfiled", after="filed",
                 extra={"number": filing.number})


@workflow_effect(InstitutionFiling, "revoke")
def _unfiled(filing: InstitutionFiling, *, by, reason, data) -> None:
    """撤销备案: no longer filed; its courses leave the catalogue and it may not train (R-CE-14)."""
    TrainingInstitution.objects.filter(pk=filing.institution_id).update(filed=False)
    record_event(filing.institution, "institution.unfiled", by=by, before="filed", after="unfiled", reason=reason,
                 extra={"number": filing.number})


# --- services: teacher pool ------------------------------------------------------------------------

def teacher_save(*, user, institution: TrainingInstitution, data: dict, teacher: Teacher | None = None) -> Teacher:
    """Add or edit one teacher of the pool (师资库), R-CE-14."""
    if institution.owner_id != user.pk:
        raise Http404
    fields = {"name": 50, "title": 50, "field": 100, "cv": 2000}
    cleaned = {key: str(data.get(key) or "").strip() for key in fields}
    errors = {}
    for key, limit in fields.items():
        if key != "cv" and not cleaned[key]:
            errors[key] = [_("此项为必填项。")]
        elif len(cleaned[key]) > limit:
            errors[key] = [_("不能超过%(n)s个字符。") % {"n": limit}]
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        if teacher is None:
            teacher = Teacher.objects.create(institution=institution, **cleaned)
        else:
            if teacher.institution_id != institution.pk:
                raise Http404
            for key, value in cleaned.items():
                setattr(teacher, key, value)
            teacher.save()
        record_event(teacher, "institution.teacher_saved", by=user, extra={"institution": institution.pk})
    return teacher


def teacher_delete(*, user, teacher: Teacher) -> None:
    if teacher.institution.owner_id != user.pk:
        raise Http404
    if teacher.trainings.exists():
        raise DomainError({"teacher": [_("该教师已列入面授培训方案，不能删除（培训档案须保留）。")]})
    with transaction.atomic():
        record_event(teacher, "institution.teacher_deleted", by=user,
                     extra={"institution": teacher.institution_id, "name": teacher.name})
        teacher.delete()


# --- services: plans and reports -------------------------------------------------------------------

def _filed_institution(user, institution: TrainingInstitution) -> TrainingInstitution:
    locked = TrainingInstitution.objects.select_for_update().filter(pk=institution.pk, owner=user).first()
    if locked is None:
        raise Http404
    if not locked.filed:
        raise DomainError({"institution": [NOT_FILED]})
    return locked


def _policy(year) -> CEYear:
    policy = CEYear.objects.filter(year=year).first()
    if policy is None:
        raise DomainError({"year": [_("%(year)s年度的继续教育政策尚未设置，暂不能报送。") % {"year": year}]})
    return policy


def report_submit(*, user, institution: TrainingInstitution, year: int, kind: str, content: str,
                  courses: str = "") -> AnnualReport:
    """An online institution's year plan (年初) or year report (年末), once each per year (R-CE-14)."""
    content, courses = (content or "").strip(), (courses or "").strip()
    errors = {}
    if kind not in ReportKind.values:
        errors["kind"] = [_("请选择报送类别。")]
    if not content:
        errors["content"] = [_("请填写内容。")]
    elif len(content) > 20000:
        errors["content"] = [_("不能超过20000个字符。")]
    if len(courses) > 20000:
        errors["courses"] = [_("不能超过20000个字符。")]
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        institution = _filed_institution(user, institution)
        if institution.kind not in ONLINE_KINDS:
            raise DomainError({"kind": [_("面授培训机构按每期培训报送培训方案，无需报送网络培训年度方案和报告。")]})
        policy = _policy(year)
        today = timezone.localdate()
        if kind == ReportKind.ANNUAL_REPORT and today < dt.date(year, 12, 1):
            raise DomainError({"kind": [_("年度整体情况应于年末（12月起）报送。")]})
        if year > today.year:
            raise DomainError({"year": [_("只能报送本年度或以前年度的方案和报告。")]})
        if AnnualReport.objects.filter(institution=institution, year=policy, kind=kind).exists():
            raise DomainError({"kind": [_("%(year)s年度的%(kind)s已报送，不能重复报送。") % {
                "year": year, "kind": ReportKind(kind).label}]})
        report = AnnualReport.objects.create(institution=institution, year=policy, kind=kind, content=content,
                                             courses=courses, submitted_by=user)
        record_event(report, "institution.report_submitted", by=user,
                     extra={"institution": institution.pk, "year": year, "kind": kind})
    return report


def _hours_per_day_errors(hours_per_day, year: int) -> list[str]:
    """The daily cap of the face-to-face standard in force for the plan's year (R-CE-9); a day's hours at most."""
    if hours_per_day is None or hours_per_day <= 0:
        return [_("每日学时应大于0。")]
    standard = face_to_face_standard(year)
    if standard is None:
        return [_("%(year)s年度尚无面授培训学分计量标准，暂不能报送，请联系省财政厅。") % {"year": year}]
    cap = min(filter(None, (standard.daily_hours, HOURS_IN_A_DAY)))
    if hours_per_day > cap:
        return [_("每日学时不能超过%(cap)s学时（每学时45分钟，%(year)s年度面授培训学分计量标准）。") % {
            "cap": f"{cap.normalize():f}", "year": year}]
    return []


def training_file(*, user, institution: TrainingInstitution, title: str, starts_on: dt.date, ends_on: dt.date,
                  hours_per_day: Decimal, subject_kind: str, venue: str, teachers, capacity: int) -> TrainingPlan:
    """A face-to-face training's plan, before it starts (R-CE-9, R-CE-14): within the standard's daily cap,
    not in the past; filed on the first day it is kept but marked late."""
    errors: dict[str, list[str]] = {}
    today = timezone.localdate()
    hours_errors = _hours_per_day_errors(hours_per_day, starts_on.year)
    if hours_errors:
        errors["hours_per_day"] = hours_errors
    if starts_on < today:
        errors["starts_on"] = [_("开始日期已过：培训方案须在培训开始前报送，不能补报已开始的培训。")]
    if ends_on < starts_on:
        errors["ends_on"] = [_("结束日期不能早于开始日期。")]
    if not teachers:
        errors["teachers"] = [_("请从师资库选择授课教师。")]
    elif any(t.institution_id != institution.pk for t in teachers):
        errors["teachers"] = [_("授课教师须为本机构师资库中的教师。")]
    if not capacity or capacity < 1:
        errors["capacity"] = [_("计划人数应至少为1。")]
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        institution = _filed_institution(user, institution)
        if institution.kind not in FACE_TO_FACE_KINDS:
            raise DomainError({"institution": [_("本机构为网络培训机构，请报送年度培训方案。")]})
        policy = _policy(starts_on.year)
        plan = TrainingPlan.objects.create(
            institution=institution, year=policy, title=title.strip(), starts_on=starts_on, ends_on=ends_on,
            hours_per_day=hours_per_day, subject_kind=subject_kind, venue=venue.strip(), capacity=capacity,
            filed_by=user)
        plan.teachers.set(teachers)
        record_event(plan, "institution.training_filed", by=user,
                     extra={"institution": institution.pk, "late": plan.filed_late})
    return plan


# --- services: evaluation --------------------------------------------------------------------------

def evaluation_create(*, user, institution: TrainingInstitution, year: int, score, comment: str) -> Evaluation:
    """The bureau's yearly evaluation (综合评价), once per institution and year (R-CE-14)."""
    comment = (comment or "").strip()
    errors = {}
    try:
        score = int(score)
    except (TypeError, ValueError):
        score = None
    if score is None or not 0 <= score <= 100:
        errors["score"] = [_("评分应为0至100之间的整数。")]
    if not comment:
        errors["comment"] = [_("请填写评价意见。")]
    elif len(comment) > 2000:
        errors["comment"] = [_("不能超过2000个字符。")]
    if errors:
        raise DomainError(errors)
    if region_scope(user) is None or not can_act_in(user, institution.region):
        raise Http404
    with transaction.atomic():
        locked = TrainingInstitution.objects.select_for_update().get(pk=institution.pk)
        policy = _policy(year)
        if Evaluation.objects.filter(institution=locked, year=policy).exists():
            raise DomainError({"score": [_("该机构%(year)s年度已评价，每年只评价一次。") % {"year": year}]})
        evaluation = Evaluation.objects.create(institution=locked, year=policy, score=score, comment=comment,
                                               evaluated_by=user)
        record_event(evaluation, "institution.evaluated", by=user,
                     extra={"institution": locked.pk, "year": year, "score": score})
    return evaluation
