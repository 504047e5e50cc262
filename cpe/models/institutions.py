"""Training institutions' filing (继续教育培训机构备案), plans, reports and evaluations, R-CE-9, R-CE-14.

An institution applies for filing with the bureau of its region (``InstitutionFiling``, the shared
workflow); filing sets ``TrainingInstitution.filed`` and the bureau may later withdraw it. Online
institutions report the year's plan and, at its end, the year's results; face-to-face institutions
file each training's plan before it starts (``TrainingPlan``), and after it the list of people
who earned credits (``cpe.models.sources.AttendanceList``).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, transition

from cpe.models.learning import TrainingInstitution
from cpe.models.ledger import CEYear, SubjectKind
from kjzx.workflow import WorkflowModel
from records.models import Attachment, is_applicant, is_reviewer_in_scope

FILING_OPEN = ("draft", "submitted", "returned")
FILING_REVIEW = ("submitted",)


class InstitutionFiling(WorkflowModel):
    """An institution's filing application (培训机构备案申请), R-CE-14.

    ``draft → submitted → filed``; ``submitted → returned → submitted``; ``filed → revoked`` when the
    bureau withdraws the filing (撤销备案, with a reason). Only a filed institution trains.
    """

    KIND = "filing"
    KIND_LABEL = "培训机构备案"
    NUMBER_PREFIX = "BA"
    OPEN_STATES = FILING_OPEN
    REVIEW_STATES = FILING_REVIEW
    QUEUE_RELATED = ("institution", "jurisdiction__parent")

    class Status(models.TextChoices):
        DRAFT = "draft", _("草稿")
        SUBMITTED = "submitted", _("待审核")
        FILED = "filed", _("已备案")
        RETURNED = "returned", _("已退回")
        REVOKED = "revoked", _("已撤销备案")

    status = FSMField(_("状态"), max_length=20, default="draft", protected=True, choices=Status.choices)
    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.PROTECT,
                                    related_name="filings")
    attachments = models.ManyToManyField(Attachment, verbose_name=_("证明材料"), blank=True, related_name="+")

    class Meta:
        verbose_name = _("培训机构备案申请")
        verbose_name_plural = _("培训机构备案申请")
        constraints = [models.UniqueConstraint(fields=["institution"], condition=Q(status__in=FILING_OPEN),
                                               name="filing_one_open_per_institution")]
        indexes = [models.Index(fields=["submitted_at", "id"], condition=Q(status__in=FILING_REVIEW),
                                name="filing_queue_idx"),
                   models.Index(fields=["jurisdiction", "submitted_at", "id"], condition=Q(status__in=FILING_REVIEW),
                                name="filing_queue_region_idx"),
                   models.Index(fields=["due_date"], condition=Q(status__in=FILING_REVIEW), name="filing_due_idx")]

    def applicant_url(self) -> str:
        return reverse("institution_home")

    def reviewer_url(self) -> str:
        return reverse("workbench_filing", kwargs={"pk": self.pk})

    @transition(field="status", source=["draft", "returned"], target="submitted", permission=is_applicant,
                custom={"label": _("提交"), "deadline": "filing.review", "order": 1})
    def submit(self, *, by, reason=""):
        self.submitted_at = timezone.now()

    @transition(field="status", source="submitted", target="filed", permission=is_reviewer_in_scope,
                custom={"name": "approve", "label": _("准予备案"), "order": 2})
    def approve(self, *, by, reason=""):
        pass

    @transition(field="status", source="submitted", target="returned", permission=is_reviewer_in_scope,
                custom={"name": "return", "label": _("退回"), "reason_required": True, "deadline": "clear",
                        "order": 9, "style": "secondary"})
    def send_back(self, *, by, reason=""):
        pass

    @transition(field="status", source="filed", target="revoked", permission=is_reviewer_in_scope,
                custom={"label": _("撤销备案"), "reason_required": True, "order": 10, "style": "secondary"})
    def revoke(self, *, by, reason=""):
        pass

    for _method in (submit, approve, send_back, revoke):
        _method.alters_data = True
    del _method


class Teacher(models.Model):
    """One teacher of an institution's pool (师资库), R-CE-14."""

    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.CASCADE,
                                    related_name="teachers")
    name = models.CharField(_("姓名"), max_length=50)
    title = models.CharField(_("职称"), max_length=50)
    field = models.CharField(_("研究领域"), max_length=100)
    cv = models.TextField(_("简历"), max_length=2000, blank=True)

    class Meta:
        verbose_name = _("师资")
        verbose_name_plural = _("师资库")
        ordering = ["name"]

    def __str__(self):
        return f"{self.name}（{self.title}）"


