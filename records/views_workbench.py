"""The bureau's review workbench (审核工作台): the queue, one application, its scans.

R-COL-4, R-COL-5, R-CHG-2, R-CHG-3, R-ACL-1, R-ACL-3, R-DL-2. Thin pages: every read goes through
:mod:`records.selectors` (scoped: anything outside the reviewer's region is a 404), every decision
through :func:`kjzx.workflow.workflow_transition`. A decision someone else made first becomes a
message and a redirect to the application's current state (STYLE §6).

- ``/workbench/`` (``accounts:workbench``): the queue, oldest submission first, 20 a page, a fixed
  number of queries whatever the page holds; ``/workbench/export.xlsx`` the same rows in Excel.
- ``/workbench/collections/<pk>/``, ``/workbench/changes/<pk>/``: the application with every
  archive field, the scans inline, a before/after table for a change, the history, and exactly the
  buttons the reviewer may use; decisions POST to ``…/<pk>/transitions/<name>/``. The ID number
  is masked; ``…/<pk>/reveal-id/`` (POST, with a reason) shows it in full on that one response and
  writes an audit row (security item 46, :mod:`records.privacy`).
- ``/files/<pk>/`` (``attachment_file``): a scan, for its owner or a reviewer who may see it.
"""

from __future__ import annotations

from urllib.parse import quote

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_GET, require_POST, require_safe
from django_fsm import TransitionNotAllowed

from accounts.models import Region, mask_id_number
from accounts.permissions import reviewer_required
from kjzx.api import Conflict, DomainError
from kjzx.http import client_ip
from kjzx.workflow import WorkflowModel, annotate_days_left, history_rows, workflow_transition
from records.exports import queue_rows, queue_xlsx
from records.models import (
    Archive,
    ChangeItem,
    ChangeRequest,
    CollectionApplication,
    Education,
    Qualification,
)
from records.privacy import REASON_MAX, REASON_SUGGESTIONS, archive_reveal_id_number
from records.selectors import (
    QUEUE_MODELS,
    QueueFilters,
    application_get,
    attachment_get,
    queue_page_objects,
    queue_region_choices,
    queue_status_choices,
    review_queue,
)
from records.services import archive_data

PAGE_SIZE = 20
EXPORT_BATCH = 500
CONFLICT_MESSAGE = gettext_lazy("该申请已被他人处理或当前状态不能执行此操作，请查看最新状态。")

# URL segment → model of the applications these pages show (transfers and claims have their own);
# routes are named ``workbench_<KIND>``, ``workbench_<KIND>_transition`` and ``workbench_<KIND>_reveal``
# (records/urls_workbench.py).
KINDS: dict[str, type[WorkflowModel]] = {"collections": CollectionApplication, "changes": ChangeRequest}


def application_url(obj: WorkflowModel) -> str:
    """Where a reviewer opens ``obj``: this module's page, or the one its own app declares."""
    if type(obj) in KINDS.values():
        return reverse(f"workbench_{obj.KIND}", kwargs={"pk": obj.pk})
    try:
        return obj.reviewer_url() if hasattr(obj, "reviewer_url") else ""
    except NoReverseMatch:
        return ""


# --- the queue ----------------------------------------------------------------------------------

def _region_label(region: Region) -> str:
    if region.level == Region.Level.COUNTY:
        return f"\u3000{region.full_name}"
    if region.level == Region.Level.CITY:
        return _("%(name)s（全市）") % {"name": region.name}
    return _("%(name)s（全省）") % {"name": region.name}


class QueueFilterForm(forms.Form):
    """The queue's filters (GET). A value outside the choices is named and ignored, never widened."""

    kind = forms.ChoiceField(label=gettext_lazy("类别"), required=False)
    status = forms.ChoiceField(label=gettext_lazy("状态"), required=False)
    region = forms.ChoiceField(label=gettext_lazy("县区"), required=False)
    overdue = forms.BooleanField(label=gettext_lazy("仅看逾期"), required=False)
    q = forms.CharField(label=gettext_lazy("姓名/证件号码/申请编号"), required=False, max_length=50,
                        widget=forms.TextInput(attrs={"type": "search", "placeholder": gettext_lazy("精确查找")}))

    def __init__(self, data, *, user):
        super().__init__(data)
        everything = [("", _("全部"))]
        self.fields["kind"].choices = everything + [(k, m.KIND_LABEL) for k, m in QUEUE_MODELS.items()]
        self.fields["status"].choices = everything + queue_status_choices()
        self.fields["region"].choices = everything + [(r.pk, _region_label(r)) for r in queue_region_choices(user)]

    @property
    def has_region_choice(self) -> bool:
        return len(self.fields["region"].choices) > 2  # a county reviewer has only their own county

    def queue_filters(self) -> QueueFilters:
        self.is_valid()
        data = self.cleaned_data
        return QueueFilters(kind=data.get("kind") or "", status=data.get("status") or "",
                            region=data.get("region") or "", overdue=bool(data.get("overdue")),
                            q=(data.get("q") or "").strip())


