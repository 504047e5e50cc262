"""The accountant's records pages: 我的信息—信息采集, 我的档案, 档案变更登记 (R-COL-2…4a, R-CHG-1…4).

Thin views: the caller's own objects through records.selectors (another person's is a 404,
R-ACL-2), the forms of records.forms to parse, records.services and
kjzx.workflow.workflow_transition to write. A service's DomainError comes back beside the fields
it names plus a summary at the top; a Conflict or TransitionNotAllowed becomes a message and a
redirect.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_fsm import TransitionNotAllowed

from accounts.permissions import accountant_required
from kjzx.api import Conflict, DomainError
from kjzx.workflow import annotate_days_left, history_rows, workflow_transition
from records import selectors, services
from records.forms import (
    SECTION_LABELS,
    ArchiveSections,
    AttachmentsForm,
    ChangeItemsForm,
    CollectionForm,
    add_error,
    describe_section,
    form_error_items,
)
from records.models import Archive, AttachmentKind, ChangeItem, ChangeRequest
from records.rules import SECTIONS
from records.uploads import attachment_create

COLLECTION_KINDS = (AttachmentKind.PHOTO, AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA, AttachmentKind.QUALIFICATION)
SINGLE_KINDS = (AttachmentKind.PHOTO,)  # a new photo replaces the old one
NOT_NOW = gettext_lazy("当前状态下不能执行该操作，请刷新后查看最新状态。")


# --- shared steps --------------------------------------------------------------------------------

def _uploads_form(user, attached, data=None, files=None, *, kinds) -> AttachmentsForm:
    """The upload part of a page; files uploaded with a failed form come back as pending (own ones only)."""
    attached = list(attached)
    pending = []
    for pk in AttachmentsForm.pending_ids(data):
        try:
            found = selectors.attachment_get(user, pk)
        except Http404:
            continue
        if found.kind in kinds and found not in attached and found not in pending:
            pending.append(found)
    return AttachmentsForm(data, files, kinds=kinds, attached=attached, pending=pending, single=SINGLE_KINDS)


def _store_uploads(user, form: AttachmentsForm) -> None:
    """Save each chosen file (attachment_create checks it, 413/415); a refused one is named beside its input."""
    for kind in form.kinds:
        for upload in form.cleaned_data.get(kind) or []:
            try:
                form.add_new([attachment_create(owner=user, kind=kind, upload=upload)])
            except DomainError as exc:
                for message in exc.errors.get("file") or [exc.message]:
                    add_error(form, kind, f"{upload.name}：{message}")


def _refused(request, exc) -> None:
    """A Conflict or TransitionNotAllowed: someone or something moved first; say so."""
    messages.error(request, exc.message if isinstance(exc, Conflict) else NOT_NOW)


def _place_rest(form, rest: dict, fields: dict) -> None:
    """Errors outside the sections: beside the page form's field named in ``fields``, else at its top."""
    for key, messages_ in rest.items():
        for message in messages_:
            add_error(form, fields.get(key), message)


UNSAVED = gettext_lazy("本次填写的内容尚未保存，请按提示修改后重新提交。")


