"""我的档案 and 档案变更登记 (R-COL-2, R-CHG-1…4, R-DL-2).

Thin views: the caller's own objects through records.selectors (another person's is a 404,
R-ACL-2), the forms of records.forms to parse, records.services and
kjzx.workflow.workflow_transition to write. 保存草稿 keeps every well-formed value
(:func:`records.services.change_draft_save`) and names the rest beside its field; a
refused move becomes a message and a redirect.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import accountant_required
from kjzx.api import Conflict, DomainError
from kjzx.workflow import annotate_days_left, history_rows, workflow_transition
from kjzx.workflow_views import REFUSALS
from records import selectors, services
from records.forms import (
    SECTION_LABELS,
    ArchiveSections,
    ChangeItemsForm,
    add_error,
    describe_section,
    unsaved_message,
)
from records.models import Archive, AttachmentKind, ChangeItem, ChangeRequest
from records.views_person.common import (
    UNSAVED,
    error_summary,
    iso_day,
    own_archive_first,
    place_rest,
    refused,
    uploads_form,
)

# --- 我的档案 -----------------------------------------------------------------------------------

@accountant_required
@require_GET
@own_archive_first
def archive_detail(request):
    """The archive and its approved changes, old → new (R-COL-2, R-CHG-2)."""
    user = request.user
    record = services.archive_for_person(user)
    collected = record.status in (Archive.Status.ACTIVE, Archive.Status.TRANSFERRED_OUT)
    history = [{"change": c, "rows": _diff_rows(c)} for c in selectors.archive_history(record)] if collected else []
    return render(request, "records/person/archive.html", {
        "archive": record, "collected": collected, "history": history, "menu": "archive",
        "current": services.collection_current(user),
    })


def _diff_rows(change: ChangeRequest, current: dict | None = None) -> list[dict]:
    """Per item: its label, what it was and what it becomes, in words."""
    rows = []
    for item in change.items:
        old = change.old_values.get(item) if item in change.old_values else (current or {}).get(item)
        rows.append({"label": SECTION_LABELS.get(item, item), "old": describe_section(item, old),
                     "new": describe_section(item, change.new_values.get(item))})
    return rows


# --- 档案变更登记 -------------------------------------------------------------------------------

def _change_blocked(archive: Archive) -> str:
    """Why a new change cannot start now, or "" (R-CHG-4); the service says the last word."""
    if archive.status != Archive.Status.ACTIVE:
        return _("信息采集审核通过后才能办理档案变更登记。")
    return selectors.archive_open_refusal(archive)


@accountant_required
@require_GET
@own_archive_first
def change_list(request):
    """The person's changes with their status, and the way to start one (R-CHG-1, R-CHG-4)."""
    changes = selectors.change_list(request.user).order_by("-created_at", "-id")
    archive = services.archive_for_person(request.user)
    return render(request, "records/person/change_list.html", {
        "changes": annotate_days_left(list(changes)), "blocked": _change_blocked(archive), "menu": "changes"})


def _picked_items(values) -> list[str]:
    return [item for item in ChangeItem.values if item in values]


@accountant_required
@require_http_methods(["GET", "POST"])
@own_archive_first
def change_new(request):
    """Start a change: pick the items, enter the new values, upload evidence (R-CHG-1, R-CHG-4)."""
    archive = services.archive_for_person(request.user)
    blocked = _change_blocked(archive)
    if blocked:  # said before any file is stored; change_open has the last word (R-CHG-4)
        messages.warning(request, blocked)
        return redirect("person_change_list")
    if request.method == "POST":
        return _change_post(request, archive, None)
    items = _picked_items(request.GET.getlist("items"))
    if not items or "pick" in request.GET:
        return _render_pick(request, None, items)
    return _render_change_form(request, None, _change_forms(request.user, archive, None, items))


@accountant_required
@require_http_methods(["GET", "POST"])
def change_edit(request, pk: int):
    """修改 a draft or returned change, then save or (re)submit it (R-CHG-2)."""
    change = selectors.application_get(ChangeRequest, request.user, pk)
    if "submit" not in change.transition_names_for(request.user):
        messages.error(request, _("只有草稿或已退回的变更申请可以修改。"))
        return redirect("person_change_detail", pk=change.pk)
    if request.method == "POST":
        return _change_post(request, change.archive, change)
    picked = _picked_items(request.GET.getlist("items"))
    if "pick" in request.GET or ("next" in request.GET and not picked):
        return _render_pick(request, change, picked)
    items = picked or change.items
    return _render_change_form(request, change, _change_forms(request.user, change.archive, change, items))


def _render_pick(request, change, items):
    form = ChangeItemsForm(initial={"items": items})
    if "next" in request.GET and not items:
        add_error(form, "items", _("请至少勾选一项要变更的事项。"))
    return render(request, "records/person/change_pick.html", {"change": change, "form": form, "menu": "changes"})


def _change_forms(user, archive, change, items, data=None, files=None) -> dict:
    """The change form: the picked sections (prefilled: the change's new values, else the archive's)."""
    initial = services.archive_data(archive)
    if change is not None:
        initial.update({k: v for k, v in change.new_values.items() if k in initial})
    return {
        "items": items,
        "sections": ArchiveSections(items, data, initial=initial),
        "items_form": ChangeItemsForm(data, initial={"items": items}),
        "uploads": uploads_form(user, change.attachments.all() if change else [], data, files,
                                 kinds=[AttachmentKind.EVIDENCE]),
    }


