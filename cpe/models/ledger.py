"""The year's policy, the credit ledger, the credit-information file and certificates (R-CE-1…5, 12, 13, 15)."""

from __future__ import annotations

import secrets
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from records.models import Archive, Attachment


class SubjectKind(models.TextChoices):
    GENERAL = "general", _("公需科目")
    PROFESSIONAL = "professional", _("专业科目")


class CreditForm(models.TextChoices):
    """How a credit was earned (R-CE-7, the credit table)."""

    ONLINE = "online", _("网络培训")
    FACE_TO_FACE = "face_to_face", _("面授培训")
    EXAM = "exam", _("考试")
    CONFERENCE = "conference", _("会计类专业会议")
    DEGREE = "degree", _("学历（学位）教育")
    RESEARCH = "research", _("课题研究")
    PAPER = "paper", _("发表论文")
    BOOK = "book", _("出版著作")
    OTHER = "other", _("其他")


class CEYear(models.Model):
    """One continuing-education year's policy (年度继续教育政策), set by provincial staff as data.

    R-CE-3 (90 / 60), R-CE-5 (deadline, 31 March of N+1 by default), R-CE-6 (make-up window),
    R-CE-13 (the date registration closes and the year is frozen). Nothing of this is a constant
    in code: a migration seeds 2018 (the national rules, 财会〔2018〕10号, took effect 2018-07-01)
    through the current year with the seeds' dates, and staff edit them in the admin.
    """

    year = models.PositiveSmallIntegerField(_("年度"), primary_key=True)
    required_total = models.DecimalField(_("应修总学分"), max_digits=5, decimal_places=1, default=Decimal("90"))
    required_professional = models.DecimalField(_("专业科目应修学分"), max_digits=5, decimal_places=1,
                                                default=Decimal("60"))
    deadline = models.DateField(_("完成期限"),
                                help_text=_("当年度继续教育应在此日期前完成（如2024年度为2025-03-31）。"))
    makeup_until = models.DateField(_("补学截止日期"), null=True, blank=True,
                                    help_text=_("空表示不组织补学；过完成期限后、此日期前可通过补学入口学习。"))
    registration_closes_on = models.DateField(
        _("学分登记截止日期"), help_text=_("此日后本年度学分不再登记，结果纳入会计人员信用信息档案。"))
    frozen_at = models.DateTimeField(_("已归档时间"), null=True, blank=True, editable=False)
    note = models.CharField(_("说明"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("继续教育年度")
        verbose_name_plural = _("继续教育年度")
        ordering = ["-year"]
        constraints = [
            models.CheckConstraint(condition=Q(required_professional__lte=models.F("required_total")),
                                   name="ceyear_professional_within_total"),
            models.CheckConstraint(condition=Q(year__gte=2018), name="ceyear_from_2018"),
        ]

    def __str__(self):
        return f"{self.year}年度"

    @property
    def is_frozen(self) -> bool:
        return self.frozen_at is not None


class CreditStandard(models.Model):
    """A credit standard for other forms (学分计量标准), as data with the year it takes effect (SPEC table).

    财会〔2018〕10号 art. 13 and 晋财会〔2021〕23号; provincial staff add a row with a later
    ``effective_from`` to change a value, so earlier years keep theirs.
    """

    form = models.CharField(_("形式"), max_length=20, choices=CreditForm.choices)
    variant = models.CharField(_("情形"), max_length=30,
                               help_text=_("如 per_subject、per_day、sole、host、participant"))
    label = models.CharField(_("说明"), max_length=100)
    credits = models.DecimalField(_("学分"), max_digits=5, decimal_places=1)
    per = models.CharField(_("计量单位"), max_length=20, blank=True, help_text=_("如 科、天、学时；空表示每项"))
    daily_cap = models.DecimalField(_("每日上限"), max_digits=5, decimal_places=1, null=True, blank=True)
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices,
                                    default=SubjectKind.PROFESSIONAL)
    effective_from = models.PositiveSmallIntegerField(_("起始年度"), default=2018)

    class Meta:
        verbose_name = _("学分计量标准")
        verbose_name_plural = _("学分计量标准")
        ordering = ["form", "variant", "-effective_from"]
        constraints = [models.UniqueConstraint(fields=["form", "variant", "effective_from"],
                                               name="credit_standard_unique")]

    def __str__(self):
        return f"{self.label}：{self.credits}学分{('/' + self.per) if self.per else ''}"


class SourceType(models.TextChoices):
    """Where a ledger entry came from: each source registers once per person and year."""

    COURSE = "course", _("网络课程")
    INSTITUTION_LIST = "institution_list", _("培训机构学员名单")
    EXAM_FILE = "exam_file", _("考试合格名单")
    CLAIM = "claim", _("学分登记申请")
    REVERSAL = "reversal", _("更正（冲销）")
    PROVINCE = "province", _("省财政厅登记")


class CreditEntry(models.Model):
    """One registered credit (学分登记), append-only: never edited or deleted (STYLE §3).

    A correction is a reversing entry (negative credits, ``reverses`` set, a reason). The same
    source for the same person and year registers once (``credit_entry_unique_source``); on
    PostgreSQL a trigger also refuses UPDATE and DELETE of any row.
    """

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT, related_name="credits")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="entries")
    subject_kind = models.CharField(_("科目类别"), max_length=20, choices=SubjectKind.choices)
    form = models.CharField(_("形式"), max_length=20, choices=CreditForm.choices)
    credits = models.DecimalField(_("学分"), max_digits=6, decimal_places=1)
    source_type = models.CharField(_("来源"), max_length=20, choices=SourceType.choices)
    source_id = models.CharField(_("来源编号"), max_length=64)
    source_label = models.CharField(_("来源说明"), max_length=200)
    evidence = models.ForeignKey(Attachment, verbose_name=_("证明材料"), null=True, blank=True,
                                 on_delete=models.PROTECT, related_name="+")
    registered_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("登记人"), null=True, blank=True,
                                      on_delete=models.PROTECT, related_name="+")
    registered_at = models.DateTimeField(_("登记时间"), default=timezone.now)
    reverses = models.OneToOneField("self", verbose_name=_("冲销的记录"), null=True, blank=True,
                                    on_delete=models.PROTECT, related_name="reversed_by")
    reason = models.CharField(_("更正原因"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("学分登记")
        verbose_name_plural = _("学分登记")
        ordering = ["registered_at", "id"]
        constraints = [
            models.UniqueConstraint(fields=["archive", "year", "source_type", "source_id"],
                                    name="credit_entry_unique_source"),
            models.CheckConstraint(condition=Q(reverses__isnull=True, credits__gt=0)
                                   | Q(reverses__isnull=False, credits__lt=0), name="credit_entry_sign"),
        ]
        indexes = [models.Index(fields=["archive", "year"], name="credit_entry_person_year_idx"),
                   models.Index(fields=["year", "archive"], name="credit_entry_year_idx")]

    def __str__(self):
        return f"{self.year_id}年度 {self.get_form_display()} {self.credits}学分"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValueError("学分登记不可修改：更正请登记冲销记录。")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("学分登记不可删除：更正请登记冲销记录。")


class IntegrityRecord(models.Model):
    """A person's CE result for a closed year in their credit-information file (信用信息档案), R-CE-13."""

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="integrity_records")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    completed = models.BooleanField(_("是否完成"))
    total = models.DecimalField(_("总学分"), max_digits=6, decimal_places=1)
    professional = models.DecimalField(_("专业科目学分"), max_digits=6, decimal_places=1)
    general = models.DecimalField(_("公需科目学分"), max_digits=6, decimal_places=1)
    by_form = models.JSONField(_("分形式学分"), default=dict)
    frozen_at = models.DateTimeField(_("归档时间"), default=timezone.now)

    class Meta:
        verbose_name = _("继续教育信用记录")
        verbose_name_plural = _("继续教育信用记录")
        constraints = [models.UniqueConstraint(fields=["archive", "year"], name="integrity_record_unique")]

    def __str__(self):
        return f"{self.year_id}年度：{'已完成' if self.completed else '未完成'}"


def new_verification_code() -> str:
    """16 characters of an unambiguous alphabet: unguessable, easy to read out or type."""
    alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
    return "".join(secrets.choice(alphabet) for _ in range(16))


class Certificate(models.Model):
    """A credit certificate (学分证明) of a completed year, checkable by its code (R-CE-15)."""

    archive = models.ForeignKey(Archive, verbose_name=_("档案"), on_delete=models.PROTECT,
                                related_name="certificates")
    year = models.ForeignKey(CEYear, verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    code = models.CharField(_("验证码"), max_length=16, unique=True, default=new_verification_code)
    issued_at = models.DateTimeField(_("签发时间"), default=timezone.now)

    class Meta:
        verbose_name = _("学分证明")
        verbose_name_plural = _("学分证明")
        constraints = [models.UniqueConstraint(fields=["archive", "year"], name="certificate_one_per_year")]

    def __str__(self):
        return f"{self.year_id}年度学分证明 {self.code}"
