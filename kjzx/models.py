"""Cross-cutting models: the append-only audit history (审计记录) and the portal's notices (通知公告)."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
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
