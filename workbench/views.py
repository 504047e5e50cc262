"""The bureaus' workbench pages: the review queue (审核工作台) and the dashboard (统计看板), with their Excel files.

Reviewers only (county, city, provincial staff; anyone else 403), each seeing their own region's
subtree (R-ACL-1). Thin: the filters (:mod:`workbench.forms`) → the selectors (:mod:`workbench.selectors`,
:mod:`workbench.stats`) → a template or a workbook (:mod:`workbench.exports`).

- ``/workbench/`` (``accounts:workbench``): open work of every kind, oldest submission first, 20 a page,
  a fixed number of queries whatever the page holds (R-COL-4, R-DL-2), the next and previous pages by
  cursor (``?after=`` / ``?before=``, with ``?page=`` the number shown); ``/workbench/export.xlsx``
  (``workbench_export``) the same rows, same filters, in Excel. The filters are POSTed and redirected
  to a clean URL: the search term (a name, an ID number or its last digits) stays in the session under
  an opaque id (``?s=``), never in a URL, a Referer or an access log (docs/security.md item 44).
- ``/dashboard/`` (``accounts:dashboard``): review and CE figures per region directly below the one shown
  (``?region=``: the caller's own, or one inside it — drill-down; outside it a 404), with charts, a year
  selector and the Excel files ``/dashboard/reviews.xlsx`` and ``/dashboard/cpe/<year>.xlsx`` (same
  ``?region=``, same rows). A CE year without a policy is a 404.
"""

from __future__ import annotations

import secrets
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from accounts.permissions import reviewer_required
from cpe.ledger.selectors import ce_year_get
from cpe.models import CreditForm
from kjzx import crypto
from kjzx.workflow_views import workflow_rows
from workbench import dashboard as dashboard_tables
from workbench import exports, stats
from workbench.forms import QueueFilterForm
from workbench.selectors import (
    PAGE_SIZE,
    QUEUE_MODELS,
    QueueCursor,
    queue_page,
    queue_page_objects,
    queue_page_rows,
    queue_rows,
)

EXPORT_BATCH = 500


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=exports.XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    response["Cache-Control"] = "private, no-store"
    return response


# --- the queue ----------------------------------------------------------------------------------

SEARCHES = "workbench_searches"  # session key: {opaque id: search term}
SEARCHES_KEPT = 20
SEARCH_EXPIRED = "查找条件已失效（如已重新登录），请重新输入。"


def _search_save(request, term: str) -> str:
    """Keep ``term`` in the session under a new opaque id (the latest few only); the id."""
    searches = dict(request.session.get(SEARCHES, {}))
    search_id = secrets.token_urlsafe(9)
    searches[search_id] = crypto.session_seal(term, purpose="workbench_search")  # sessions sit in Redis too
    request.session[SEARCHES] = dict(list(searches.items())[-SEARCHES_KEPT:])
    return search_id


def _queue_form(request) -> QueueFilterForm:
    """The filters of the URL, and the search term its ``s`` names in the session. A ``q`` in the URL is
    taken only as an application number (the links of reminders); anything else there is ignored: a
    name or an ID number typed into a URL is in the access log already and must not become a habit."""
    data = request.GET.copy()
    if not any(model.pk_from_number(data.get("q", "").strip()) for model in QUEUE_MODELS.values()):
        data.pop("q", None)
    search_id = request.GET.get("s", "")
    if search_id:
        term = crypto.session_open(request.session.get(SEARCHES, {}).get(search_id), purpose="workbench_search")
        if term is None:
            messages.info(request, SEARCH_EXPIRED)
        data["q"] = term or ""
    return QueueFilterForm(data, user=request.user)


def _filtered_url(request) -> str:
    """The POSTed filters as the queue's URL: plain filters as they are, the search term by its id."""
    filters = QueueFilterForm(request.POST, user=request.user).queue_filters()
    params = {name: value for name, value in (("kind", filters.kind), ("status", filters.status),
                                              ("region", filters.region)) if value}
    if filters.overdue:
        params["overdue"] = "on"
    if filters.q:
        params["s"] = _search_save(request, filters.q)
    url = reverse("accounts:workbench")
    return f"{url}?{urlencode(params)}" if params else url


