"""Sending notifications outside the portal — e-mail, SMS, the reviewers' daily digest — at most once.

Every outgoing copy is a row, a :class:`~kjzx.models.Delivery` (one per notification and channel, a
constraint) or a :class:`~kjzx.models.Digest` (one per reviewer and day, a constraint), made in the
transaction of the change it reports (:mod:`kjzx.notifications`). Its ``status`` moves

    pending → sending → sent | failed | unknown          (or → skipped: the channel was turned off)

1. **Claim** by compare-and-swap, in its own short transaction: ``UPDATE … SET status='sending',
   lease_until=now+lease, attempts=attempts+1 WHERE id=… AND status='pending' AND due_at<=now``.
   Of two workers holding the same id (a task delivered twice, the sweep's copy and the original),
   exactly one gets the row; the other sees 0 rows and moves on.
2. **Send**: build the message from the row (never from task arguments, which are ids only) and
   call the provider.
3. **Record**: accepted → ``sent``. Refused for now (no connection, an SMTP 4xx, the SMS gateway's
   "try later") → ``pending`` again with ``due_at`` pushed back (1, 2, 4, 8 minutes) and a new task
   queued with that countdown, until :data:`MAX_ATTEMPTS`, then ``failed``. Refused for good (an SMTP
   5xx, a number the gateway rejects, no gateway) → ``failed``. Anything else — a timeout or a dropped
   connection after the message left, the task's time limit — → ``unknown``.

**Lost tasks** (:func:`deliveries_sweep`, every 5 minutes): a ``pending`` row whose task was lost (the
broker restarted, the enqueue failed at commit, the worker was killed before it reached it) is queued
again once it has waited :data:`settings.NOTIFICATION_REQUEUE_SECONDS`. A ``sending`` row whose lease
ran out belongs to a worker that died while the provider had the message: it is marked ``unknown``
and **never sent again**. We cannot know whether that one message went out, and the issue asks for
*at most once*: a second "您的申请已退回" text or a second digest confuses more than a missing copy,
and the message itself is always in 站内消息. The lease (``NOTIFICATION_LEASE_SECONDS``, 10 minutes)
is far longer than any provider call (``EMAIL_TIMEOUT``, the gateway's timeout), so only a dead
worker lets it run out; a worker that finishes after all the same records the truth (``sent``).
At-least-once would instead reset expired leases to ``pending`` — one line in :func:`deliveries_sweep`.

Nothing personal travels through the queue or the logs: tasks carry row ids; log lines carry ids
and masked mobiles; every subject, body and text passes :func:`redact`, which masks anything shaped
like an ID number or a mobile number.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import re
import smtplib
from collections import defaultdict

from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from kjzx import sms
from kjzx.models import Delivery, Digest, Notification, NotificationPreference, SendState
from kjzx.notifications import channels_for

logger = logging.getLogger(__name__)

BATCH = 200  # delivery ids per task message
DIGEST_BATCH = 50
DIGEST_ITEMS_SHOWN = 100  # a digest lists this many items, then says how many more wait in the portal
MAX_ATTEMPTS = 5


class Transient(Exception):
    """The provider did not take the message; a later try may work."""


class Rejected(Exception):
    """The provider did not take the message and never will."""


# --- what a message says ----------------------------------------------------------------------

ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(\d{3})\d{11}(\d{3}[\dXx])(?![0-9A-Za-z])")
MOBILE_RE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")


def redact(text: str) -> str:
    """Mask anything shaped like an 18-character ID number or a mobile number (no message carries one)."""
    text = ID_NUMBER_RE.sub(lambda m: f"{m[1]}***********{m[2]}", text)
    return MOBILE_RE.sub(lambda m: f"{m[1]}****{m[2]}", text)


def site_url() -> str:
    """The portal's public address for links in e-mail and SMS (``SITE_URL``, never empty: kjzx.settings)."""
    return settings.SITE_URL.rstrip("/")


def action_url(link: str) -> str:
    """The absolute "去办理" address: the notification's own page in the portal, else 我的消息."""
    if not link.startswith("/") or link.startswith("//"):
        link = reverse("notifications")
    return site_url() + link


def _email_context(user) -> dict:
    return {"user": user, "portal": str(settings.PORTAL_NAME), "site_url": site_url(),
            "settings_url": site_url() + reverse("notification_settings"),
            "inbox_url": site_url() + reverse("notifications")}


def notification_email(notification: Notification) -> EmailMultiAlternatives:
    context = {**_email_context(notification.user), "notification": notification,
               "action_url": action_url(notification.link)}
    return _email(notification.user.email, f"【{context['portal']}】{notification.title}",
                  "kjzx/email/notification", context)


