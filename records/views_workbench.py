"""The bureau's pages of collections and changes (审核工作台), and the scans they show.

R-COL-4, R-COL-5, R-CHG-2, R-CHG-3, R-ACL-1, R-ACL-3, R-DL-2. Both kinds go through the one HTML door
(:class:`kjzx.workflow_views.WorkflowPage`): reads through :mod:`records.selectors` (outside the
reviewer's region: 404), decisions through :func:`kjzx.workflow.workflow_transition`, every refusal
answered in that one place. The queue over every kind is the workbench app's (``/workbench/``).

- ``/workbench/collections/<pk>/``, ``/workbench/changes/<pk>/`` (``workbench_collection``,
  ``workbench_change``): the application with every archive field, the scans inline, a before/after
  table for a change, the history, and exactly the buttons the reviewer may use; decisions POST to
  ``…/<pk>/transitions/<name>/``. The ID number is masked; ``…/<pk>/reveal-id/`` (POST, with a
  reason) shows it in full on that one response and writes an audit row (security item 46,
  :mod:`records.privacy`).
- ``/files/<pk>/`` (``attachment_file``): a scan, for its owner or a reviewer who may see it;
  ``/files/<pk>/pages/<n>/`` (``attachment_page``): page ``n`` of a PDF scan as an image
  (:mod:`records.previews`), through the same door and the same check. The pages show large, and
  ``static/js/scans.js`` zooms and rotates them; without it each image opens at full size.
"""

from __future__ import annotations

from urllib.parse import quote

from django.contrib.auth.decorators import login_required
from django.core.files.storage import default_storage
from django.db.models import prefetch_related_objects
from django.http import FileResponse, Http404
from django.urls import path
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_sameorigin
from django.views.decorators.http import require_safe

from kjzx.api import DomainError
from kjzx.http import client_ip
from kjzx.workflow_views import WorkflowPage
from records.models import (
    Archive,
    AttachmentKind,
    ChangeItem,
    ChangeRequest,
    CollectionApplication,
    Education,
    Qualification,
)
from records.previews import page_name
from records.privacy import REASON_MAX, REASON_MIN, REASON_SUGGESTIONS, archive_reveal_id_number
from records.selectors import application_get, attachment_get
from records.services import archive_data

# --- one application ----------------------------------------------------------------------------

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


class RecordsPage(WorkflowPage):
    """A collection or a change: the archive, a change's before/after and evidence, the audited reveal."""

    selector = staticmethod(application_get)
    template_name = "records/workbench/detail.html"

    @classmethod
    def urls(cls, prefix: str):
        reveal = RevealIdNumber.as_view(model=cls.model, route=cls.route)
        return [*super().urls(prefix), path(f"{prefix}<int:pk>/reveal-id/", reveal, name=f"{cls.route}_reveal")]

    def extra_context(self, obj) -> dict:
        """The ID number is masked: only the response to an audited reveal carries it (:class:`RevealIdNumber`)."""
        archive = obj.archive
        prefetch_related_objects([archive], "education", "qualifications", "attachments")
        is_change = isinstance(obj, ChangeRequest)
        return {
            "archive": archive, "diff": change_diff(obj) if is_change else None,
            "evidence": list(obj.attachments.all()) if is_change else [],
            # the ID card beside the typed name, number and birth date; the other scans below
            "id_scans": [a for a in archive.attachments.all() if a.kind == AttachmentKind.ID_CARD],
            "scans": [a for a in archive.attachments.all() if a.kind != AttachmentKind.ID_CARD],
            # Not pre-filled: the reviewer types why; the examples are only a placeholder.
            "reveal_route": f"{self.route}_reveal", "revealed_id_number": "", "reveal_reason": "",
            "reveal_example": REASON_SUGGESTIONS[0], "reveal_min": REASON_MIN, "reveal_max": REASON_MAX,
            "detail_url": obj.reviewer_url(), "reveal_errors": [],
        }


class CollectionPage(RecordsPage):
    model = CollectionApplication
    route = "workbench_collection"


class ChangePage(RecordsPage):
    model = ChangeRequest
    route = "workbench_change"


class RevealIdNumber(RecordsPage):
    """显示完整号码: the full ID number on this one response, with a reason and an audit row (security item 46).

    Outside the region, 404 (R-ACL-1); without a reason, the page again with the error and the
    number still masked. The number is not kept: the next GET shows it masked.
    """

    model = route = None  # the kind's, set by RecordsPage.urls()
    http_method_names = ["post"]

    def post(self, request, pk: int):
        obj = self.get_object()
        reason = request.POST.get("reason", "")
        try:
            number = archive_reveal_id_number(archive=obj.archive, by=request.user, reason=reason, via=obj,
                                              ip=client_ip(request))
        except DomainError as exc:
            return self.render_page(obj, status=400, reveal_reason=reason,
                                    reveal_errors=[message for found in exc.errors.values() for message in found])
        return self.render_page(obj, revealed_id_number=number, reveal_reason=reason.strip())


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


@login_required
@require_safe
def attachment_page(request, pk: int, number: int):
    """Page ``number`` of a PDF scan as a JPEG (:mod:`records.previews`): the same door and check as the scan
    itself — anyone who may not open the file gets 404 for its pages too (R-ACL-1/2)."""
    attachment = attachment_get(request.user, pk)
    name = page_name(attachment, number)
    if name is None:
        raise Http404
    try:
        stream = default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404 from None
    response = FileResponse(stream, content_type="image/jpeg")
    response["Content-Disposition"] = f"inline; filename*=UTF-8''{quote(f'{attachment.name}-{number}.jpg')}"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
