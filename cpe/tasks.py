"""Celery entry points of continuing education: each one calls a service (STYLE §1, §4)."""

from celery import shared_task
from django.utils import timezone

from cpe import tasks_exams  # noqa: F401  (Celery autodiscovers ``tasks`` modules only: the exam-list tasks)
from cpe.ledger import due_years_close
from cpe.policy import ce_year_ensure
from kjzx.tasks import RETRY


@shared_task(name="cpe.tasks.close_due_cpe_years", **RETRY)
def close_due_cpe_years() -> dict:
    """Daily: freeze every CE year whose registration has closed into the credit-information file
    (年度学分登记结束，纳入信用信息档案), and make sure this year's policy exists (R-CE-5, R-CE-13, R-DL-3).

    On 1 January the new year appears with the previous year's numbers, due 31 March of the next
    year and with no make-up window, for provincial staff to adjust. Safe to run twice (a frozen year
    is left alone); after days without a run the next one closes everything that came due meanwhile.
    Returns ``{"closed": [years], "current": year}``.
    """
    current = ce_year_ensure(timezone.localdate().year)
    return {"closed": due_years_close(), "current": current.year}