def _with_people(rows: list) -> list:
    """Rows of an application without an archive yet (an inbound transfer, R-TRF-4) name the person it carries."""
    for row in rows:
        if not row.name and getattr(row.obj, "person_name", ""):
            row.name = row.obj.person_name
            row.masked_id_number = mask_id_number(getattr(row.obj, "person_id_number", "") or "")
    return rows


def _queue_page_rows(rows) -> list:
    found = _with_people(queue_rows(queue_page_objects(rows)))
    for row in found:
        row.url = application_url(row.obj)
    return found


@reviewer_required
@require_GET
def queue(request):
    """审核工作台: open work of the reviewer's region, oldest submission first (R-COL-4, R-DL-2)."""
    form = QueueFilterForm(request.GET, user=request.user)
    rows = review_queue(request.user, form.queue_filters())
    page = Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "records/workbench/queue.html", {
        "form": form, "page": page, "rows": _queue_page_rows(page.object_list)})


@reviewer_required
@require_GET
def queue_export(request):
    """The filtered queue as Excel, same scope and order as the page."""
    form = QueueFilterForm(request.GET, user=request.user)
    queued = review_queue(request.user, form.queue_filters())
    rows = []
    for start in range(0, queued.count(), EXPORT_BATCH):
        rows.extend(_with_people(queue_rows(queue_page_objects(list(queued[start:start + EXPORT_BATCH])))))
    response = HttpResponse(queue_xlsx(rows),
                            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
    name = _("审核工作台-%(day)s.xlsx") % {"day": f"{timezone.localdate():%Y%m%d}"}
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quote(name)}"
    response["Cache-Control"] = "private, no-store"
    return response


# --- one application ----------------------------------------------------------------------------

def _model_for(segment: str) -> type[WorkflowModel]:
    try:
        return KINDS[segment]
    except KeyError:
        raise Http404 from None


# The archive's columns for each section of a change (records.rules.SECTIONS); labels and choice
# labels come from the models, so the table names things as the archive page does.
SECTION_FIELDS = {
    "basic": (Archive, {"name": "name", "ethnicity": "ethnicity"}),
    "contact": (Archive, {"mobile": "mobile", "email": "email", "address": "address"}),
    "employer": (Archive, {"name": "employer_name", "credit_code": "employer_credit_code",
                           "unit_type": "employer_unit_type"}),
    "career": (Archive, {"began_accounting_on": "began_accounting_on"}),
    "education": (Education, {key: key for key in ("level", "degree", "major", "school", "mode", "graduated_on")}),
    "qualifications": (Qualification, {key: key for key in ("level", "certificate_no", "obtained_on")}),
}


def _shown(field, value) -> str:
    if value in (None, ""):
        return ""
    return str(dict(field.choices).get(value, value)) if field.choices else str(value)


def _diff_rows(model, mapping: dict, old: dict, new: dict, prefix: str = "") -> list[dict]:
    rows = []
    for key, attr in mapping.items():
        field = model._meta.get_field(attr)
        before, after = _shown(field, (old or {}).get(key)), _shown(field, (new or {}).get(key))
        rows.append({"label": f"{prefix}{field.verbose_name}", "old": before, "new": after,
                     "changed": before != after})
    return rows


def change_diff(change: ChangeRequest) -> list[dict]:
    """变更前 | 变更后 per field of each chosen item (R-CHG-2).

    Before a decision the "before" side is the archive as it is now; once approved, what the
    change replaced (``old_values``), since the archive has the new values by then.
    """
    decided = change.status == ChangeRequest.Status.APPROVED and change.old_values
    old_all = change.old_values if decided else archive_data(change.archive)
    groups = []
    for item in change.items:
        model, mapping = SECTION_FIELDS[item]
        old, new = old_all.get(item), change.new_values.get(item)
        if isinstance(old, list) or isinstance(new, list):
            old, new = old or [], new or []
            rows = []
            for i in range(max(len(old), len(new))):
                rows += _diff_rows(model, mapping, old[i] if i < len(old) else {}, new[i] if i < len(new) else {},
                                   prefix=_("第%(n)d条 ") % {"n": i + 1})
        else:
            rows = _diff_rows(model, mapping, old, new)
        groups.append({"item": ChangeItem(item).label, "rows": rows})
    return groups


