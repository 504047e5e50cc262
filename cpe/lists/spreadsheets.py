"""The one reader of uploaded name lists (Excel .xlsx or CSV), for both list kinds (R-CE-9, R-CE-10), bounded.

::

    with open_table(upload, required=("id_number", "name", "subjects"), limits=LIMITS) as table:
        table.estimated_rows            # for a progress bar, before the rows are read
        for row in table.rows:          # streamed: {"row": 3, "id_number": "140502…", "name": "张三", …}
            ...
    read_table(upload, required=...).rows  # the same rows as a list (small lists, tests)
    read_header(upload, required=...)      # the file and its header checked, no row read (the upload page)

- The file is recognised by its bytes, never by its name alone: an .xlsx is a zip holding
  ``xl/workbook.xml`` (the first worksheet, cell values — a formula is read as the value Excel
  stored for it, never evaluated); a CSV is text in UTF-8 (with or without BOM), UTF-16 with a BOM,
  or GBK/GB18030, comma- or tab-separated. A name saying one and bytes saying another, an old .xls,
  a scan renamed .xlsx … → 415. Empty, no header, a missing column, too many rows → 400. Every
  bound below → 413 with what was too big and the limit. All as :class:`kjzx.api.DomainError`
  with a Chinese message under ``file``; nothing is stored by the reader.
- **Bounds** (:class:`Limits`, each list kind has its own): the upload's size
  (``settings.UPLOAD_MAX_BYTES``); for an .xlsx, before anything is parsed, the zip's directory
  (entries, encryption, compression method, the declared total inflated size and the compression
  ratio), then every member inflated in bounded chunks and compared with what the directory
  declares (a member that inflates further is a zip bomb, refused at once), the shared strings
  (count and bytes) and the worksheet's declared dimension; the worksheet itself is parsed by
  python-calamine in a child process (:func:`_xlsx_lines`) with an address-space and a CPU limit, so
  a sheet whose cells span A1:XFD1048576 (calamine would allocate the whole grid) or expand shared
  strings beyond memory ends the child, not the worker, and is refused in words; the grid's rows and
  columns are checked before a row is sent. A CSV: its lines' length and count and its columns.
  Data rows, and the time spent reading them, are bounded for both.
- The header is the first row (among the first :data:`HEADER_SEARCH_ROWS`, so a title line above it
  is fine) naming at least two known columns; names are matched in Chinese or English, ignoring
  spaces, case and a bracketed unit (``学时（45分钟）``): see :data:`COLUMNS`. Unknown columns are ignored.
- Each data row becomes a dict of the recognised columns, every value a stripped string, plus
  ``row``: the line number the user sees in Excel. Wholly empty lines are skipped. A number is
  written as Excel's General format shows it — 6.0 → ``"6"``, 6.5 → ``"6.5"``, and an 18-digit ID
  number Excel stored as a number → ``"1.40502E+17"`` — so the row checker (:mod:`cpe.lists.rows`)
  can tell the person exactly what Excel did. Checking the values is the row checker's job.

The engine (python-calamine, Rust) is behind :func:`_xlsx_lines` alone: swapping it is local.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import datetime as dt
import faulthandler
import hashlib
import io
import marshal
import os
import re
import resource
import select
import signal
import struct
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from time import monotonic as _clock

import python_calamine
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
MAX_CELL = 200  # characters kept of one cell
EXCEL_DIGITS = 11  # Excel's General format shows a number of more digits in scientific notation
MB = 1024 * 1024


@dataclasses.dataclass(frozen=True)
class Limits:
    """How much one list file may cost. The defaults fit the largest list kind (an exam pass list)."""

    rows: int = 200_000  # data rows
    columns: int = 26  # A–Z
    entries: int = 1_000  # files inside an .xlsx
    unzipped: int = 100 * MB  # everything inside an .xlsx, inflated
    ratio: int = 100  # inflated ÷ compressed, for the whole .xlsx and for any member over 1 MB
    shared_strings: int = 1_000_000  # distinct texts of an .xlsx (xl/sharedStrings.xml)
    shared_string_bytes: int = 32 * MB  # xl/sharedStrings.xml, inflated
    line_chars: int = 65_536  # one line of a CSV
    memory: int = 1024 * MB  # address space the worksheet's parser (a child process) may add
    seconds: int = 120  # reading the rows

    @property
    def sheet_rows(self) -> int:
        """Rows of the worksheet's grid (title, header and blank lines beside the data rows)."""
        return self.rows + HEADER_SEARCH_ROWS + max(100, self.rows // 20)


LIMITS = Limits()

XLSX_ONLY = "只接受 Excel（.xlsx）或 CSV 文件（按文件内容识别，改扩展名无效）。"
OLD_XLS = "不支持旧版 Excel（.xls）文件，请在 Excel 中“另存为” .xlsx 或 CSV 后上传。"
UNREADABLE = "无法读取该 Excel 文件，请确认文件未损坏、未加密后重新上传。"
ENCODING = "无法识别 CSV 文件的编码，请在 Excel 中“另存为” CSV UTF-8 或 .xlsx 后上传。"
SPLIT = "请删除多余内容或拆分后上传。"

_ALIASES: dict[str, str] = {}


def _header_key(raw) -> str:
    text = str(raw or "").strip().lower()
    text = re.sub(r"[（(【\[].*?[）)】\]]", "", text)  # 学时（45分钟） → 学时
    return re.sub(r"[\s_\-*:：]", "", text)


for _key, _names in COLUMNS.items():
    for _name in _names:
        _ALIASES[_header_key(_name)] = _key


def too_big(message: str) -> DomainError:
    """A bound was passed (413): ``message`` says what and the limit."""
    return DomainError({"file": [message]}, status_code=413)


def _mb(size: int) -> str:
    return f"{size / MB:,.1f} MB" if size < 10 * MB else f"{size // MB:,} MB"


@dataclasses.dataclass(frozen=True)
class Table:
    """An uploaded list as read: its rows (empty after :func:`read_header`) and the file as it came."""

    rows: list[dict]
    data: bytes
    kind: str  # "xlsx" or "csv"
    file_name: str

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


@dataclasses.dataclass
class OpenTable:
    """A list being read (:func:`open_table`): the file, its columns, and its data rows as a stream."""

    data: bytes
    kind: str
    file_name: str
    columns: dict[int, str]  # column index → key of COLUMNS
    header_line: int
    estimated_rows: int  # data rows at most (blank lines included): a progress bar's total
    rows: Iterator[dict]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def excel_general(value: int | float) -> str:
    """A number as Excel's General format shows it: 6.0 → "6", 6.5 → "6.5", 140502199003151018 → "1.40502E+17"."""
    if abs(value) >= 10 ** EXCEL_DIGITS:
        mantissa, exponent = f"{value:.5E}".split("E")
        mantissa = mantissa.rstrip("0").rstrip(".")
        return f"{mantissa}E{exponent[0]}{int(exponent[1:]):02d}"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


def _cell(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int | float):
        return excel_general(value)
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M") if (value.hour or value.minute) else value.strftime("%Y-%m-%d")
    if isinstance(value, dt.date):
        return value.strftime("%Y-%m-%d")
    if isinstance(value, dt.time):
        return value.strftime("%H:%M")
    return str(value).replace("\u3000", " ").strip()[:MAX_CELL]


def display_name(raw: str | None) -> str:
    """The uploaded file's own name, for people to recognise it: no path, no control characters."""
    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip()[:200] or "名单"


# --- the .xlsx: the zip checked before anything is parsed ------------------------------------------

@dataclasses.dataclass(frozen=True)
class XlsxFacts:
    """What :func:`xlsx_inspect` found: the parts the parser reads, each inflated and checked."""

    inflated: int
    shared_strings: int
    dimension: str  # the first worksheet's declared dimension, "" if none


def _is_zip(data: bytes) -> bool:
    return data.startswith(b"PK\x03\x04")


def _member(data: bytes, info: zipfile.ZipInfo, limits: Limits, keep: bool) -> bytes:
    """One member inflated in bounded chunks: refused as soon as it inflates past what the directory says."""
    offset = info.header_offset
    header = data[offset:offset + 30]
    if len(header) < 30 or not header.startswith(b"PK\x03\x04"):
        raise DomainError({"file": [UNREADABLE]}, status_code=415)
    name_length, extra_length = struct.unpack("<HH", header[26:30])
    start = offset + 30 + name_length + extra_length
    raw = data[start:start + info.compress_size]
    if len(raw) != info.compress_size:
        raise DomainError({"file": [UNREADABLE]}, status_code=415)
    if info.compress_type == zipfile.ZIP_STORED:
        out, size, crc = [raw], len(raw), zlib.crc32(raw)
    else:
        inflater, out, size, crc, pending = zlib.decompressobj(-15), [], 0, 0, raw
        while pending and not inflater.eof:
            chunk = inflater.decompress(pending, MB)
            pending = inflater.unconsumed_tail
            size += len(chunk)
            if size > info.file_size:  # the directory said less: a bomb hiding its size
                raise too_big(f"Excel 文件中的“{info.filename[:60]}”解压后超过其声明的大小"
                              f"（{_mb(info.file_size)}），疑似压缩炸弹，已拒收。")
            crc = zlib.crc32(chunk, crc)
            if keep:
                out.append(chunk)
        if not inflater.eof:
            raise DomainError({"file": [UNREADABLE]}, status_code=415)
    if size != info.file_size or crc != info.CRC:
        raise DomainError({"file": [UNREADABLE]}, status_code=415)
    return b"".join(out) if keep else b""


def _directory(data: bytes, limits: Limits) -> list[zipfile.ZipInfo]:
    """The zip's directory, checked before any member is inflated (nothing parsed yet)."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise DomainError({"file": [XLSX_ONLY]}, status_code=415) from None
    names = [info.filename for info in infos]
    if "xl/workbook.xml" not in names:
        raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
    if len(infos) > limits.entries:
        raise too_big(f"Excel 文件内含{len(infos):,}个部件，上限{limits.entries:,}个。{SPLIT}")
    if len({name.lower() for name in names}) != len(names):
        raise DomainError({"file": [UNREADABLE]}, status_code=415)  # two parts of one name: ambiguous
    if any(info.flag_bits & 0x1 for info in infos):
        raise DomainError({"file": ["Excel 文件已加密，请取消密码后重新上传。"]}, status_code=415)
    if any(info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED) for info in infos):
        raise DomainError({"file": [UNREADABLE]}, status_code=415)
    inflated = sum(info.file_size for info in infos)
    packed = max(1, sum(info.compress_size for info in infos))
    if inflated > limits.unzipped:
        raise too_big(f"Excel 文件解压后过大（{_mb(inflated)}，上限{_mb(limits.unzipped)}）。{SPLIT}")
    for info in [*infos, None]:
        size, compressed = (info.file_size, info.compress_size) if info else (inflated, packed)
        if size > MB and size > limits.ratio * max(1, compressed):
            raise too_big(f"Excel 文件的压缩比异常（{size // max(1, compressed):,}倍，上限{limits.ratio}倍），"
                          "疑似压缩炸弹，已拒收。")
    return infos


SHEET_RELATION = re.compile(rb'<(?:[\w.-]+:)?sheet\b[^>]*?\s(?:r|relationships):id\s*=\s*["\']([^"\']*)["\']')
DIMENSION = re.compile(rb'<(?:[\w.-]+:)?dimension\b[^>]*?\sref\s*=\s*["\']([^"\']*)["\']')
CELL_REF = re.compile(r"\$?([A-Za-z]{1,3})\$?(\d{1,7})")


def _first_sheet_path(parts: dict[str, bytes]) -> str | None:
    """The first sheet's part as the workbook names it (best effort: only for the dimension's message)."""
    relation = SHEET_RELATION.search(parts.get("xl/workbook.xml", b""))
    rels = parts.get("xl/_rels/workbook.xml.rels", b"")
    if relation is None:
        return None
    for element in re.findall(rb"<(?:[\w.-]+:)?Relationship\b[^>]*>", rels):
        if re.search(rb'\sId\s*=\s*["\']' + re.escape(relation.group(1)) + rb'["\']', element):
            target = re.search(rb'\sTarget\s*=\s*["\']([^"\']*)["\']', element)
            path = target.group(1).decode("utf-8", "replace") if target else ""
            return path[1:] if path.startswith("/xl/") else path if path.startswith("xl/") else f"xl/{path}"
    return None


def _dimension_check(dimension: str, limits: Limits) -> None:
    corners = [CELL_REF.fullmatch(part.strip()) for part in dimension.split(":")]
    if not dimension or not all(corners):
        return  # no usable dimension: the grid's own size is checked by the parser
    rows = max(int(corner.group(2)) for corner in corners)
    columns = max(_column_number(corner.group(1)) for corner in corners)
    if rows > limits.sheet_rows or columns > limits.columns:
        raise too_big(f"工作表声明的数据范围过大（{dimension[:40]}，即{rows:,}行、{columns:,}列；"
                      f"上限{limits.sheet_rows:,}行、{limits.columns}列）。请删除多余的行和列后另存再上传。")


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters.upper():
        number = number * 26 + ord(letter) - 64
    return number


def xlsx_inspect(data: bytes, limits: Limits = LIMITS) -> XlsxFacts:
    """Check an .xlsx before parsing it: the directory, every member's real size, shared strings, dimension."""
    infos = _directory(data, limits)
    wanted = {"xl/workbook.xml", "xl/_rels/workbook.xml.rels", "xl/sharedStrings.xml"}
    parts = {info.filename: _member(data, info, limits, keep=info.filename in wanted) for info in infos}
    shared = parts.get("xl/sharedStrings.xml", b"")
    if len(shared) > limits.shared_string_bytes:
        raise too_big(f"Excel 文件中的文字过多（共享字符串{_mb(len(shared))}，上限{_mb(limits.shared_string_bytes)}）。"
                      f"{SPLIT}")
    count = shared.count(b"<si>") + shared.count(b"<si ") + len(re.findall(rb"<[\w.-]+:si[\s>]", shared))
    if count > limits.shared_strings:
        raise too_big(f"Excel 文件中的文字条数过多（{count:,}条，上限{limits.shared_strings:,}条）。{SPLIT}")
    dimension = ""
    path = _first_sheet_path(parts)
    info = next((i for i in infos if path and i.filename.lower() == path.lower()), None)
    if info is not None:
        head = _head(data, info)
        found = DIMENSION.search(head)
        dimension = found.group(1).decode("ascii", "replace") if found else ""
        _dimension_check(dimension, limits)
    return XlsxFacts(sum(i.file_size for i in infos), count, dimension)


