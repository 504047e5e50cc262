"""Bulk lists at COPY speed: an exam pass list of 100,000 rows, read, checked, previewed and registered
(R-CE-10), each figure against the machine's own limit measured in the same run.

    .venv/bin/python bench/exam_bench.py                   # 100,000 rows; scratch DB $KJZX_BENCH_DB (kjzx_bench_lists)
    .venv/bin/python bench/exam_bench.py --rows 20000 --rss-rows 0
    .venv/bin/python bench/exam_bench.py --reuse           # keep the database (fresh ID numbers)

:func:`rows` is the callable form (for ``python -m bench``): ``Row(case, figure, baseline, ratio, target,
met)``; figures in seconds (MB for the memory rows), ``target`` the largest ratio allowed (``inf``:
reported, no target). Like ``bench/run.sh`` it (re)creates a scratch PostgreSQL database — never the
portal's own — and migrates it, fills an archive for 95% of the list (94% collected, 1% still
collecting), and writes a real .xlsx as Excel does (shared strings; 序号/姓名/证件号码/通过科目数; 5%
people the province does not know → pending, 1% with a wrong check digit, 1% "两科" as the count).

The cases, all on the same file in one run:

- **reader**: python-calamine (the portal's engine, in this process) against openpyxl read-only;
- **the plain pipeline** — the baseline of the whole import: calamine + one look-up of every ID number
  + COPY of the found rows into ``cpe_creditentry`` (constraints and indexes on), nothing checked;
- **COPY into the credit-entry table** of the rows the list registers — the baseline of registering;
- **the portal**: upload (file checked, header read), check (rows streamed into a staging table with
  COPY, one INSERT … SELECT of the preview), preview (counts and first pages), register (the ledger's
  one bulk path, one INSERT … SELECT) and the whole import; targets: whole ≤ 2.5× the pipeline,
  registering at least a third of COPY's rate (≤ 3× its time);
- a re-upload of the same file (every row 此前已登记) and registering it (nothing new);
- **memory**: the reader's peak RSS over a ``--rss-rows`` file (1,000,000 rows), this process and the
  parser's child, each measured in a fresh process against the same process before reading.

The COPY baselines run inside a transaction that is rolled back, so the table ends as the portal left it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import math
import os
import platform
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import NamedTuple
from xml.sax.saxutils import escape

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
DB = os.environ.get("KJZX_BENCH_DB", "kjzx_bench_lists")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kjzx.settings_test")
os.environ["DATABASE_URL"] = f"postgres://postgres@127.0.0.1:5432/{DB}"
YEAR = 2024


class Row(NamedTuple):
    case: str
    figure: float  # seconds (MB for the memory rows)
    baseline: float  # the same run's baseline, same unit
    ratio: float
    target: float  # the largest ratio allowed; inf: reported, no target
    met: bool


def _row(case: str, figure: float, baseline: float, target: float = math.inf) -> Row:
    ratio = figure / baseline if baseline else math.inf
    return Row(case, round(figure, 3), round(baseline, 3), round(ratio, 2), target, ratio <= target)


# --- the data -------------------------------------------------------------------------------------

def recreate_database() -> None:
    """As bench/run.sh: drop and create the scratch database (before Django connects), then migrate."""
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{DB}"')
        admin.execute(f'CREATE DATABASE "{DB}"')


def next_offset() -> int:
    """The first person index not used yet in this database (ID numbers encode it: day of birth, sequence)."""
    from records.models import Archive

    # the numbers are sealed (kjzx.fields): the latest list's last archive, opened; the numbers after it in that
    # list (at most one: every twentieth person is unknown) are skipped with a margin
    last = Archive.objects.filter(jurisdiction_id="140105", name__startswith="考生").order_by("-id").values_list(
        "id_number", flat=True).first()
    if last is None:
        return 0
    born = dt.date(int(last[6:10]), int(last[10:12]), int(last[12:14]))
    return (born - dt.date(1960, 1, 1)).days * 900 + int(last[14:17]) - 100 + 20


def id_numbers(count: int, offset: int) -> list[str]:
    from accounts.validators import gb11643_check_char

    born = dt.date(1960, 1, 1)
    numbers = []
    for i in range(offset, offset + count):
        first17 = f"140105{born + dt.timedelta(days=i // 900):%Y%m%d}{i % 900 + 100:03d}"
        numbers.append(first17 + gb11643_check_char(first17))
    return numbers


def fill(numbers: list[str]) -> None:
    """Archives for 95% of the list: 94% collected, 1% still collecting (pending); 5% unknown; each with the
    obligation row the portal keeps beside an archive (R-CE-1)."""
    from django.db import connection, transaction
    from django.utils import timezone

    from records.models import Archive

    now = timezone.now()
    archives = []
    for i, number in enumerate(numbers):
        if i % 20 == 19:
            continue  # unknown in the province → pending
        collecting = i % 100 == 7
        archives.append(Archive(name=f"考生{i}", id_type="resident_id", id_number=number, sex="M",
                                birth_date=dt.date(1960, 1, 1), jurisdiction_id="140105",
                                status=Archive.Status.COLLECTING if collecting else Archive.Status.ACTIVE,
                                collected_at=None if collecting else now, began_accounting_on=dt.date(2010, 7, 1)))
    Archive.objects.bulk_create(archives, batch_size=5000)
    # as a collection's approval leaves them (cpe.ledger.summaries.after_transition): the obligation row of each
    # archive, which bulk_create skips — without it the first registration would build 95,000 of them
    from cpe.ledger.summaries import archive_obligations_refresh

    ids = [archive.pk for archive in archives]
    for start in range(0, len(ids), 5000):
        with transaction.atomic():
            archive_obligations_refresh(ids[start:start + 5000])
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE records_archive")
        cursor.execute("VACUUM ANALYZE cpe_archiveobligation")


def list_rows(numbers: list[str]) -> list[list]:
    rows = [["序号", "姓名", "证件号码", "通过科目数"]]
    for i, number in enumerate(numbers):
        subjects: object = 1 + i % 3  # 会计专业技术资格: at most three subjects a sitting
        if i % 100 == 41:
            number = number[:17] + ("0" if number[17] != "0" else "1")  # wrong check digit
        elif i % 100 == 42:
            subjects = "两科"
        rows.append([i + 1, f"考生{i}", number, subjects])
    return rows


def _column(index: int) -> str:
    return "ABCDEFGHIJKLMNOPQRSTUVWXYZ"[index]


def workbook(rows: list[list]) -> bytes:
    """An .xlsx as Excel writes one: text in the shared strings table, numbers inline."""
    strings: dict[str, int] = {}
    sheet = [f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{MAIN}">'
             f'<dimension ref="A1:D{len(rows)}"/><sheetData>']
    for r, values in enumerate(rows, start=1):
        cells = []
        for c, value in enumerate(values):
            ref = f"{_column(c)}{r}"
            if isinstance(value, str):
                index = strings.setdefault(value, len(strings))
                cells.append(f'<c r="{ref}" t="s"><v>{index}</v></c>')
            else:
                cells.append(f'<c r="{ref}"><v>{value}</v></c>')
        sheet.append(f'<row r="{r}">{"".join(cells)}</row>')
    sheet.append("</sheetData></worksheet>")
    shared = (f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><sst xmlns="{MAIN}" count="{len(strings)}" '
              f'uniqueCount="{len(strings)}">' + "".join(f"<si><t>{escape(text)}</t></si>" for text in strings)
              + "</sst>")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in PARTS.items():
            archive.writestr(name, data)
        archive.writestr("xl/worksheets/sheet1.xml", "".join(sheet))
        archive.writestr("xl/sharedStrings.xml", shared)
    return buffer.getvalue()


MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_REL = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PKG = "http://schemas.openxmlformats.org/package/2006"
PARTS = {
    "[Content_Types].xml": f'<?xml version="1.0" encoding="UTF-8"?><Types xmlns="{_PKG}/content-types">'
                           '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships'
                           '+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName='
                           '"/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml'
                           '.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
                           'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/'
                           'sharedStrings.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml'
                           '.sharedStrings+xml"/></Types>',
    "_rels/.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
                   f'<Relationship Id="rId1" Type="{_REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{MAIN}" xmlns:r="{_REL}"><sheets>'
                       '<sheet name="合格名单" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_PKG}/relationships">'
                                  f'<Relationship Id="rId1" Type="{_REL}/worksheet" Target="worksheets/sheet1.xml"/>'
                                  f'<Relationship Id="rId2" Type="{_REL}/sharedStrings" Target="sharedStrings.xml"/>'
                                  "</Relationships>",
}


# --- the baselines --------------------------------------------------------------------------------

def timed(function, *args, **kwargs) -> tuple[float, object]:
    started = time.perf_counter()
    result = function(*args, **kwargs)
    return time.perf_counter() - started, result


def calamine_read(content: bytes) -> int:
    import python_calamine

    sheet = python_calamine.CalamineWorkbook.from_object(io.BytesIO(content)).get_sheet_by_index(0)
    return sum(1 for _values in sheet.iter_rows())


def openpyxl_read(content: bytes) -> int:
    from openpyxl import load_workbook

    book = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    try:
        return sum(1 for _values in book.worksheets[0].iter_rows(values_only=True))
    finally:
        book.close()


def _copy_entries(cursor, entries) -> None:
    columns = ("archive_id, year_id, subject_kind, form, credits, source_type, source_id, source_label, "
               "registered_at, reason")
    with cursor.copy(f"COPY cpe_creditentry ({columns}) FROM STDIN") as copy:
        for entry in entries:
            copy.write_row(entry)


def _rolled_back(work) -> float:
    """Seconds ``work(cursor)`` takes inside a transaction that is rolled back afterwards, every constraint
    checked as the rows go in (the foreign keys are deferred to the commit otherwise, which never comes)."""
    from django.db import connection

    connection.ensure_connection()
    raw = connection.connection
    with raw.transaction(force_rollback=True), raw.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        work(cursor)
        return time.perf_counter() - started


def plain_pipeline(content: bytes) -> float:
    """calamine + one look-up of every ID number (by its keyed hash, as the numbers are stored sealed) + COPY of
    the found rows: no check at all."""
    import python_calamine

    from kjzx import crypto

    def work(cursor):
        now = dt.datetime.now(dt.UTC)
        sheet = python_calamine.CalamineWorkbook.from_object(io.BytesIO(content)).get_sheet_by_index(0)
        values = sheet.iter_rows()
        next(values)
        listed = [(crypto.id_number_hash(str(row[2])), row[3]) for row in values]  # numbers are found by hash
        cursor.execute("SELECT id_number_hash, id FROM records_archive WHERE id_number_hash = ANY(%s)",
                       [[number for number, _subjects in listed]])
        found = dict(cursor.fetchall())
        _copy_entries(cursor, ((found[number], YEAR, "professional", "exam", 90 * subjects, "exam_file",
                                "bench-plain", "bench", now, "") for number, subjects in listed
                               if number in found and isinstance(subjects, float)))

    return _rolled_back(work)


def copy_baseline(entries: list[tuple]) -> float:
    return _rolled_back(lambda cursor: _copy_entries(cursor, entries))


def _timing(module, name: str) -> list[float]:
    """Wrap ``module.name`` so each call's seconds are summed into the returned list's one number."""
    function, spent = getattr(module, name), [0.0]

    def timed_call(*args, **kwargs):
        started = time.perf_counter()
        try:
            return function(*args, **kwargs)
        finally:
            spent[0] += time.perf_counter() - started

    setattr(module, name, timed_call)
    return spent


# --- memory ----------------------------------------------------------------------------------------

def rss_child(path: str) -> None:
    """In a fresh process: read a list file with the portal's reader, print RSS before and after (MB)."""
    import resource

    import django

    def high_water() -> float:  # this process's own peak (ru_maxrss would include the parent's before exec)
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmHWM:")[1].split()[0]) / 1024

    django.setup()
    from django.conf import settings
    from django.core.files.base import ContentFile

    from cpe.lists.rows import row_read
    from cpe.lists.services.exams import subjects_quantity
    from cpe.lists.spreadsheets import Limits, open_table

    settings.UPLOAD_MAX_BYTES = 1024 * 1024 * 1024
    data = Path(path).read_bytes()
    before = high_water()
    limits = Limits(rows=1_000_000, unzipped=1024 * 1024 * 1024, shared_strings=3_000_000,
                    shared_string_bytes=512 * 1024 * 1024, memory=8 * 1024 * 1024 * 1024, seconds=900)
    quantity = subjects_quantity("accounting_qualification")
    count = 0
    with open_table(ContentFile(data, name="名单.xlsx"), required=("id_number", "name", "subjects"),
                    limits=limits) as table:
        for raw in table.rows:
            row_read(raw, quantity)
            count += 1
    after = high_water()
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"{count} {before:.1f} {after:.1f} {child:.1f}")


