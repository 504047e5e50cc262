"""Notifications (站内消息): the one way services tell a user something (API.md, Notifications).

Services call :func:`notification_send` inside their transaction; the row commits with the change
that caused it. Reads are always the caller's own: another user's message does not exist (404).
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kjzx.models import Notification


def notification_send(*, user, title: str, body: str = "", link: str = "") -> Notification:
    return Notification.objects.create(user=user, title=title, body=body, link=link)


def notification_list(*, user) -> QuerySet[Notification]:
    return Notification.objects.filter(user=user).order_by("-created_at", "-id")


def unread_count(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).count()


@transaction.atomic
def notification_mark_read(*, user, notification_id: int) -> Notification:
    """Mark one of the caller's own notifications read; anyone else's is a 404."""
    notification = Notification.objects.select_for_update().filter(user=user, pk=notification_id).first()
    if notification is None:
        raise Http404
    if notification.read_at is None:
        notification.read_at = timezone.now()
        notification.save(update_fields=["read_at"])
    return notification


@transaction.atomic
def notification_mark_all_read(*, user) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(read_at=timezone.now())
