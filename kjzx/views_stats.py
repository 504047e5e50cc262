"""The reviewers' dashboard (统计看板) and its Excel exports: the rows of :mod:`kjzx.stats`, with Chinese labels.

``/dashboard/`` shows both tables for the caller's scope (R-ACL-1) with a year selector for continuing
education; ``/dashboard/reviews.xlsx`` and ``/dashboard/cpe/<year>.xlsx`` give the same rows as workbooks.
Reviewers only (403 for anyone else); a CE year without a policy is a 404.
"""

from __future__ import annotations

import io

from django.contrib import messages
from django.http import HttpResponse
from django.shortcuts import render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from accounts.permissions import reviewer_required
from cpe.certificates import ce_year_get
from cpe.models import CreditForm
from kjzx import stats

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
REVIEW_COLUMNS = ("属地", "类别", "待办件数", "今日到期", "逾期件数", "按期办结率", "办理用时90分位（工作日）")
CPE_COLUMNS = ("属地", "应参加人数", "已完成人数", "完成率")


def _percent(rate: float | None) -> str:
    return "—" if rate is None else f"{rate * 100:.1f}%"


def review_table(user) -> list[dict]:
    return [{"region_label": str(row.region.jurisdiction_label), "kind_label": row.kind_label, "open": row.open,
             "due_today": row.due_today, "overdue": row.overdue, "on_time_rate": row.on_time_rate,
             "on_time_text": _percent(row.on_time_rate), "p90": row.p90_working_days}
            for row in stats.review_stats(user)]


def cpe_table(user, policy) -> list[dict]:
    return [{"region_label": str(row.region.jurisdiction_label), "obliged": row.obliged, "completed": row.completed,
             "rate": row.rate, "rate_text": _percent(row.rate),
             "forms": [(label, row.credits_by_form.get(form)) for form, label in CreditForm.choices]}
            for row in stats.cpe_stats(user, policy)]


@reviewer_required
def dashboard(request):
    """统计看板 of the reviewer's region: review work and continuing education, by region below it."""
    years = list(stats.cpe_years().values_list("year", flat=True))
    year = stats.default_cpe_year()
    asked = request.GET.get("year", "").strip()
    if asked:
        if asked.isdigit() and int(asked) in years:
            year = int(asked)
        else:
            messages.error(request, _("没有该年度的继续教育安排，已显示%(year)s年度。") % {"year": year})
    policy = ce_year_get(year) if year else None
    return render(request, "kjzx/dashboard.html", {
        "reviews": review_table(request.user), "cpe_rows": cpe_table(request.user, policy) if policy else [],
        "policy": policy, "years": years, "forms": CreditForm.choices})


# --- Excel --------------------------------------------------------------------------------------

def _cell(sheet, value, number_format: str = "") -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # text stays text ("=…" is never a formula)
    if number_format:
        cell.number_format = number_format
    return cell


def _workbook(title: str, columns, lines) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(title)
    sheet.freeze_panes = "A2"
    sheet.column_dimensions["A"].width = 22
    sheet.append([_cell(sheet, str(column)) for column in columns])
    for line in lines:
        sheet.append([_cell(sheet, value, fmt) for value, fmt in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _download(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def reviews_xlsx_bytes(user) -> bytes:
    lines = [[(row["region_label"], ""), (row["kind_label"], ""), (row["open"], ""), (row["due_today"], ""),
              (row["overdue"], ""), (row["on_time_rate"], "0.0%"), (row["p90"], "")]
             for row in review_table(user)]
    return _workbook(_("审核办理统计"), REVIEW_COLUMNS, lines)


def cpe_xlsx_bytes(user, policy) -> bytes:
    columns = (*CPE_COLUMNS, *(f"{label}学分" for _value, label in CreditForm.choices))
    lines = [[(row["region_label"], ""), (row["obliged"], ""), (row["completed"], ""), (row["rate"], "0.0%"),
              *((credits, "0.0") for _label, credits in row["forms"])]
             for row in cpe_table(user, policy)]
    return _workbook(_("%(year)s年度继续教育") % {"year": policy.year}, columns, lines)


@reviewer_required
def reviews_xlsx(request):
    return _download(reviews_xlsx_bytes(request.user), "审核办理统计.xlsx")


@reviewer_required
def cpe_xlsx(request, year: int):
    policy = ce_year_get(year)
    return _download(cpe_xlsx_bytes(request.user, policy), f"{policy.year}年度继续教育统计.xlsx")
