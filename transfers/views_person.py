"""The accountant's transfer pages: 我的档案—档案调出申请 (R-TRF-1, R-TRF-3, R-TRF-4, R-CHG-4, R-DL-2).

Thin views: the caller's own transfers through :mod:`transfers.selectors` (another person's is a
404, R-ACL-2), :class:`transfers.forms.TransferForm` to parse, :func:`transfers.services.transfer_open`
and :func:`kjzx.workflow.workflow_transition` to write. A service's DomainError comes back beside
the fields it names plus a summary at the top; a refused move becomes a message (the words of
:func:`kjzx.workflow_views.refusal_message`) and a redirect.

- ``/me/transfers/``: the person's transfers, their status in words and due dates, inbound
  records approved for them to claim (认领档案), and 申请调转 (disabled, with the reason, while
  the archive is not collected or has an open change or transfer, R-CHG-4).
- ``/me/transfers/new/``: 省内调转 or 跨省调出, where to, the unit, the proof; 保存草稿 or 提交申请.
- ``/me/transfers/<pk>/``: the status at every step (R-TRF-1), due date, reason, history; the
  person's own actions POST to ``…/transitions/<submit|withdraw|claim>/``.

A draft cannot be edited (the services have no update): the person submits it as it is, or
withdraws it and starts again. A submission refused on the new-transfer page leaves no draft
behind: opening and submitting are one transaction, so the corrected form can be sent again.
"""

from __future__ import annotations

from django.contrib import messages
from django.db import transaction
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.permissions import accountant_required
from kjzx.api import DomainError
from kjzx.workflow import annotate_days_left, history_rows, workflow_transition
from kjzx.workflow_views import REFUSALS, refusal_message
from records import selectors as records_selectors
from records.forms import AttachmentsForm, add_error, form_error_items
from records.models import Archive, AttachmentKind
from transfers import selectors, services
from transfers.forms import TransferForm
from transfers.models import Transfer, TransferType, province_names

PROOF_KINDS = (AttachmentKind.EMPLOYMENT_PROOF, AttachmentKind.STUDENT_PROOF)
PERSON_TRANSITIONS = ("submit", "withdraw", "claim")
UNSAVED = gettext_lazy("本次填写的内容尚未保存，请按提示修改后重新提交。")
FORM_FIELDS = ("type", "to_region", "to_province", "to_unit")


# --- shared steps --------------------------------------------------------------------------------

def _own_archive(user) -> Archive | None:
    """The person's archive if they have one; a read never opens one (an unclaimed inbound archive
    bearing their ID would clash with a new one, R-TRF-4)."""
    return Archive.objects.filter(person=user).select_related("jurisdiction__parent").first()


def _transfer_blocked(archive: Archive | None) -> str:
    """Why a transfer cannot start now, or "" (R-CHG-4); transfer_open says the last word."""
    if archive is None or archive.status != Archive.Status.ACTIVE:
        return _("信息采集审核通过后才能申请档案调转。")
    return records_selectors.archive_open_refusal(archive)


def _refused(request, exc) -> None:
    messages.error(request, refusal_message(exc))


def describe_places(transfers, provinces: dict[str, str] | None = None) -> None:
    """Set ``origin`` and ``destination`` in words on each transfer, with one query for province names."""
    if provinces is None:
        provinces = province_names()
    for t in transfers:
        t.origin = (t.from_region.jurisdiction_label if t.from_region_id
                    else provinces.get(t.from_province, t.from_province))
        t.destination = (provinces.get(t.to_province, t.to_province) if t.type == TransferType.OUTBOUND
                         else t.to_region.jurisdiction_label if t.to_region_id else "")


# --- 档案调出申请 ---------------------------------------------------------------------------------

@accountant_required
@require_GET
def transfer_list(request):
    """The person's transfers and inbound records to claim; 申请调转 or why not (R-TRF-1, R-TRF-4, R-CHG-4)."""
    user = request.user
    claimable = list(selectors.claimable_inbound(user).select_related("to_region__parent").order_by("created_at"))
    transfers = list(selectors.transfer_list(Transfer, user).filter(applicant=user)
                     .exclude(pk__in=[t.pk for t in claimable]).order_by("-created_at", "-id"))
    describe_places(transfers + claimable)
    return render(request, "transfers/person/list.html", {
        "transfers": annotate_days_left(transfers), "claimable": claimable,
        "blocked": _transfer_blocked(_own_archive(user)), "menu": "transfers"})


def _render_new(request, archive, form, uploads, status=200):
    summary = form_error_items(form) + form_error_items(uploads, _("证明材料"), "section-attachments")
    return render(request, "transfers/person/new.html", {
        "archive": archive, "form": form, "uploads": uploads, "summary": summary, "menu": "transfers"},
        status=status)


