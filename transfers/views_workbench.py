"""The bureau's transfer pages (R-TRF-1…4, R-ACL-1, R-ACL-3, R-DL-2) and the province's exchange monitor.

- ``/workbench/transfers/<pk>/`` (``workbench_transfer``, the model's ``reviewer_url()``): the
  transfer as a reviewer of its origin or destination sees it — type, from → to, unit, dates, the
  archive (intra, outbound) or the incoming person record (inbound), the proof inline, status, due
  date, reason, history — and exactly ``obj.transitions_for(user)`` as buttons; a return or a
  rejection needs the reason the applicant reads (R-ACL-3). Decisions POST to
  ``…/transitions/<name>/`` (``workbench_transfer_transition``). Both go through the one HTML door
  (:class:`kjzx.workflow_views.WorkflowPage`); outside the reviewer's region: 404
  (:func:`transfers.selectors.transfer_get`). The ID number is masked; transfers have no reveal.
- ``/workbench/exchange/`` (``workbench_exchange``, provincial staff): what waits on the national
  platform (API.md §2), in a fixed number of queries.

Who reads the archive itself is :func:`transfers.selectors.transfer_archive_for`'s decision, the same
for this page and the API.
"""

from __future__ import annotations

import datetime as dt

from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from accounts.models import IdType, Sex, mask_id_number
from accounts.permissions import province_staff_required
from kjzx.workflow import annotate_days_left
from kjzx.workflow_views import WorkflowPage
from records.forms import describe_section
from transfers import selectors
from transfers.models import Transfer, TransferType, province_names
from transfers.views_person import describe_places

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


class TransferPage(WorkflowPage):
    """受理, 退回, 审核通过, 不予通过: one transfer and one decision (R-TRF-1…4, R-ACL-3)."""

    model = Transfer
    selector = staticmethod(selectors.transfer_get)
    template_name = "transfers/workbench/detail.html"
    route = "workbench_transfer"

    def extra_context(self, obj: Transfer) -> dict:
        describe_places([obj])
        inbound = obj.type == TransferType.INBOUND
        archive = None if inbound else selectors.transfer_archive_for(obj, self.request.user)
        return {
            "archive": archive, "person": incoming_person(obj) if inbound else None,
            "archive_hidden": obj.archive_id is not None and not inbound and archive is None,
            "masked_id_number": mask_id_number(obj.person_id_number or ""),
            "proofs": list(obj.attachments.all()), "return_by": selectors.transfer_return_by(obj),
        }


# --- the exchange monitor (API.md §2) -------------------------------------------------------------

@province_staff_required
@require_GET
def exchange_monitor(request):
    """跨省调转交换监控: each group oldest (or newest) first with its count, in a fixed number of queries."""
    since = timezone.now() - dt.timedelta(days=RECENT_DAYS)
    sections = selectors.exchange_overview(since, rows=MONITOR_ROWS)
    timeout = selectors.outbound_timeout()
    provinces = province_names()
    shown = [t for section in sections.values() for t in section["rows"]]
    describe_places(shown, provinces)
    annotate_days_left(shown)
    for t in shown:
        t.masked_id_number = mask_id_number(t.person_id_number or "")
        t.return_by = timeout.returns_on(t.uploaded_at)
    return render(request, "transfers/workbench/exchange.html", {
        "sections": sections, "timeout_days": timeout.days, "recent_days": RECENT_DAYS,
        "limit": MONITOR_ROWS})
