"""The workbench's Excel files: the review queue and the dashboard's two tables, in the page's words.

Every export is written here through :func:`workbook`, so each keeps the same two promises: a text
cell stays text (what a person typed, "=…" included, is never a formula), and ID numbers are masked
(security item 46; the whole number is only shown on an application page after an audited reveal).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Font

from kjzx.workflow_views import WorkflowRow

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
QUEUE_COLUMNS = ("申请编号", "类别", "姓名", "证件号码", "属地", "状态", "提交时间", "办理期限", "剩余工作日")
QUEUE_WIDTHS = (16, 10, 10, 22, 18, 10, 18, 12, 16)
CPE_COLUMNS = ("属地", "应参加人数", "已完成人数", "完成率")


@dataclass(frozen=True)
class Cell:
    value: object
    number_format: str = ""
    red: bool = False


def _cell(sheet, cell: Cell) -> WriteOnlyCell:
    written = WriteOnlyCell(sheet, value=cell.value)
    if isinstance(cell.value, str):
        written.data_type = "s"  # text stays text ("=…" is never a formula)
    if cell.number_format:
        written.number_format = cell.number_format
    if cell.red:
        written.font = Font(color="B3261E")
    return written


def workbook(title: str, columns: Iterable[str], lines: Iterable[Iterable[Cell]], *,
             widths: Iterable[int] = (22,)) -> bytes:
    """One sheet: the header row frozen, then ``lines``; ``widths`` of the first columns, in characters."""
    return workbook_sheets([(title, columns, lines, widths)])


def workbook_sheets(sheets: Iterable[tuple[str, Iterable[str], Iterable[Iterable[Cell]], Iterable[int]]]) -> bytes:
    """Several sheets of (title, columns, lines, widths), each as :func:`workbook` writes one."""
    book = Workbook(write_only=True)
    for title, columns, lines, widths in sheets:
        sheet = book.create_sheet(title)
        for letter, width in zip("ABCDEFGHIJKLMNOPQRSTUVWXYZ", widths, strict=False):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = "A2"
        sheet.append([_cell(sheet, Cell(str(column))) for column in columns])
        for line in lines:
            sheet.append([_cell(sheet, cell) for cell in line])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: the Beijing wall-clock time people see on the page."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def queue_xlsx(rows: Iterable[WorkflowRow]) -> bytes:
    """The queue rows, oldest submission first, overdue in red (R-COL-4, R-DL-2)."""
    lines = ([Cell(row.obj.number), Cell(row.kind_label), Cell(row.name), Cell(row.masked_id_number),
              Cell(row.region_label), Cell(row.obj.status_display),
              Cell(_local(row.obj.submitted_at), "yyyy-mm-dd hh:mm"), Cell(row.obj.due_date, "yyyy-mm-dd"),
              Cell(row.days_left_text, red=row.overdue)] for row in rows)
    return workbook(_("审核工作台"), QUEUE_COLUMNS, lines, widths=QUEUE_WIDTHS)


def _review_cells(row: dict) -> list[Cell]:
    return [Cell(row["open"]), *(Cell(n) for n in row["ages"]), Cell(row["due_today"]),
            Cell(row["overdue"], red=bool(row["overdue"])), Cell(row["decided"]), Cell(row["on_time_rate"], "0.0%"),
            Cell(row["p90"])]


def reviews_xlsx(regions: list[dict], kinds: list[dict], trend: list[dict]) -> bytes:
    """The dashboard's review tables (:mod:`workbench.dashboard`): by region, by kind, by month of this year."""
    figures = ("待办件数", "3天内", "4–10天", "11–30天", "30天以上", "今日到期", "逾期件数", "近12个月办结件数",
               "按期办结率", "办理用时90分位（工作日）")
    return workbook_sheets([
        (_("按属地"), ("属地", *figures), ([Cell(row["label"]), *_review_cells(row)] for row in regions), (24,)),
        (_("按类别"), ("类别", *figures), ([Cell(row["label"]), *_review_cells(row)] for row in kinds), (14,)),
        (_("本年按月"), ("月份", "办结件数", "按期办结率", "办理用时90分位（工作日）"),
         ([Cell(row["month"]), Cell(row["decided"]), Cell(row["on_time_rate"], "0.0%"), Cell(row["p90"])]
          for row in trend), (10,)),
    ])


def cpe_xlsx(table: list[dict], trend: list[dict], policy, forms) -> bytes:
    """The dashboard's CE table of one year (:mod:`workbench.dashboard`), a column per form's credits, and the
    completions by month."""
    columns = (*CPE_COLUMNS, *(f"{label}学分" for _value, label in forms))
    lines = ([Cell(row["label"]), Cell(row["obliged"]), Cell(row["completed"]), Cell(row["rate"], "0.0%"),
              *(Cell(credits, "0.0") for _label, credits in row["forms"])] for row in table)
    months = ([Cell(row["month"]), Cell(row["completed"]), Cell(row["rate"], "0.0%")] for row in trend)
    return workbook_sheets([
        (_("%(year)s年度继续教育") % {"year": policy.year}, columns, lines, (24,)),
        (_("按月完成情况"), ("月份", "累计完成人数", "累计完成率"), months, (10,)),
    ])
