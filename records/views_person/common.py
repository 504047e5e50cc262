"""What the accountant's records pages share: uploads on a page, refusals, the error summary.

Every upload goes through :func:`records.uploads.attachment_create` (checked by content, 413/415; the
same file again is the one already stored); a refusal of a move is said in the words of
:func:`kjzx.workflow_views.refusal_message`.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from kjzx.api import DomainError
from kjzx.workflow_views import refusal_message
from records import selectors, services
from records.forms import ArchiveSections, AttachmentsForm, add_error, form_error_items, unsaved_message
from records.models import AttachmentKind
from records.uploads import attachment_create

COLLECTION_KINDS = (AttachmentKind.PHOTO, AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA, AttachmentKind.QUALIFICATION)
SINGLE_KINDS = (AttachmentKind.PHOTO,)  # a new photo replaces the old one
CAMERA_KINDS = (AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA, AttachmentKind.QUALIFICATION)  # photos of documents
REQUIRED_KINDS = (AttachmentKind.PHOTO, AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA)  # rules.archive_missing


def uploads_form(user, attached, data=None, files=None, *, kinds, **options) -> AttachmentsForm:
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
    return AttachmentsForm(data, files, kinds=kinds, attached=attached, pending=pending, single=SINGLE_KINDS, **options)


def store_uploads(user, form: AttachmentsForm) -> None:
    """Save each chosen file (attachment_create checks it, 413/415); a refused one is named beside its
    input, and so is one already uploaded (the same bytes, no second copy)."""
    for kind in form.kinds:
        for upload in (getattr(form, "cleaned_data", None) or {}).get(kind) or []:
            try:
                attachment = attachment_create(owner=user, kind=kind, upload=upload)
            except DomainError as exc:
                for message in exc.errors.get("file") or [exc.message]:
                    add_error(form, kind, unsaved_message(f"{upload.name}：{message}"))
                continue
            if getattr(attachment, "reused", False):
                form.add_note(kind, _("%(name)s 与已上传的“%(existing)s”是同一文件，未重复保存。") % {
                    "name": upload.name, "existing": attachment.name})
            form.add_new([attachment])


def refused(request, exc) -> None:
    """Someone or something moved first, or the move is not the person's now: say so."""
    messages.error(request, refusal_message(exc))


def place_rest(form, rest: dict, fields: dict) -> None:
    """Errors outside the sections: beside the page form's field named in ``fields``, else at its top."""
    for key, messages_ in rest.items():
        for message in messages_:
            add_error(form, fields.get(key), message)


UNSAVED = gettext_lazy("本次填写的内容尚未保存，请按提示修改后重新提交。")


def own_archive_first(view):
    """An archive that came in from another province is claimed before anything else (R-TRF-4)."""
    @functools.wraps(view)
    def wrapped(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except services.ArchiveAwaitingClaim as exc:
            messages.info(request, exc.message)
            return redirect("person_transfer_list")

    return wrapped


def error_summary(sections: ArchiveSections, *others) -> list[dict]:
    items = sections.summary()
    for form, title in others:
        items += form_error_items(form, title, "section-attachments" if isinstance(form, AttachmentsForm) else "")
    return items


def iso_day(day) -> str:
    return day.isoformat() if day else ""
