"""Exam pass lists registered by the province in bulk (考试合格名单), R-CE-10, R-CE-12, R-CE-13.

Provincial staff upload one exam's list of the year (Excel or CSV: 证件号码, 姓名, 通过科目数, tens of
thousands of rows). Three steps, each a Celery task calling a function here:

1. :func:`exam_import_create` (the upload page) checks the bytes, finds the header and stores the file;
2. :func:`exam_import_check` reads every row and writes one ``ExamRow`` each — valid, invalid (every
   problem in words), pending (no approved collection yet: 待信息采集完成后登记) or duplicate (already
   registered from this exam for this year). Set-based: archives and earlier entries are looked up
   5,000 ID numbers per query, rows are bulk-inserted, ``done_rows`` moves the progress bar;
3. :func:`exam_import_register` gives each valid row 90 credits per passed subject (professional,
   form "exam") in the exam year.

Registering in bulk, and why it is still the ledger's rules (bench/README.md has the figures):
``cpe.ledger.credit_register`` costs five queries per person (a lock, the insert, an audit row…),
about 100,000 rows in several minutes. :func:`exam_import_register` therefore writes batches of
``REGISTER_BATCH`` entries with one ``bulk_create``, keeping every rule of ``credit_register``
inside the batch's transaction: the year's ``CEYear`` row is locked FOR UPDATE exactly as
``credit_register`` and ``ce_year_close`` lock it, so a frozen year refuses the batch (R-CE-13) and a
close waits for it; each archive is re-read and only active, collected archives are credited
(R-CE-12); entries that exist already for (archive, year, "exam_file", exam) are skipped and the row
marked duplicate (the unique constraint backs it with ``ignore_conflicts``). The audit trail is one
``cpe.exam_import_registered`` event per batch on the import (rows and credits in ``extra``),
committed with the batch, rather than one per entry; the entries themselves name the source, the
registrar and the time. ``exam_import_register(..., per_row=True)`` is the per-person path through
``credit_register``, kept for the benchmark's comparison.

People who passed but have no approved collection wait as ``pending`` rows and register by
themselves when ``records.signals.archive_collected`` fires (:func:`register_pending_exam_rows`);
registering an import also picks up pending people collected since the check.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
import re
import zipfile
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count
from django.dispatch import receiver
from django.utils import timezone

from accounts.validators import OTHER_ID_FORMATS, parse_resident_id
from cpe.ledger import credit_register
from cpe.models import (
    CEYear,
    CreditEntry,
    CreditForm,
    ExamImport,
    ExamKind,
    ExamRow,
    RowState,
    SourceType,
    SubjectKind,
)
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from records.models import Archive
from records.signals import archive_collected

logger = logging.getLogger(__name__)

register_event_labels({
    "cpe.exam_import_uploaded": "上传考试合格名单",
    "cpe.exam_import_registered": "按考试合格名单登记学分",
})

CREDITS_PER_SUBJECT = Decimal("90")  # the credit table: passing one exam subject, 90 credits
MAX_SUBJECTS = 4
LOOKUP_CHUNK = 5000  # ID numbers per archive look-up query
REGISTER_BATCH = 5000  # entries per registering transaction
ACTIVE_STATES = (ExamImport.Status.CHECKING, ExamImport.Status.REGISTERING)

# --- reading the file -------------------------------------------------------------------------

HEADERS = {
    "id_number": ("证件号码", "身份证号码", "身份证号", "证件号", "身份证", "id_number", "idnumber"),
    "name": ("姓名", "name"),
    "subjects": ("通过科目数", "合格科目数", "通过科目", "科目数", "subjects"),
}
HEADER_SEARCH_ROWS = 10


def _header_key(value) -> str:
    text = re.sub(r"[\s（）()*:：]|（.*?）|\(.*?\)", "", str(value or "")).lower()
    for key, aliases in HEADERS.items():
        if text in aliases:
            return key
    return ""


def _file_kind(data: bytes, filename: str) -> str:
    """"xlsx" or "csv" by the bytes (never by the name alone), else a DomainError in words."""
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return "xlsx"
        except zipfile.BadZipFile:
            pass
        raise DomainError({"file": ["文件不是有效的Excel（.xlsx）文件。"]})
    if b"\x00" in data[:4096]:
        raise DomainError({"file": ["请上传Excel（.xlsx）或CSV文件；旧版.xls请另存为.xlsx后上传。"]})
    _decode_csv(data)
    return "csv"


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise DomainError({"file": ["CSV文件的编码无法识别，请保存为UTF-8或GBK编码。"]})


def _raw_rows(data: bytes, kind: str):
    """Yield (row number as the spreadsheet shows it, tuple of cell values)."""
    if kind == "xlsx":
        from openpyxl import load_workbook

        workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        try:
            yield from enumerate(workbook.worksheets[0].iter_rows(values_only=True), start=1)
        finally:
            workbook.close()
    else:
        yield from enumerate(csv.reader(io.StringIO(_decode_csv(data))), start=1)


def _read_table(data: bytes, kind: str) -> list[tuple[int, object, object, object]]:
    """Every non-empty data row as (row_no, id cell, name cell, subjects cell); the header found by name.

    Private to this module; cpe/spreadsheets.py (another helper's shared reader) may replace it.
    """
    rows = _raw_rows(data, kind)
    columns: dict[str, int] = {}
    for number, values in rows:
        found = {_header_key(value): i for i, value in enumerate(values or ()) if _header_key(value)}
        if {"id_number", "subjects"} <= set(found):
            columns = found
            break
        if number >= HEADER_SEARCH_ROWS:
            break
    if not columns:
        raise DomainError({"file": ["未找到表头：文件前10行中应有“证件号码”“姓名”“通过科目数”三列。"]})
    id_at, name_at, subjects_at = columns["id_number"], columns.get("name"), columns["subjects"]
    width = max(columns.values()) + 1
    table = []
    for number, values in rows:
        values = tuple(values or ())
        if len(values) < width:
            values += (None,) * (width - len(values))
        if all(value is None or str(value).strip() == "" for value in values):
            continue
        table.append((number, values[id_at], values[name_at] if name_at is not None else None, values[subjects_at]))
    return table


# --- one row ----------------------------------------------------------------------------------

_RESIDENT_LIKE = re.compile(r"[0-9]{14,19}[0-9X]?")


def _clean_id(value) -> tuple[str, str]:
    """(the ID number in canonical form, its problem in words or "")."""
    if value is None or str(value).strip() == "":
        return "", "证件号码为空"
    if isinstance(value, (int, float)):
        number = str(int(value))
        return number[:40], "证件号码被Excel存成了数值（18位数字会丢失末尾数字），请将该列设为文本后重新填写"
    number = re.sub(r"\s+", "", str(value)).upper()
    if _RESIDENT_LIKE.fullmatch(number):
        try:
            return parse_resident_id(number).number, ""
        except ValidationError as error:
            return number[:40], str(error.messages[0]).replace("，请核对后重新输入。", "").rstrip("。")
    for pattern, _message in OTHER_ID_FORMATS.values():
        if re.fullmatch(pattern, number):
            return number, ""
    return number[:40], "证件号码格式不正确"


def _clean_subjects(value) -> tuple[int | None, str]:
    if value is None or str(value).strip() == "":
        return None, "通过科目数为空"
    if isinstance(value, bool):
        return None, "通过科目数应填数字1至4"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):
        text = value.strip()
        if re.fullmatch(r"[0-9]+(\.0+)?", text):
            value = int(float(text))
        else:
            return None, f"通过科目数应填数字1至4，不能填文字（“{text[:20]}”）"
    if not isinstance(value, int):
        return None, f"通过科目数应为整数1至4（“{value}”）"
    if not 1 <= value <= MAX_SUBJECTS:
        return None, f"通过科目数应为1至4（填的是{value}）"
    return value, ""


def _clean_name(value) -> str:
    return re.sub(r"\s+", "", str(value or ""))[:60]


# --- uploading (the page) ---------------------------------------------------------------------

def exam_import_create(*, year, exam: str, upload, by) -> ExamImport:
    """Store an uploaded pass list for checking; refuses in words a wrong file, year or exam (R-CE-10)."""
    errors: dict[str, list[str]] = {}
    policy = CEYear.objects.filter(pk=year).first() if str(year).isdigit() else None
    if policy is None:
        errors["year"] = ["请选择考试年度。"]
    elif policy.is_frozen:
        errors["year"] = [f"{policy.year}年度学分登记已结束并纳入信用信息档案，不能再登记。"]
    if exam not in ExamKind.values:
        errors["exam"] = ["请选择考试。"]
    if upload is None:
        errors["file"] = ["请选择名单文件。"]
    elif upload.size > settings.UPLOAD_MAX_BYTES:
        errors["file"] = [f"文件不能超过{settings.UPLOAD_MAX_BYTES // (1024 * 1024)}MB。"]
    elif upload.size == 0:
        errors["file"] = ["文件是空的。"]
    if errors:
        raise DomainError(errors)
    data = upload.read()
    kind = _file_kind(data, upload.name)
    _find_header_quickly(data, kind)
    name = (upload.name or "名单").rsplit("/", 1)[-1][:200]
    with transaction.atomic():
        exam_import = ExamImport(year=policy, exam=exam, file_name=name, sha256=hashlib.sha256(data).hexdigest(),
                                 uploaded_by=by, status=ExamImport.Status.CHECKING)
        exam_import.file.save("list.xlsx" if kind == "xlsx" else "list.csv", ContentFile(data), save=False)
        exam_import.save()
        record_event(exam_import, "cpe.exam_import_uploaded", by=by,
                     extra={"year": policy.year, "exam": exam, "file": name, "sha256": exam_import.sha256})
    return exam_import


def _find_header_quickly(data: bytes, kind: str) -> None:
    """Refuse at once (not in the background) a file without the three columns."""
    for number, values in _raw_rows(data, kind):
        keys = {_header_key(value) for value in values or ()}
        if {"id_number", "subjects"} <= keys:
            return
        if number >= HEADER_SEARCH_ROWS:
            break
    raise DomainError({"file": ["未找到表头：文件前10行中应有“证件号码”“姓名”“通过科目数”三列。"]})


# --- checking (a Celery task) -----------------------------------------------------------------

def _chunks(items: list, size: int):
    for start in range(0, len(items), size):
        yield items[start:start + size]


def _archives_by_number(numbers) -> dict[str, tuple]:
    """{id_number: (pk, name, status, collected_at)}; a resident ID's archive first if a number has two."""
    found: dict[str, tuple] = {}
    rows = Archive.objects.filter(id_number__in=numbers).values_list(
        "id_number", "pk", "name", "status", "collected_at", "id_type")
    for number, pk, name, status, collected_at, id_type in rows:
        if number not in found or id_type == "resident_id":
            found[number] = (pk, name, status, collected_at)
    return found


def _registered_archives(exam_import: ExamImport, archive_ids) -> set[int]:
    return set(CreditEntry.objects.filter(
        year_id=exam_import.year_id, source_type=SourceType.EXAM_FILE, source_id=exam_import.exam,
        archive_id__in=archive_ids).values_list("archive_id", flat=True))


def _is_collected(status: str, collected_at) -> bool:
    return status == Archive.Status.ACTIVE and collected_at is not None  # R-CE-12


PENDING_NO_ARCHIVE = "本省尚无该人员档案，待信息采集完成后登记"
PENDING_NOT_COLLECTED = "信息采集尚未审核通过，待信息采集完成后登记"
TRANSFERRED_OUT = "该人员档案已调出本省，不在本省登记学分"
ALREADY_REGISTERED = "此前已按该考试登记过本年度学分"


def exam_import_check(import_id: int) -> dict[str, int]:
    """Check every row of an uploaded list into ``ExamRow`` rows (the preview). Safe to run twice.

    A fixed number of queries per 5,000 rows: one archive look-up, one look-up of earlier
    registrations, one bulk insert, one progress update.
    """
    exam_import = ExamImport.objects.select_related("year").get(pk=import_id)
    if exam_import.status != ExamImport.Status.CHECKING:
        return exam_import_counts(exam_import)
    try:
        with exam_import.file.open("rb") as handle:
            data = handle.read()
        table = _read_table(data, _file_kind(data, exam_import.file_name))
    except DomainError as error:
        ExamImport.objects.filter(pk=import_id).update(status=ExamImport.Status.FAILED, error=error.message[:300])
        return {}
    ExamRow.objects.filter(import_file_id=import_id).delete()  # a re-run starts again
    ExamImport.objects.filter(pk=import_id).update(total_rows=len(table), done_rows=0)

    rows: list[dict] = []
    by_number: dict[str, list[int]] = defaultdict(list)
    for row_no, raw_id, raw_name, raw_subjects in table:
        number, id_problem = _clean_id(raw_id)
        subjects, subjects_problem = _clean_subjects(raw_subjects)
        name = _clean_name(raw_name)
        problems = [p for p in (id_problem, "" if name else "姓名为空", subjects_problem) if p]
        rows.append({"row_no": row_no, "id_number": number, "name": name, "subjects": subjects,
                     "problems": problems})
        if number and not id_problem:
            by_number[number].append(row_no)
    for row in rows:
        seen = by_number.get(row["id_number"])
        if seen and len(seen) > 1:
            others = "、".join(str(n) for n in seen[:10]) + ("等" if len(seen) > 10 else "")
            row["problems"].append(f"同一证件号码在文件中出现{len(seen)}次（第{others}行），请合并为一行")

    done = 0
    for chunk in _chunks(rows, LOOKUP_CHUNK):
        archives = _archives_by_number({row["id_number"] for row in chunk if not row["problems"]})
        registered = _registered_archives(exam_import, [value[0] for value in archives.values()])
        objects = []
        for row in chunk:
            archive = archives.get(row["id_number"]) if not row["problems"] else None
            state, problems = _row_state(row, archive, registered)
            objects.append(ExamRow(import_file_id=import_id, row_no=row["row_no"], id_number=row["id_number"],
                                   name=row["name"], subjects=row["subjects"], state=state,
                                   archive_id=archive[0] if archive else None, problem="；".join(problems)[:300]))
        ExamRow.objects.bulk_create(objects)
        done += len(chunk)
        ExamImport.objects.filter(pk=import_id).update(done_rows=done)
    ExamImport.objects.filter(pk=import_id, status=ExamImport.Status.CHECKING).update(
        status=ExamImport.Status.CHECKED, done_rows=len(rows))
    exam_import.refresh_from_db()
    return exam_import_counts(exam_import)


def _row_state(row: dict, archive: tuple | None, registered: set[int]) -> tuple[str, list[str]]:
    problems = row["problems"]
    if problems:
        return RowState.INVALID, problems
    if archive is None:
        return RowState.PENDING, [PENDING_NO_ARCHIVE]
    pk, name, status, collected_at = archive
    if _clean_name(name) != row["name"]:
        return RowState.INVALID, [f"姓名与该证件号码在档案中的姓名（{name}）不一致"]
    if status == Archive.Status.TRANSFERRED_OUT:
        return RowState.INVALID, [TRANSFERRED_OUT]
    if not _is_collected(status, collected_at):
        return RowState.PENDING, [PENDING_NOT_COLLECTED]
    if pk in registered:
        return RowState.DUPLICATE, [ALREADY_REGISTERED]
    return RowState.VALID, []


def exam_import_counts(exam_import: ExamImport) -> dict[str, int]:
    """{state: rows} with every state present (one query)."""
    counts = dict.fromkeys(RowState.values, 0)
    rows = ExamRow.objects.filter(import_file=exam_import).values("state").annotate(n=Count("pk")).order_by()
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


# --- registering (a Celery task) --------------------------------------------------------------

def exam_source_label(exam_import: ExamImport) -> str:
    return f"{exam_import.year_id}年{exam_import.get_exam_display()}合格"


def exam_import_register_start(*, exam_import: ExamImport, by) -> ExamImport:
    """The 登记学分 button: a checked list moves to registering (the task does the work)."""
    with transaction.atomic():
        exam_import = ExamImport.objects.select_for_update().select_related("year").get(pk=exam_import.pk)
        if exam_import.status == ExamImport.Status.REGISTERED:
            raise Conflict("该名单已登记。")
        if exam_import.status not in (ExamImport.Status.CHECKED, ExamImport.Status.FAILED) or not _checked(
                exam_import):
            raise Conflict("名单尚未校验完成，不能登记。")
        if exam_import.year.is_frozen:
            raise Conflict(f"{exam_import.year_id}年度学分登记已结束并纳入信用信息档案，不能再登记。")
        exam_import.status, exam_import.error = ExamImport.Status.REGISTERING, ""
        exam_import.save(update_fields=["status", "error"])
    return exam_import


def _checked(exam_import: ExamImport) -> bool:
    return exam_import.total_rows > 0 and ExamRow.objects.filter(import_file=exam_import).count() == \
        exam_import.total_rows


def exam_import_register(import_id: int, *, by=None, per_row: bool = False) -> dict[str, int]:
    """Register every valid row: 90 credits per passed subject in the exam year (R-CE-10).

    Safe to run twice and to resume: each batch commits with its rows' new states, so a second run
    finds nothing valid left; a repeated upload of the same list finds its people registered
    (duplicate). ``by`` defaults to the uploader.
    """
    exam_import = ExamImport.objects.select_related("year", "uploaded_by").get(pk=import_id)
    if exam_import.status == ExamImport.Status.REGISTERED:
        return exam_import_counts(exam_import)
    if exam_import.status == ExamImport.Status.CHECKED:
        exam_import = exam_import_register_start(exam_import=exam_import, by=by)
    if exam_import.status != ExamImport.Status.REGISTERING:
        raise Conflict("名单尚未校验完成，不能登记。")
    by = by or exam_import.uploaded_by
    try:
        _promote_collected_pending(exam_import)
        done = ExamRow.objects.filter(import_file=exam_import).exclude(state=RowState.VALID).count()
        ExamImport.objects.filter(pk=import_id).update(done_rows=done)
        register = _register_rows_one_by_one if per_row else _register_batch
        while True:
            batch = list(ExamRow.objects.filter(import_file=exam_import, state=RowState.VALID)
                         .order_by("pk").values_list("pk", "archive_id", "subjects")[:REGISTER_BATCH])
            if not batch:
                break
            register(exam_import, batch, by)
            done += len(batch)
            ExamImport.objects.filter(pk=import_id).update(done_rows=done)
    except Conflict as error:  # the year froze meanwhile (R-CE-13)
        ExamImport.objects.filter(pk=import_id).update(status=ExamImport.Status.FAILED, error=error.message[:300])
        raise
    ExamImport.objects.filter(pk=import_id).update(status=ExamImport.Status.REGISTERED,
                                                   done_rows=exam_import.total_rows, registered_at=timezone.now())
    exam_import.refresh_from_db()
    return exam_import_counts(exam_import)


def _promote_collected_pending(exam_import: ExamImport) -> None:
    """Pending people whose collection was approved since the check become valid (set-based)."""
    pending = list(ExamRow.objects.filter(import_file=exam_import, state=RowState.PENDING)
                   .values_list("pk", "id_number", "name"))
    for chunk in _chunks(pending, LOOKUP_CHUNK):
        archives = _archives_by_number({number for _pk, number, _name in chunk})
        ready = {}
        for pk, number, name in chunk:
            archive = archives.get(number)
            if archive and _is_collected(archive[2], archive[3]) and _clean_name(archive[1]) == name:
                ready[pk] = archive[0]
        for pk, archive_id in ready.items():  # few: people collected between check and registering
            ExamRow.objects.filter(pk=pk).update(state=RowState.VALID, archive_id=archive_id, problem="")


def _register_batch(exam_import: ExamImport, batch: list[tuple], by) -> None:
    """One transaction: lock the year, re-check the archives, bulk-insert the entries, mark the rows."""
    label = exam_source_label(exam_import)
    archive_ids = [archive_id for _pk, archive_id, _subjects in batch]
    now = timezone.now()
    with transaction.atomic():
        policy = CEYear.objects.select_for_update().get(pk=exam_import.year_id)  # as credit_register does
        if policy.is_frozen:
            raise Conflict(f"{policy.year}年度学分登记已结束并纳入信用信息档案，不能再登记。")  # R-CE-13
        archives = {pk: (status, collected_at) for pk, status, collected_at in
                    Archive.objects.filter(pk__in=archive_ids).values_list("pk", "status", "collected_at")}
        registered = _registered_archives(exam_import, archive_ids)
        entries, new_rows, duplicate_rows, pending_rows, gone_rows = [], [], [], [], []
        credits_total = Decimal("0")
        for row_pk, archive_id, subjects in batch:
            status, collected_at = archives.get(archive_id, ("", None))
            if archive_id in registered:
                duplicate_rows.append(row_pk)
            elif status == Archive.Status.TRANSFERRED_OUT:
                gone_rows.append(row_pk)
            elif not _is_collected(status, collected_at):  # R-CE-12
                pending_rows.append(row_pk)
            else:
                credits = CREDITS_PER_SUBJECT * subjects
                credits_total += credits
                registered.add(archive_id)
                new_rows.append(row_pk)
                entries.append(CreditEntry(
                    archive_id=archive_id, year=policy, subject_kind=SubjectKind.PROFESSIONAL, form=CreditForm.EXAM,
                    credits=credits, source_type=SourceType.EXAM_FILE, source_id=exam_import.exam,
                    source_label=label, registered_by=by if getattr(by, "pk", None) else None, registered_at=now))
        CreditEntry.objects.bulk_create(entries, ignore_conflicts=True)
        for pks, state, problem in ((new_rows, RowState.REGISTERED, ""),
                                    (duplicate_rows, RowState.DUPLICATE, ALREADY_REGISTERED),
                                    (pending_rows, RowState.PENDING, PENDING_NOT_COLLECTED),
                                    (gone_rows, RowState.INVALID, TRANSFERRED_OUT)):
            if pks:
                ExamRow.objects.filter(pk__in=pks).update(state=state, problem=problem)
        if entries:
            record_event(exam_import, "cpe.exam_import_registered", by=by, extra={
                "year": policy.year, "exam": exam_import.exam, "rows": len(entries), "credits": str(credits_total),
                "first_row": min(new_rows), "last_row": max(new_rows)})


def _register_rows_one_by_one(exam_import: ExamImport, batch: list[tuple], by) -> None:
    """The per-person path through credit_register (five queries a person; the benchmark's comparison)."""
    label = exam_source_label(exam_import)
    archives = Archive.objects.in_bulk([archive_id for _pk, archive_id, _subjects in batch])
    for row_pk, archive_id, subjects in batch:
        state, problem = _register_one(exam_import, archives[archive_id], subjects, label, by)
        ExamRow.objects.filter(pk=row_pk).update(state=state, problem=problem)


def _register_one(exam_import: ExamImport, archive: Archive, subjects: int, label: str, by) -> tuple[str, str]:
    try:
        credit_register(archive=archive, year=exam_import.year_id, subject_kind=SubjectKind.PROFESSIONAL,
                        form=CreditForm.EXAM, credits=CREDITS_PER_SUBJECT * subjects,
                        source_type=SourceType.EXAM_FILE, source_id=exam_import.exam, source_label=label, by=by)
    except Conflict:
        if CEYear.objects.filter(pk=exam_import.year_id, frozen_at__isnull=False).exists():
            raise
        return RowState.DUPLICATE, ALREADY_REGISTERED
    except DomainError:
        if archive.status == Archive.Status.TRANSFERRED_OUT:
            return RowState.INVALID, TRANSFERRED_OUT
        return RowState.PENDING, PENDING_NOT_COLLECTED
    return RowState.REGISTERED, ""


# --- pending people (R-CE-12) -----------------------------------------------------------------

def register_pending_exam_rows(archive: Archive) -> int:
    """Register this person's waiting exam rows now that their collection is approved. Returns how many.

    Only rows of lists already registered (or registering) wait here: a list still being checked or
    not yet registered picks its pending people up when it is registered.
    """
    rows = list(ExamRow.objects.filter(
        state=RowState.PENDING, id_number=archive.id_number,
        import_file__status__in=(ExamImport.Status.REGISTERED, ExamImport.Status.REGISTERING))
        .select_related("import_file", "import_file__uploaded_by"))
    count = 0
    for row in rows:
        if row.name != _clean_name(archive.name):
            state, problem = RowState.INVALID, f"姓名与该证件号码在档案中的姓名（{archive.name}）不一致"
        else:
            try:
                state, problem = _register_one(row.import_file, archive, row.subjects, exam_source_label(
                    row.import_file), row.import_file.uploaded_by)
            except Conflict as error:  # the year is frozen (R-CE-13): it can no longer be registered
                state, problem = RowState.INVALID, error.message[:300]
        ExamRow.objects.filter(pk=row.pk).update(state=state, problem=problem, archive=archive)
        count += state == RowState.REGISTERED
    return count


@receiver(archive_collected, dispatch_uid="cpe.exams.register_pending_exam_rows")
def _on_archive_collected(sender, archive: Archive, **kwargs) -> None:
    """A collection was approved (sent after commit): its exam credits waiting for it register now."""
    try:
        register_pending_exam_rows(archive)
    except Exception:  # never break the approval that already committed; the next import retries
        logger.exception("registering pending exam rows for archive %s failed", archive.pk)