def digest_email(digest: Digest, items: list[Notification]) -> EmailMultiAlternatives:
    shown = [(item, action_url(item.link)) for item in items[:DIGEST_ITEMS_SHOWN]]
    context = {**_email_context(digest.user), "digest": digest, "items": shown, "count": len(items),
               "more": max(len(items) - DIGEST_ITEMS_SHOWN, 0)}
    subject = f"【{context['portal']}】{digest.day:%Y-%m-%d} 待办提醒汇总（{len(items)}条）"
    return _email(digest.user.email, subject, "kjzx/email/digest", context)


def _email(to: str, subject: str, template: str, context: dict) -> EmailMultiAlternatives:
    text = redact(render_to_string(f"{template}.txt", context)).strip() + "\n"
    html = redact(render_to_string(f"{template}.html", context))
    message = EmailMultiAlternatives(redact(" ".join(subject.split()))[:200], text, settings.DEFAULT_FROM_EMAIL, [to])
    message.attach_alternative(html, "text/html")
    return message


def notification_sms(notification: Notification) -> str:
    return redact(f"【{settings.PORTAL_NAME}】{notification.title}。去办理：{action_url(notification.link)}")


# --- the providers ----------------------------------------------------------------------------

class Mailer:
    """One e-mail connection for a batch, opened when first needed, reopened after a failure."""

    def __init__(self):
        self.connection = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self.connection is None:
            connection = get_connection(fail_silently=False)
            try:
                connection.open()
            except Exception as exc:  # nothing was sent: no connection to the server
                raise Transient(f"邮件服务器连接失败：{type(exc).__name__}") from exc
            self.connection = connection
        message.connection = self.connection
        try:
            message.send()
        except smtplib.SMTPResponseException as exc:  # the server answered: the message was not taken
            self.close()
            kind = Transient if 400 <= exc.smtp_code < 500 else Rejected
            raise kind(f"邮件服务器拒收：{exc.smtp_code}") from exc
        except smtplib.SMTPRecipientsRefused as exc:
            self.close()
            codes = [code for code, _msg in exc.recipients.values()]
            kind = Transient if codes and all(400 <= code < 500 for code in codes) else Rejected
            raise kind(f"收件地址被拒收：{codes}") from exc
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            try:
                connection.close()
            except Exception:  # the message (if any) was already taken or refused; QUIT failing changes nothing
                logger.debug("closing the e-mail connection failed", exc_info=True)


def _send_sms(mobile: str, text: str) -> None:
    try:
        sms.sms_backend().send(mobile, text)
    except sms.SmsTransientError as exc:
        raise Transient(f"短信网关暂时不可用：{type(exc).__name__}") from exc
    except sms.SmsRejected as exc:
        raise Rejected(str(exc)[:100] or "短信网关拒收") from exc


# --- claim and record -------------------------------------------------------------------------

def _lease() -> dt.timedelta:
    return dt.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS)


def _claim(model, pk: int, now: dt.datetime) -> bool:
    """pending → sending, by compare-and-swap: True for the one caller that got it."""
    return model.objects.filter(pk=pk, status=SendState.PENDING, due_at__lte=now).update(
        status=SendState.SENDING, lease_until=now + _lease(), attempts=F("attempts") + 1) == 1


def _backoff(attempts: int) -> int:
    return min(60 * 2 ** max(attempts - 1, 0), 3600)


@dataclasses.dataclass
class Outcome:
    """What one send came to: the new status, and for a retry the seconds to wait."""

    status: str
    error: str = ""
    retry_in: int | None = None


def _attempt(send, attempts: int) -> Outcome:
    """Call the provider and classify what happened (the module docstring's step 3)."""
    try:
        send()
    except Transient as exc:
        if attempts >= MAX_ATTEMPTS:
            return Outcome(SendState.FAILED, f"{exc}（已尝试{attempts}次）")
        return Outcome(SendState.PENDING, str(exc), _backoff(attempts))
    except Rejected as exc:
        return Outcome(SendState.FAILED, str(exc))
    except SoftTimeLimitExceeded:
        raise
    except Exception as exc:  # it may have gone out: never again (at most once)
        logger.warning("send outcome unknown: %s", type(exc).__name__)
        return Outcome(SendState.UNKNOWN, f"发送结果不明：{type(exc).__name__}")
    return Outcome(SendState.SENT)


def _record(model, pk: int, outcome: Outcome, now: dt.datetime) -> None:
    """Write the outcome; a row the sweep marked unknown meanwhile still gets the truth."""
    fields = {"status": outcome.status, "lease_until": None, "error": outcome.error[:200]}
    if outcome.status == SendState.SENT:
        fields["sent_at"] = timezone.now()
    if outcome.retry_in is not None:
        fields["due_at"] = fields["queued_at"] = now + dt.timedelta(seconds=outcome.retry_in)
    model.objects.filter(pk=pk, status__in=(SendState.SENDING, SendState.UNKNOWN)).update(**fields)


