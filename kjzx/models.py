"""Cross-cutting models: the append-only audit history (审计记录), the portal's notices (通知公告)
and the working-day calendar (工作日历, R-DL-1)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class AuditEventQuerySet(models.QuerySet):
    """Audit rows are appended one by one (each joins the hash chain) and never updated or deleted."""

    def update(self, **kwargs):
        from kjzx.audit_chain import AppendOnlyError, rewriting_allowed

        if not rewriting_allowed():
            raise AppendOnlyError("update()")
        return super().update(**kwargs)

    def delete(self):
        from kjzx.audit_chain import AppendOnlyError

        raise AppendOnlyError("delete()")

    def bulk_create(self, objs, batch_size=None):
        """One INSERT for many new rows, chained in order (each carries the hash of the one before)."""
        from kjzx.audit_chain import append_many

        objs = list(objs)
        if objs:
            append_many(objs, self.db, lambda: super(AuditEventQuerySet, self).bulk_create(objs, batch_size))
        return objs


class AuditEvent(models.Model):
    """One entry of the append-only history (审计记录), written only through kjzx.audit.record_event.

    The applicant's timeline, the reviewer's history, the API's ``history`` and the audit export
    all read this one table (STYLE §3). Rows are never updated or deleted: a database trigger refuses
    it, and so do ``save()`` on an existing row, ``delete()`` and the queryset. Each row carries the
    keyed hash of the one before (``prev_hash``, ``row_hash``; kjzx.audit_chain, ``manage.py audit_verify``).
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
    user_agent = models.CharField(_("客户端"), max_length=200, blank=True)
    extra = models.JSONField(_("附加信息"), default=dict, blank=True)
    key_id = models.CharField(_("密钥编号"), max_length=16, blank=True, editable=False)
    prev_hash = models.CharField(_("前一条哈希"), max_length=64, blank=True, editable=False)
    row_hash = models.CharField(_("本条哈希"), max_length=64, blank=True, editable=False)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("审计记录")
        verbose_name_plural = _("审计记录")
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["target_type", "target_id", "at"], name="audit_target_idx")]

    def __str__(self):
        return f"{self.at:%Y-%m-%d %H:%M} {self.event_type}"

    def save(self, *args, using=None, **kwargs):
        """Append this new row to the chain; an existing row is never saved again."""
        from django.db import router

        from kjzx.audit_chain import AppendOnlyError, append

        if not self._state.adding:
            raise AppendOnlyError("save()")
        using = using or router.db_for_write(type(self), instance=self)
        append(self, using, lambda: super(AuditEvent, self).save(using=using, force_insert=True))

    def delete(self, *args, **kwargs):
        from kjzx.audit_chain import AppendOnlyError

        raise AppendOnlyError("delete()")

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
    """A message to one user (站内消息): decisions on their applications, reminders to reviewers.

    The row is the message in the portal; its e-mail and SMS copies are :class:`Delivery` rows
    (``kjzx.notifications``, ``kjzx.deliveries``).
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE,
                             related_name="notifications")
    title = models.CharField(_("标题"), max_length=200)
    body = models.TextField(_("内容"), blank=True)
    link = models.CharField(_("链接"), max_length=300, blank=True)
    # What happened, e.g. "collection.returned", "review.overdue", "cpe.year_deadline": decides the channels.
    event = models.CharField(_("事件"), max_length=64, blank=True)
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


class NotificationPreference(models.Model):
    """A user's channels (消息设置): 站内消息 always; e-mail on or off; SMS on or off for action events.

    No row means the defaults: both on. Read with :func:`kjzx.notifications.preference_for`.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, verbose_name=_("用户"), primary_key=True,
                                on_delete=models.CASCADE, related_name="notification_preference")
    email = models.BooleanField(_("邮件通知"), default=True,
                                help_text=_("每条站内消息同时发送到您的电子邮箱；审核人员的办理提醒每天汇总为一封邮件。"))
    sms = models.BooleanField(_("短信通知"), default=True,
                              help_text=_("需要您办理的事项（退回、审核通过、档案调转完成、继续教育年度即将截止）同时发送短信。"))
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        verbose_name = _("消息设置")
        verbose_name_plural = _("消息设置")

    def __str__(self):
        return f"{self.user_id}"