def _render_detail(request, obj: WorkflowModel, *, failed: str = "", reason: str = "",
                   error: DomainError | None = None, status: int = 200, revealed_id_number: str = "",
                   reveal_reason: str | None = None, reveal_error: DomainError | None = None):
    """The application page. The ID number is masked unless ``revealed_id_number`` is given: only
    the response to an audited reveal carries it, and nothing keeps it for the next request."""
    archive = obj.archive
    prefetch_related_objects([archive], "education", "qualifications", "attachments")
    row = queue_rows(annotate_days_left([obj]))[0]
    is_change = isinstance(obj, ChangeRequest)
    errors = error.errors if error else {}
    actions = obj.transitions_for(request.user)
    return render(request, "records/workbench/detail.html", {
        "obj": obj, "row": row, "archive": archive, "history": history_rows(obj),
        "transition_route": f"workbench_{obj.KIND}_transition",
        "actions": actions, "reason_actions": [a for a in actions if a.reason_required],
        "plain_actions": [a for a in actions if not a.reason_required],
        "diff": change_diff(obj) if is_change else None,
        "evidence": list(obj.attachments.all()) if is_change else [], "scans": list(archive.attachments.all()),
        "failed": failed, "reason": reason, "reason_errors": errors.get("reason", []),
        "other_errors": [message for key, found in errors.items() if key != "reason" for message in found],
        "reveal_route": f"workbench_{obj.KIND}_reveal", "revealed_id_number": revealed_id_number,
        "reveal_reason": REASON_SUGGESTIONS[0] if reveal_reason is None else reveal_reason,
        "reveal_suggestions": REASON_SUGGESTIONS, "reveal_max": REASON_MAX, "detail_url": application_url(obj),
        "reveal_errors": [message for found in (reveal_error.errors.values() if reveal_error else [])
                          for message in found],
    }, status=status)


@reviewer_required
@require_GET
def application_detail(request, kind: str, pk: int):
    """One application as the reviewer sees it (R-COL-4, R-CHG-2); outside the region, 404 (R-ACL-1)."""
    obj = application_get(_model_for(kind), request.user, pk)
    return _render_detail(request, obj)


@reviewer_required
@require_POST
def application_transition(request, kind: str, pk: int, name: str):
    """Take one decision; a return needs the reason the applicant will read (R-ACL-3)."""
    obj = application_get(_model_for(kind), request.user, pk)
    reason = request.POST.get("reason", "")
    try:
        obj = workflow_transition(obj, name, by=request.user, reason=reason)
    except (TransitionNotAllowed, Conflict):  # another reviewer got there first, or it is not ours to do
        messages.error(request, CONFLICT_MESSAGE)
        return redirect(f"workbench_{obj.KIND}", pk=pk)
    except DomainError as exc:
        return _render_detail(request, obj, failed=name, reason=reason, error=exc, status=400)
    info = obj.transition_info(name)
    messages.success(request, _("已办理：%(action)s（%(number)s），当前状态：%(status)s。") % {
        "action": info.label if info else name, "number": obj.number, "status": obj.status_display})
    return redirect("accounts:workbench")


@reviewer_required
@require_POST
def application_reveal_id(request, kind: str, pk: int):
    """显示完整号码: the full ID number on this one response, with a reason and an audit row (security item 46).

    Outside the region, 404 (R-ACL-1); without a reason, the page again with the error and the
    number still masked. The number is not kept: the next GET shows it masked.
    """
    obj = application_get(_model_for(kind), request.user, pk)
    reason = request.POST.get("reason", "")
    try:
        number = archive_reveal_id_number(archive=obj.archive, by=request.user, reason=reason, via=obj,
                                          ip=client_ip(request))
    except DomainError as exc:
        return _render_detail(request, obj, reveal_reason=reason, reveal_error=exc, status=400)
    return _render_detail(request, obj, revealed_id_number=number, reveal_reason=reason.strip())


# --- scans --------------------------------------------------------------------------------------

@login_required
@require_safe
@xframe_options_sameorigin  # the application page shows PDFs in an <iframe>
def attachment_file(request, pk: int):
    """A scan, for its owner or a reviewer who may see what it is attached to; anyone else 404 (R-ACL-1/2)."""
    attachment = attachment_get(request.user, pk)
    try:
        stream = attachment.file.open("rb")
    except FileNotFoundError:  # the row outlived its file (a restore without media): nothing to show
        raise Http404 from None
    response = FileResponse(stream, content_type=attachment.content_type)
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(attachment.name)}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    # Sandboxed: even a file that fooled the upload check cannot run script under our origin.
    # Not for PDFs: Chromium refuses to start its PDF viewer in a sandboxed document, and a PDF
    # (checked by its first bytes, sent as application/pdf with nosniff) never renders as HTML.
    if attachment.content_type != "application/pdf":
        response["Content-Security-Policy"] = "sandbox"
    return response