def _head(data: bytes, info: zipfile.ZipInfo, size: int = 64 * 1024) -> bytes:
    """The first ``size`` inflated bytes of a member (already verified): where ``<dimension>`` is."""
    name_length, extra_length = struct.unpack("<HH", data[info.header_offset + 26:info.header_offset + 30])
    start = info.header_offset + 30 + name_length + extra_length
    raw = data[start:start + info.compress_size]
    if info.compress_type == zipfile.ZIP_STORED:
        return raw[:size]
    return zlib.decompressobj(-15).decompress(raw, size)


# --- the .xlsx: the worksheet parsed in a child process with hard limits ------------------------------

_START, _ROWS, _ERROR, _END = "start", "rows", "error", "end"
_CHUNK = 2000  # rows per message from the child


def _send(fd: int, message) -> None:
    payload = marshal.dumps(message)
    view = memoryview(struct.pack("<I", len(payload)) + payload)
    while view:
        view = view[os.write(fd, view):]


def _send_rows(fd: int, chunk: list[list]) -> None:
    """Cell values as calamine gives them (text, numbers, booleans: the reader turns the columns it needs
    into text); a chunk holding dates or times is turned into text here, as marshal carries neither."""
    try:
        _send(fd, (_ROWS, chunk))
    except ValueError:
        _send(fd, (_ROWS, [[_cell(value) for value in values] for values in chunk]))


