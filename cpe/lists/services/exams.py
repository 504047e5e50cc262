# ruff: noqa: S608  (SQL is built from the models' table and column names only; values are parameters)
"""Exam pass lists registered by the province in bulk (考试合格名单), R-CE-10, R-CE-12, R-CE-13.

Provincial staff upload one exam's list of the year (Excel or CSV: 证件号码, 姓名, 通过科目数, up to
:data:`LIMITS` ``.rows`` rows). Three steps, the last two behind Celery tasks (``cpe.tasks``, with time
limits):

1. :func:`exam_import_create` (the upload page): the one reader checks the file, its bounds and its
   header (:func:`cpe.lists.spreadsheets.read_header`: the same 413/415/400 answers as a
   face-to-face list) and the file is stored;
2. :func:`exam_import_check` streams every row through the one row checker into a staging table
   (COPY) and writes the preview — one ``ExamRow`` each: valid, invalid (every problem in words),
   pending (no approved collection yet: 待信息采集完成后登记) or duplicate (already registered from this
   exam for this year) — with ONE ``INSERT … SELECT`` (:func:`cpe.lists.services.bulk.rows_check_into`);
   ``done_rows`` moves the progress bar while the file is read;
3. :func:`exam_import_register` registers the valid rows through the ledger's one way in
   (:func:`cpe.ledger.services.credits_register`, given the rows as a staged set: one ``INSERT …
   SELECT``): the credits of the exam ``CreditStandard`` in force for the year
   (:func:`cpe.lists.selectors.exam_standard`) per passed subject, in the exam year; the ledger locks
   the year, refuses a frozen one, re-checks each person's collection and skips what is registered
   already, and writes one audit row for the list (``cpe.exam_import_registered``). A row carries at
   most the subjects its exam has (:data:`cpe.lists.selectors.SUBJECTS`: six for the CPA).

People who passed but have no approved collection wait as ``pending`` rows and register by
themselves when ``records.signals.archive_collected`` fires (:func:`register_pending_exam_rows`);
registering an import also picks up pending people collected since the check.
"""

from __future__ import annotations

import logging

from django.core.files.base import ContentFile
from django.db import transaction
from django.dispatch import receiver
from django.utils import timezone

from cpe.ledger.rules import NOT_COLLECTED, frozen_refusal
from cpe.ledger.services import credits_register
from cpe.ledger.staged import StagedCredits
from cpe.lists.rows import ALREADY_REGISTERED, TRANSFERRED_OUT, Quantity
from cpe.lists.selectors import SUBJECTS, exam_import_checked, exam_import_counts, exam_standard
from cpe.lists.services.bulk import list_file_check, rows_mark_registered, rows_match_again
from cpe.lists.spreadsheets import Limits, read_header
from cpe.models import CEYear, CreditForm, CreditStandard, ExamImport, ExamKind, ExamRow, RowState, SourceType
from kjzx import crypto
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from records.models import Archive
from records.signals import archive_collected

logger = logging.getLogger(__name__)

register_event_labels({
    "cpe.exam_import_uploaded": "上传考试合格名单",
    "cpe.exam_import_checked": "考试合格名单校验完成",
    "cpe.exam_import_registered": "按考试合格名单登记学分",
})

COLUMNS = ("id_number", "name", "subjects")
LIMITS = Limits(rows=200_000)  # an exam's pass list of the year: the province's largest list
_ROWS = ExamRow._meta.db_table


def subjects_quantity(exam: str) -> Quantity:
    """The 通过科目数 column: a whole number from 1 to the subjects the exam has."""
    most = SUBJECTS.get(exam, max(SUBJECTS.values()))
    label = ExamKind(exam).label if exam in ExamKind.values else "考试"

    def parse(text: str) -> tuple[int | None, str]:
        if not text.replace(".", "", 1).isdigit():
            return None, f"通过科目数应填数字1至{most}，不能填文字（“{text[:20]}”）"
        number = float(text)
        if not number.is_integer():
            return None, f"通过科目数应为整数1至{most}（“{text[:20]}”）"
        if not 1 <= number <= most:
            return None, f"{label}通过科目数应为1至{most}（填的是{int(number)}）"
        return int(number), ""

    return Quantity("subjects", "通过科目数", parse)


def exam_source_label(exam_import: ExamImport) -> str:
    return f"{exam_import.year_id}年{exam_import.get_exam_display()}合格"


def _source(exam_import: ExamImport) -> dict:
    """The ledger source an import's rows register as; its people wait for their collection (R-CE-10)."""
    return {"year": exam_import.year_id, "source_type": SourceType.EXAM_FILE, "source_id": exam_import.exam,
            "waits_for_collection": True}


# --- uploading (the page) ---------------------------------------------------------------------

