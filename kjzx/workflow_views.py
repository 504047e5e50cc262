"""The HTML door of every workflow kind, the counterpart of :mod:`kjzx.workflow_api` (STYLE §6).

A bureau's page of one application and its decisions is a few declarative lines in the kind's app::

    class CollectionPage(WorkflowPage):
        model = CollectionApplication
        selector = staticmethod(application_get)         # (model, user, pk) → object, or Http404
        template_name = "records/workbench/detail.html"   # extends includes/workflow_detail.html
        route = "workbench_collection"                    # the page; its decisions: "<route>_transition"

        def extra_context(self, obj) -> dict:             # what only this kind shows
            return {"archive": obj.archive}

    urlpatterns = CollectionPage.urls("workbench/collections/")

``urls()`` gives ``<prefix><pk>/`` (GET, the page) and ``<prefix><pk>/transitions/<name>/`` (POST, one
decision). The selector decides visibility (outside the reviewer's region: 404, R-ACL-1); the one
transition service decides the rest, and :meth:`WorkflowPage.post` maps its every answer, once:

- the transition is not this user's to take now (:class:`TransitionNotAllowed`), or someone moved the
  application first, or an effect refused (:class:`~kjzx.api.Conflict`) → a message and a redirect to
  the page, which shows the current state (R-COL-4);
- a :class:`~kjzx.api.DomainError` (a missing reason, R-ACL-3, or a failed check) → the page again, 400,
  with what was typed and each message beside its field;
- done → a message naming the decision and the new state, and the queue (``success_route``).

A kind with more to send than a reason lists the POST fields in ``fields`` (a claim's ``credits``) and
overrides :meth:`WorkflowPage.perform` if its service is not :func:`workflow_transition`. Pages the
person uses keep their own views but answer a refusal with the same words: :data:`REFUSALS` and
:func:`refusal_message`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django_fsm import TransitionNotAllowed

from accounts.models import mask_id_number
from accounts.permissions import reviewer_required
from kjzx.api import Conflict, DomainError
from kjzx.workflow import (
    DUE_OVERDUE,
    DUE_SOON,
    DUE_TODAY,
    WorkflowModel,
    annotate_days_left,
    history_rows,
    workflow_transition,
)

CONFLICT_MESSAGE = gettext_lazy("该申请已被他人处理或当前状态不能执行此操作，请查看最新状态。")

# What a page turns into a message and a redirect rather than a form with errors.
REFUSALS = (TransitionNotAllowed, Conflict)


def refusal_message(exc: Exception) -> str:
    """The words for a refused move: a Conflict says why; a transition not available now, CONFLICT_MESSAGE."""
    return exc.message if isinstance(exc, Conflict) else str(CONFLICT_MESSAGE)


# --- one line per application: the queue, its export and the top of every page ----------------------

@dataclass
class WorkflowRow:
    """One application in a table or at the top of its page: who, where, and how long is left (R-DL-2).

    The ID number is masked, always (security item 46): the whole number is only shown after an
    audited reveal. How near the due date is comes from :func:`kjzx.workflow.annotate_days_left`:
    overdue once the due date has passed whatever kind of day today is, 今日到期 only on the date itself,
    an amber 即将到期 within two working days — each said in words, never by colour alone.
    """

    obj: WorkflowModel
    kind_label: str
    name: str
    masked_id_number: str
    region_label: str
    days_left: int | None  # working days; 0 on the due date, negative once working days passed since (R-DL-2)
    url: str = ""
    due_state: str = ""  # kjzx.workflow.DUE_OVERDUE, DUE_TODAY, DUE_SOON, DUE_LATER; "" without a step
    provisional: bool = False  # counted Monday–Friday through a year not known yet (R-DL-1)

    @property
    def overdue(self) -> bool:
        return self.due_state == DUE_OVERDUE

    @property
    def overdue_days(self) -> int:
        """Working days since the due date: 0 on a weekend right after a Friday due date, though overdue."""
        return -self.days_left if self.overdue and self.days_left is not None and self.days_left < 0 else 0

    @property
    def due_mark(self) -> str:
        """The row's class: ``is-overdue``, ``is-due-today``, ``is-due-soon`` or nothing."""
        return {DUE_OVERDUE: "is-overdue", DUE_TODAY: "is-due-today", DUE_SOON: "is-due-soon"}.get(self.due_state, "")

    @property
    def days_left_text(self) -> str:
        if self.days_left is None or not self.due_state:
            return ""
        if self.overdue:
            return _("逾期%(n)d个工作日") % {"n": self.overdue_days} if self.overdue_days else _("已逾期")
        if self.due_state == DUE_TODAY:
            return _("今日到期")
        if self.due_state == DUE_SOON:
            return _("%(n)d（即将到期）") % {"n": self.days_left}
        return str(self.days_left)


