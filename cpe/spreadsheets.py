"""Reading an uploaded name list (Excel .xlsx or CSV) into rows, for the bulk credit sources (R-CE-9, R-CE-10).

One function, :func:`read_table`::

    rows = read_table(upload, required=("id_number", "name", "hours"))
    # → [{"row": 3, "id_number": "140502…", "name": "张三", "hours": "6"}, …]

- The file is recognised by its bytes, never by its name alone: an .xlsx is a zip holding
  ``xl/workbook.xml`` (read with openpyxl, read-only, values not formulas, the first worksheet); a
  CSV is text in UTF-8 (with or without BOM) or GBK/GB18030, comma- or tab-separated. A name saying
  one and bytes saying another, an old .xls, a scan renamed .xlsx … → 415. Over
  ``settings.UPLOAD_MAX_BYTES`` → 413. Empty, unreadable header, missing column, too many rows → 400.
  All as :class:`kjzx.api.DomainError` with a Chinese message under ``file``.
- The header is the first row (among the first :data:`HEADER_SEARCH_ROWS`, so a title line above it
  is fine) naming at least two known columns; names are matched in Chinese or English, ignoring
  spaces, case and a bracketed unit (``学时（45分钟）``): see :data:`COLUMNS`. Unknown columns are
  ignored.
- Each data row becomes a dict of the recognised columns, every value a stripped string (``""`` for
  an empty cell; an Excel number 6.0 → ``"6"``, 6.5 → ``"6.5"``), plus ``row``: the line number the
  user sees in Excel. Wholly empty lines are skipped. Checking the values is the caller's job.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Iterator

from django.conf import settings

from kjzx.api import DomainError

# canonical key → accepted header names (compared after :func:`_header_key`)
COLUMNS: dict[str, tuple[str, ...]] = {
    "id_number": ("证件号码", "身份证号", "身份证号码", "公民身份号码", "证件号", "身份证",
                  "id_number", "idnumber", "id"),
    "name": ("姓名", "学员姓名", "名字", "name"),
    "hours": ("学时", "学时数", "培训学时", "获得学时", "hours"),
    "subjects": ("通过科目数", "合格科目数", "通过科目", "科目数", "subjects"),
}
LABELS = {"id_number": "证件号码", "name": "姓名", "hours": "学时", "subjects": "通过科目数"}
HEADER_SEARCH_ROWS = 10
MAX_ROWS = 200_000
MAX_CELL = 200  # characters kept of one cell
MAX_UNZIPPED = 300 * 1024 * 1024  # an .xlsx inflating beyond this is a zip bomb, not a name list

XLSX_ONLY = "只接受 Excel（.xlsx）或 CSV 文件（按文件内容识别，改扩展名无效）。"
OLD_XLS = "不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 CSV 后上传。"

_ALIASES = {}


def _header_key(raw) -> str:
    text = str(raw or "").strip().lower()
    text = re.sub(r"[（(【\[].*?[）)】\]]", "", text)  # 学时（45分钟） → 学时
    return re.sub(r"[\s_\-*:：]", "", text)


for _key, _names in COLUMNS.items():
    for _name in _names:
        _ALIASES[_header_key(_name)] = _key


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    return str(value).replace("\u3000", " ").strip()[:MAX_CELL]


def _is_xlsx(data: bytes) -> bool:
    if not data.startswith(b"PK\x03\x04"):
        return False
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            names = set(archive.namelist())
            if "xl/workbook.xml" not in names:
                return False
            if sum(info.file_size for info in archive.infolist()) > MAX_UNZIPPED:
                raise DomainError({"file": ["Excel 文件解压后过大，请拆分后上传。"]}, status_code=413)
    except zipfile.BadZipFile:
        return False
    return True


def _decode_text(data: bytes) -> str | None:
    """The text of a CSV in UTF-8 (BOM or not) or GBK/GB18030; None if these bytes are not text."""
    if b"\x00" in data:
        return None
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        if any(ord(ch) < 32 and ch not in "\t\r\n" for ch in text[:4096]):
            return None
        return text
    return None


def _xlsx_lines(data: bytes):
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds (KeyError, ValueError, InvalidFileException, …)
        raise DomainError({"file": ["无法读取该 Excel 文件，请确认文件未损坏、未加密后重新上传。"]},
                          status_code=415) from None
    try:
        sheets = workbook.worksheets
        if not sheets:
            raise DomainError({"file": ["Excel 文件中没有工作表。"]})
        for values in sheets[0].iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        workbook.close()


def _csv_lines(text: str):
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    for values in csv.reader(io.StringIO(text, newline=""), delimiter=delimiter):
        yield [_cell(v) for v in values]


def _lines(upload) -> Iterator[list[str]]:
    if upload is None:
        raise DomainError({"file": ["请选择要上传的名单文件（Excel 或 CSV）。"]})
    if upload.size > settings.UPLOAD_MAX_BYTES:
        limit = settings.UPLOAD_MAX_BYTES // (1024 * 1024)
        raise DomainError({"file": [f"文件过大：名单文件不超过{limit} MB。"]}, status_code=413)
    upload.seek(0)
    data = upload.read(settings.UPLOAD_MAX_BYTES + 1)
    upload.seek(0)
    if not data:
        raise DomainError({"file": ["文件是空的。"]})
    name = (upload.name or "").lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise DomainError({"file": [OLD_XLS]}, status_code=415)
    if _is_xlsx(data):
        if name.endswith(".csv"):
            raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
        return _xlsx_lines(data)
    if name.endswith(".xlsx") or data.startswith(b"PK\x03\x04") or data.startswith(b"%PDF"):
        raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
    text = _decode_text(data)
    if text is None:
        raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
    return _csv_lines(text)


def read_table(upload, *, required: tuple[str, ...] = ("id_number", "name")) -> list[dict]:
    """The rows of an uploaded name list (see the module doc). ``required``: keys of :data:`COLUMNS`
    whose column must be present (``hours`` for a face-to-face list, ``subjects`` for an exam list).

    Raises :class:`~kjzx.api.DomainError`: 415 not an .xlsx/CSV, 413 too large, 400 otherwise.
    """
    lines = iter(_lines(upload))
    columns: dict[int, str] | None = None
    line_no = 0
    for values in lines:
        line_no += 1
        found = {i: _ALIASES[_header_key(v)] for i, v in enumerate(values) if _header_key(v) in _ALIASES}
        if len(set(found.values())) >= 2:
            columns = {}
            for index, key in found.items():
                columns.setdefault(key, index)  # the first column of a name wins
            columns = {index: key for key, index in columns.items()}
            break
        if line_no >= HEADER_SEARCH_ROWS:
            break
    if columns is None:
        expected = "、".join(LABELS[k] for k in required)
        raise DomainError({"file": [f"未找到表头：名单第一行应为列名，如“{expected}”。"]})
    missing = [LABELS[k] for k in required if k not in columns.values()]
    if missing:
        raise DomainError({"file": [f"名单缺少“{'”“'.join(missing)}”列。"]})
    rows = []
    for values in lines:
        line_no += 1
        if not any(values):
            continue
        if len(rows) >= MAX_ROWS:
            raise DomainError({"file": [f"名单超过{MAX_ROWS}行，请拆分后上传。"]})
        row = {"row": line_no}
        for index, key in columns.items():
            row[key] = values[index] if index < len(values) else ""
        if not any(row[key] for key in columns.values()):
            continue  # only unrelated columns filled (a note, a total): not a person
        rows.append(row)
    if not rows:
        raise DomainError({"file": ["名单中没有数据行。"]})
    return rows