@reviewer_required
@require_http_methods(["GET", "POST"])
def queue(request):
    """审核工作台: open work of the reviewer's region, oldest submission first (R-COL-4, R-DL-2).

    POST (the filter form): redirect to the filtered queue's URL, the search term kept out of it.
    """
    if request.method == "POST":
        return redirect(_filtered_url(request))
    form = _queue_form(request)
    page = queue_page(request.user, form.queue_filters(), page=request.GET.get("page"),
                      after=request.GET.get("after"), before=request.GET.get("before"), size=PAGE_SIZE)
    return render(request, "workbench/queue.html", {"form": form, "page": page, "rows": queue_page_rows(page.rows)})


@reviewer_required
@require_GET
def queue_export(request):
    """The filtered queue as Excel, same scope and order as the page, in batches of bounded memory."""
    form = _queue_form(request)
    filters = form.queue_filters()
    rows, after = [], None
    while batch := queue_rows(request.user, filters, after=after, limit=EXPORT_BATCH):  # keyset: each batch alike
        rows.extend(workflow_rows(queue_page_objects(batch)))
        after = QueueCursor.of(batch[-1])
    name = _("审核工作台-%(day)s.xlsx") % {"day": f"{timezone.localdate():%Y%m%d}"}
    return _download(exports.queue_xlsx(rows), name)


# --- the dashboard ------------------------------------------------------------------------------

def _year(request, years: list[int]) -> int | None:
    year = stats.default_cpe_year(years=years)
    asked = request.GET.get("year", "").strip()
    if asked:
        if asked.isdigit() and int(asked) in years:
            return int(asked)
        messages.error(request, _("没有该年度的继续教育安排，已显示%(year)s年度。") % {"year": year})
    return year


@reviewer_required
@require_GET
def dashboard(request):
    """统计看板 of a region in the reviewer's scope (``?region=``, default their own; else 404): review work
    and continuing education by region below it, charts beside tables, each row one click further down."""
    code = request.GET.get("region", "").strip() or None
    rows = stats.scope_rows(request.user, code)  # one read of the region tree for both sets of figures
    review = stats.review_figures(request.user, rows=rows)
    policies = list(stats.cpe_years())
    years = [policy.year for policy in policies]
    year = _year(request, years)
    policy = next((policy for policy in policies if policy.year == year), None)
    cpe = stats.cpe_figures(request.user, policy, rows=rows) if policy else None
    regions = dashboard_tables.review_table(review, year)
    trend = dashboard_tables.review_trend(review)
    kinds = dashboard_tables.kind_table(review)
    cpe_rows = dashboard_tables.cpe_table(cpe) if cpe else []
    cpe_trend = dashboard_tables.cpe_trend(cpe) if cpe else []
    scope = review.scope
    return render(request, "workbench/dashboard.html", {
        "scope": scope, "crumbs": dashboard_tables.breadcrumbs(request.user, scope), "counts": review.total,
        "regions": regions, "kinds": kinds, "trend": trend, "window_from":
        dashboard_tables.month_label(review.window_from), "ages": [str(label) for _days, label in stats.AGES],
        "cpe": cpe, "cpe_rows": cpe_rows, "cpe_trend": cpe_trend, "policy": policy, "years": years,
        "forms": CreditForm.choices, "region_param": scope.pk if code else "",
        "hidden_regions": sum(row["zero"] for row in regions), "hidden_cpe": sum(row["zero"] for row in cpe_rows),
        "hidden_kinds": sum(row["zero"] for row in kinds),
        "charts": dashboard_tables.chart_data(regions, trend, cpe_rows, cpe_trend, scope)})


def _region_param(request) -> str | None:
    return request.GET.get("region", "").strip() or None


@reviewer_required
@require_GET
def reviews_xlsx(request):
    """The dashboard's review tables (by region, by kind, by month) as Excel, every row shown."""
    review = stats.review_figures(request.user, _region_param(request))
    return _download(exports.reviews_xlsx(dashboard_tables.review_table(review), dashboard_tables.kind_table(review),
                                          dashboard_tables.review_trend(review)), "审核办理统计.xlsx")


@reviewer_required
@require_GET
def cpe_xlsx(request, year: int):
    policy = ce_year_get(year)
    figures = stats.cpe_figures(request.user, policy, _region_param(request))
    return _download(exports.cpe_xlsx(dashboard_tables.cpe_table(figures), dashboard_tables.cpe_trend(figures), policy,
                                      CreditForm.choices), f"{policy.year}年度继续教育统计.xlsx")
