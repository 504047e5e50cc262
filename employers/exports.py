"""The employer's people as Excel, in the page's words, through the workbench's one workbook writer:
a text cell stays text (a unit name typed as "=…" is never a formula) and ID numbers are masked."""

from __future__ import annotations

from collections.abc import Iterable

from employers.selectors import PersonRow
from workbench.exports import XLSX, Cell, workbook

__all__ = ["XLSX", "people_xlsx"]

COLUMNS = ("姓名", "证件号码", "统一社会信用代码", "工作单位", "管理属地", "信息采集", "最近档案变更", "最近档案调转",
           "年度", "总学分", "专业科目学分", "继续教育", "尚差总学分", "尚差专业科目学分", "今日已提醒")
WIDTHS = (10, 22, 22, 28, 18, 10, 26, 30, 8, 10, 12, 14, 12, 14, 12)


def change_text(row: PersonRow) -> str:
    change = row.change
    return f"{change.number} {'、'.join(change.item_labels)} {change.status_display}" if change else ""


def transfer_text(row: PersonRow) -> str:
    transfer = row.transfer
    return f"{transfer.number} {transfer.get_type_display()} {transfer.status_display}" if transfer else ""


def _line(row: PersonRow) -> list[Cell]:
    archive = row.archive
    region = archive.jurisdiction.jurisdiction_label if archive.jurisdiction_id else ""
    return [Cell(archive.name), Cell(archive.masked_id_number), Cell(archive.employer_credit_code),
            Cell(archive.employer_name), Cell(str(region)), Cell(row.collection_status_display),
            Cell(change_text(row)), Cell(transfer_text(row)), Cell(row.year), Cell(row.total, "0.0"),
            Cell(row.professional, "0.0"), Cell(row.ce_label, red=row.behind), Cell(row.missing_total, "0.0"),
            Cell(row.missing_professional, "0.0"), Cell("是" if row.reminded_today else "否")]


def people_xlsx(rows: Iterable[PersonRow], year: int) -> bytes:
    """One sheet, one line per person, those behind on CE in red."""
    return workbook(f"本单位会计人员（{year}年度）", COLUMNS, (_line(row) for row in rows), widths=WIDTHS)
