"""Bulk sources of credits: an institution's face-to-face list and the province's exam files (R-CE-9, R-CE-10).

Each upload is checked row by row into a preview (every problem in words) before anything is
registered; registering writes ledger entries through ``cpe.ledger.services.credits_register`` whose unique
source makes a repeated upload register nothing twice. Exam rows of people whose collection is not
approved yet wait (``pending``) and register by themselves once it is (R-CE-10, R-CE-12).
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cpe.models.institutions import TrainingPlan
from cpe.models.ledger import CEYear, CreditEntry
from kjzx.fields import EncryptedTextField, KeyedHashField
from records.models import Archive, Attachment


class RowState(models.TextChoices):
    VALID = "valid", _("可登记")
    INVALID = "invalid", _("有误")
    PENDING = "pending", _("待信息采集完成后登记")
    REGISTERED = "registered", _("已登记")
    DUPLICATE = "duplicate", _("此前已登记")


def upload_path(instance, filename: str) -> str:
    import uuid

    extension = ".csv" if filename.lower().endswith(".csv") else ".xlsx"
    return f"imports/{timezone.localdate():%Y/%m}/{uuid.uuid4().hex}{extension}"


class AttendanceList(models.Model):
    """The list of people who earned credits at one face-to-face training (学员名单), R-CE-9."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("校验中")
        CHECKED = "checked", _("已校验，待属地财政部门登记")
        REGISTERED = "registered", _("已登记")
        FAILED = "failed", _("校验未通过")

    training = models.ForeignKey(TrainingPlan, verbose_name=_("面授培训"), on_delete=models.PROTECT,
                                 related_name="attendance_lists")
    file = models.FileField(_("名单文件"), upload_to=upload_path, max_length=200)
    file_name = models.CharField(_("原文件名"), max_length=200)
    sha256 = models.CharField(max_length=64)
    evidence = models.ManyToManyField(Attachment, verbose_name=_("签到等实证材料"), related_name="+")
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.CHECKING)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    error = models.CharField(_("未通过原因"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("登记时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("面授学员名单")
        verbose_name_plural = _("面授学员名单")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.training} 学员名单"


class AttendanceRow(models.Model):
    """One row of a face-to-face list, with its problem in words if any."""

    list = models.ForeignKey(AttendanceList, on_delete=models.CASCADE, related_name="rows",
                             db_index=False)  # attendance_row_once leads with it
    row_no = models.PositiveIntegerField(_("行号"))
    id_number = EncryptedTextField(_("证件号码"), blank=True, hash_field="id_number_hash")
    id_number_hash = KeyedHashField(source="id_number", purpose="id_number")
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    hours = models.DecimalField(_("学时"), max_digits=5, decimal_places=1, null=True, blank=True)
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1, null=True, blank=True)
    archive = models.ForeignKey(Archive, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("结果"), max_length=20, choices=RowState.choices)
    problem = models.CharField(_("问题"), max_length=300, blank=True)
    entry = models.ForeignKey(CreditEntry, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["row_no"]
        constraints = [models.UniqueConstraint(fields=["list", "row_no"], name="attendance_row_once")]

    def __str__(self):
        return f"第{self.row_no}行"

    @property
    def masked_id_number(self) -> str:
        """The number as the pages and the API show it (security item 46), however it was typed."""
        from accounts.models import mask_id_number

        return mask_id_number(self.id_number)


class ExamKind(models.TextChoices):
    ACCOUNTING_QUALIFICATION = "accounting_qualification", _("会计专业技术资格考试")
    CPA = "cpa", _("注册会计师考试")
    ASSET_APPRAISER = "asset_appraiser", _("资产评估师考试")
    TAX_ADVISER = "tax_adviser", _("税务师考试")


class ExamImport(models.Model):
    """A province upload of one exam's pass list for a year (考试合格名单), R-CE-10."""

    class Status(models.TextChoices):
        CHECKING = "checking", _("校验中")
        CHECKED = "checked", _("已校验，待登记")
        REGISTERING = "registering", _("登记中")
        REGISTERED = "registered", _("已登记")
        FAILED = "failed", _("处理失败")

    year = models.ForeignKey(CEYear, verbose_name=_("考试年度"), on_delete=models.PROTECT, related_name="+")
    exam = models.CharField(_("考试"), max_length=30, choices=ExamKind.choices)
    file = models.FileField(_("名单文件"), upload_to=upload_path, max_length=200)
    file_name = models.CharField(_("原文件名"), max_length=200)
    sha256 = models.CharField(max_length=64)
    status = models.CharField(_("状态"), max_length=20, choices=Status.choices, default=Status.CHECKING)
    total_rows = models.PositiveIntegerField(_("总行数"), default=0)
    done_rows = models.PositiveIntegerField(_("已处理行数"), default=0)
    error = models.CharField(_("失败原因"), max_length=300, blank=True)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("上传人"), on_delete=models.PROTECT,
                                    related_name="+")
    uploaded_at = models.DateTimeField(_("上传时间"), default=timezone.now)
    registered_at = models.DateTimeField(_("登记完成时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("考试合格名单")
        verbose_name_plural = _("考试合格名单")
        ordering = ["-uploaded_at"]

    def __str__(self):
        return f"{self.year_id}年 {self.get_exam_display()}"


class ExamRow(models.Model):
    """One person of an exam list: subjects passed → 90 credits each in the exam year (R-CE-10)."""

    import_file = models.ForeignKey(ExamImport, on_delete=models.CASCADE, related_name="rows",
                                    db_index=False)  # exam_row_once and exam_row_state_idx lead with it
    row_no = models.PositiveIntegerField(_("行号"))
    id_number = EncryptedTextField(_("证件号码"), blank=True, hash_field="id_number_hash")
    id_number_hash = KeyedHashField(source="id_number", purpose="id_number")
    name = models.CharField(_("姓名"), max_length=60, blank=True)
    subjects = models.PositiveSmallIntegerField(_("通过科目数"), null=True, blank=True)
    archive = models.ForeignKey(Archive, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    state = models.CharField(_("结果"), max_length=20, choices=RowState.choices)
    problem = models.CharField(_("问题"), max_length=300, blank=True)

    class Meta:
        ordering = ["row_no"]
        constraints = [models.UniqueConstraint(fields=["import_file", "row_no"], name="exam_row_once")]
        indexes = [models.Index(fields=["id_number_hash"], condition=Q(state="pending"), name="exam_row_pending_idx"),
                   models.Index(fields=["import_file", "state"], name="exam_row_state_idx")]

    def __str__(self):
        return f"第{self.row_no}行"

    @property
    def masked_id_number(self) -> str:
        """The number as the pages and the API show it (security item 46), however it was typed."""
        from accounts.models import mask_id_number

        return mask_id_number(self.id_number)
