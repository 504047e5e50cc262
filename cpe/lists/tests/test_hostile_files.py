"""Hostile spreadsheets: refused or handled in words, in bounded memory and time, nothing stored.

A spreadsheet of a few KB must not burn CPU for hours, and the spreadsheet half of the hostile input:
an .xlsx that declares a huge sheet or millions of shared strings kept the parser busy for minutes
(openpyxl, in the request for a face-to-face list). Every file here is generated in code; each is read
by the one reader (:mod:`cpe.lists.spreadsheets`) within a few seconds and a few tens of MB of the
test process's memory (the worksheet parser runs in a child process with its own limits), and the
answer names what was too big and the limit.
"""

from __future__ import annotations

import datetime as dt
import io
import random
import struct
import time
import tracemalloc
import zipfile
import zlib

import pytest
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cpe.lists import spreadsheets
from cpe.lists.services import exams, face_to_face
from cpe.lists.spreadsheets import MB, Limits, read_header, read_table
from cpe.lists.tests.test_exams import xlsx as exam_xlsx
from cpe.models import AttendanceList, ExamImport, ExamRow
from cpe.tasks import CHECK_ATTENDANCE_LIMITS, CHECK_EXAM_LIMITS, check_attendance_list, check_exam_import
from kjzx.api import DomainError
from tests.factories import login_staff, make_id_number

pytestmark = pytest.mark.django_db

SMALL = face_to_face.LIMITS  # a face-to-face list's bounds: 5,000 rows
HEADER = ('<row r="1"><c r="A1" t="inlineStr"><is><t>证件号码</t></is></c><c r="B1" t="inlineStr"><is><t>姓名</t>'
          '</is></c><c r="C1" t="inlineStr"><is><t>通过科目数</t></is></c></row>').encode()

CONTENT_TYPES = (b'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/'
                 b'content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/'
                 b'workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main'
                 b'+xml"/></Types>')
PACKAGE_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/package/'
                b'2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
                b'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>')
WORKBOOK = (b'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
            b'2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
            b'<sheet name="S" sheetId="1" r:id="rId1"/></sheets></workbook>')
WORKBOOK_RELS = (b'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.org/'
                 b'package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
                 b'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')


def sheet_xml(body: bytes, dimension: str = "A1:C2") -> bytes:
    return (b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
            b'spreadsheetml/2006/main"><dimension ref="' + dimension.encode() + b'"/><sheetData>'
            + HEADER + body + b"</sheetData></worksheet>")


def xlsx(body: bytes = b"", *, dimension: str = "A1:C2", shared: bytes | None = None,
         extra: dict[str, bytes] | None = None) -> bytes:
    """A minimal workbook: the header row (证件号码, 姓名, 通过科目数) then ``body`` (rows of XML)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELS)
        archive.writestr("xl/workbook.xml", WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        archive.writestr("xl/worksheets/sheet1.xml", sheet_xml(body, dimension))
        if shared is not None:
            archive.writestr("xl/sharedStrings.xml", b'<?xml version="1.0" encoding="UTF-8"?><sst xmlns="http://'
                             b'schemas.openxmlformats.org/spreadsheetml/2006/main">' + shared + b"</sst>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return buffer.getvalue()


def lying_zip(name: str, inflated: bytes, declared: int) -> bytes:
    """A zip whose one member inflates to ``inflated`` but whose headers declare ``declared`` bytes (and
    the CRC of that many): what a bomb does to get past a reader that trusts the directory."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    raw = compressor.compress(inflated) + compressor.flush()
    crc, encoded = zlib.crc32(inflated[:declared]), name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(raw), declared, len(encoded), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 8, 0, 0, crc, len(raw), declared,
                          len(encoded), 0, 0, 0, 0, 0, 0)
    workbook = _stored("xl/workbook.xml", WORKBOOK, offset=len(local) + len(encoded) + len(raw))
    body = local + encoded + raw + workbook[0]
    directory = central + encoded + workbook[1]
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 2, 2, len(directory), len(body), 0)
    return body + directory + end


def _stored(name: str, data: bytes, *, offset: int) -> tuple[bytes, bytes]:
    crc, encoded = zlib.crc32(data), name.encode()
    local = struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 0, 0, 0, crc, len(data), len(data), len(encoded), 0)
    central = struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 20, 20, 0, 0, 0, 0, crc, len(data), len(data),
                          len(encoded), 0, 0, 0, 0, 0, offset)
    return local + encoded + data, central + encoded


def text(size: int) -> bytes:
    """``size`` bytes of text that does not compress (so the ratio bound is not what refuses it)."""
    return random.Random(size).randbytes(size // 2).hex().encode()


def upload(data: bytes, name: str = "名单.xlsx") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data)