def exam_import_create(*, year, exam: str, upload, by) -> ExamImport:
    """Store an uploaded pass list for checking; refuses in words a wrong file, year or exam (R-CE-10)."""
    errors: dict[str, list[str]] = {}
    policy = CEYear.objects.filter(pk=year).first() if str(year).isdigit() else None
    if policy is None:
        errors["year"] = ["请选择考试年度。"]
    elif policy.is_frozen:
        errors["year"] = [frozen_refusal(policy.year)]
    if exam not in ExamKind.values:
        errors["exam"] = ["请选择考试。"]
    try:
        table = read_header(upload, required=COLUMNS, limits=LIMITS)
    except DomainError as exc:
        if not errors:
            raise  # the file's own answer: 413, 415 or 400
        errors.update(exc.errors)
    if errors:
        raise DomainError(errors)
    with transaction.atomic():
        exam_import = ExamImport(year=policy, exam=exam, file_name=table.file_name, sha256=table.sha256,
                                 uploaded_by=by, status=ExamImport.Status.CHECKING)
        exam_import.file.save(f"list.{table.kind}", ContentFile(table.data), save=False)
        exam_import.save()
        record_event(exam_import, "cpe.exam_import_uploaded", by=by, extra={
            "year": policy.year, "exam": exam, "file": table.file_name, "sha256": exam_import.sha256})
    return exam_import


# --- checking (a Celery task) -----------------------------------------------------------------

def exam_import_check(import_id: int) -> dict[str, int]:
    """Check every row of an uploaded list into ``ExamRow`` rows (the preview). Safe to run twice.

    Set-based: the rows stream into a staging table (COPY, a progress update per 20,000 rows), then
    ONE statement checks them all — duplicates, archives, names, R-CE-12, earlier registrations — and
    writes the preview. A file refused while it is read (a bound, too many rows) fails the import
    with the reader's words and stores no row.
    """
    exam_import = ExamImport.objects.select_related("year").get(pk=import_id)
    if exam_import.status != ExamImport.Status.CHECKING:
        return exam_import_counts(exam_import)
    try:
        counts = list_file_check(
            exam_import, row_model=ExamRow, parent="import_file", columns=COLUMNS, limits=LIMITS,
            counts=exam_import_counts, event="cpe.exam_import_checked",
            quantity=subjects_quantity(exam_import.exam), quantity_type="integer", source=_source(exam_import))
    except DomainError as error:
        exam_import_fail(import_id, error.message)
        return {}
    return counts


def exam_import_fail(import_id: int, message: str) -> None:
    """The check or the registering could not finish (a bound, a time limit, a frozen year): say why."""
    ExamImport.objects.filter(pk=import_id).exclude(status=ExamImport.Status.REGISTERED).update(
        status=ExamImport.Status.FAILED, error=message[:300])


# --- registering (a Celery task) --------------------------------------------------------------

def exam_import_register_start(*, exam_import: ExamImport, by) -> ExamImport:
    """The 登记学分 button: a checked list moves to registering (the task does the work)."""
    with transaction.atomic():
        exam_import = ExamImport.objects.select_for_update(of=("self",)).select_related("year", "uploaded_by").get(
            pk=exam_import.pk)
        if exam_import.status == ExamImport.Status.REGISTERED:
            raise Conflict("该名单已登记。")
        if exam_import.status not in (ExamImport.Status.CHECKED, ExamImport.Status.FAILED) or not \
                exam_import_checked(exam_import):
            raise Conflict("名单尚未校验完成，不能登记。")
        if exam_import.year.is_frozen:
            raise Conflict(frozen_refusal(exam_import.year_id))
        exam_import.status, exam_import.error = ExamImport.Status.REGISTERING, ""
        exam_import.save(update_fields=["status", "error"])
    return exam_import


def _standard(exam_import: ExamImport) -> CreditStandard:
    standard = exam_standard(exam_import.year_id)
    if standard is None:
        raise DomainError({"detail": [f"{exam_import.year_id}年度尚无考试学分计量标准，暂不能登记，请联系省财政厅。"]})
    return standard


