"""Deadline sweeps (办理时限提醒与逾期报上级), R-DL-2, R-DL-3; STYLE §4 "Deadlines are columns, swept".

Every review step stores its ``due_date`` when it starts (:func:`kjzx.workflow.workflow_transition`).
Two daily beat tasks (``kjzx.tasks``) sweep every kind of :class:`~kjzx.workflow.WorkflowModel`:

- :func:`due_steps_remind` (待办提醒): items waiting for a bureau whose due date is at most
  ``StepDeadline.remind_days_before`` working days away (default 1; 0 is the due date itself) →
  one notification to each reviewer of the item's jurisdiction. Stamped ``reminded_for = due_date``.
- :func:`overdue_steps_escalate` (逾期报上级): items waiting for a bureau past their due date →
  the jurisdiction's reviewers *and* the level above (county → its city; 市直 → the province;
  省直 → the province only), one audit event ``<kind>.overdue``. Stamped ``escalated_for = due_date``.

Both are notifications in the portal at once and, by e-mail, entries of each reviewer's daily digest
(每日待办汇总, ``kjzx.deliveries``, 08:30): one e-mail per reviewer per day, not one per item.

During the qualification-exam registration period (:class:`kjzx.models.ExamRegistrationPeriod`,
entered by provincial staff), R-TRF-5 tightens both: reminders start ``remind_days_before`` working
days ahead (default 3) and the level above is told ``escalate_days_before`` working days before the
due date (default 1: on the due date itself) — event ``<kind>.escalated`` — not only once it lapsed.

Who "the jurisdiction's reviewers" are: active county/city/provincial reviewers whose region is
exactly the item's jurisdiction. A bureau with no reviewer account yet (a county not on the
portal) is covered by the nearest bureau above it that has one — it may act there (R-ACL-1) —
and escalation then goes one level above *that* bureau.

Safe to run twice, and by two workers at once: rows are claimed with
``select_for_update(skip_locked=True)`` and only those whose stamp differs from their due date;
the stamp is written in the same transaction as the notifications. A new step (resubmission)
gets a new due date, so it is reminded and escalated again. A sweep that did not run for days
(the machine was down) looks at ``due_date < today``, not "yesterday", so it catches up (R-DL-3).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from urllib.parse import urlencode

from django.apps import apps
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from accounts.models import REVIEWER_ROLES, User
from kjzx.audit import record_event, register_event_labels
from kjzx.models import ExamRegistrationPeriod, Notification, StepDeadline
from kjzx.notifications import notifications_send_bulk
from kjzx.workdays import working_days_after, working_days_left
from kjzx.workflow import WorkflowModel

OVERDUE_LABEL = "逾期未办理"
EARLY_LABEL = "考试报名期间提前报上级"
# The kinds known today; a kind added later registers its own label when a sweep first meets it.
register_event_labels({f"{kind}.overdue": OVERDUE_LABEL for kind in ("collection", "change", "transfer", "claim")})
register_event_labels({f"{kind}.escalated": EARLY_LABEL for kind in ("collection", "change", "transfer", "claim")})

DEFAULT_REMIND_DAYS = 1
# Notification events (kjzx.notifications): "review.*" go to each reviewer's daily digest e-mail
# (每日待办汇总, 08:30) instead of one e-mail per item.
REMINDER_EVENT, OVERDUE_EVENT, EARLY_EVENT = "review.reminder", "review.overdue", "review.escalated"
BATCH_SIZE = 500  # rows claimed per transaction: short locks, bounded memory


# --- the kinds and their policy ---------------------------------------------------------------

def workflow_models() -> list[type[WorkflowModel]]:
    """Every concrete workflow kind with a bureau step (collections, changes, transfers, claims…)."""
    return [model for model in apps.get_models()
            if issubclass(model, WorkflowModel) and model.REVIEW_STATES and not model._meta.proxy]


def deadline_keys(model: type[WorkflowModel]) -> set[str]:
    """The StepDeadline keys a kind's transitions start (``custom["deadline"]``)."""
    keys = set()
    for t in model._meta.get_field("status").get_all_transitions(model):
        key = (t.custom or {}).get("deadline")
        if key and key != "clear":
            keys.add(key)
    return keys