@accountant_required
@require_http_methods(["GET", "POST"])
def transfer_new(request):
    """Apply for a transfer: 省内调转 or 跨省调出, the destination, the unit, the proof (R-TRF-1, R-TRF-3)."""
    user = request.user
    archive = _own_archive(user)
    blocked = _transfer_blocked(archive)
    if blocked:  # said before any file is stored; transfer_open has the last word (R-CHG-4)
        messages.warning(request, blocked)
        return redirect("person_transfer_list")
    current = archive.jurisdiction_id
    if request.method == "GET":
        return _render_new(request, archive, TransferForm(current_region=current),
                           AttachmentsForm.for_user(user, kinds=PROOF_KINDS))
    form = TransferForm(request.POST, current_region=current)
    uploads = AttachmentsForm.for_user(user, request.POST, request.FILES, kinds=PROOF_KINDS)
    valid = all([form.is_valid(), uploads.is_valid()])  # a list: check both
    if valid:
        uploads.store(user)
    if not valid or uploads.errors:
        messages.error(request, UNSAVED)
        return _render_new(request, archive, form, uploads)
    submit = "submit" in request.POST
    try:
        # One transaction: a refused submission leaves no draft that would block the corrected one (R-CHG-4).
        with transaction.atomic():
            transfer = services.transfer_open(person=user, attachments=uploads.keep_ids(), **form.to_data())
            if submit:
                transfer = workflow_transition(transfer, "submit", by=user)
    except REFUSALS as exc:
        _refused(request, exc)
        return redirect("person_transfer_list")
    except DomainError as exc:
        _place_errors(form, uploads, exc.errors)
        messages.error(request, UNSAVED)
        return _render_new(request, archive, form, uploads)
    if submit:
        messages.success(request, _("调转申请已提交（%(number)s），调出地财政部门将于 %(due)s 前受理。") % {
            "number": transfer.number, "due": transfer.due_date.isoformat() if transfer.due_date else ""})
    else:
        messages.success(request, _("调转申请已保存为草稿（%(number)s）。核对无误后请点击“提交申请”。") % {
            "number": transfer.number})
    return redirect("person_transfer_detail", pk=transfer.pk)


def _place_errors(form: TransferForm, uploads: AttachmentsForm, errors: dict) -> None:
    """Each message beside its field: the destination and unit on the form, the proof on the uploads."""
    for key, found in errors.items():
        for message in found:
            if key == "attachments":
                add_error(uploads, None, message)
            else:
                add_error(form, key if key in FORM_FIELDS else None, message)


@accountant_required
@require_GET
def transfer_detail(request, pk: int):
    """One transfer: its status in words at every step, due date, reason, history (R-TRF-1, R-ACL-3, R-DL-2)."""
    transfer = selectors.transfer_get(Transfer, request.user, pk)
    annotate_days_left([transfer])
    describe_places([transfer])
    names = [n for n in transfer.transition_names_for(request.user) if n in PERSON_TRANSITIONS]
    return render(request, "transfers/person/detail.html", {
        "transfer": transfer, "obj": transfer, "history": history_rows(transfer), "transitions": names,
        "attachments": list(transfer.attachments.all()), "return_by": selectors.transfer_return_by(transfer),
        "menu": "transfers"})


SUCCESS = {
    "submit": gettext_lazy("调转申请 %(number)s 已提交，当前状态：%(status)s。"),
    "withdraw": gettext_lazy("调转申请 %(number)s 已撤回。"),
    "claim": gettext_lazy("已认领调入档案（%(number)s）。请核对档案信息，并按本省信息采集要求补充完善。"),
}


@accountant_required
@require_POST
def transfer_transition(request, pk: int, name: str):
    """提交 a draft, 撤回 before acceptance, or 认领 an approved inbound record (R-TRF-1, R-TRF-4)."""
    transfer = selectors.transfer_get(Transfer, request.user, pk)
    if name not in PERSON_TRANSITIONS:
        raise Http404
    try:
        transfer = workflow_transition(transfer, name, by=request.user)
    except REFUSALS as exc:
        _refused(request, exc)
    except DomainError as exc:  # e.g. a draft without its proof, or a province no longer connected
        for found in exc.errors.values():
            for message in found:
                messages.error(request, message)
    else:
        messages.success(request, SUCCESS[name] % {"number": transfer.number, "status": transfer.status_display})
        if name == "claim":
            return redirect("person_archive")
    return redirect("person_transfer_detail", pk=transfer.pk)
