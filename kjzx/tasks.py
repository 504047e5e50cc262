"""Celery entry points of the shared app: each one calls a service (STYLE §1, §4)."""

from celery import shared_task
from django.db import InterfaceError, OperationalError

from kjzx.workdays import calendar_gap_report


@shared_task(
    name="kjzx.tasks.check_calendar_coverage",
    autoretry_for=(OperationalError, InterfaceError),
    retry_backoff=True,
    max_retries=5,
)
def check_calendar_coverage() -> list[int]:
    """Daily: record years missing from the working-day calendar (工作日历缺失), R-DL-1, R-DL-3.

    Safe to run twice: the day gets one "calendar.gap" audit event at most. Returns the gaps.
    """
    return calendar_gap_report()
