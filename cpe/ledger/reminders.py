"""Reminders that a CE year's deadline approaches (继续教育年度截止提醒), R-CE-1, R-CE-3, R-CE-5.

Daily (``kjzx.tasks.remind_cpe_year_deadlines``, 09:00): for each open (not frozen) year whose
deadline (完成期限) is at most 30 days away and not past, the people who owe the year (R-CE-1) and
have not completed it (R-CE-3) are told — in 站内消息, by e-mail and by SMS (an action event,
``kjzx.notifications``) — once per round: 30 days before, then 7 days before
(``CPE_DEADLINE_REMINDER_DAYS``). Only the most urgent round due today runs: a portal down over the
30-day mark that comes back 6 days before the deadline sends the 7-day round only.

Set-based, in batches by archive id: one query finds the next people behind (the obligation and the
year's sums computed in SQL), their notifications and deliveries are created, and the round's cursor
(:class:`kjzx.models.ReminderRun`) moves past them — all in one transaction. A round killed half-way
resumes after its last committed batch, and a second worker waits for the round's row lock, so
nobody is told twice. A finished round writes one audit event (``cpe.deadline_reminded``).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.db.models import DecimalField, OuterRef, Subquery, Sum, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone

from cpe.ledger.selectors import ZERO, obliged_archives_q
from cpe.models import CEYear, CreditEntry, SubjectKind
from kjzx.audit import record_event, register_event_labels
from kjzx.models import Notification, ReminderRun
from kjzx.notifications import YEAR_DEADLINE_EVENT, notifications_send_bulk
from records.models import Archive

register_event_labels({"cpe.deadline_reminded": "继续教育年度截止提醒"})

BATCH = 1000  # people per transaction


def year_deadlines_remind(today: dt.date | None = None) -> dict[str, int]:
    """Run today's round of every year whose deadline is near. Returns ``{round key: people told}``."""
    today = today or timezone.localdate()
    stages = settings.CPE_DEADLINE_REMINDER_DAYS
    if not stages:
        return {}
    told = {}
    years = CEYear.objects.filter(frozen_at__isnull=True, deadline__gte=today,
                                  deadline__lte=today + dt.timedelta(days=max(stages))).order_by("year")
    for policy in years:
        left = (policy.deadline - today).days
        stage = min(days for days in stages if days >= left)
        key = f"{YEAR_DEADLINE_EVENT}:{policy.year}:{stage}"
        told[key] = _round(policy, key, stage, left)
    return told


def _round(policy: CEYear, key: str, stage: int, left: int) -> int:
    ReminderRun.objects.get_or_create(key=key)
    while True:
        with transaction.atomic():
            run = ReminderRun.objects.select_for_update().get(key=key)
            if run.finished_at:
                return run.sent
            batch = list(people_behind(policy, after=run.cursor)[:BATCH])
            notifications_send_bulk([_notification(policy, archive, left) for archive in batch])
            run.cursor = batch[-1].pk if batch else run.cursor
            run.sent += len(batch)
            if len(batch) < BATCH:
                run.finished_at = timezone.now()
                record_event(policy, "cpe.deadline_reminded", extra={"year": policy.year, "days_before": stage,
                                                                      "people": run.sent})
            run.save()


def people_behind(policy: CEYear, *, after: int = 0):
    """Archives (with their person) that owe ``policy``'s year and have not completed it, by id after ``after``."""
    entries = CreditEntry.objects.filter(archive=OuterRef("pk"), year=policy).order_by().values("archive")

    def credits(rows):
        return Coalesce(Subquery(rows.annotate(sum=Sum("credits")).values("sum")), Value(ZERO),
                        output_field=DecimalField(max_digits=12, decimal_places=1))

    return (Archive.objects.filter(obliged_archives_q(policy.year), pk__gt=after, person__isnull=False,
                                   person__is_active=True)
            .annotate(year_total=credits(entries),
                      year_professional=credits(entries.filter(subject_kind=SubjectKind.PROFESSIONAL)))
            .exclude(year_total__gte=policy.required_total, year_professional__gte=policy.required_professional)
            .select_related("person").order_by("pk"))


def _n(value: Decimal) -> str:
    return f"{value.normalize():f}"


def _notification(policy: CEYear, archive: Archive, left: int) -> Notification:
    missing_total = max(policy.required_total - archive.year_total, ZERO)
    missing_professional = max(policy.required_professional - archive.year_professional, ZERO)
    when = f"还有{left}天" if left else "今天截止"
    body = (f"您{policy.year}年度已登记{_n(archive.year_total)}学分"
            f"（其中专业科目{_n(archive.year_professional)}学分），"
            f"还差{_n(missing_total)}学分，其中专业科目还差{_n(missing_professional)}学分。"
            f"请在{policy.deadline:%Y-%m-%d}前完成，年度结果将记入会计人员信用信息档案。")
    return Notification(
        user=archive.person, event=YEAR_DEADLINE_EVENT, body=body,
        title=f"继续教育提醒：{policy.year}年度学分须于{policy.deadline:%Y-%m-%d}前完成（{when}）",
        link=reverse("person_cpe_year", args=[policy.year]))