def refused(data: bytes, *, name: str = "名单.xlsx", limits: Limits = SMALL, seconds: float = 3.0,
            memory: int = 48 * MB) -> DomainError:
    """The reader's refusal of ``data``, checked to come within ``seconds`` and ``memory`` (this process)."""
    file = upload(data, name)
    tracemalloc.start()
    tracemalloc.reset_peak()
    started = time.perf_counter()
    try:
        with pytest.raises(DomainError) as caught:
            read_table(file, required=("id_number", "name", "subjects"), limits=limits)
    finally:
        spent = time.perf_counter() - started
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    assert spent < seconds, f"{spent:.1f} s"
    assert peak < memory, f"{peak / MB:.0f} MB"
    return caught.value


# --- zip bombs and oversize parts -----------------------------------------------------------------

def test_a_member_inflating_past_the_limit_is_refused_from_the_directory_before_parsing():
    """the zip's total inflated size and its compression ratio are checked from its directory."""
    bomb = xlsx(extra={"xl/media/padding.bin": b"\0" * (25 * MB)})  # 25 MB of zeros in ~25 KB
    error = refused(bomb)
    assert error.status_code == 413 and "解压后过大" in error.message and "上限20 MB" in error.message
    error = refused(bomb, limits=Limits(rows=5_000, unzipped=100 * MB))
    assert error.status_code == 413 and "压缩比异常" in error.message and "上限100倍" in error.message


def test_a_member_lying_about_its_size_is_refused_as_soon_as_it_inflates_past_it():
    """a bomb that declares 1 KB and inflates to 64 MB is stopped after the first MB, not inflated."""
    error = refused(lying_zip("xl/worksheets/sheet1.xml", b"\0" * (64 * MB), declared=1024), limits=spreadsheets.LIMITS)
    assert error.status_code == 413 and "超过其声明的大小" in error.message and "疑似压缩炸弹" in error.message


def test_too_many_shared_strings_and_too_many_bytes_of_them_are_refused():
    """shared strings are bounded by count and by bytes, with the limit in the words."""
    many = b"".join(b"<si><t>%d</t></si>" % i for i in range(SMALL.shared_strings + 1))
    error = refused(xlsx(shared=many))
    assert error.status_code == 413 and "50,001条" in error.message and "上限50,000条" in error.message
    error = refused(xlsx(shared=b"<si><t>" + text(5 * MB) + b"</t></si>"))
    assert error.status_code == 413 and "共享字符串" in error.message and "上限4.0 MB" in error.message


def test_one_long_shared_string_repeated_in_every_cell_is_refused_by_the_parsers_memory_limit():
    """2 MB of text referenced by 4,000 cells would expand to 8 GB: the child parser hits its
    memory limit and the file is refused in words; this process stays small."""
    long = b"<si><t>" + text(2 * MB) + b"</t></si>"
    body = b"".join(b'<row r="%d"><c r="A%d" t="s"><v>0</v></c></row>' % (i, i) for i in range(2, 4_002))
    error = refused(xlsx(body, dimension="A1:C4001", shared=long))
    assert error.status_code == 413 and "超过内存上限（256 MB）" in error.message


# --- the worksheet's size ---------------------------------------------------------------------------

def test_a_declared_dimension_of_the_whole_sheet_is_refused():
    """<dimension ref="A1:XFD1048576"> is refused before the sheet is parsed."""
    error = refused(xlsx(dimension="A1:XFD1048576"))
    assert error.status_code == 413 and "A1:XFD1048576" in error.message and "上限5,260行、26列" in error.message


@pytest.mark.parametrize("cell", [b'<c r="XFD1048576"><v>1</v></c>', b'<c r="A2" r ="XFD1048576"><v>1</v></c>',
                                  b"<c r='XFD1048576'><v>1</v></c>"])
def test_two_cells_a_whole_sheet_apart_are_refused_and_the_worker_survives(cell):
    """two cells at A1 and XFD1048576 would make the parser allocate the whole grid (17 billion
    cells): the child parser dies of its memory limit, this process does not, and the words say why —
    however the far cell's position is written (a second r attribute, single quotes)."""
    error = refused(xlsx(b'<row r="1048576">' + cell + b"</row>", dimension="A1:C2"))
    assert error.status_code == 413 and ("内存上限" in error.message or "数据区域过大" in error.message)