class SendState(models.TextChoices):
    """Where an outgoing e-mail or SMS stands (pending → sending → sent / failed / unknown / skipped)."""

    PENDING = "pending", _("待发送")
    SENDING = "sending", _("发送中")
    SENT = "sent", _("已发送")
    FAILED = "failed", _("发送失败")
    UNKNOWN = "unknown", _("结果不明")  # the worker died while the provider had it: never sent again
    SKIPPED = "skipped", _("未发送")  # preference turned off or address removed before sending


class Digest(models.Model):
    """One reviewer's daily e-mail (每日待办汇总) gathering that day's reminders and escalations.

    One per user and day (a constraint): the beat task of 08:30 may run twice and still send one.
    """

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("接收人"), on_delete=models.CASCADE,
                             related_name="+")
    day = models.DateField(_("日期"))
    status = models.CharField(_("状态"), max_length=10, choices=SendState.choices, default=SendState.PENDING)
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    due_at = models.DateTimeField(_("计划发送时间"), default=timezone.now)  # not before (a retry's backoff)
    queued_at = models.DateTimeField(_("入队时间"), default=timezone.now)  # last put on the task queue
    lease_until = models.DateTimeField(_("占用截止"), null=True, blank=True)  # while sending
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("每日汇总邮件")
        verbose_name_plural = _("每日汇总邮件")
        constraints = [models.UniqueConstraint(fields=["user", "day"], name="digest_one_per_user_and_day")]
        indexes = [
            models.Index(fields=["queued_at"], name="digest_pending_idx", condition=models.Q(status="pending")),
            models.Index(fields=["lease_until"], name="digest_sending_idx", condition=models.Q(status="sending")),
        ]

    def __str__(self):
        return f"{self.day:%Y-%m-%d} {self.user_id}"


class Delivery(models.Model):
    """One copy of a notification sent outside the portal: by e-mail, by SMS, or in a reviewer's digest.

    At most one per notification and channel (a constraint), claimed by compare-and-swap before the
    provider is called (``kjzx.deliveries``): a message is sent at most once.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("邮件")
        SMS = "sms", _("短信")
        DIGEST = "digest", _("每日汇总邮件")

    notification = models.ForeignKey(Notification, verbose_name=_("消息"), on_delete=models.CASCADE,
                                     related_name="deliveries")
    channel = models.CharField(_("渠道"), max_length=10, choices=Channel.choices)
    status = models.CharField(_("状态"), max_length=10, choices=SendState.choices, default=SendState.PENDING)
    digest = models.ForeignKey(Digest, verbose_name=_("汇总邮件"), null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="deliveries")
    attempts = models.PositiveSmallIntegerField(_("尝试次数"), default=0)
    due_at = models.DateTimeField(_("计划发送时间"), default=timezone.now)  # not before (a retry's backoff)
    queued_at = models.DateTimeField(_("入队时间"), default=timezone.now)  # last put on the task queue
    lease_until = models.DateTimeField(_("占用截止"), null=True, blank=True)  # while sending
    sent_at = models.DateTimeField(_("发送时间"), null=True, blank=True)
    error = models.CharField(_("错误"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now)

    class Meta:
        verbose_name = _("消息外发")
        verbose_name_plural = _("消息外发")
        constraints = [models.UniqueConstraint(fields=["notification", "channel"],
                                               name="delivery_one_per_channel")]
        indexes = [
            models.Index(fields=["queued_at"], name="delivery_pending_idx", condition=models.Q(status="pending")),
            models.Index(fields=["lease_until"], name="delivery_sending_idx", condition=models.Q(status="sending")),
            models.Index(fields=["digest"], name="delivery_digest_idx", condition=models.Q(digest__isnull=False)),
            models.Index(fields=["notification"], name="delivery_waiting_digest_idx",
                         condition=models.Q(channel="digest", digest__isnull=True, status="pending")),
        ]

    def __str__(self):
        return f"{self.notification_id} {self.channel} {self.status}"


class ReminderRun(models.Model):
    """The progress of one set-based reminder round (e.g. "2026年度 30 days before the deadline"):
    a cursor moved in the same transaction as each batch of notifications, so a round killed half-way
    resumes where it stopped and nobody is told twice."""

    key = models.CharField(_("批次"), max_length=80, primary_key=True)
    cursor = models.BigIntegerField(_("进度"), default=0)
    sent = models.PositiveIntegerField(_("已提醒人数"), default=0)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    created_at = models.DateTimeField(_("开始时间"), default=timezone.now)

    class Meta:
        verbose_name = _("批量提醒进度")
        verbose_name_plural = _("批量提醒进度")

    def __str__(self):
        return self.key


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