def exam_import_register(import_id: int, *, by=None, batch_size: int | None = None) -> dict[str, int]:
    """Register every valid row: the exam standard's credits per passed subject in the exam year (R-CE-10).

    One ledger batch for the whole list by default (one ``INSERT … SELECT``, one audit row);
    ``batch_size=1`` is the one-by-one path (the benchmark's comparison). Safe to run twice and to
    resume: each batch commits with its rows' new states, so a second run finds nothing valid left; a
    repeated upload of the same list finds its people registered (duplicate). ``by`` defaults to the
    uploader.
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
        standard = _standard(exam_import)
        if ExamRow.objects.filter(import_file_id=import_id, state=RowState.PENDING).exists():
            rows_match_again(ExamRow, where="{t}.import_file_id = %s AND {t}.state = %s",
                             params=[import_id, RowState.PENDING], source=_source(exam_import))
        done = ExamRow.objects.filter(import_file=exam_import).exclude(state=RowState.VALID).count()
        ExamImport.objects.filter(pk=import_id).update(done_rows=done)
        while (last := _batch_end(import_id, batch_size)) is not None:
            done += _register_batch(exam_import, by, standard, up_to=last)[0]
            ExamImport.objects.filter(pk=import_id).update(done_rows=done)
            if batch_size is None:
                break  # the one batch held every valid row
    except DomainError as error:  # the year froze meanwhile (R-CE-13), or it has no standard
        exam_import_fail(import_id, error.message)
        raise
    ExamImport.objects.filter(pk=import_id).update(status=ExamImport.Status.REGISTERED,
                                                   done_rows=exam_import.total_rows, registered_at=timezone.now())
    exam_import.refresh_from_db()
    return exam_import_counts(exam_import)


def _batch_end(import_id: int, batch_size: int | None) -> int | None:
    """The id of the last valid row of the next batch (all of them when ``batch_size`` is None)."""
    ids = ExamRow.objects.filter(import_file_id=import_id, state=RowState.VALID).order_by("pk").values_list(
        "pk", flat=True)
    if batch_size is None:
        return ids.last()
    batch = list(ids[:batch_size])
    return batch[-1] if batch else None


@transaction.atomic
def _register_batch(exam_import: ExamImport, by, standard: CreditStandard, *, up_to: int,
                    id_number: str | None = None) -> tuple[int, int]:
    """One ledger batch — the valid rows up to row id ``up_to`` (of one person: ``id_number``) — and their
    rows' new states, committed together. Returns (rows it covered, entries registered)."""
    where, params = "{t}.import_file_id = %s AND {t}.state = %s AND {t}.id <= %s", [exam_import.pk, RowState.VALID,
                                                                                     up_to]
    if id_number is not None:  # by the keyed hash: the number is sealed
        where, params = where + " AND {t}.id_number_hash = %s", [*params, crypto.id_number_hash(id_number)]
    registration = credits_register(
        StagedCredits(f"SELECT r.row_no AS n, r.archive_id AS archive_id, %s * r.subjects AS credits FROM {_ROWS} r "
                      f"WHERE {where.format(t='r')}", (standard.credits, *params)),
        year=exam_import.year_id, form=CreditForm.EXAM, source_type=SourceType.EXAM_FILE, source_id=exam_import.exam,
        subject_kind=standard.subject_kind, source_label=exam_source_label(exam_import), by=by,
        audit_target=exam_import, event="cpe.exam_import_registered", audit_extra={"exam": exam_import.exam})
    waiting = [row.archive_id for row in registration.not_collected]
    gone = set(Archive.objects.filter(pk__in=waiting, status=Archive.Status.TRANSFERRED_OUT)
               .values_list("pk", flat=True)) if waiting else set()
    rows_mark_registered(ExamRow, where=where, params=params, refused={
        (RowState.DUPLICATE, ALREADY_REGISTERED): [row.archive_id for row in registration.duplicate],
        (RowState.INVALID, TRANSFERRED_OUT): [pk for pk in waiting if pk in gone],
        (RowState.PENDING, NOT_COLLECTED): [pk for pk in waiting if pk not in gone]})
    entries = len(registration.entries)
    return entries + len(registration.duplicate) + len(registration.not_collected), entries


# --- pending people (R-CE-12) -----------------------------------------------------------------

def register_pending_exam_rows(archive: Archive) -> int:
    """Register this person's waiting exam rows now that their collection is approved. Returns how many.

    Only rows of lists already registered (or registering) wait here: a list still being checked or
    not yet registered picks its pending people up when it is registered.
    """
    imports = ExamImport.objects.filter(
        status__in=(ExamImport.Status.REGISTERED, ExamImport.Status.REGISTERING),
        pk__in=ExamRow.objects.filter(state=RowState.PENDING, id_number=archive.id_number).values("import_file_id"),
    ).select_related("year", "uploaded_by")
    count = 0
    for exam_import in imports:
        where = "{t}.import_file_id = %s AND {t}.state = %s AND {t}.id_number_hash = %s"
        rows_match_again(ExamRow, where=where, params=[exam_import.pk, RowState.PENDING,
                                                         crypto.id_number_hash(archive.id_number)],
                         source=_source(exam_import))
        rows = ExamRow.objects.filter(import_file=exam_import, state=RowState.VALID, id_number=archive.id_number)
        last = rows.order_by("pk").values_list("pk", flat=True).last()
        if last is None:
            continue
        try:
            count += _register_batch(exam_import, exam_import.uploaded_by, _standard(exam_import), up_to=last,
                                     id_number=archive.id_number)[1]
        except DomainError as error:  # the year is frozen (R-CE-13): it can no longer be registered
            rows.update(state=RowState.INVALID, problem=error.message[:300])
    return count


@receiver(archive_collected, dispatch_uid="cpe.lists.register_pending_exam_rows")
def _on_archive_collected(sender, archive: Archive, **kwargs) -> None:
    """A collection was approved (sent after commit): its exam credits waiting for it register now."""
    try:
        register_pending_exam_rows(archive)
    except Exception:  # never break the approval that already committed; the next import retries
        logger.exception("registering pending exam rows for archive %s failed", archive.pk)
