"""Cross-cutting models: the append-only audit history (审计记录), the portal's notices (通知公告)
and the working-day calendar (工作日历, R-DL-1)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """One entry of the append-only history (审计记录), written only through kjzx.audit.record_event.

    The applicant's timeline, the reviewer's history, the API's ``history`` and the audit export
    all read this one table (STYLE §3). Rows are never updated or deleted by the application.
    """

    at = models.DateTimeField(_("时间"), default=timezone.now, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("操作人"), null=True, blank=True,
        on_delete=models.PROTECT, related_name="+",
    )
    actor_role = models.CharField(_("操作人角色"), max_length=32, blank=True)
    event_type = models.CharField(_("事件"), max_length=64, db_index=True)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.PROTECT)
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    from_state = models.CharField(_("原状态"), max_length=32, blank=True)
    to_state = models.CharField(_("新状态"), max_length=32, blank=True)
    reason = models.TextField(_("原因"), blank=True)
    ip_address = models.GenericIPAddressField(_("来源地址"), null=True, blank=True)
    extra = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "at"], name="audit_target_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.event_type}"

    @property
    def label(self) -> str:
        from kjzx.audit import event_label

        return event_label(self.event_type)


class Notice(models.Model):
    """A notice on the home page (通知公告), published by provincial staff."""

    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("正文"))
    issuer = models.CharField(_("发布单位"), max_length=100, default="山西省财政厅")
    published_at = models.DateTimeField(_("发布时间"), default=timezone.now)
    is_published = models.BooleanField(_("已发布"), default=True)

    class Meta:
        verbose_name = _("通知公告")
        verbose_name_plural = _("通知公告")
        ordering = ["-published_at"]
        indexes = [models.Index(fields=["-published_at"], name="notice_published_idx",
                                condition=models.Q(is_published=True))]

    def __str__(self):
        return self.title


class CalendarDay(models.Model):
    """A day of the working-day calendar (工作日历) entered by provincial staff, R-DL-1.

    A row overrides everything else for its date: it fills in a year the ``chinese_calendar``
    library does not know yet (the State Council publishes each arrangement in November or
    December), and corrects the library for a year it does know. Only the days that differ from
    Monday–Friday need a row: the holidays on weekdays and the adjusted working weekends.
    """

    date = models.DateField(_("日期"), unique=True)
    is_working_day = models.BooleanField(
        _("工作日"), default=False,
        help_text=_("勾选：该日上班（如调休上班的周末）；不勾选：该日放假（如春节假期中的工作日）。"),
    )
    name = models.CharField(_("名称"), max_length=50, blank=True, help_text=_("例如“春节”“调休上班”。"))
    note = models.CharField(_("备注"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("工作日历日期")
        verbose_name_plural = _("工作日历")
        ordering = ["date"]

    def __str__(self):
        kind = "上班" if self.is_working_day else "放假"
        return f"{self.date:%Y-%m-%d} {self.name or kind}"


class CalendarYear(models.Model):
    """A year whose holiday arrangement (节假日安排) provincial staff have fully entered, R-DL-1.

    Until a year is confirmed here (or known to ``chinese_calendar``), due dates that fall in it
    are provisional: they count Monday–Friday plus whatever CalendarDay rows exist.
    """

    year = models.PositiveSmallIntegerField(
        _("年度"), primary_key=True, validators=[MinValueValidator(2000), MaxValueValidator(2100)],
    )
    confirmed = models.BooleanField(_("已录入完毕"), default=False)
    source = models.CharField(_("依据文件"), max_length=200, blank=True,
                              help_text=_("例如“国办发明电〔2026〕x号”。"))
    confirmed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("确认人"), null=True, blank=True,
        on_delete=models.SET_NULL, related_name="+",
    )
    confirmed_at = models.DateTimeField(_("确认时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("工作日历年度")
        verbose_name_plural = _("工作日历年度")
        ordering = ["-year"]

    def __str__(self):
        return f"{self.year}年"


class Notification(models.Model):
    """A message to one user (站内消息): decisions on their applications, reminders to reviewers."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE,
                             related_name="notifications")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("时间"), default=timezone.now)
    read_at = models.DateTimeField(_("阅读时间"), null=True, blank=True)

    class Meta:
        verbose_name = _("站内消息")
        verbose_name_plural = _("站内消息")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="notification_user_idx"),
            models.Index(fields=["user"], name="notification_unread_idx", condition=models.Q(read_at__isnull=True)),
        ]

    def __str__(self):
        return self.title

    @property
    def read(self) -> bool:
        return self.read_at is not None


class StepDeadline(models.Model):
    """How many working days a bureau has for one review step (办理时限), R-COL-5, R-CHG-3, R-TRF-2.

    Policy, not code: provincial staff edit the numbers in the admin. The seeds' values ship with
    the migration: collection 5, change 10, each transfer step 10. The credit-claim step has no
    number in the seeds; 10 like a change is our choice (docs/workflows/).
    """

    key = models.CharField(_("环节"), max_length=40, primary_key=True)
    label = models.CharField(_("名称"), max_length=60)
    working_days = models.PositiveSmallIntegerField(_("办理时限（工作日）"))
    remind_days_before = models.PositiveSmallIntegerField(
        _("提前提醒（工作日）"), default=1, help_text=_("到期前几个工作日提醒审核人员。"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("办理时限")
        verbose_name_plural = _("办理时限")
        ordering = ["key"]
        constraints = [models.CheckConstraint(condition=models.Q(working_days__gte=1, working_days__lte=60),
                                              name="step_deadline_days_range")]

    def __str__(self):
        return f"{self.label}：{self.working_days}个工作日"


class ExamRegistrationPeriod(models.Model):
    """The qualification-exam registration period (会计专业技术资格考试报名期间), R-TRF-5.

    While one is on, bureaus must clear collections, changes and transfers promptly, leaving nothing
    over: reminders start earlier and work is reported to the level above before it lapses, not
    after (``kjzx.deadlines``), and every reviewer's page carries a banner. Provincial staff enter
    each year's dates in the admin.
    """

    name = models.CharField(_("名称"), max_length=100, help_text=_("例如：2027年度全国会计专业技术资格考试报名"))
    starts_on = models.DateField(_("开始日期"))
    ends_on = models.DateField(_("结束日期"))
    remind_days_before = models.PositiveSmallIntegerField(
        _("提前提醒（工作日）"), default=3, help_text=_("报名期间，到期前几个工作日起提醒审核人员。"))
    escalate_days_before = models.PositiveSmallIntegerField(
        _("提前报上级（工作日）"), default=1,
        help_text=_("报名期间，到期前几个工作日即抄送上级财政部门；0 表示逾期后再报。"))

    class Meta:
        verbose_name = _("考试报名期间")
        verbose_name_plural = _("考试报名期间")
        ordering = ["-starts_on"]
        constraints = [models.CheckConstraint(condition=models.Q(ends_on__gte=models.F("starts_on")),
                                              name="exam_period_dates_ordered")]

    def __str__(self):
        return f"{self.name}（{self.starts_on:%Y-%m-%d}至{self.ends_on:%Y-%m-%d}）"

    @classmethod
    def active_on(cls, day) -> "ExamRegistrationPeriod | None":
        return cls.objects.filter(starts_on__lte=day, ends_on__gte=day).order_by("-starts_on").first()