def _child(data: bytes, limits: Limits, fd: int) -> None:
    """In the child: parse the first worksheet under the limits and send its rows, then exit (never return)."""
    status = 0
    try:
        faulthandler.disable()  # an allocation failure aborts: no Python traceback for it either
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)  # an allocation failure in Rust prints a backtrace: not into the worker's log
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        with open("/proc/self/statm") as statm:
            virtual = int(statm.read().split()[0]) * resource.getpagesize()
        ceiling = virtual + limits.memory
        resource.setrlimit(resource.RLIMIT_AS, (ceiling, ceiling))
        resource.setrlimit(resource.RLIMIT_CPU, (limits.seconds, limits.seconds + 1))
        try:
            book = python_calamine.CalamineWorkbook.from_object(io.BytesIO(data))
            kinds = [sheet.typ for sheet in book.sheets_metadata]
            index = next((i for i, kind in enumerate(kinds) if kind == python_calamine.SheetTypeEnum.WorkSheet), None)
            if index is None:
                _send(fd, (_ERROR, "no_sheet", 0, 0))
                return
            sheet = book.get_sheet_by_index(index)
        except python_calamine.PasswordError:
            _send(fd, (_ERROR, "password", 0, 0))
            return
        except MemoryError:
            _send(fd, (_ERROR, "memory", 0, 0))
            return
        except Exception:  # calamine's errors (XmlError, ZipError, CalamineError, …): a broken file
            _send(fd, (_ERROR, "unreadable", 0, 0))
            return
        if sheet.height > limits.sheet_rows or sheet.width > limits.columns:
            _send(fd, (_ERROR, "grid", sheet.height, sheet.width))
            return
        start = sheet.start or (0, 0)
        _send(fd, (_START, start[0], sheet.height, sheet.width))
        chunk = []
        for values in sheet.iter_rows():
            chunk.append(values)
            if len(chunk) >= _CHUNK:
                _send_rows(fd, chunk)
                chunk = []
        _send_rows(fd, chunk)
        _send(fd, (_END,))
    except BrokenPipeError:
        pass  # the reader stopped early (the header was all it needed)
    except BaseException:
        status = 1
    finally:
        os._exit(status)