def workflow_rows(objects: Iterable[WorkflowModel]) -> list[WorkflowRow]:
    """Rows of applications that already carry ``days_left`` (:func:`annotate_days_left`); no query of its own
    beyond what the objects' ``select_related`` loaded. A person without an archive here yet (an inbound
    transfer, R-TRF-4) is named by the record the application carries."""
    rows = []
    for obj in objects:
        archive = getattr(obj, "archive", None)
        name, masked = (archive.name, archive.masked_id_number) if archive else ("", "")
        if not name and getattr(obj, "person_name", ""):
            name, masked = obj.person_name, mask_id_number(getattr(obj, "person_id_number", "") or "")
        rows.append(WorkflowRow(
            obj=obj, kind_label=obj.KIND_LABEL, name=name, masked_id_number=masked,
            region_label=str(obj.jurisdiction.jurisdiction_label) if obj.jurisdiction_id else "",
            days_left=getattr(obj, "days_left", None), due_state=getattr(obj, "due_state", ""),
            provisional=getattr(obj, "due_provisional", False)))
    return rows


# --- the page -------------------------------------------------------------------------------------

def detail_context(obj: WorkflowModel, user, *, failed: str = "", values: dict | None = None,
                   error: DomainError | None = None, fields: Iterable[str] = ()) -> dict:
    """What every reviewer page shows: the application and its row, its history, exactly the transitions
    ``user`` may take now (split into plain buttons and those needing a reason), and after a refused
    decision (``failed``) what was typed and the errors — beside ``reason`` and ``fields``, the rest on top."""
    values = values or {}
    errors = error.errors if error else {}
    beside = {"reason", *fields}
    actions = obj.transitions_for(user)
    return {
        "obj": obj, "row": workflow_rows(annotate_days_left([obj]))[0], "history": history_rows(obj),
        "actions": actions, "plain_actions": [a for a in actions if not a.reason_required],
        "reason_actions": [a for a in actions if a.reason_required],
        "failed": failed, "values": values, "reason": values.get("reason", ""), "field_errors": errors,
        "reason_errors": errors.get("reason", []),
        "other_errors": [message for key, found in errors.items() if key not in beside for message in found],
    }


class WorkflowPage(View):
    """One application as a reviewer sees it (GET) and one decision on it (POST); see the module doc."""

    model: type[WorkflowModel]
    selector: Callable  # (model, user, pk) → object; Http404 outside the caller's scope
    template_name: str
    route: str  # URL name of the page; the decisions are "<route>_transition"
    fields: tuple[str, ...] = ()  # POST fields sent with the reason (e.g. a claim's "credits")
    success_route: str | None = "accounts:workbench"  # after a decision; None: back to the page
    guard: Callable = staticmethod(reviewer_required)  # who may open the door at all (else 403)

    @classmethod
    def as_view(cls, **initkwargs):
        return cls.guard(super().as_view(**initkwargs))

    @classmethod
    def urls(cls, prefix: str) -> list[URLPattern]:
        """The page and its decisions under ``prefix`` (``"workbench/collections/"``)."""
        return [
            path(f"{prefix}<int:pk>/", cls.as_view(http_method_names=["get", "head"]), name=cls.route),
            path(f"{prefix}<int:pk>/transitions/<slug:name>/", cls.as_view(http_method_names=["post"]),
                 name=f"{cls.route}_transition"),
        ]

    # --- what a kind may override ---
    def get_object(self) -> WorkflowModel:
        return self.selector(self.model, self.request.user, self.kwargs["pk"])

    def extra_context(self, obj: WorkflowModel) -> dict:
        return {}

    def perform(self, obj: WorkflowModel, name: str, *, by, values: dict) -> WorkflowModel:
        """Take the decision: the one transition service, the page's extra fields as its data."""
        data = {key: values[key] for key in self.fields}
        return workflow_transition(obj, name, by=by, reason=values["reason"], data=data)

    # --- the door ---
    def render_page(self, obj: WorkflowModel, *, status: int = 200, failed: str = "", values: dict | None = None,
                    error: DomainError | None = None, **extra):
        context = detail_context(obj, self.request.user, failed=failed, values=values, error=error,
                                 fields=self.fields)
        context["transition_route"] = f"{self.route}_transition"
        context.update(self.extra_context(obj))
        context.update(extra)
        return render(self.request, self.template_name, context, status=status)

    def get(self, request, pk: int):
        return self.render_page(self.get_object())

    def post(self, request, pk: int, name: str):
        obj = self.get_object()
        values = {key: request.POST.get(key, "") for key in ("reason", *self.fields)}
        try:
            obj = self.perform(obj, name, by=request.user, values=values)
        except REFUSALS as exc:  # not ours to do now, or someone got there first: show the current state
            messages.error(request, refusal_message(exc))
            return redirect(self.route, pk=pk)
        except DomainError as exc:  # a missing reason or a failed check: the page again, errors in place
            return self.render_page(obj, status=400, failed=name, values=values, error=exc)
        info = obj.transition_info(name)
        messages.success(request, _("已办理：%(action)s（%(number)s），当前状态：%(status)s。") % {
            "action": info.label if info else name, "number": obj.number, "status": obj.status_display})
        return redirect(self.success_route) if self.success_route else redirect(self.route, pk=pk)
