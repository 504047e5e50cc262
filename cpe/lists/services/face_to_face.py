# ruff: noqa: S608  (SQL is built from the models' table and column names only; values are parameters)
"""Face-to-face credits (面授培训学分): the institution's list, checked row by row, registered by the bureau. R-CE-9.

1. After a training ends, the filed institution that owns it (``TrainingInstitution.owner``) uploads
   the list of people who earned credits (Excel or CSV: 证件号码, 姓名, 学时, at most
   :data:`LIMITS` ``.rows`` rows) with the attendance evidence (签到表等, scans through
   :func:`records.uploads.attachment_create`, kind ``evidence``): :func:`attendance_upload` checks
   the file's bounds and header (:func:`cpe.lists.spreadsheets.read_header`) and stores it, ``checking``;
   nothing is parsed row by row in the request.
2. A Celery task (``cpe.tasks.check_attendance_list``, with time limits) runs :func:`attendance_check`:
   every row through the one row checker (:mod:`cpe.lists.rows`), staged and checked set-based
   (:func:`cpe.lists.services.bulk.rows_check_into`), stored as an ``AttendanceRow`` with its state
   and its problem in words; the list becomes ``checked`` (or ``failed`` with the reason) and the
   institution's page shows how far the check got. Nothing is registered yet.
3. The bureau of the institution's region (or above) sees the list, its counts and the evidence, and
   registers every valid row in one step (:func:`attendance_register`): one ledger batch
   (:func:`cpe.ledger.services.credits_register`, the rows given as a staged set; form
   ``face_to_face``, source ``institution_list`` + the training's id, the training's year and subject
   kind). A person who already has this training's credits (an earlier list) becomes ``duplicate``;
   a person no longer collected (a transfer out since the upload) ``invalid``. The institution is
   notified of the rest.

Credits: the face-to-face ``CreditStandard`` in force for the training's year
(:func:`cpe.institutions.selectors.face_to_face_standard`, 3 per 学时 of 45 minutes and 30 a day as
seeded): hours × credits per 学时; a row's hours may not exceed the training's days × its hours per
day, nor the daily cap. They count in the training's year (``TrainingPlan.year``).

An identical file re-uploaded while the first is still being checked or waiting is refused (409); the
institution never learns the name on file for an ID number (only that it differs).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.files.base import ContentFile
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from accounts.scoping import can_act_in
from cpe.institutions.selectors import FaceToFaceStandard, face_to_face_standard, is_institution_user, max_hours
from cpe.ledger.rules import NOT_COLLECTED, frozen_refusal
from cpe.ledger.selectors import ONE_DECIMAL
from cpe.ledger.services import credits_register
from cpe.ledger.staged import StagedCredits
from cpe.lists.rows import ALREADY_REGISTERED, Quantity
from cpe.lists.selectors import list_counts
from cpe.lists.services.bulk import list_file_check, rows_mark_registered
from cpe.lists.spreadsheets import Limits, read_header
from cpe.models import AttendanceList, AttendanceRow, CreditForm, RowState, SourceType, TrainingPlan
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.notifications import notification_send
from records.models import AttachmentKind
from records.uploads import attachment_create

register_event_labels({
    "cpe.attendance_uploaded": "上传面授学员名单",
    "cpe.attendance_checked": "面授学员名单校验完成",
    "cpe.attendance_registered": "登记面授学员学分",
})

MAX_EVIDENCE = 20
COLUMNS = ("id_number", "name", "hours")
# One training's attendance: a few hundred people, so far smaller bounds than an exam list's.
LIMITS = Limits(rows=5_000, entries=200, unzipped=20 * 1024 * 1024, shared_strings=50_000,
                shared_string_bytes=4 * 1024 * 1024, memory=256 * 1024 * 1024, seconds=30)
WAITING = (AttendanceList.Status.CHECKING, AttendanceList.Status.CHECKED)


def _standard(training: TrainingPlan) -> FaceToFaceStandard:
    standard = face_to_face_standard(training.year_id)
    if standard is None:
        raise DomainError({"detail": [f"{training.year_id}年度尚无面授培训学分计量标准，暂不能登记，请联系省财政厅。"]})
    return standard


def hours_quantity(training: TrainingPlan, standard: FaceToFaceStandard) -> Quantity:
    """The 学时 column: a number with at most one decimal, above 0, within what the training allows."""
    limit = max_hours(training, standard)

    def parse(text: str) -> tuple[Decimal | None, str]:
        try:
            hours = Decimal(text.replace("学时", "").strip())
        except InvalidOperation:
            return None, "学时应为数字"
        if not hours.is_finite():
            return None, "学时应为数字"
        if hours <= 0:
            return None, "学时应大于0"
        if hours != hours.quantize(ONE_DECIMAL):
            return None, "学时最多保留一位小数"
        if hours > limit:
            daily = f"每日最多{standard.daily_hours.normalize():f}学时，" if standard.daily_hours else ""
            return hours, f"学时超过培训方案（{daily}本次培训最多{limit.normalize():f}学时）"
        return hours.quantize(ONE_DECIMAL), ""

    return Quantity("hours", "学时", parse)


def _check_training(training: TrainingPlan, by) -> None:
    institution = training.institution
    if not is_institution_user(by) or institution.owner_id != by.pk:
        raise DomainError({"detail": ["只能报送本机构面授培训的学员名单。"]}, status_code=404)
    if not institution.filed:
        raise DomainError({"detail": ["本机构尚未备案（或已被撤销备案），不能报送面授培训学员名单。"]})
    if timezone.localdate() <= training.ends_on:
        raise DomainError({"detail": [f"培训结束（{training.ends_on:%Y-%m-%d}）后才能报送学员名单。"]})
    if training.year.is_frozen:
        raise Conflict(frozen_refusal(training.year_id))


def _source(training: TrainingPlan) -> dict:
    """The ledger source a list's rows register as; its people must be collected already (R-CE-9)."""
    return {"year": training.year_id, "source_type": SourceType.INSTITUTION_LIST, "source_id": str(training.pk),
            "waits_for_collection": False}


