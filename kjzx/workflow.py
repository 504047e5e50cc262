"""The one workflow mechanism behind collections, changes, transfers and credit claims (STYLE §2, §4).

Every application that a bureau reviews is a :class:`WorkflowModel`: a django-fsm state machine
(``status``, protected, with :class:`ConcurrentTransitionMixin`), the applicant, the jurisdiction
whose bureau acts on it, when it was submitted, the due date of the step under way, and the last
reason given to the applicant. Its history is the audit table (:mod:`kjzx.audit`).

A concrete model declares its transitions with ``@transition(..., permission=<callable(obj, user)>,
custom={"name": "return", "label": "退回", "reason_required": True, "deadline": "collection.review"})``:

- ``name`` is the transition's public name (API.md §1); it defaults to the method's name, which
  cannot be ``return``.
- ``reason_required`` makes a missing reason a 400 (R-ACL-3).
- ``deadline`` starts a new step: its due date is the policy's number of working days after today
  (R-DL-1). ``"clear"`` ends the step (a decision). Without it the due date stays.

A step keeps the day it began and its number of working days (``step_started_on``,
``step_days``) beside its due date: when provincial staff enter or correct a year's holiday
arrangement, :mod:`kjzx.calendar` recomputes every open due date from them (R-DL-1). Code that starts a
step outside a transition calls :meth:`WorkflowModel.step_begin` and saves :data:`STEP_FIELDS`.

:func:`workflow_transition` is the only way any door (page, API, task, command) moves one: lock the
row, check the transition is available to *this* caller (else 409), check the reason, run it, set
the due date, save, run the kind's effects, write the audit row and tell the applicant — all in one
transaction. Two reviewers at the same moment: the second waits for the row lock, then finds the
transition gone and gets 409 (R-COL-4, API.md §1).
"""

from __future__ import annotations

import copy
import dataclasses
import datetime as dt
import re
from collections.abc import Callable
from typing import ClassVar

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import ConcurrentTransition, ConcurrentTransitionMixin, TransitionNotAllowed

from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event
from kjzx.notifications import notification_send
from kjzx.workdays import calendar_read_lock, unknown_years, working_days_after, working_days_left

NUMBER_RE = re.compile(r"^(?P<prefix>[A-Z]{2})(?P<year>\d{4})-(?P<pk>\d{1,12})$")