def rss(rows: int) -> tuple[int, float, float, float]:
    """(rows read, RSS before, peak RSS of the reading process, peak RSS of the parser child) in MB."""
    path = ROOT / "var" / f"bench-list-{rows}.xlsx"
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(workbook(list_rows(id_numbers(rows, 10_000_000))))
    try:
        out = subprocess.run([sys.executable, __file__, "--rss-child", str(path)], check=True, capture_output=True,  # noqa: S603
                             text=True, env={**os.environ}).stdout.split()
    finally:
        path.unlink()
    return int(out[0]), float(out[1]), float(out[2]), float(out[3])


# --- the run ---------------------------------------------------------------------------------------

def rows(count: int = 100_000, *, rss_rows: int = 1_000_000, reuse: bool = False) -> list[Row]:
    """The bench as rows (see the module doc). Recreates the scratch database unless ``reuse``."""
    if not reuse:
        recreate_database()
    import django

    django.setup()
    from django.core.management import call_command

    if not reuse:
        call_command("migrate", verbosity=0)
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.paginator import Paginator

    from accounts.models import Role, User
    from cpe.ledger import services as ledger
    from cpe.lists import selectors
    from cpe.lists.services import exams
    from cpe.models import CreditEntry, ExamImport, ExamRow, RowState

    numbers = id_numbers(count, next_offset())  # beyond every number used before (--reuse)
    fill(numbers)
    content = workbook(list_rows(numbers))
    staff, _ = User.objects.get_or_create(username="bench_sheng", defaults={
        "role": Role.PROVINCE_STAFF, "region_id": "140000", "name": "省厅测试"})
    result = []

    calamine, _ = timed(calamine_read, content)
    openpyxl, _ = timed(openpyxl_read, content)
    result.append(_row("reader: python-calamine, vs openpyxl read-only", calamine, openpyxl, 0.25))

    pipeline = plain_pipeline(content)
    result.append(_row("plain pipeline: calamine + look-up + COPY into cpe_creditentry", pipeline, pipeline, 1.0))

    def preview(exam_import: ExamImport) -> None:
        selectors.exam_import_counts(exam_import)
        rows_page = ExamRow.objects.filter(import_file=exam_import).exclude(state=RowState.PENDING).order_by("row_no")
        list(Paginator(rows_page, 50).get_page(1).object_list)
        list(Paginator(ExamRow.objects.filter(import_file=exam_import, state=RowState.PENDING).order_by("row_no"),
                       50).get_page(1).object_list)

    def upload(exam: str) -> ExamImport:
        return exams.exam_import_create(year=YEAR, exam=exam, upload=SimpleUploadedFile("名单.xlsx", content),
                                        by=staff)

    uploaded, first = timed(upload, "accounting_qualification")
    checked, _ = timed(exams.exam_import_check, first.pk)
    previewed, _ = timed(preview, first)
    valid = ExamRow.objects.filter(import_file=first, state=RowState.VALID).count()
    entries = [(archive_id, YEAR, "professional", "exam", 90 * subjects, "exam_file", "bench-copy", "bench",
                dt.datetime.now(dt.UTC), "") for archive_id, subjects in
               ExamRow.objects.filter(import_file=first, state=RowState.VALID).values_list("archive_id", "subjects")]
    copied = copy_baseline(entries)
    sums = _timing(ledger, "credit_summaries_add")
    registered, counts = timed(exams.exam_import_register, first.pk, by=staff)
    summed = sums.pop()
    assert CreditEntry.objects.filter(source_id="accounting_qualification").count() == valid == len(entries)
    whole = uploaded + checked + previewed + registered
    result += [
        _row("portal: upload (file checked, header read)", uploaded, pipeline),
        _row("portal: check (stream + COPY to staging + one INSERT … SELECT)", checked, pipeline),
        _row("portal: preview (counts, first pages)", previewed, pipeline),
        _row(f"COPY into cpe_creditentry, {valid:,} rows (baseline of registering)", copied, copied, 1.0),
        _row(f"portal: register {valid:,} rows (one ledger batch), vs COPY", registered, copied, 3.0),
        _row("  of which the dashboards' sums (cpe.ledger.summaries, same transaction)", summed, copied),
        _row("  register without the dashboards' sums, vs COPY", registered - summed, copied),
        _row(f"portal: whole import of {count:,} rows, vs the plain pipeline", whole, pipeline, 2.5),
    ]
    again = upload("accounting_qualification")
    rechecked, _ = timed(exams.exam_import_check, again.pk)
    reregistered, recounts = timed(exams.exam_import_register, again.pk, by=staff)
    result += [_row("re-upload: check (every row 此前已登记)", rechecked, pipeline),
               _row("re-upload: register (nothing new)", reregistered, pipeline)]
    print(f"\n{count:,} rows: {counts}; re-upload: {recounts}", file=sys.stderr)
    if rss_rows:
        read, before, peak, child = rss(rss_rows)
        assert read == rss_rows
        result += [_row(f"memory: reader over {rss_rows:,} rows, this process's peak RSS (MB) vs before", peak,
                        before, 2.0),
                   _row("memory: the same, the parser child's peak RSS (MB) vs the process before", child, before)]
    return result