def _read_exactly(fd: int, size: int, deadline: float, limits: Limits) -> bytes:
    parts, left = [], size
    while left:
        remaining = deadline - _clock()
        if remaining <= 0 or not select.select([fd], [], [], remaining)[0]:
            raise too_big(f"名单文件处理超时（上限{limits.seconds}秒）。请检查文件或拆分后上传。")
        chunk = os.read(fd, min(left, MB))
        if not chunk:
            return b""
        parts.append(chunk)
        left -= len(chunk)
    return b"".join(parts)


def _child_refusal(pid: int, limits: Limits) -> DomainError:
    """The child ended without finishing: killed by its CPU limit, or by the memory its parser asked for."""
    _pid, status = os.waitpid(pid, 0)
    if os.WIFSIGNALED(status) and os.WTERMSIG(status) in (signal.SIGXCPU, signal.SIGKILL):
        return too_big(f"名单文件处理超时（上限{limits.seconds}秒）。请检查文件或拆分后上传。")
    return too_big(f"Excel 工作表展开后超过内存上限（{_mb(limits.memory)}）：数据区域过大，或同一段文字被引用次数过多。"
                   f"{SPLIT}")


def _xlsx_lines(data: bytes, limits: Limits, facts: dict) -> Iterator[tuple[int, list[str]]]:
    """The engine: the first worksheet's rows as (line number in Excel, cell values), parsed by
    python-calamine in a forked child under an address-space and a CPU limit (see the module doc).

    ``facts`` receives ``estimated_rows`` (the grid's height) before the first row.
    """
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child
        os.close(read_fd)
        _child(data, limits, write_fd)
    os.close(write_fd)
    deadline = _clock() + limits.seconds
    finished = False
    try:
        line = 0
        while True:
            size = _read_exactly(read_fd, 4, deadline, limits)
            payload = _read_exactly(read_fd, struct.unpack("<I", size)[0], deadline, limits) if size else b""
            if not payload:
                raise _child_refusal(pid, limits)
            message = marshal.loads(payload)  # noqa: S302  (written by our own forked child, above)
            if message[0] == _START:
                line, facts["estimated_rows"] = message[1], message[2]
            elif message[0] == _ROWS:
                for values in message[1]:
                    line += 1
                    yield line, values
            elif message[0] == _END:
                finished = True
                return
            else:
                raise _refusal(message[1], message[2], message[3], limits)
    finally:
        os.close(read_fd)
        if not finished:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        with contextlib.suppress(ChildProcessError):
            os.waitpid(pid, 0)


