"""The person's CE pages (继续教育—学分查询, 学分证明) and the public check of a certificate, R-CE-3, 4, 13, 15.

Thin views over :mod:`cpe.ledger.selectors` (every figure is :func:`~cpe.ledger.selectors.year_status`'s):

- ``/me/cpe/``: every year from the person's obligation start (2018 at the earliest) to this year —
  owed or not, total / professional / general against what is required, completed or how far from
  it, the deadline, 已归档 once frozen, a progress bar — and the certificates of completed years.
- ``/me/cpe/<year>/``: that year's ledger entries, the credits by form, 下载学分证明 when complete.
- ``/me/cpe/<year>/certificate.pdf``: the certificate's signed PDF (the same bytes at every download);
  a 404 while the year is not complete. After a revocation (已作废) a new one is issued here once the year
  is complete again.
- ``/verify/`` and ``/verify/<code>``: public, no login; whether the certificate is genuine and stands,
  or was revoked (已作废, with the date and reason), and what it states, the ID number masked; an
  unknown code is a 404 page saying 未找到该证明.

Only the caller's own archive, never an id from the URL (R-ACL-2); accountants only.
"""

from __future__ import annotations

from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET

from accounts.permissions import accountant_required
from cpe.learning.selectors import online_summary
from cpe.ledger import selectors
from cpe.ledger.api import VerifyThrottle, pdf_response
from cpe.ledger.certificates.document import TITLE
from cpe.ledger.certificates.services import certificate_for


def _progress(status) -> int:
    """Percent of the required total, for the bar (the words beside it say the rest)."""
    if not status.required_total:
        return 100
    return max(0, min(100, int(status.total * 100 / status.required_total)))


def _row(status) -> dict:
    return {"s": status, "progress": _progress(status), "forms": selectors.by_form_rows(status)}


@require_GET
@accountant_required
def cpe_overview(request):
    archive = selectors.person_archive(request.user)
    rows = [_row(status) for status in selectors.person_years(archive)]
    return render(request, "cpe/person/overview.html", {
        "menu": "cpe", "archive": archive, "rows": rows,
        "completed": [row for row in rows if row["s"].completed]})


@require_GET
@accountant_required
def cpe_year(request, year: int):
    policy = selectors.ce_year_get(year)
    archive = selectors.person_archive(request.user)
    status = selectors.person_year_status(archive, policy)
    entries = list(selectors.entries_of(archive, policy.year).order_by("registered_at", "id")) if archive else []
    online = online_summary(archive, policy) if archive and not policy.is_frozen else None
    return render(request, "cpe/person/year.html", {
        "menu": "cpe", "archive": archive, "policy": policy, "row": _row(status), "entries": entries,
        "online": online})


@require_GET
@accountant_required
def cpe_certificate(request, year: int):
    certificate = certificate_for(selectors.person_archive(request.user), year)
    return pdf_response(certificate)


def _throttled(request) -> bool:
    return not VerifyThrottle().allow_request(request, None)


@require_GET
def verify_form(request):
    """Type a code (or arrive from a QR scanner with ``?code=``)."""
    typed = request.GET.get("code", "")
    code = selectors.normalise_code(typed)
    if code:
        return redirect("cpe_verify", code=code)
    error = _("请输入学分证明上的16位验证码。") if typed.strip() else ""
    return render(request, "cpe/verify.html", {"asked": False, "error": error}, status=400 if error else 200)


@require_GET
def verify(request, code: str):
    if _throttled(request):
        return render(request, "cpe/verify.html", {"asked": False, "throttled": True}, status=429)
    statement = selectors.certificate_verify(code)
    context = {"asked": True, "code": selectors.normalise_code(code), "statement": statement,
               "forms": statement.forms if statement else [], "title": TITLE}
    if statement is None:
        context["not_found"] = _("未找到该证明")
    return render(request, "cpe/verify.html", context, status=200 if statement else 404)
