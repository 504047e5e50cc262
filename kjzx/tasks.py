"""Celery entry points of the shared app: each one calls a service (STYLE §1, §4).

The names are part of the beat schedule and of queued messages, so they never change. Every task
takes ids (never a name, an ID number or a mobile) and is safe to run twice.
"""

from celery import shared_task
from django.db import InterfaceError, OperationalError
from django.utils import timezone

from kjzx.deadlines import due_steps_remind, overdue_steps_escalate
from kjzx.deliveries import (
    deliveries_enqueue,
    deliveries_send,
    deliveries_sweep,
    digests_build,
    digests_enqueue,
    digests_send,
)
from kjzx.workdays import calendar_gap_report

RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "max_retries": 5}
# A batch of 200 messages at a few hundred ms each; past the soft limit the message in hand is marked
# "unknown" and the rest stay pending for the sweep (kjzx.deliveries).
SEND_LIMITS = {"soft_time_limit": 600, "time_limit": 660}


@shared_task(name="kjzx.tasks.check_calendar_coverage", **RETRY)
def check_calendar_coverage() -> list[int]:
    """Daily: record years missing from the working-day calendar (工作日历缺失), R-DL-1, R-DL-3.

    Safe to run twice: the day gets one "calendar.gap" audit event at most. Returns the gaps.
    """
    return calendar_gap_report()


@shared_task(name="kjzx.tasks.remind_due_steps", **RETRY)
def remind_due_steps() -> int:
    """Daily: remind reviewers of review steps due soon (待办提醒), R-DL-2.

    Safe to run twice: each step is reminded once per due date. Returns the number of items reminded.
    """
    return due_steps_remind()


@shared_task(name="kjzx.tasks.escalate_overdue_steps", **RETRY)
def escalate_overdue_steps() -> int:
    """Daily: report overdue review steps to the bureau and the level above (逾期报上级), R-DL-2, R-DL-3.

    Safe to run twice, and catches up after days without a run. Returns the number of items escalated.
    """
    return overdue_steps_escalate()


@shared_task(name="kjzx.tasks.send_deliveries", **RETRY, **SEND_LIMITS)
def send_deliveries(delivery_ids: list[int]) -> dict:
    """Send notifications' e-mail and SMS copies (消息外发), each at most once.

    Queued after the commit that made them, and again by the sweep if that message was lost. A
    transient refusal queues that one delivery again with backoff. Returns ``{status: count}``.
    """
    result = deliveries_send(delivery_ids)
    for delivery_id, seconds in result.retries:
        deliveries_enqueue([delivery_id], countdown=seconds + 1)
    return dict(result.counts)


@shared_task(name="kjzx.tasks.send_digests", **RETRY, **SEND_LIMITS)
def send_digests(digest_ids: list[int]) -> dict:
    """Send reviewers' daily digests (每日待办汇总), each at most once. Returns ``{status: count}``."""
    result = digests_send(digest_ids)
    for digest_id, seconds in result.retries:
        digests_enqueue([digest_id], countdown=seconds + 1)
    return dict(result.counts)


@shared_task(name="kjzx.tasks.send_reviewer_digests", **RETRY)
def send_reviewer_digests() -> int:
    """Daily at 08:30: gather each reviewer's reminders and escalations into one e-mail and queue it.

    Safe to run twice: one digest per reviewer and day. Returns the number of digests queued.
    """
    digest_ids = digests_build(timezone.localdate())
    digests_enqueue(digest_ids)
    return len(digest_ids)


@shared_task(name="kjzx.tasks.sweep_deliveries", **RETRY)
def sweep_deliveries() -> dict:
    """Every 5 minutes: queue again what a lost task left pending; mark a dead worker's sends unknown."""
    return deliveries_sweep()


@shared_task(name="kjzx.tasks.remind_cpe_year_deadlines", **RETRY)
def remind_cpe_year_deadlines() -> dict:
    """Daily: tell people obliged and not complete that a CE year's deadline approaches (e.g. 30 and 7
    days before), by message, e-mail and SMS; R-CE-3, R-CE-5. Safe to run twice, and resumes
    a round killed half-way. Returns ``{round: people told}``."""
    from cpe.ledger.reminders import year_deadlines_remind  # cpe builds on kjzx, not the other way round

    return year_deadlines_remind()


def enqueue_after_commit(task, *args) -> None:
    """Queue ``task`` once the current transaction commits (STYLE §4); a broker outage is logged, never a
    500: the object's stored state tells the page what happened, and the task can be started again."""
    import logging

    from django.db import transaction

    def send():
        try:
            task.delay(*args)
        except Exception:
            logging.getLogger("kjzx.tasks").exception("could not queue %s%r", task.name, args)

    transaction.on_commit(send)