def _render_change_form(request, change, ctx):
    ctx.setdefault("summary", error_summary(ctx["sections"], (ctx["items_form"], ""), (ctx["uploads"], _("证明材料"))))
    ctx.update({"change": change, "menu": "changes", "item_labels": [SECTION_LABELS[i] for i in ctx["items"]],
                "action": reverse("person_change_edit", args=[change.pk]) if change else reverse("person_change_new")})
    return render(request, "records/person/change_form.html", ctx)


def _change_post(request, archive, change):
    """保存草稿 (every well-formed value, R-CHG-1) or 提交 (then submit), R-CHG-1, R-CHG-2."""
    user = request.user
    items = _picked_items(request.POST.getlist("items"))
    ctx = _change_forms(user, archive, change, items, request.POST, request.FILES)
    sections, uploads = ctx["sections"], ctx["uploads"]
    all([sections.is_valid(), ctx["items_form"].is_valid(), uploads.is_valid()])  # every one parses
    uploads.store(user)
    fields = {"items": items, "values": sections.data(), "attachments": uploads.keep_ids()}
    try:
        change, unsaved = services.change_draft_save(person=user, change=change, **fields)
    except Conflict as exc:
        refused(request, exc)
        return redirect("person_change_detail", pk=change.pk) if change else redirect("person_change_list")
    except DomainError as exc:  # nothing to save a draft of (no item picked)
        _change_errors(ctx, exc.errors)
        messages.error(request, UNSAVED)
        return _render_change_form(request, change, ctx)
    uploads.saved(change.attachments.all())
    _change_errors(ctx, {key: [unsaved_message(m) for m in msgs] for key, msgs in unsaved.items()})
    ctx["summary"] = error_summary(sections, (ctx["items_form"], ""), (uploads, _("证明材料")))
    if ctx["summary"]:
        messages.warning(request, _("变更申请已保存为草稿（%(number)s）；标出的 %(n)s 项未保存，请修改后再保存或提交。")
                         % {"number": change.number, "n": len(ctx["summary"])})
        return _render_change_form(request, change, ctx)
    for notes in uploads.notes.values():
        for note in notes:  # a file already there: said on the next page
            messages.info(request, note)
    if "submit" not in request.POST:
        messages.success(request, _("变更申请已保存为草稿（%(number)s），可继续修改或提交。") % {
            "number": change.number})
        return redirect("person_change_detail", pk=change.pk)
    return _change_submit(request, change)


def _change_submit(request, change):
    try:
        change = workflow_transition(change, "submit", by=request.user)
    except REFUSALS as exc:
        refused(request, exc)
        return redirect("person_change_detail", pk=change.pk)
    except DomainError as exc:  # saved as it is: show it again with what is missing named
        change.refresh_from_db()
        ctx = _change_forms(request.user, change.archive, change, change.items)
        _change_errors(ctx, exc.errors)
        messages.warning(request, _("变更申请已保存为草稿，但尚不能提交。请按提示修改后再提交。"))
        return _render_change_form(request, change, ctx)
    messages.success(request, _("变更申请已提交（%(number)s），属地财政部门将于 %(due)s 前办结。") % {
        "number": change.number, "due": iso_day(change.due_date)})
    return redirect("person_change_detail", pk=change.pk)


def _change_errors(ctx, errors) -> None:
    values = {key.removeprefix("values."): msgs for key, msgs in errors.items() if key.startswith("values.")}
    rest = ctx["sections"].apply_errors(values)
    rest.update({key: msgs for key, msgs in errors.items() if not key.startswith("values.")})
    for message in rest.pop("attachments", []):
        add_error(ctx["uploads"], AttachmentKind.EVIDENCE, message)
    place_rest(ctx["items_form"], rest, {"items": "items"})


@accountant_required
@require_GET
def change_detail(request, pk: int):
    """One change: status, due date, reason, history, old → new, what the person may do (R-CHG-1…4, R-DL-2)."""
    change = selectors.application_get(ChangeRequest, request.user, pk)
    annotate_days_left([change])
    current = services.archive_data(change.archive) if not change.old_values else None
    return render(request, "records/person/change_detail.html", {
        "change": change, "obj": change, "history": history_rows(change), "rows": _diff_rows(change, current),
        "transitions": change.transition_names_for(request.user), "attachments": list(change.attachments.all()),
        "menu": "changes"})


@accountant_required
@require_POST
def change_submit(request, pk: int):
    """提交 a draft or returned change from its page; what is missing comes back on the form."""
    return _change_submit(request, selectors.application_get(ChangeRequest, request.user, pk))


@accountant_required
@require_POST
def change_withdraw(request, pk: int):
    """撤回 before a decision (R-CHG-1 states)."""
    change = selectors.application_get(ChangeRequest, request.user, pk)
    try:
        workflow_transition(change, "withdraw", by=request.user)
    except REFUSALS as exc:
        refused(request, exc)
    else:
        messages.success(request, _("变更申请 %(number)s 已撤回。") % {"number": change.number})
    return redirect("person_change_detail", pk=change.pk)