class ReportKind(models.TextChoices):
    ANNUAL_PLAN = "annual_plan", _("年度培训方案、内容和课程（年初报送）")
    ANNUAL_REPORT = "annual_report", _("年度继续教育整体情况（年末报送）")


class AnnualReport(models.Model):
    """An online institution's plan at the start of the year or its report at the end (R-CE-14)."""

    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.PROTECT,
                                    related_name="reports")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(_("类别"), max_length=20, choices=ReportKind.choices)
    content = models.TextField(_("内容"), max_length=20000)
    courses = models.TextField(_("课程清单"), max_length=20000, blank=True)
    attachments = models.ManyToManyField(Attachment, verbose_name=_("附件"), blank=True, related_name="+")
    submitted_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    submitted_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("报送人"), on_delete=models.PROTECT,
                                     related_name="+")

    class Meta:
        verbose_name = _("年度方案与报告")
        verbose_name_plural = _("年度方案与报告")
        constraints = [models.UniqueConstraint(fields=["institution", "year", "kind"], name="annual_report_once")]

    def __str__(self):
        return f"{self.institution} {self.year_id}年 {self.get_kind_display()}"


class TrainingPlan(models.Model):
    """A face-to-face training's plan, filed before it starts (面授培训方案), R-CE-9, R-CE-14."""

    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.PROTECT,
                                    related_name="training_plans")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    title = models.CharField(_("培训名称"), max_length=200)
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    hours_per_day = models.DecimalField(_("每日学时"), max_digits=4, decimal_places=1,
                                        help_text=_("每学时45分钟；每日上限见备案时所在年度的面授培训学分计量标准。"))
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices)
    venue = models.CharField(_("培训地点"), max_length=200)
    teachers = models.ManyToManyField(Teacher, verbose_name=_("授课教师"), related_name="trainings")
    capacity = models.PositiveIntegerField(_("计划人数"))
    filed_at = models.DateTimeField(_("报送时间"), default=timezone.now)
    filed_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("报送人"), on_delete=models.PROTECT,
                                 related_name="+")

    class Meta:
        verbose_name = _("面授培训方案")
        verbose_name_plural = _("面授培训方案")
        ordering = ["-starts_on"]
        constraints = [
            models.CheckConstraint(condition=Q(ends_on__gte=models.F("starts_on")), name="training_dates_ordered"),
            models.CheckConstraint(condition=Q(hours_per_day__gt=0), name="training_hours_a_day_positive"),
        ]

    def __str__(self):
        return f"{self.title}（{self.starts_on:%Y-%m-%d}）"

    @property
    def days(self) -> int:
        return (self.ends_on - self.starts_on).days + 1

    @property
    def filed_late(self) -> bool:
        """Filed on or after the day it started: the plan must come before the training (R-CE-14)."""
        return timezone.localtime(self.filed_at).date() >= self.starts_on


class Evaluation(models.Model):
    """The bureau's yearly evaluation of an institution (综合评价), which the province sees (R-CE-14)."""

    institution = models.ForeignKey(TrainingInstitution, verbose_name=_("培训机构"), on_delete=models.PROTECT,
                                    related_name="evaluations")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    score = models.PositiveSmallIntegerField(_("评分"))
    comment = models.TextField(_("评价意见"), max_length=2000)
    evaluated_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("评价人"), on_delete=models.PROTECT,
                                     related_name="+")
    evaluated_at = models.DateTimeField(_("评价时间"), default=timezone.now)

    class Meta:
        verbose_name = _("培训机构年度评价")
        verbose_name_plural = _("培训机构年度评价")
        constraints = [models.UniqueConstraint(fields=["institution", "year"], name="evaluation_once_a_year"),
                       models.CheckConstraint(condition=Q(score__lte=100), name="evaluation_score_range")]

    def __str__(self):
        return f"{self.institution} {self.year_id}年 {self.score}分"