def _own_archive_first(view):
    """An archive that came in from another province is claimed before anything else (R-TRF-4)."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.ArchiveAwaitingClaim as exc:
            messages.info(request, exc.message)
            return redirect("person_transfer_list")

    return wrapped


# --- 我的信息—信息采集 ------------------------------------------------------------------------

@accountant_required
@require_http_methods(["GET", "POST"])
@_own_archive_first
def collection(request):
    """The collection form, its status and history (R-COL-2, R-COL-4a, R-COL-4, R-DL-2)."""
    user = request.user
    archive = services.archive_for_person(user)
    if request.method == "POST":
        if not services.archive_is_editable(archive):
            messages.error(request, _("信息采集正在审核或已完成，不能修改。"))
            return redirect("person_collection")
        response, ctx = _collection_post(request, archive)
        if response is not None:
            return response
        archive.refresh_from_db()
    else:
        ctx = _collection_forms(user, archive)
    current = services.collection_current(user)
    if current is not None:
        annotate_days_left([current])
    ctx.update({"archive": archive, "current": current, "editable": services.archive_is_editable(archive),
                "history": history_rows(current) if current else [], "menu": "collection",
                "summary": _summary(ctx["sections"], (ctx["form"], ""), (ctx["uploads"], _("证明材料")))})
    return render(request, "records/person/collection.html", ctx)


def _collection_forms(user, archive, data=None, files=None) -> dict:
    initial = {"jurisdiction": archive.jurisdiction_id or "", "pledge_accepted": archive.pledge_accepted_at is not None}
    return {
        "sections": ArchiveSections(SECTIONS, data, initial=services.archive_data(archive), name_editable=False),
        "form": CollectionForm(data, initial=initial),
        "uploads": _uploads_form(user, archive.attachments.all(), data, files, kinds=COLLECTION_KINDS),
    }


def _collection_post(request, archive):
    """保存草稿 saves the archive; 提交审核 then opens and submits the application. → (redirect, context)."""
    user = request.user
    ctx = _collection_forms(user, archive, request.POST, request.FILES)
    sections, form, uploads = ctx["sections"], ctx["form"], ctx["uploads"]
    valid = all([sections.is_valid(), form.is_valid(), uploads.is_valid()])  # a list: check every one
    if valid:
        _store_uploads(user, uploads)
    if not valid or uploads.errors:
        messages.error(request, UNSAVED)
        return None, ctx
    data = {**sections.data(), **form.to_data(), "attachments": uploads.keep_ids()}
    data["basic"]["name"] = archive.name  # identity is shown, not edited
    try:
        archive = services.archive_update(archive=archive, by=user, data=data)
    except Conflict as exc:
        _refused(request, exc)
        return redirect("person_collection"), None
    except DomainError as exc:
        _collection_errors(ctx, exc.errors)
        messages.error(request, UNSAVED)
        return None, ctx
    if "submit" not in request.POST:
        messages.success(request, _("草稿已保存。信息填写完整后请点击“提交审核”。"))
        return redirect("person_collection"), None
    try:
        application = workflow_transition(services.collection_open(person=user), "submit", by=user)
    except (Conflict, TransitionNotAllowed) as exc:
        _refused(request, exc)
        return redirect("person_collection"), None
    except DomainError as exc:  # the draft is saved: show it as saved, every missing item named (R-COL-2)
        ctx = _collection_forms(user, archive)
        _collection_errors(ctx, exc.errors)
        messages.warning(request, _("草稿已保存，但信息尚不完整，暂不能提交审核。请补充下列各项后再提交。"))
        return None, ctx
    messages.success(request, _("已提交审核（申请编号 %(number)s），属地财政部门将于 %(due)s 前办结。") % {
        "number": application.number, "due": _day(application.due_date)})
    return redirect("person_collection"), None


def _collection_errors(ctx, errors) -> None:
    rest = ctx["sections"].apply_errors(errors)
    for message in rest.pop("attachments", []):
        add_error(ctx["uploads"], None, message)
    _place_rest(ctx["form"], rest, {"jurisdiction": "jurisdiction", "pledge_accepted": "pledge_accepted"})


def _summary(sections: ArchiveSections, *others) -> list[dict]:
    items = sections.summary()
    for form, title in others:
        items += form_error_items(form, title, "section-attachments" if isinstance(form, AttachmentsForm) else "")
    return items


def _day(day) -> str:
    return day.isoformat() if day else ""


# --- 我的档案 -----------------------------------------------------------------------------------

@accountant_required
@require_GET
@_own_archive_first
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
    busy = selectors.archive_open_application(archive)
    if busy is not None:
        return _("您有尚未办结的%(kind)s申请（%(number)s），办结或撤回后才能再次申请。") % {
            "kind": busy.KIND_LABEL, "number": busy.number}
    return ""


@accountant_required
@require_GET
@_own_archive_first
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
@_own_archive_first
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
        "uploads": _uploads_form(user, change.attachments.all() if change else [], data, files,
                                 kinds=[AttachmentKind.EVIDENCE]),
    }


def _render_change_form(request, change, ctx):
    ctx.update({"change": change, "menu": "changes", "item_labels": [SECTION_LABELS[i] for i in ctx["items"]],
                "action": reverse("person_change_edit", args=[change.pk]) if change else reverse("person_change_new"),
                "summary": _summary(ctx["sections"], (ctx["items_form"], ""), (ctx["uploads"], _("证明材料")))})
    return render(request, "records/person/change_form.html", ctx)


def _change_post(request, archive, change):
    """保存草稿 (change_open or change_update) or 提交 (then submit), R-CHG-1, R-CHG-2."""
    user = request.user
    items = _picked_items(request.POST.getlist("items"))
    ctx = _change_forms(user, archive, change, items, request.POST, request.FILES)
    sections, uploads = ctx["sections"], ctx["uploads"]
    valid = all([sections.is_valid(), ctx["items_form"].is_valid(), uploads.is_valid()])
    if valid:
        _store_uploads(user, uploads)
    if not valid or uploads.errors:
        messages.error(request, UNSAVED)
        return _render_change_form(request, change, ctx)
    fields = {"items": items, "values": sections.data(), "attachments": uploads.keep_ids()}
    try:
        if change is None:
            change = services.change_open(person=user, **fields)
        else:
            change = services.change_update(change=change, by=user, **fields)
    except Conflict as exc:
        _refused(request, exc)
        return redirect("person_change_detail", pk=change.pk) if change else redirect("person_change_list")
    except DomainError as exc:
        _change_errors(ctx, exc.errors)
        messages.error(request, UNSAVED)
        return _render_change_form(request, change, ctx)
    if "submit" not in request.POST:
        messages.success(request, _("变更申请已保存为草稿（%(number)s），可继续修改或提交。") % {
            "number": change.number})
        return redirect("person_change_detail", pk=change.pk)
    return _change_submit(request, change)


def _change_submit(request, change):
    try:
        change = workflow_transition(change, "submit", by=request.user)
    except (Conflict, TransitionNotAllowed) as exc:
        _refused(request, exc)
        return redirect("person_change_detail", pk=change.pk)
    except DomainError as exc:  # saved as it is: show it again with what is missing named
        change.refresh_from_db()
        ctx = _change_forms(request.user, change.archive, change, change.items)
        _change_errors(ctx, exc.errors)
        messages.warning(request, _("变更申请已保存为草稿，但尚不能提交。请按提示修改后再提交。"))
        return _render_change_form(request, change, ctx)
    messages.success(request, _("变更申请已提交（%(number)s），属地财政部门将于 %(due)s 前办结。") % {
        "number": change.number, "due": _day(change.due_date)})
    return redirect("person_change_detail", pk=change.pk)


def _change_errors(ctx, errors) -> None:
    values = {key.removeprefix("values."): msgs for key, msgs in errors.items() if key.startswith("values.")}
    rest = ctx["sections"].apply_errors(values)
    rest.update({key: msgs for key, msgs in errors.items() if not key.startswith("values.")})
    for message in rest.pop("attachments", []):
        add_error(ctx["uploads"], AttachmentKind.EVIDENCE, message)
    _place_rest(ctx["items_form"], rest, {"items": "items"})


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
    except (Conflict, TransitionNotAllowed) as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("变更申请 %(number)s 已撤回。") % {"number": change.number})
    return redirect("person_change_detail", pk=change.pk)