def machine() -> str:
    cpu = next((line.split(":", 1)[1].strip() for line in Path("/proc/cpuinfo").read_text().splitlines()
                if line.startswith("model name")), platform.processor())
    load = " ".join(f"{value:.1f}" for value in os.getloadavg())
    return (f"{dt.date.today():%Y-%m-%d}, {os.cpu_count()} cores ({cpu}), load average {load}, "
            f"Python {platform.python_version()}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--rss-rows", type=int, default=1_000_000, help="rows of the memory case (0: skip it)")
    parser.add_argument("--reuse", action="store_true", help="do not recreate the database (fresh ID numbers)")
    parser.add_argument("--rss-child", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help="print the rows as one JSON line last")
    args = parser.parse_args()
    if args.rss_child:
        rss_child(args.rss_child)
        return 0
    started = machine()
    table = rows(args.rows, rss_rows=args.rss_rows, reuse=args.reuse)
    print(f"\n{started}; at the end: load average {' '.join(f'{v:.1f}' for v in os.getloadavg())}")
    print("\n| case | figure | baseline | ratio | target | met |\n|---|---:|---:|---:|---:|:---:|")
    for row in table:
        target = "—" if math.isinf(row.target) else f"≤ {row.target:g}"
        met = "—" if math.isinf(row.target) else ("yes" if row.met else "**no**")
        print(f"| {row.case} | {row.figure:,.2f} | {row.baseline:,.2f} | {row.ratio:.2f} | {target} | {met} |")
    if args.json:
        print(json.dumps([{**row._asdict(), "target": None if math.isinf(row.target) else row.target}
                          for row in table], ensure_ascii=False))
    return 0 if all(row.met for row in table) else 1


if __name__ == "__main__":
    sys.exit(main())