def remind_days_before(model: type[WorkflowModel]) -> int:
    """The reminder lead of a kind (提前提醒工作日数): the largest of its steps' policies, default 1."""
    condition = Q(key__in=deadline_keys(model)) | Q(key__startswith=f"{model.KIND}.")
    leads = StepDeadline.objects.filter(condition).values_list("remind_days_before", flat=True)
    return max(leads, default=DEFAULT_REMIND_DAYS)


# --- who is told --------------------------------------------------------------------------------

def _chain(obj: WorkflowModel) -> list[str]:
    """The jurisdiction and the regions above it, innermost first: 140502 → 140500 → 140000."""
    return list(reversed(obj.jurisdiction.path.strip("/").split("/")))


def _reviewers_by_region(objects: Iterable[WorkflowModel]) -> dict[str, list[User]]:
    """Active reviewers of every region on the objects' chains, in one query."""
    codes = {code for obj in objects for code in _chain(obj)}
    grouped: dict[str, list[User]] = defaultdict(list)
    users = User.objects.filter(is_active=True, role__in=REVIEWER_ROLES, region_id__in=codes).order_by("pk")
    for user in users:
        grouped[user.region_id].append(user)
    return grouped


def _nearest_bureau(chain: list[str], reviewers: dict[str, list[User]]) -> tuple[int, list[User]]:
    """(position in ``chain``, reviewers) of the first bureau on the chain that has reviewers."""
    for position, code in enumerate(chain):
        if reviewers.get(code):
            return position, reviewers[code]
    return len(chain), []


def reminder_recipients(obj: WorkflowModel, reviewers: dict[str, list[User]]) -> list[User]:
    """The reviewers of the item's own bureau (R-DL-2)."""
    return _nearest_bureau(_chain(obj), reviewers)[1]


def escalation_recipients(obj: WorkflowModel, reviewers: dict[str, list[User]]) -> list[User]:
    """The item's own bureau and the one above it (R-DL-2: city for counties, province for cities)."""
    chain = _chain(obj)
    position, own = _nearest_bureau(chain, reviewers)
    _above_position, above = _nearest_bureau(chain[position + 1:], reviewers)
    unique = {user.pk: user for user in [*own, *above]}
    return list(unique.values())


# --- the sweep ----------------------------------------------------------------------------------

def _claim(model: type[WorkflowModel], stamp: str, due: Q) -> list[WorkflowModel]:
    """Lock a batch of items due for ``stamp`` that nobody handled yet; rows another worker holds are skipped."""
    not_yet = Q(**{f"{stamp}__isnull": True}) | ~Q(**{stamp: F("due_date")})
    qs = (model.objects.select_for_update(skip_locked=True, of=("self",))
          .filter(due, not_yet, model.review_q(), due_date__isnull=False, jurisdiction__isnull=False)
          .select_related("jurisdiction__parent", "applicant")
          .order_by("due_date", "pk"))
    return list(qs[:BATCH_SIZE])


Handler = Callable[[list[WorkflowModel], dict[str, list[User]], dt.date], list[Notification]]


def _sweep(stamp: str, today: dt.date, due_for: Callable[[type[WorkflowModel]], Q], handle: Handler) -> int:
    """Claim, notify and stamp, kind by kind and batch by batch; returns how many items were handled."""
    handled = 0
    for model in workflow_models():
        due = due_for(model)
        while True:
            count = _sweep_batch(model, stamp, today, due, handle)
            handled += count
            if count < BATCH_SIZE:
                break
    return handled


@transaction.atomic
def _sweep_batch(model: type[WorkflowModel], stamp: str, today: dt.date, due: Q, handle: Handler) -> int:
    """One transaction: the stamp and the notifications commit together, or neither does."""
    batch = _claim(model, stamp, due)
    if batch:
        model.objects.filter(pk__in=[obj.pk for obj in batch]).update(**{stamp: F("due_date")})
        notifications_send_bulk(handle(batch, _reviewers_by_region(batch), today))
    return len(batch)


def _applicant_line(obj: WorkflowModel) -> str:
    name = obj.applicant.name if obj.applicant_id else ""
    return f"申请人：{name}；" if name else ""


