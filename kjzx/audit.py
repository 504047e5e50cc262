"""The one way to write the audit history (STYLE §3).

Services call :func:`record_event` inside their transaction, so a business change and its audit
row commit together or not at all. Event types are dotted names with a Chinese label here.
"""

from __future__ import annotations

from django.contrib.contenttypes.models import ContentType
from django.db import models

from kjzx.models import AuditEvent

EVENT_LABELS: dict[str, str] = {
    "account.registered": "注册账号",
    "account.login": "登录",
    "account.login_failed": "登录失败",
    "account.locked_out": "账号锁定",
    "account.logout": "退出登录",
    "account.password_changed": "修改密码",
    "account.password_reset_requested": "申请重置密码",
    "account.password_reset": "重置密码",
    "account.staff_created": "创建工作人员账号",
    "account.token_created": "签发接口令牌",
}


def register_event_labels(labels: dict[str, str]) -> None:
    """Apps add their own event labels at import time (records, transfers, cpe)."""
    EVENT_LABELS.update(labels)


def event_label(event_type: str) -> str:
    return EVENT_LABELS.get(event_type, event_type)


def record_event(
    target: models.Model | None,
    event_type: str,
    *,
    by=None,
    before: str = "",
    after: str = "",
    reason: str = "",
    ip: str | None = None,
    extra: dict | None = None,
) -> AuditEvent:
    """Append one audit row; ``by`` is None for the system (a Celery sweep, the exchange)."""
    actor = by if getattr(by, "pk", None) else None
    return AuditEvent.objects.create(
        actor=actor,
        actor_role=getattr(actor, "role", "") if actor else "system",
        event_type=event_type,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        from_state=before or "",
        to_state=after or "",
        reason=reason or "",
        ip_address=ip,
        extra=extra or {},
    )


def history_for(target: models.Model):
    """The history of one object, oldest first, with actors loaded in the same query."""
    return (
        AuditEvent.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk))
        .select_related("actor")
        .order_by("at", "id")
    )
