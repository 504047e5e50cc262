"""The bureau's transfer pages (R-TRF-1…4, R-ACL-1, R-ACL-3, R-DL-2) and the province's exchange monitor.

- ``/workbench/transfers/<pk>/`` (``workbench_transfer``, the model's ``reviewer_url()``): the
  transfer as a reviewer of its origin or destination sees it — type, from → to, unit, dates, the
  archive (intra, outbound) or the incoming person record (inbound), the proof inline, status, due
  date, reason, history — and exactly ``obj.transitions_for(user)`` as buttons; a return or a
  rejection needs the reason the applicant reads (R-ACL-3). Decisions POST to
  ``…/transitions/<name>/`` (``workbench_transfer_transition``) and go through
  :func:`kjzx.workflow.workflow_transition`; a decision someone else made first becomes a message
  and a redirect. Outside the reviewer's region: 404 (:func:`transfers.selectors.transfer_get`).
  The ID number is masked; transfers have no reveal (the collection and change pages have one).
- ``/workbench/exchange/`` (``workbench_exchange``, provincial staff): what waits on the national
  platform (API.md §2), in a fixed number of queries.

Who sees the archive itself: the bureau whose region holds it, and the bureau whose step it is
(the destination of an intra transfer once the origin accepted: it must judge it). Everyone else in
the transfer's scope — the destination before acceptance or after a rejection, the origin after the
archive moved — sees the transfer (number, person, masked ID, route, proof, history: R-ACL-3's
record of who decided what) but not the archive's contents. So after an intra transfer completes
the origin keeps the transfer it decided but not the archive, nor any new application of it
(R-ACL-1: those belong to the new jurisdiction).
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.db.models import prefetch_related_objects
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST
from django_fsm import TransitionNotAllowed

from accounts.models import IdType, Sex, mask_id_number
from accounts.permissions import province_staff_required, reviewer_required
from accounts.scoping import can_act_in
from kjzx.api import Conflict, DomainError
from kjzx.workflow import annotate_days_left, history_rows, workflow_transition
from records.exports import queue_rows
from records.forms import describe_section
from transfers import selectors
from transfers.models import ExchangePolicy, Transfer, TransferType, province_names
from transfers.views_person import describe_places, return_by

CONFLICT_MESSAGE = gettext_lazy("该申请已被他人处理或当前状态不能执行此操作，请查看最新状态。")
MONITOR_ROWS = 50  # rows shown per group; the counts are of everything
RECENT_DAYS = 30  # "recently returned" and "recently decided": the last 30 days


# --- one transfer -------------------------------------------------------------------------------

def incoming_person(transfer: Transfer) -> dict:
    """The person record of an inbound transfer in words (API.md §2 shape), the ID masked."""
    record = transfer.person_record or {}
    cpe = record.get("cpe") if isinstance(record.get("cpe"), list) else []
    return {
        "name": record.get("name", ""),
        "id_type": dict(IdType.choices).get(record.get("id_type"), record.get("id_type", "")),
        "masked_id_number": mask_id_number(transfer.person_id_number or str(record.get("id_number") or "")),
        "sex": dict(Sex.choices).get(record.get("sex"), record.get("sex", "")),
        "birth_date": record.get("birth_date", ""),
        "mobile": record.get("mobile", ""),
        "education": describe_section("education", record.get("education")),
        "qualifications": describe_section("qualifications", record.get("qualifications")),
        "employer": describe_section("employer", record.get("employer")),
        "began_accounting_on": record.get("began_accounting_on") or "",
        "cpe": [row for row in cpe if isinstance(row, dict)],
    }


def _archive_shown(obj: Transfer, user):
    """The archive, if this reviewer may read it now (see the module doc); else None."""
    archive = obj.archive if obj.type != TransferType.INBOUND else None
    if archive is None:
        return None
    holds_it = can_act_in(user, archive.jurisdiction)
    judges_it = obj.in_review and can_act_in(user, obj.jurisdiction)  # the destination, once the origin accepted
    if not (holds_it or judges_it):
        return None
    prefetch_related_objects([archive], "education", "qualifications")
    return archive


def _render_detail(request, obj: Transfer, *, failed: str = "", reason: str = "",
                   error: DomainError | None = None, status: int = 200):
    user = request.user
    describe_places([obj])
    row = queue_rows(annotate_days_left([obj]))[0]
    actions = obj.transitions_for(user)
    errors = error.errors if error else {}
    archive = _archive_shown(obj, user)
    return render(request, "transfers/workbench/detail.html", {
        "obj": obj, "row": row, "archive": archive, "history": history_rows(obj),
        "person": incoming_person(obj) if obj.type == TransferType.INBOUND else None,
        "archive_hidden": obj.archive_id is not None and obj.type != TransferType.INBOUND and archive is None,
        "masked_id_number": mask_id_number(obj.person_id_number or ""),
        "proofs": list(obj.attachments.all()), "return_by": return_by(obj),
        "transition_route": "workbench_transfer_transition",
        "actions": actions, "reason_actions": [a for a in actions if a.reason_required],
        "plain_actions": [a for a in actions if not a.reason_required],
        "failed": failed, "reason": reason, "reason_errors": errors.get("reason", []),
        "other_errors": [message for key, found in errors.items() if key != "reason" for message in found],
    }, status=status)


@reviewer_required
@require_GET
def transfer_detail(request, pk: int):
    """One transfer as its origin or destination bureau sees it (R-TRF-1…4); outside the region, 404 (R-ACL-1)."""
    return _render_detail(request, selectors.transfer_get(Transfer, request.user, pk))


@reviewer_required
@require_POST
def transfer_transition(request, pk: int, name: str):
    """受理, 退回, 审核通过, 不予通过: one decision; a return or rejection needs its reason (R-ACL-3)."""
    obj = selectors.transfer_get(Transfer, request.user, pk)
    reason = request.POST.get("reason", "")
    try:
        obj = workflow_transition(obj, name, by=request.user, reason=reason)
    except TransitionNotAllowed:  # another reviewer got there first, or it is not ours to do
        messages.error(request, CONFLICT_MESSAGE)
        return redirect("workbench_transfer", pk=pk)
    except Conflict as exc:  # moved meanwhile, or an effect refused (an inbound person already has an archive)
        messages.error(request, exc.message)
        return redirect("workbench_transfer", pk=pk)
    except DomainError as exc:
        return _render_detail(request, obj, failed=name, reason=reason, error=exc, status=400)
    info = obj.transition_info(name)
    messages.success(request, _("已办理：%(action)s（%(number)s），当前状态：%(status)s。") % {
        "action": info.label if info else name, "number": obj.number, "status": obj.status_display})
    return redirect("accounts:workbench")


# --- the exchange monitor (API.md §2) -------------------------------------------------------------



@province_staff_required
@require_GET
def exchange_monitor(request):
    """跨省调转交换监控: each group oldest (or newest) first with its count, in a fixed number of queries."""
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    sections = selectors.exchange_overview(since, rows=MONITOR_ROWS)
    timeout = dt.timedelta(days=ExchangePolicy.current().outbound_timeout_days)
    provinces = province_names()
    shown = [t for section in sections.values() for t in section["rows"]]
    describe_places(shown, provinces)
    annotate_days_left(shown)
    for t in shown:
        t.masked_id_number = mask_id_number(t.person_id_number or "")
        t.return_by = timezone.localtime(t.uploaded_at + timeout).date() if t.uploaded_at else None
    return render(request, "transfers/workbench/exchange.html", {
        "sections": sections, "timeout_days": timeout.days, "recent_days": RECENT_DAYS,
        "limit": MONITOR_ROWS})