def test_a_million_empty_rows_are_skipped_and_a_million_rows_of_empty_cells_refused():
    """a million <row/> elements without cells cost nothing (no data row: 400); a million rows
    of empty cells make a grid past the bound (413 with the limit); both within seconds."""
    empty_rows = b"".join(b'<row r="%d"/>' % i for i in range(2, 1_000_002))
    error = refused(xlsx(empty_rows, dimension="A1:C1"), limits=spreadsheets.LIMITS)
    assert error.status_code == 400 and error.message == "名单中没有数据行。"
    empty_cells = b'<row r="1000000"><c r="A1000000" t="inlineStr"><is><t></t></is></c></row>'
    error = refused(xlsx(empty_cells, dimension="A1:C2"), limits=spreadsheets.LIMITS)
    assert error.status_code == 413 and "1,000,000行" in error.message and "上限210,010行" in error.message


def test_more_data_rows_than_the_list_kind_allows_are_refused_while_reading():
    """rows are bounded per list kind (5,000 on a face-to-face list)."""
    rows = b"".join(b'<row r="%d"><c r="A%d" t="inlineStr"><is><t>X</t></is></c></row>' % (i, i)
                    for i in range(2, SMALL.rows + 3))
    error = refused(xlsx(rows, dimension=f"A1:C{SMALL.rows + 2}"))
    assert error.status_code == 400 and "名单超过5,000行" in error.message


def test_formulas_are_read_as_the_values_excel_stored_never_evaluated():
    """=HYPERLINK(…) gives its stored value, text beginning with = stays text (nothing evaluated)."""
    number = make_id_number("140502", dt.date(1990, 3, 15), 101)
    body = (f'<row r="2"><c r="A2" t="inlineStr"><is><t>{number}</t></is></c>'
            '<c r="B2" t="str"><f>HYPERLINK("http://evil.example/","张三")</f><v>张三</v></c>'
            '<c r="C2"><f>1+1</f><v>2</v></c></row>'
            '<row r="3"><c r="A3" t="inlineStr"><is><t>X</t></is></c><c r="B3" t="inlineStr"><is>'
            "<t>=cmd|' /C calc'!A0</t></is></c><c r=\"C3\" t=\"inlineStr\"><is><t>=1+1</t></is></c></row>").encode()
    rows = read_table(upload(xlsx(body)), required=("id_number", "name", "subjects")).rows
    assert rows == [{"row": 2, "id_number": number, "name": "张三", "subjects": "2"},
                    {"row": 3, "id_number": "X", "name": "=cmd|' /C calc'!A0", "subjects": "=1+1"}]


# --- CSV and other files -----------------------------------------------------------------------------

