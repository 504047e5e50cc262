"""Celery entry points of the shared app: each one calls a service (STYLE §1, §4)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from kjzx.deadlines import due_steps_remind, overdue_steps_escalate
from kjzx.workdays import calendar_gap_report

RETRY = {"autoretry_for": (OperationalError, InterfaceError), "retry_backoff": True, "max_retries": 5}


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
