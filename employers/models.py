"""Employers (用人单位): the units an employer administrator oversees, and the reminders they send.

An employer administrator is a staff account with ``Role.EMPLOYER``, bound to one or more units by
their unified social credit codes (统一社会信用代码, GB 32100): :class:`EmployerUnit`. They read, and only
read, the accountants whose archive names one of those codes (``Archive.employer_credit_code``): the
seeds charge units with supervising their accountants' collection, changes and CE ("各单位要切实加强对
任用(聘用)会计人员…的监督和管理", 晋市财会〔2024〕11号). To those behind on a year's CE they may send a
reminder (:class:`EmployerReminder`), at most one per person per day, whoever sends it.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.validators import validate_credit_code

# GB 32100's alphabet (no I, O, S, V, Z): the check character is verified by validate_credit_code.
CREDIT_CODE_FORMAT = r"^[0-9A-HJ-NPQRTUWXY]{18}$"


class EmployerUnit(models.Model):
    """A unit an employer administrator oversees (用人单位管理员所辖单位), by its unified social credit code."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("用人单位管理员"), on_delete=models.CASCADE,
                             related_name="employer_units")
    credit_code = models.CharField(_("统一社会信用代码"), max_length=18, validators=[validate_credit_code])
    created_at = models.DateTimeField(_("绑定时间"), default=timezone.now)

    class Meta:
        verbose_name = _("用人单位管理员所辖单位")
        verbose_name_plural = _("用人单位管理员所辖单位")
        ordering = ["credit_code"]
        constraints = [
            models.UniqueConstraint(fields=["user", "credit_code"], name="employer_unit_unique"),
            models.CheckConstraint(condition=Q(credit_code__regex=CREDIT_CODE_FORMAT),
                                   name="employer_unit_code_format"),
        ]

    def __str__(self):
        return self.credit_code


class EmployerReminder(models.Model):
    """A reminder an employer sent to one of its accountants behind on a CE year (单位提醒).

    At most one per person per day (the unique constraint decides when two administrators click at once).
    """

    archive = models.ForeignKey("records.Archive", verbose_name=_("档案"), on_delete=models.CASCADE,
                                related_name="+")
    year = models.ForeignKey("cpe.CEYear", verbose_name=_("年度"), on_delete=models.PROTECT, related_name="+")
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("发送人"), on_delete=models.PROTECT,
                                related_name="+")
    credit_code = models.CharField(_("单位统一社会信用代码"), max_length=18)
    sent_on = models.DateField(_("发送日期"))
    sent_at = models.DateTimeField(_("发送时间"), default=timezone.now)
    missing_total = models.DecimalField(_("尚差总学分"), max_digits=6, decimal_places=1)
    missing_professional = models.DecimalField(_("尚差专业科目学分"), max_digits=6, decimal_places=1)
    notification = models.ForeignKey("kjzx.Notification", verbose_name=_("站内消息"), null=True, blank=True,
                                     on_delete=models.SET_NULL, related_name="+")

    class Meta:
        verbose_name = _("单位提醒")
        verbose_name_plural = _("单位提醒")
        constraints = [
            models.UniqueConstraint(fields=["archive", "sent_on"], name="employer_reminder_one_a_day"),
        ]

    def __str__(self):
        return f"{self.sent_on} {self.year_id}年度"
