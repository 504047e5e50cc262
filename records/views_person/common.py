"""What the accountant's records pages share: uploads on a page, refusals, the error summary.

Every upload goes through :func:`records.uploads.attachment_create` (checked by content, 413/415; the
same file again is the one already stored); a refusal of a move is said in the words of
:func:`kjzx.workflow_views.refusal_message`.
"""

from __future__ import annotations

import functools

from django.contrib import messages
from django.shortcuts import redirect
from django.utils.translation import gettext_lazy

from kjzx.workflow_views import refusal_message
from records import services
from records.forms import ArchiveSections, AttachmentsForm, add_error, form_error_items
from records.models import AttachmentKind

COLLECTION_KINDS = (AttachmentKind.PHOTO, AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA, AttachmentKind.QUALIFICATION)
SINGLE_KINDS = (AttachmentKind.PHOTO,)  # a new photo replaces the old one
CAMERA_KINDS = (AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA, AttachmentKind.QUALIFICATION)  # photos of documents
REQUIRED_KINDS = (AttachmentKind.PHOTO, AttachmentKind.ID_CARD, AttachmentKind.DIPLOMA)  # rules.archive_missing


def uploads_form(user, attached, data=None, files=None, *, kinds, **options) -> AttachmentsForm:
    """The upload part of a records page: a new photo replaces the old one (``SINGLE_KINDS``)."""
    return AttachmentsForm.for_user(user, data, files, kinds=kinds, attached=attached, single=SINGLE_KINDS, **options)


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