@dataclasses.dataclass
class BatchResult:
    counts: dict[str, int] = dataclasses.field(default_factory=lambda: defaultdict(int))
    retries: list[tuple[int, int]] = dataclasses.field(default_factory=list)  # (id, seconds)


def _still_wanted(delivery: Delivery, prefs: dict[int, NotificationPreference]) -> bool:
    """The channel still applies now: the address is there and the user has not turned it off since."""
    notification = delivery.notification
    pref = prefs.get(notification.user_id) or NotificationPreference()
    return notification.user.is_active and delivery.channel in channels_for(notification.user, notification.event, pref)


def deliveries_send(delivery_ids: list[int], now: dt.datetime | None = None) -> BatchResult:
    """Send these e-mail and SMS deliveries, each at most once (idempotent: safe to run twice, concurrently)."""
    result = BatchResult()
    deliveries = list(Delivery.objects.filter(pk__in=delivery_ids, status=SendState.PENDING)
                      .exclude(channel=Delivery.Channel.DIGEST)
                      .select_related("notification__user").order_by("pk"))
    prefs = {p.user_id: p for p in NotificationPreference.objects.filter(
        user_id__in={d.notification.user_id for d in deliveries})}
    mailer = Mailer()
    try:
        for delivery in deliveries:
            outcome = _deliver(delivery, prefs, mailer, now)
            if outcome is not None:
                result.counts[outcome.status] += 1
                if outcome.retry_in is not None:
                    result.retries.append((delivery.pk, outcome.retry_in))
    finally:
        mailer.close()
    return result


def _deliver(delivery: Delivery, prefs, mailer: Mailer, now: dt.datetime | None) -> Outcome | None:
    now = now or timezone.now()
    if not _claim(Delivery, delivery.pk, now):
        return None  # another worker has it, it is done, or a retry is not due yet
    notification = delivery.notification

    def record(outcome: Outcome) -> None:
        _record(Delivery, delivery.pk, outcome, now)

    if not _still_wanted(delivery, prefs):
        outcome = Outcome(SendState.SKIPPED, "已关闭该渠道或未填写联系方式")
    elif delivery.channel == Delivery.Channel.SMS:
        text = notification_sms(notification)
        outcome = _attempt_once(lambda: _send_sms(notification.user.mobile, text), delivery.attempts + 1, record)
    else:
        outcome = _attempt_once(lambda: mailer.send(notification_email(notification)), delivery.attempts + 1, record)
    record(outcome)
    if outcome.status not in (SendState.SENT, SendState.SKIPPED):
        logger.warning("delivery %s (%s): %s %s", delivery.pk, delivery.channel, outcome.status, outcome.error)
    return outcome


def _attempt_once(send, attempts: int, record) -> Outcome:
    """:func:`_attempt`; the task's time limit hit mid-send leaves the row ``unknown``, then stops the batch
    (the rest stay pending for the sweep)."""
    try:
        return _attempt(send, attempts)
    except SoftTimeLimitExceeded:
        record(Outcome(SendState.UNKNOWN, "发送结果不明：任务超时"))
        raise


# --- the reviewers' daily digest (每日待办汇总) --------------------------------------------------

def digests_build(day: dt.date | None = None) -> list[int]:
    """Gather each reviewer's waiting reminders and escalations into their digest of ``day``; returns
    the digests to send. Safe to run twice: one digest per reviewer and day; what arrives after a
    digest went out waits for the next day's."""
    day = day or timezone.localdate()
    waiting = Delivery.objects.filter(channel=Delivery.Channel.DIGEST, digest__isnull=True, status=SendState.PENDING)
    user_ids = sorted(set(waiting.values_list("notification__user_id", flat=True)))
    ready = []
    for user_id in user_ids:
        with transaction.atomic():
            digest, _created = Digest.objects.get_or_create(user_id=user_id, day=day)
            if digest.status != SendState.PENDING:
                continue  # today's digest already went out: these wait for tomorrow's
            waiting.filter(notification__user_id=user_id).update(digest=digest)
        ready.append(digest.pk)
    return ready


def digests_send(digest_ids: list[int], now: dt.datetime | None = None) -> BatchResult:
    """Send these digests, each at most once (idempotent, like :func:`deliveries_send`)."""
    result = BatchResult()
    mailer = Mailer()
    try:
        for digest in Digest.objects.filter(pk__in=digest_ids, status=SendState.PENDING).select_related("user"):
            outcome = _digest_deliver(digest, mailer, now or timezone.now())
            if outcome is not None:
                result.counts[outcome.status] += 1
                if outcome.retry_in is not None:
                    result.retries.append((digest.pk, outcome.retry_in))
    finally:
        mailer.close()
    return result


