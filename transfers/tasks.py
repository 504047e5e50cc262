"""Celery entry points of transfers: each one calls a service (STYLE §1, §4)."""

from celery import shared_task

from kjzx.tasks import RETRY
from transfers.services import outbound_timeouts_return


@shared_task(name="transfers.tasks.return_unanswered_outbound", **RETRY)
def return_unanswered_outbound() -> int:
    """Hourly: return to the origin every uploaded outbound record the destination province did not
    answer within the province's period (超期未接收，自动退回), R-TRF-3, R-DL-3.

    Safe to run twice and by two workers at once (rows are claimed with ``skip_locked``); a run
    missed while the machine was down is caught up by the next. Returns the number returned.
    """
    return outbound_timeouts_return()
