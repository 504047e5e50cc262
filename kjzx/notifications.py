"""Notifications (站内消息, e-mail, SMS): the one way services tell a user something (API.md, Notifications).

Services call :func:`notification_send` (or :func:`notifications_send_bulk` for a sweep) inside their
transaction. The :class:`~kjzx.models.Notification` row commits with the change that caused it, and
so do its outgoing copies, one :class:`~kjzx.models.Delivery` row per channel:

- **站内消息** (in the portal): always; the row itself.
- **e-mail** (``Delivery.Channel.EMAIL``): every notification, to a user with an e-mail address who
  has not turned e-mail off (消息设置).
- **SMS** (``SMS``): only for the events a person must act on — :func:`is_action_event`: returned,
  approved, a transfer completed (the archive arrived), a CE year's deadline approaching — to a user
  with a mobile who has not turned SMS off.
- **the reviewers' daily digest** (``DIGEST``) instead of an e-mail each for reminders and
  escalations (events ``review.*``): one e-mail per reviewer per day, sent at 08:30.

Nothing leaves the portal inside the transaction: the delivery ids are queued on commit
(``transaction.on_commit``), and a rolled-back change sends nothing. Sending, retries, the sweep of
lost tasks and the at-most-once rule are :mod:`kjzx.deliveries`.

Reads are always the caller's own: another user's message does not exist (404).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from kjzx.audit import record_event, register_event_labels
from kjzx.models import Delivery, Notification, NotificationPreference

register_event_labels({"notification.preferences_changed": "修改消息设置"})

# The state an application reached that its applicant must act on (returned: correct and resubmit;
# approved / completed: the result is in force, e.g. claim the archive or read the credits).
ACTION_STATES = frozenset({"returned", "approved", "completed"})
YEAR_DEADLINE_EVENT = "cpe.year_deadline"
DIGEST_PREFIX = "review."  # review.reminder, review.overdue, review.escalated: reviewers' daily digest


def is_action_event(event: str) -> bool:
    """Events a person must act on: the only ones also sent by SMS."""
    return event == YEAR_DEADLINE_EVENT or (event.count(".") == 1 and event.rsplit(".", 1)[1] in ACTION_STATES)


def is_digest_event(event: str) -> bool:
    return event.startswith(DIGEST_PREFIX)


# --- preferences (消息设置) ---------------------------------------------------------------------

def preference_for(user) -> NotificationPreference:
    """The user's channels; without a stored row, the defaults (e-mail and SMS on)."""
    return NotificationPreference.objects.filter(user=user).first() or NotificationPreference(user=user)


def preferences_of(user_ids: Iterable[int]) -> dict[int, NotificationPreference]:
    """Stored preferences of many users in one query (missing ones are the defaults)."""
    return {pref.user_id: pref for pref in NotificationPreference.objects.filter(user_id__in=set(user_ids))}


@transaction.atomic
def notification_preferences_save(*, user, email: bool, sms: bool, ip: str | None = None) -> NotificationPreference:
    """Save the user's channels (站内消息 cannot be turned off), with an audit row when they change."""
    pref, _created = NotificationPreference.objects.select_for_update().get_or_create(user=user)
    before = {"email": pref.email, "sms": pref.sms}
    after = {"email": bool(email), "sms": bool(sms)}
    if before != after:
        pref.email, pref.sms = after["email"], after["sms"]
        pref.save(update_fields=["email", "sms", "updated_at"])
        record_event(user, "notification.preferences_changed", by=user, ip=ip, extra={"before": before, "after": after})
    return pref


def channels_for(user, event: str, pref: NotificationPreference) -> list[str]:
    """The outgoing channels of one notification: the one rule."""
    email = bool(user.email) and pref.email
    if is_digest_event(event):
        return [Delivery.Channel.DIGEST] if email else []
    channels = [Delivery.Channel.EMAIL] if email else []
    if is_action_event(event) and user.mobile and pref.sms:
        channels.append(Delivery.Channel.SMS)
    return channels


# --- sending ----------------------------------------------------------------------------------

def notification_send(*, user, title: str, body: str = "", link: str = "", event: str = "") -> Notification:
    """Tell ``user`` something: in the portal now, by e-mail/SMS after the transaction commits."""
    notification = Notification.objects.create(user=user, title=title, body=body, link=link, event=event)
    _deliveries_create([notification], {user.pk: preference_for(user)})
    return notification


def notifications_send_bulk(notifications: list[Notification]) -> list[Notification]:
    """:func:`notification_send` for many at once (the deadline sweeps): a fixed number of queries.

    Each notification's ``user`` must be loaded (the sweeps have them); the preferences are one query.
    """
    created = Notification.objects.bulk_create(notifications)
    _deliveries_create(created, preferences_of(n.user_id for n in created))
    return created


def _deliveries_create(notifications: list[Notification], prefs: dict[int, NotificationPreference]) -> None:
    from kjzx.deliveries import deliveries_enqueue_on_commit

    rows = [Delivery(notification=n, channel=channel)
            for n in notifications
            for channel in channels_for(n.user, n.event, prefs.get(n.user_id) or NotificationPreference())]
    if not rows:
        return
    rows = Delivery.objects.bulk_create(rows)
    deliveries_enqueue_on_commit([row.pk for row in rows if row.channel != Delivery.Channel.DIGEST])


# --- the caller's own messages ----------------------------------------------------------------

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