def _digest_deliver(digest: Digest, mailer: Mailer, now: dt.datetime) -> Outcome | None:
    if not _claim(Digest, digest.pk, now):
        return None
    items = [d.notification for d in Delivery.objects.filter(digest=digest).select_related("notification")
             .order_by("notification__created_at", "notification_id")]
    pref = NotificationPreference.objects.filter(user_id=digest.user_id).first() or NotificationPreference()

    def record(outcome: Outcome) -> None:
        _record_digest(digest.pk, outcome, now)

    if not items or not (digest.user.is_active and digest.user.email and pref.email):
        outcome = Outcome(SendState.SKIPPED, "已关闭邮件通知、未填写邮箱或没有待办")
    else:
        outcome = _attempt_once(lambda: mailer.send(digest_email(digest, items)), digest.attempts + 1, record)
    record(outcome)
    if outcome.status not in (SendState.SENT, SendState.SKIPPED):
        logger.warning("digest %s: %s %s", digest.pk, outcome.status, outcome.error)
    return outcome


@transaction.atomic
def _record_digest(pk: int, outcome: Outcome, now: dt.datetime) -> None:
    """The digest's outcome, and its items share it (a retry leaves them waiting in the digest)."""
    _record(Digest, pk, outcome, now)
    if outcome.status != SendState.PENDING:
        Delivery.objects.filter(digest_id=pk).update(
            status=outcome.status, sent_at=timezone.now() if outcome.status == SendState.SENT else None,
            error=outcome.error[:200])


# --- queueing and the sweep -------------------------------------------------------------------

def chunks(ids: list[int], size: int):
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def deliveries_enqueue_on_commit(delivery_ids: list[int]) -> None:
    """Queue the sending of these deliveries once the transaction commits (nothing if it rolls back)."""
    if delivery_ids:
        transaction.on_commit(lambda: deliveries_enqueue(delivery_ids))


def deliveries_enqueue(delivery_ids: list[int], countdown: int | None = None) -> None:
    _enqueue("send_deliveries", delivery_ids, BATCH, countdown)


def digests_enqueue(digest_ids: list[int], countdown: int | None = None) -> None:
    _enqueue("send_digests", digest_ids, DIGEST_BATCH, countdown)


def _enqueue(task_name: str, ids: list[int], size: int, countdown: int | None) -> None:
    """A broker outage is logged, never raised: the rows stay pending and the sweep queues them again."""
    from kjzx import tasks  # kjzx.tasks imports this module

    task = getattr(tasks, task_name)
    for chunk in chunks(ids, size):
        try:
            task.apply_async((chunk,), countdown=countdown)
        except Exception:
            logger.exception("could not queue %s (%d ids); the sweep will queue them again", task.name, len(chunk))


def deliveries_sweep(now: dt.datetime | None = None) -> dict[str, int]:
    """Every few minutes: expired leases → ``unknown`` (never resent); pending rows whose task was lost →
    queued again."""
    now = now or timezone.now()
    stale = now - dt.timedelta(seconds=settings.NOTIFICATION_REQUEUE_SECONDS)
    counts = {"unknown": 0, "requeued": 0}
    for model, enqueue in ((Delivery, deliveries_enqueue), (Digest, digests_enqueue)):
        expired = model.objects.filter(status=SendState.SENDING, lease_until__lt=now)
        lost = list(expired.values_list("pk", flat=True))
        if lost:
            counts["unknown"] += expired.update(status=SendState.UNKNOWN, lease_until=None,
                                                error="发送结果不明：发送中的进程已终止")
            if model is Digest:
                Delivery.objects.filter(digest_id__in=lost, status=SendState.PENDING).update(
                    status=SendState.UNKNOWN, error="发送结果不明：发送中的进程已终止")
            logger.warning("%s %s: worker lost while sending, marked unknown (not resent)", model.__name__, lost)
        pending = model.objects.filter(status=SendState.PENDING, queued_at__lt=stale, due_at__lte=now)
        if model is Delivery:
            pending = pending.exclude(channel=Delivery.Channel.DIGEST)
        ids = list(pending.order_by("pk").values_list("pk", flat=True)[:settings.NOTIFICATION_SWEEP_LIMIT])
        if ids:
            model.objects.filter(pk__in=ids).update(queued_at=now)
            enqueue(ids)
            counts["requeued"] += len(ids)
    return counts