def attendance_upload(*, training: TrainingPlan, file, evidence, by) -> AttendanceList:
    """Store an institution's list for ``training`` with its evidence, to be checked by a task (R-CE-9).

    ``file``: the uploaded .xlsx/.csv (its bounds and header checked here, its rows by
    :func:`attendance_check`); ``evidence``: uploaded scans (PDF/JPG/PNG), at least one. DomainError
    (400/413/415, 404 for another's training, 409 for the same file still being checked or waiting).
    The caller queues ``cpe.tasks.check_attendance_list`` once the transaction commits.
    """
    _check_training(training, by)
    _standard(training)
    table = read_header(file, required=COLUMNS, limits=LIMITS)
    evidence = list(evidence or [])
    if not evidence:
        raise DomainError({"evidence": ["请上传签到表等培训实证材料（PDF、JPG 或 PNG）。"]})
    if len(evidence) > MAX_EVIDENCE:
        raise DomainError({"evidence": [f"实证材料最多{MAX_EVIDENCE}个文件。"]})
    with transaction.atomic():
        TrainingPlan.objects.select_for_update().filter(pk=training.pk).first()  # one upload at a time
        if AttendanceList.objects.filter(training=training, sha256=table.sha256, status__in=WAITING).exists():
            raise Conflict("同一名单文件已上传，正在等待属地财政部门登记，无需重复上传。")
        scans = [attachment_create(owner=by, kind=AttachmentKind.EVIDENCE, upload=scan) for scan in evidence]
        attendance = AttendanceList(training=training, file_name=table.file_name, sha256=table.sha256,
                                    uploaded_by=by, status=AttendanceList.Status.CHECKING)
        attendance.file.save(f"list.{table.kind}", ContentFile(table.data), save=False)
        try:
            attendance.save()
            attendance.evidence.set(scans)
        except Exception:
            attendance.file.delete(save=False)
            raise
        record_event(attendance, "cpe.attendance_uploaded", by=by, extra={
            "training": training.pk, "sha256": table.sha256, "file": table.file_name})
    return attendance