class WorkflowModel(ConcurrentTransitionMixin, models.Model):
    """An application under review (申请): the fields and behaviour every kind shares."""

    KIND: ClassVar[str] = ""  # "collection": the API path segment's singular, the audit prefix
    KIND_LABEL: ClassVar[str] = ""  # "信息采集"
    NUMBER_PREFIX: ClassVar[str] = ""  # "CJ" → CJ2026-000017
    OPEN_STATES: ClassVar[tuple[str, ...]] = ()  # not decided yet: the applicant cannot start another
    REVIEW_STATES: ClassVar[tuple[str, ...]] = ()  # waiting for a bureau: the queue, the due date

    # Each concrete model declares its own ``status = FSMField(..., protected=True, choices=…)``:
    # django-fsm binds transitions to the field of the class that declares them.
    applicant = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("申请人"), null=True, blank=True,
                                  on_delete=models.PROTECT, related_name="+")  # empty: not claimed yet (R-TRF-4)
    jurisdiction = models.ForeignKey("accounts.Region", verbose_name=_("属地"), null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="+")
    submitted_at = models.DateTimeField(_("提交时间"), null=True, blank=True)
    due_date = models.DateField(_("办理时限"), null=True, blank=True)
    # The step under way: the day it began (which never counts) and its working days, as the policy said
    # then (R-DL-1). A calendar correction recomputes due_date from these (kjzx.calendar).
    step_started_on = models.DateField(_("本环节开始日期"), null=True, blank=True, editable=False)
    step_days = models.PositiveSmallIntegerField(_("本环节办理时限（工作日）"), null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(_("办结时间"), null=True, blank=True)
    reason = models.TextField(_("未通过原因"), blank=True)
    reminded_for = models.DateField(_("已提醒的时限"), null=True, blank=True, editable=False)
    escalated_for = models.DateField(_("已报上级的时限"), null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("创建时间"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True

    def __str__(self):
        return f"{self.KIND_LABEL} {self.number}"

    # --- what every door shows ---------------------------------------------------------------
    @property
    def number(self) -> str:
        """The application number people quote on the phone: ``CJ2026-000017``."""
        if self.pk is None:
            return ""
        return f"{self.NUMBER_PREFIX}{timezone.localtime(self.created_at).year}-{self.pk:06d}"

    @classmethod
    def pk_from_number(cls, number: str) -> int | None:
        match = NUMBER_RE.match(number.strip().upper())
        if not match or match["prefix"] != cls.NUMBER_PREFIX:
            return None
        return int(match["pk"])

    @property
    def status_display(self) -> str:
        return str(self.get_status_display())

    @classmethod
    def review_q(cls) -> Q:
        """Rows waiting for a bureau (the queue, the sweeps); a kind may narrow it (a transfer's type)."""
        return Q(status__in=cls.REVIEW_STATES)

    @property
    def in_review(self) -> bool:
        """Waiting for a bureau now; the instance side of :meth:`review_q`."""
        return self.status in self.REVIEW_STATES

    @property
    def is_open(self) -> bool:
        return self.status in self.OPEN_STATES

    @property
    def overdue(self) -> bool:
        """Past its due date with the bureau's step not done (R-DL-2), whatever kind of day today is."""
        return bool(self.in_review and self.due_date and timezone.localdate() > self.due_date)

    @property
    def due_date_provisional(self) -> bool:
        """The due date was counted Monday–Friday through a year whose holiday arrangement is not known yet
        (暂按周一至周五计算, R-DL-1). :func:`annotate_days_left` sets it for many at once."""
        if "due_provisional" not in self.__dict__:
            self.due_provisional = bool(self.in_review and self.due_date and unknown_years(self._step_years()))
        return self.due_provisional

    def _step_years(self) -> list[int]:
        first = (self.step_started_on or self.due_date).year
        return list(range(first, self.due_date.year + 1))

    # --- the step under way (R-DL-1) ---------------------------------------------------------
    def step_begin(self, key: str, on: dt.date | None = None) -> None:
        """A review step begins ``on`` (default today): due the policy's ``key`` working days later. In memory;
        the caller saves :data:`STEP_FIELDS`."""
        calendar_read_lock()  # not while staff are changing the calendar (kjzx.calendar)
        on = on or timezone.localdate()
        days = step_working_days(key)
        self.step_started_on, self.step_days = on, days
        self.due_date = working_days_after(on, days)
        self.reminded_for = self.escalated_for = None

    def step_end(self) -> None:
        """No bureau step is under way any more (a decision, a return): no due date."""
        self.due_date = self.step_started_on = self.step_days = None

    def transitions_for(self, user) -> list[TransitionInfo]:
        """Exactly what ``user`` may do now (API.md: ``available_transitions``)."""
        if user is None or not getattr(user, "is_authenticated", False):
            return []
        found = self.get_available_user_status_transitions(user)  # type: ignore[attr-defined]
        return sorted((TransitionInfo.of(t) for t in found), key=lambda info: info.order)

    def transition_names_for(self, user) -> list[str]:
        return [info.name for info in self.transitions_for(user)]

    @classmethod
    def transition_info(cls, name: str) -> TransitionInfo | None:
        for t in cls._meta.get_field("status").get_all_transitions(cls):
            info = TransitionInfo.of(t)
            if info.name == name:
                return info
        return None


@dataclasses.dataclass(frozen=True)
class TransitionInfo:
    name: str  # public name, API.md §1
    method: str  # the model's method
    label: str
    reason_required: bool
    deadline: str | None  # a StepDeadline key, "clear", or None (keep)
    order: int
    style: str  # "primary" or "secondary": how a page draws the button

    @classmethod
    def of(cls, t) -> TransitionInfo:
        custom = t.custom or {}
        return cls(name=custom.get("name", t.name), method=t.name, label=str(custom.get("label", t.name)),
                   reason_required=bool(custom.get("reason_required")), deadline=custom.get("deadline"),
                   order=custom.get("order", 50), style=custom.get("style", "primary"))


# --- effects: what a kind does besides changing state, in the same transaction ---------------------

Effect = Callable[..., None]
_EFFECTS: dict[tuple[type, str, str], list[Effect]] = {}


def workflow_effect(model: type[WorkflowModel], name: str, *, phase: str = "after") -> Callable[[Effect], Effect]:
    """Register ``func(obj, *, by, reason, data)`` to run with transition ``name`` of ``model``.

    ``phase="before"`` runs before the state changes (checks that raise DomainError, e.g. a
    submission's completeness); ``"after"`` runs after the row is saved (apply a change, move an
    archive). Both are inside the transition's transaction: an error undoes everything.
    """
    if phase not in ("before", "after"):
        raise ValueError(phase)

    def register(func: Effect) -> Effect:
        _EFFECTS.setdefault((model, name, phase), []).append(func)
        return func

    return register


def _run_effects(obj, name: str, phase: str, **kwargs) -> None:
    for func in _EFFECTS.get((type(obj), name, phase), []):
        func(obj, **kwargs)


# --- the one transition service -----------------------------------------------------------------

# What :meth:`WorkflowModel.step_begin` and :meth:`WorkflowModel.step_end` change.
STEP_FIELDS = ("due_date", "step_started_on", "step_days", "reminded_for", "escalated_for")

# Hooks run in every transition's transaction after its effects, each with (obj, before), ``before`` a copy
# of the row as it was locked: the one plug-in point for figures kept in step with the applications
# (workbench's decision tallies, cpe's CE summaries; their apps fill it, since kjzx cannot import them).
TRANSITION_HOOKS: list[Callable[[WorkflowModel, WorkflowModel], None]] = []


def step_working_days(key: str) -> int:
    """The working days a bureau has for a step, from the province's policy (R-COL-5, R-CHG-3, R-TRF-2)."""
    from kjzx.models import StepDeadline

    days = StepDeadline.objects.filter(key=key).values_list("working_days", flat=True).first()
    if days is None:
        raise LookupError(f"no StepDeadline {key!r}: load the kjzx migrations")
    return days


def workflow_transition(obj: WorkflowModel, name: str, *, by, reason: str = "", data: dict | None = None,
                        notify: bool = True) -> WorkflowModel:
    """Move ``obj`` by its transition ``name`` on behalf of ``by`` (None: the system). See the module doc.

    Raises ``TransitionNotAllowed`` (→ 409) when the transition is not available to ``by`` now,
    :class:`DomainError` (→ 400) for a missing reason or a failed check, :class:`Conflict` (→ 409)
    when another transition got there first.
    """
    reason = (reason or "").strip()
    try:
        with transaction.atomic():
            return _transition_locked(obj, name, by=by, reason=reason, data=data or {}, notify=notify)
    except ConcurrentTransition:
        raise Conflict("该申请刚刚被他人处理，请刷新后查看最新状态。") from None


def _transition_locked(obj, name, *, by, reason, data, notify):
    model = type(obj)
    # Before any row lock: a calendar change locks the open rows while it holds the calendar (kjzx.calendar).
    calendar_read_lock()
    # Lock: two reviewers may act on the same application at the same moment.
    locked = model.objects.select_for_update().get(pk=obj.pk)
    if locked.status != obj.status:  # someone acted since the caller looked: they decided on stale facts
        raise Conflict("该申请刚刚被他人处理，请刷新后查看最新状态。")
    info = _available(locked, name, by)
    if info.reason_required and not reason:
        raise DomainError({"reason": [_("请填写原因（未通过原因将告知申请人）。")]})
    before = locked.status
    snapshot = copy.copy(locked)
    _run_effects(locked, name, "before", by=by, reason=reason, data=data)
    getattr(locked, info.method)(by=by, reason=reason)
    _apply_deadline(locked, info)
    if info.reason_required:
        locked.reason = reason
    elif locked.in_review:
        locked.reason = ""
    locked.save()
    _run_effects(locked, name, "after", by=by, reason=reason, data=data)
    for hook in TRANSITION_HOOKS:
        hook(locked, snapshot)
    record_event(locked, f"{model.KIND}.{name}", by=by, before=before, after=locked.status, reason=reason,
                 extra={"number": locked.number, "transition": name})
    if notify and locked.applicant_id and (by is None or by.pk != locked.applicant_id):
        _tell_applicant(locked, info, reason)
    return locked


def _available(obj, name, by):
    """The transition called ``name`` that ``by`` may take now (two methods may share a public name
    from different states, e.g. a transfer's ``approve``); the system (None) is bound by state only."""
    if by is None:
        found = obj.get_available_status_transitions()
    else:
        found = obj.get_available_user_status_transitions(by)
    for transition in found:
        info = TransitionInfo.of(transition)
        if info.name == name:
            return info
    raise TransitionNotAllowed(f"{name} not available in {obj.status}")


def _apply_deadline(obj, info: TransitionInfo) -> None:
    if not obj.is_open:  # decided: no step is under way any more
        obj.step_end()
        obj.decided_at = timezone.now()
    elif info.deadline == "clear":
        obj.step_end()
    elif info.deadline:  # a new step starts: its own due date, its own reminder
        obj.step_begin(info.deadline)


def _tell_applicant(obj, info: TransitionInfo, reason: str) -> None:
    title = _("您的%(kind)s申请（%(number)s）：%(status)s") % {
        "kind": obj.KIND_LABEL, "number": obj.number, "status": obj.status_display}
    body = _("未通过原因：%(reason)s") % {"reason": reason} if reason else ""
    link = obj.applicant_url() if hasattr(obj, "applicant_url") else ""
    notification_send(user=obj.applicant, title=str(title), body=str(body), link=link,
                      event=f"{obj.KIND}.{obj.status}")  # e.g. collection.returned: SMS too (kjzx.notifications)


def workflow_create(model: type[WorkflowModel], *, applicant, by=None, **fields) -> WorkflowModel:
    """Create an application in its initial state and record it (``<kind>.created``)."""
    obj = model.objects.create(applicant=applicant, **fields)
    record_event(obj, f"{model.KIND}.created", by=by or applicant, after=obj.status,
                 extra={"number": obj.number})
    return obj


# --- what pages and the API show about deadlines --------------------------------------------------

# How near its due date an open step is (R-DL-2): the queue's marks, the pages' words.
DUE_OVERDUE, DUE_TODAY, DUE_SOON, DUE_LATER = "overdue", "today", "soon", "later"
SOON_WORKING_DAYS = 2  # "due within two working days": the amber mark


def due_state(due: dt.date | None, days_left: int | None, today: dt.date) -> str:
    """Overdue means the due date has passed, whatever kind of day today is (a Saturday after a Friday due
    date is overdue, not "due today"); due today only on the date itself; soon within two working days."""
    if due is None:
        return ""
    if due < today:
        return DUE_OVERDUE
    if due == today:
        return DUE_TODAY
    return DUE_SOON if days_left is not None and days_left <= SOON_WORKING_DAYS else DUE_LATER


def annotate_days_left(objects: list[WorkflowModel], today: dt.date | None = None) -> list[WorkflowModel]:
    """Set on each open step, with at most two queries for any number of objects (R-DL-1, R-DL-2):
    ``days_left`` (working days after today up to the due date; 0 on it, negative once working days have
    passed since), ``due_state`` (:func:`due_state`) and ``due_provisional``."""
    today = today or timezone.localdate()
    steps = [o for o in objects if o.due_date and o.in_review]
    left = working_days_left(today, [o.due_date for o in steps])
    unknown = set(unknown_years(sorted({year for o in steps for year in o._step_years()})))
    for o in objects:
        o.days_left, o.due_state, o.due_provisional = None, "", False
    for o in steps:
        o.days_left = left.get(o.due_date)
        o.due_state = due_state(o.due_date, o.days_left, today)
        o.due_provisional = bool(unknown.intersection(o._step_years()))
    return objects


def history_rows(obj: WorkflowModel) -> list[dict]:
    """The history of API.md §1 (transition, from, to, by, at, reason), oldest first."""
    from kjzx.audit import event_label, history_for

    rows = []
    for event in history_for(obj):
        rows.append({
            "transition": event.extra.get("transition", event.event_type.rsplit(".", 1)[-1]),
            "label": event_label(event.event_type),
            "from": event.from_state,
            "to": event.to_state,
            "by": event.actor.name if event.actor else "系统",
            "by_role": event.actor_role,
            "at": event.at,
            "reason": event.reason,
        })
    return rows