def _refusal(code: str, height: int, width: int, limits: Limits) -> DomainError:
    if code == "grid":
        return too_big(f"工作表的数据区域过大（{height:,}行 × {width:,}列；上限{limits.sheet_rows:,}行、"
                       f"{limits.columns}列）。请删除多余的行和列后另存再上传。")
    if code == "no_sheet":
        return DomainError({"file": ["Excel 文件中没有工作表。"]})
    if code == "password":
        return DomainError({"file": ["Excel 文件已加密，请取消密码后重新上传。"]}, status_code=415)
    if code == "memory":
        return too_big(f"Excel 工作表展开后超过内存上限（{_mb(limits.memory)}）。{SPLIT}")
    return DomainError({"file": [UNREADABLE]}, status_code=415)


# --- CSV ----------------------------------------------------------------------------------------

def _decode_text(data: bytes) -> str | None:
    """The text of a CSV in UTF-8 (BOM or not), UTF-16 with a BOM, or GBK/GB18030; None if not text at all
    (binary), a 415 in words if text of another encoding."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError:
            return None
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
    raise DomainError({"file": [ENCODING]}, status_code=415)  # text, but of an encoding we do not read


def _csv_lines(text: str, limits: Limits, facts: dict) -> Iterator[tuple[int, list[str]]]:
    if re.search(f"[^\r\n]{{{limits.line_chars + 1}}}", text):
        raise too_big(f"CSV 文件中有一行过长（超过{limits.line_chars:,}个字符）。{SPLIT}")
    lines = text.count("\n") + 1
    if lines > limits.sheet_rows:
        raise too_big(f"CSV 文件行数过多（{lines:,}行，上限{limits.sheet_rows:,}行）。{SPLIT}")
    facts["estimated_rows"] = lines
    first = text.split("\n", 1)[0]
    delimiter = "\t" if first.count("\t") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        for number, values in enumerate(reader, start=1):
            while values and not values[-1].strip():
                values.pop()
            if len(values) > limits.columns:
                raise too_big(f"CSV 文件第{number}行有{len(values):,}列，名单最多{limits.columns}列。{SPLIT}")
            yield number, values
    except csv.Error:
        raise DomainError({"file": [f"CSV 文件格式有误（第{reader.line_num}行），请用 Excel 重新另存为 CSV 后上传。"]},
                          ) from None


# --- opening a list -------------------------------------------------------------------------------

def _bytes(upload) -> bytes:
    if upload is None:
        raise DomainError({"file": ["请选择要上传的名单文件（Excel 或 CSV）。"]})
    limit = settings.UPLOAD_MAX_BYTES
    if upload.size > limit:
        raise too_big(f"文件过大：名单文件不超过{limit // MB} MB。")
    upload.seek(0)
    data = upload.read(limit + 1)
    upload.seek(0)
    if len(data) > limit:
        raise too_big(f"文件过大：名单文件不超过{limit // MB} MB。")
    if not data:
        raise DomainError({"file": ["文件是空的。"]})
    return data


def _kind(data: bytes, name: str, limits: Limits) -> tuple[str, str | None]:
    """("xlsx", None) or ("csv", text): every refusal of a file as such (413, 415) before its rows."""
    name = (name or "").lower()
    if data.startswith(b"\xd0\xcf\x11\xe0") or name.endswith(".xls"):
        raise DomainError({"file": [OLD_XLS]}, status_code=415)
    if _is_zip(data):
        if name.endswith(".csv"):
            raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
        xlsx_inspect(data, limits)
        return "xlsx", None
    if name.endswith(".xlsx") or data.startswith(b"%PDF"):
        raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
    text = _decode_text(data)
    if text is None:
        raise DomainError({"file": [XLSX_ONLY]}, status_code=415)
    return "csv", text


def _columns(lines: Iterator[tuple[int, list]], required: tuple[str, ...]) -> tuple[dict[int, str], int]:
    """({column index: key}, the header's line number), the header found by its names."""
    for seen, (line_no, cells) in enumerate(lines, start=1):
        values = [_cell(value) for value in cells]
        found = {i: _ALIASES[_header_key(v)] for i, v in enumerate(values) if _header_key(v) in _ALIASES}
        if len(set(found.values())) >= 2:
            first: dict[str, int] = {}
            for index, key in found.items():
                first.setdefault(key, index)  # the first column of a name wins
            missing = [LABELS[k] for k in required if k not in first]
            if missing:
                raise DomainError({"file": [f"名单缺少“{'”“'.join(missing)}”列。"]})
            return {index: key for key, index in first.items()}, line_no
        if seen >= HEADER_SEARCH_ROWS or line_no >= HEADER_SEARCH_ROWS:
            break
    expected = "”“".join(LABELS[k] for k in required)
    raise DomainError({"file": [f"未找到表头：名单前{HEADER_SEARCH_ROWS}行中应有“{expected}”等列名。"]})


def _data_rows(lines, columns: dict[int, str], limits: Limits) -> Iterator[dict]:
    """Each line's recognised columns as text (only those are converted), wholly empty ones skipped."""
    deadline, count = _clock() + limits.seconds, 0
    pairs = list(columns.items())
    for line_no, values in lines:
        width = len(values)
        row = {key: _cell(values[index]) if index < width else "" for index, key in pairs}
        if not any(row.values()):
            continue  # an empty line, or only unrelated columns filled (a note, a total): skipped
        row["row"] = line_no
        count += 1
        if count > limits.rows:
            raise DomainError({"file": [f"名单超过{limits.rows:,}行，请拆分后上传。"]})
        if count % 1000 == 0 and _clock() > deadline:
            raise too_big(f"名单文件处理超时（上限{limits.seconds}秒）。请检查文件或拆分后上传。")
        yield row


@contextlib.contextmanager
def open_table(upload, *, required: tuple[str, ...] = ("id_number", "name"), limits: Limits = LIMITS):
    """An uploaded list, checked as a file and by its header, its data rows streamed (see the module doc).

    ``required``: keys of :data:`COLUMNS` whose column must be present (``hours`` for a face-to-face
    list, ``subjects`` for an exam list). Raises :class:`~kjzx.api.DomainError`: 415 not an
    .xlsx/CSV, 413 a bound passed, 400 otherwise — also while the rows are read.
    """
    data = _bytes(upload)
    kind, text = _kind(data, upload.name, limits)
    facts: dict = {"estimated_rows": 0}
    lines = _xlsx_lines(data, limits, facts) if kind == "xlsx" else _csv_lines(text, limits, facts)
    try:
        columns, header_line = _columns(lines, required)
        yield OpenTable(data, kind, display_name(upload.name), columns, header_line,
                        max(0, facts["estimated_rows"] - header_line), _data_rows(lines, columns, limits))
    finally:
        lines.close()


def read_header(upload, *, required: tuple[str, ...] = ("id_number", "name"), limits: Limits = LIMITS) -> Table:
    """The file checked as a list with the ``required`` columns, its rows not read (see the module doc)."""
    with open_table(upload, required=required, limits=limits) as table:
        return Table([], table.data, table.kind, table.file_name)


def read_table(upload, *, required: tuple[str, ...] = ("id_number", "name"), limits: Limits = LIMITS) -> Table:
    """Every row of an uploaded name list as a list (see the module doc); at least one row, or 400."""
    with open_table(upload, required=required, limits=limits) as table:
        rows = list(table.rows)
        if not rows:
            raise DomainError({"file": ["名单中没有数据行。"]})
        return Table(rows, table.data, table.kind, table.file_name)
