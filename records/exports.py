"""The review queue as a table (审核工作台): one row shape for the page and its Excel export (R-COL-4, R-DL-2).

:func:`queue_rows` turns the applications of a queue page (``records.selectors.queue_page_objects``,
which has set ``days_left``) into :class:`QueueRow`; :func:`queue_xlsx` writes rows to a workbook
with the same columns. Both show the ID number masked, always (security item 46): the whole number
is only shown on the application page after an audited reveal (:mod:`records.privacy`).
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

from kjzx.workflow import WorkflowModel

QUEUE_COLUMNS = ("申请编号", "类别", "姓名", "证件号码", "属地", "状态", "提交时间", "办理期限", "剩余工作日")


@dataclass
class QueueRow:
    """One line of the queue: what a reviewer needs to pick the next application."""

    obj: WorkflowModel
    kind_label: str
    name: str
    masked_id_number: str
    region_label: str
    days_left: int | None  # working days; 0 on the due date, negative once overdue (R-DL-2)
    url: str = ""

    @property
    def overdue_days(self) -> int:
        return -self.days_left if self.days_left is not None and self.days_left < 0 else 0

    @property
    def days_left_text(self) -> str:
        if self.days_left is None:
            return ""
        if self.days_left < 0:
            return _("逾期%(n)d个工作日") % {"n": -self.days_left}
        if self.days_left == 0:
            return _("今日到期")
        return str(self.days_left)


def queue_rows(objects: Iterable[WorkflowModel]) -> list[QueueRow]:
    rows = []
    for obj in objects:
        archive = getattr(obj, "archive", None)
        rows.append(QueueRow(
            obj=obj, kind_label=obj.KIND_LABEL, name=archive.name if archive else "",
            masked_id_number=archive.masked_id_number if archive else "",
            region_label=str(obj.jurisdiction.jurisdiction_label) if obj.jurisdiction_id else "",
            days_left=getattr(obj, "days_left", None)))
    return rows


def _local(moment: dt.datetime | None) -> dt.datetime | None:
    """Excel has no time zones: the Beijing wall-clock time people see on the page."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def _cell(sheet, value, number_format: str = "", red: bool = False) -> WriteOnlyCell:
    cell = WriteOnlyCell(sheet, value=value)
    if isinstance(value, str):
        cell.data_type = "s"  # what a person typed ("=…") stays text, never a formula
    if number_format:
        cell.number_format = number_format
    if red:
        cell.font = Font(color="B3261E")
    return cell


def queue_xlsx(rows: Iterable[QueueRow]) -> bytes:
    """The queue rows as an .xlsx workbook, oldest submission first, overdue in red."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("审核工作台"))
    for letter, width in zip("ABCDEFGHI", (16, 10, 10, 22, 18, 10, 18, 12, 16), strict=True):
        sheet.column_dimensions[letter].width = width
    sheet.freeze_panes = "A2"
    sheet.append([_cell(sheet, title) for title in QUEUE_COLUMNS])
    for row in rows:
        sheet.append([
            _cell(sheet, row.obj.number), _cell(sheet, row.kind_label), _cell(sheet, row.name),
            _cell(sheet, row.masked_id_number), _cell(sheet, row.region_label),
            _cell(sheet, row.obj.status_display), _cell(sheet, _local(row.obj.submitted_at), "yyyy-mm-dd hh:mm"),
            _cell(sheet, row.obj.due_date, "yyyy-mm-dd"),
            _cell(sheet, row.days_left_text, red=row.overdue_days > 0),
        ])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