def attendance_check(list_id: int) -> dict[str, int]:
    """Check every row of an uploaded list into ``AttendanceRow`` rows (R-CE-9). Safe to run twice.

    Hours within the training's plan and the standard's daily cap; credits by the face-to-face
    standard in force for the training's year. The list becomes ``checked`` with one audit row (by the
    system) — or ``failed`` with the reader's words (a bound, no rows), storing no row.
    """
    attendance = AttendanceList.objects.select_related("training__year", "training__institution").get(pk=list_id)
    if attendance.status != AttendanceList.Status.CHECKING:
        return list_counts(attendance)
    training = attendance.training
    try:
        standard = _standard(training)
        counts = list_file_check(
            attendance, row_model=AttendanceRow, parent="list", columns=COLUMNS, limits=LIMITS,
            counts=list_counts, event="cpe.attendance_checked", event_extra={"training": training.pk},
            quantity=hours_quantity(training, standard), quantity_type="numeric", source=_source(training),
            extra=[("credits", "numeric")],
            extra_values=lambda row: (standard.credits(row[3]) if row[3] is not None else None,))
    except DomainError as error:
        attendance_fail(list_id, error.message)
        return {}
    return counts


def attendance_fail(list_id: int, message: str) -> None:
    """The check could not finish (a bound, a time limit, no rows): the institution reads why."""
    AttendanceList.objects.filter(pk=list_id, status=AttendanceList.Status.CHECKING).update(
        status=AttendanceList.Status.FAILED, error=message[:300])


@dataclass(frozen=True)
class RegisterResult:
    registered: int
    duplicate: int
    invalid: int


def attendance_register(*, attendance: AttendanceList, by) -> RegisterResult:
    """登记有效学员学分: every valid row of the list in one ledger batch (R-CE-9, R-CE-12, R-CE-13).

    Only a reviewer of the institution's region (or above). The institution is notified.
    """
    training = attendance.training
    if not can_act_in(by, training.institution.region):
        raise DomainError({"detail": ["未找到。"]}, status_code=404)
    with transaction.atomic():
        locked = AttendanceList.objects.select_for_update().get(pk=attendance.pk)
        if locked.status == AttendanceList.Status.REGISTERED:
            raise Conflict("该名单已登记，不能重复登记。")
        if locked.status != AttendanceList.Status.CHECKED:
            raise Conflict("名单尚未校验完成，不能登记。")
        table = AttendanceRow._meta.db_table
        where, params = "{t}.list_id = %s AND {t}.state = %s", [locked.pk, RowState.VALID]
        source = _source(training)
        registration = credits_register(
            StagedCredits(f"SELECT r.row_no AS n, r.archive_id AS archive_id, r.credits AS credits FROM {table} r "
                          f"WHERE {where.format(t='r')}", tuple(params)),
            year=training.year_id, form=CreditForm.FACE_TO_FACE, source_type=source["source_type"],
            source_id=source["source_id"], subject_kind=training.subject_kind, source_label=training.title, by=by,
            evidence=locked.evidence.order_by("pk").first(), audit_target=locked)
        rows_mark_registered(AttendanceRow, where=where, params=params, link=source, refused={
            (RowState.DUPLICATE, ALREADY_REGISTERED): [row.archive_id for row in registration.duplicate],
            (RowState.INVALID, NOT_COLLECTED): [row.archive_id for row in registration.not_collected]})
        locked.status, locked.registered_by, locked.registered_at = AttendanceList.Status.REGISTERED, by, timezone.now()
        locked.save(update_fields=["status", "registered_by", "registered_at"])
        counts = list_counts(locked)
        result = RegisterResult(len(registration.entries), counts[RowState.DUPLICATE], counts[RowState.INVALID])
        record_event(locked, "cpe.attendance_registered", by=by, extra={
            "training": training.pk, "registered": result.registered, "duplicate": result.duplicate,
            "invalid": result.invalid})
        _notify(training, locked, result)
    attendance.refresh_from_db()
    return result


def _notify(training: TrainingPlan, attendance: AttendanceList, result: RegisterResult) -> None:
    owner = training.institution.owner
    if owner is None:
        return
    body = f"已为{result.registered}人登记{training.year_id}年度面授培训学分。"
    if result.invalid:
        body += f"有{result.invalid}行有误未登记，原因见名单页面，更正后可重新上传。"
    if result.duplicate:
        body += f"{result.duplicate}人此前已登记，未重复登记。"
    notification_send(user=owner, title=f"面授学员名单已登记：{training.title}"[:200], body=body,
                      link=reverse("institution_attendance", args=[attendance.pk]))