def test_a_csv_with_a_100_mb_line_is_refused_by_size_and_a_5_mb_line_by_the_line_bound():
    """a CSV line of 100 MB is refused before it is read (413, the size), one of 5 MB under the
    upload limit by the line's bound (413 with the limit) — neither split into millions of fields."""
    error = refused(b"\xe8\xaf\x81\xe4\xbb\xb6\xe5\x8f\xb7\xe7\xa0\x81,\xe5\xa7\x93\xe5\x90\x8d\n" + b"1," * (50 * MB),
                    name="名单.csv", memory=24 * MB)
    assert error.status_code == 413 and f"不超过{settings.UPLOAD_MAX_BYTES // MB} MB" in error.message
    error = refused("证件号码,姓名\n".encode() + b"1," * (5 * MB // 2), name="名单.csv")
    assert error.status_code == 413 and "一行过长" in error.message and "65,536" in error.message


def test_a_csv_of_a_million_empty_lines_is_refused_by_its_line_count():
    """a million lines are refused before the CSV parser runs over them."""
    error = refused("证件号码,姓名,通过科目数\n".encode() + b",,\n" * 1_000_000, name="名单.csv")
    assert error.status_code == 413 and "1,000,002行" in error.message and "上限5,260行" in error.message


def test_wrong_encodings_are_read_or_refused_in_words():
    """UTF-16 with a BOM (Excel's "Unicode text") is read; text of another encoding is a 415 that
    says so; UTF-16 without a BOM is not text we know (415)."""
    text = "证件号码\t姓名\t通过科目数\n140502199003151018\t张三\t2\n"
    rows = read_table(upload(text.encode("utf-16"), "名单.csv"), required=("id_number", "name", "subjects")).rows
    assert rows == [{"row": 2, "id_number": "140502199003151018", "name": "张三", "subjects": "2"}]
    error = refused("Nom,Numéro\nZoë\n".encode("latin-1"), name="名单.csv")
    assert error.status_code == 415 and "无法识别 CSV 文件的编码" in error.message
    error = refused(text.encode("utf-16-le"), name="名单.csv")
    assert error.status_code == 415 and "只接受 Excel（.xlsx）或 CSV 文件" in error.message


def test_an_old_xls_renamed_xlsx_is_refused_in_words():
    """an.xls (OLE2) named.xlsx is recognised by its bytes: save it as.xlsx."""
    error = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 4096)
    assert error.status_code == 415 and "旧版 Excel（.xls）" in error.message


def test_reading_stops_at_the_time_bound(monkeypatch):
    """the rows are read within ``Limits.seconds``; past it the reader stops and says so."""
    clock = iter([0.0] + [10_000.0] * 100)
    monkeypatch.setattr(spreadsheets, "_clock", lambda: next(clock))
    error = refused(exam_xlsx([("张三", "X", 1)]))
    assert error.status_code == 413 and "处理超时（上限30秒）" in error.message


# --- through the services: nothing stored ---------------------------------------------------------

def test_a_hostile_upload_stores_nothing_on_either_page(client, institution_user, province_staff, training):
    """refused at the upload with the reader's words, on the exam page and the face-to-face page."""
    from cpe.lists.tests.test_face_to_face import scan

    login_staff(client, province_staff)
    page = client.post(reverse("workbench_exam_import_new"), {
        "year": 2025, "exam": "cpa", "file": upload(xlsx(dimension="A1:XFD1048576"))})
    assert page.status_code == 413 and "A1:XFD1048576" in page.content.decode()
    login_staff(client, institution_user)
    page = client.post(reverse("institution_attendance_upload", args=[training.pk]), {
        "file": upload(xlsx(extra={"xl/media/padding.bin": b"\0" * (25 * MB)})), "evidence": [scan()]})
    assert page.status_code == 413 and "解压后过大" in page.content.decode()
    assert not ExamImport.objects.exists() and not AttendanceList.objects.exists()


def test_a_list_refused_while_its_rows_are_read_fails_with_the_words_and_keeps_no_row(province_staff, monkeypatch):
    """a bound passed in the task (here the rows) fails the import with the reader's words."""
    monkeypatch.setattr(exams, "LIMITS", Limits(rows=2))
    number = make_id_number("140502", dt.date(1990, 3, 15), 101)
    exam_import = exams.exam_import_create(year=2025, exam="cpa", by=province_staff, upload=upload(
        exam_xlsx([("张三", number, 1)] * 3)))
    assert check_exam_import.apply(args=[exam_import.pk]).get() == {}
    exam_import.refresh_from_db()
    assert (exam_import.status, exam_import.error) == (ExamImport.Status.FAILED, "名单超过2行，请拆分后上传。")
    assert not ExamRow.objects.filter(import_file=exam_import).exists()


def test_the_list_tasks_have_time_limits_and_a_soft_one_fails_the_list_in_words(province_staff, institution_user,
                                                                               training, monkeypatch):
    """soft and hard time limits on the tasks that read uploads (and defaults for every task);
    the soft one stops the check and the list says why."""
    assert (check_exam_import.soft_time_limit, check_exam_import.time_limit) == CHECK_EXAM_LIMITS
    assert (check_attendance_list.soft_time_limit, check_attendance_list.time_limit) == CHECK_ATTENDANCE_LIMITS
    assert 0 < settings.CELERY_TASK_SOFT_TIME_LIMIT < settings.CELERY_TASK_TIME_LIMIT
    exam_import = exams.exam_import_create(year=2025, exam="cpa", by=province_staff, upload=upload(
        exam_xlsx([("张三", "X", 1)])))

    def too_slow(*args):
        raise SoftTimeLimitExceeded

    monkeypatch.setattr("cpe.tasks.exam_import_check", too_slow)
    check_exam_import.apply(args=[exam_import.pk]).get()
    exam_import.refresh_from_db()
    assert exam_import.status == ExamImport.Status.FAILED and "处理超时（上限300秒）" in exam_import.error

    from cpe.lists.tests.test_face_to_face import scan

    attendance = face_to_face.attendance_upload(training=training, by=institution_user, evidence=[scan()],
                                                file=upload(exam_xlsx([("张三", "X", 1)], header=("姓名", "证件号码",
                                                                                              "学时", "备注"))))
    monkeypatch.setattr("cpe.tasks.attendance_check", too_slow)
    check_attendance_list.apply(args=[attendance.pk]).get()
    attendance.refresh_from_db()
    assert attendance.status == AttendanceList.Status.FAILED and "处理超时（上限60秒）" in attendance.error
    assert not attendance.rows.exists()


def test_a_header_needs_no_more_than_the_header(monkeypatch):
    """The upload page checks a file's header without reading its rows: a list of 100 rows whose rows
    would fail (too many for the bound) still passes read_header."""
    content = exam_xlsx([("张三", "X", 1)] * 100)
    table = read_header(upload(content), required=("id_number", "name", "subjects"), limits=Limits(rows=10))
    assert table.rows == [] and table.kind == "xlsx"