def _link(obj: WorkflowModel) -> str:
    """The item's workbench page if the kind names one, else the queue searched by its number."""
    if hasattr(obj, "reviewer_url"):
        return obj.reviewer_url()
    return f"/workbench/?{urlencode({'q': obj.number})}"


def _reminders(batch: list[WorkflowModel], reviewers: dict[str, list[User]], today: dt.date) -> list[Notification]:
    left = working_days_left(today, [obj.due_date for obj in batch])
    notes = []
    for obj in batch:
        title = f"待办提醒：{obj.KIND_LABEL} {obj.number} 将于 {obj.due_date:%Y-%m-%d} 到期"
        days = left[obj.due_date]
        when = f"距办理时限还有 {days} 个工作日" if days else "今天是办理时限的最后一天"
        body = (f"{_applicant_line(obj)}属地：{obj.jurisdiction.jurisdiction_label}；当前状态：{obj.status_display}。"
                f"{when}，请及时办理。")
        notes += [Notification(user=user, title=title, body=body, link=_link(obj), event=REMINDER_EVENT)
                  for user in reminder_recipients(obj, reviewers)]
    return notes


def _escalations(batch: list[WorkflowModel], reviewers: dict[str, list[User]], today: dt.date) -> list[Notification]:
    late = working_days_left(today, [obj.due_date for obj in batch])
    notes = []
    for obj in batch:
        if obj.due_date < today:
            register_event_labels({f"{obj.KIND}.overdue": OVERDUE_LABEL})
            record_event(obj, f"{obj.KIND}.overdue", by=None, extra={
                "due_date": obj.due_date.isoformat(), "number": obj.number, "transition": "overdue"})
            title = f"逾期提醒：{obj.KIND_LABEL} {obj.number} 已超过办理时限（{obj.due_date:%Y-%m-%d}）"
            state = f"已逾期 {max(-late[obj.due_date], 1)} 个工作日"
            event = OVERDUE_EVENT
        else:  # an exam-registration-period escalation before the due date (R-TRF-5)
            register_event_labels({f"{obj.KIND}.escalated": EARLY_LABEL})
            record_event(obj, f"{obj.KIND}.escalated", by=None, extra={
                "due_date": obj.due_date.isoformat(), "number": obj.number, "transition": "escalated"})
            title = f"考试报名期间督办：{obj.KIND_LABEL} {obj.number} 将于 {obj.due_date:%Y-%m-%d} 到期"
            state = "会计资格考试报名期间，请务必在办理时限内办结"
            event = EARLY_EVENT
        body = (f"{_applicant_line(obj)}属地：{obj.jurisdiction.jurisdiction_label}；当前状态：{obj.status_display}；"
                f"{state}。本提醒同时抄送上级财政部门，请尽快办理。")
        notes += [Notification(user=user, title=title, body=body, link=_link(obj), event=event)
                  for user in escalation_recipients(obj, reviewers)]
    return notes


def due_steps_remind(today: dt.date | None = None) -> int:
    """Remind reviewers of steps due soon (待办提醒), R-DL-2. Returns the number of items reminded.

    An item is due soon when ``0 <= working_days_between(today, due) <= remind_days_before``,
    i.e. ``today <= due < the (n+1)-th working day after today``.
    """
    today = today or timezone.localdate()
    period = ExamRegistrationPeriod.active_on(today)
    extra = period.remind_days_before if period else 0  # R-TRF-5: earlier reminders while registration runs

    def due_for(model):
        lead = max(remind_days_before(model), extra)
        return Q(due_date__gte=today, due_date__lt=working_days_after(today, lead + 1))

    return _sweep("reminded_for", today, due_for, _reminders)


def overdue_steps_escalate(today: dt.date | None = None) -> int:
    """Tell the bureau and the level above of overdue steps (逾期报上级), R-DL-2, R-DL-3. Returns the count."""
    today = today or timezone.localdate()
    period = ExamRegistrationPeriod.active_on(today)
    if period and period.escalate_days_before:
        # R-TRF-5: during exam registration the level above hears of work *before* it lapses.
        horizon = working_days_after(today, period.escalate_days_before)
        return _sweep("escalated_for", today, lambda model: Q(due_date__lt=horizon), _escalations)
    return _sweep("escalated_for", today, lambda model: Q(due_date__lt=today), _escalations)
