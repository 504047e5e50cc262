"""Face-to-face credits (面授培训学分): the institution's list, checked row by row, registered by the bureau. R-CE-9.

1. After a training ends, the filed institution that owns it (``TrainingInstitution.owner``)
   uploads the list of people who earned credits (Excel or CSV: 证件号码, 姓名, 学时; read by
   :func:`cpe.spreadsheets.read_table`) with the attendance evidence (签到表等, scans through
   :func:`records.uploads.attachment_create`, kind ``evidence``): :func:`attendance_upload`. Every
   row is checked at once and stored as an ``AttendanceRow`` with its state and its problem in
   words — nothing is registered yet.
2. The bureau of the institution's region (or above) sees the list, its counts and the evidence,
   and registers every valid row in one step (:func:`attendance_register`), each through
   :func:`cpe.ledger.credit_register` (form ``face_to_face``, source ``institution_list`` + the
   training's id, the training's year and subject kind). The ledger's unique source makes a
   repeated list register nobody twice: such rows become ``duplicate``. The invalid rows go back to
   the institution: its page of the list shows them, and a notification tells its user.

Credits (the credit table; as data, ``CreditStandard`` face_to_face/per_hour in force for the
training's year, 3 per 学时 of 45 minutes, at most 30 a day = 10 学时): hours × 3, and a row's hours
may not exceed the training's days × its hours per day, nor 10 a day. They count in the training's
year (``TrainingPlan.year``).

Choices where the seeds leave a gap: a person listed twice is reported on the later line(s) (``与第M
行重复``), and on the first too if the hours differ (the bureau cannot tell which is right); an
identical file re-uploaded while the first is still waiting is refused (409); the institution never
learns the name on file for an ID number (only that it differs).
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import Count, F, Q, QuerySet
from django.http import Http404
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role
from accounts.scoping import can_act_in, get_scoped_or_404, scope_queryset
from accounts.validators import OTHER_ID_FORMATS, parse_resident_id
from cpe.ledger import credit_register
from cpe.models import CreditEntry, CreditForm, CreditStandard, SourceType
from cpe.models.institutions import TrainingPlan
from cpe.models.sources import AttendanceList, AttendanceRow, RowState
from cpe.spreadsheets import read_table
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.notifications import notification_send
from records import selectors as records_selectors
from records.models import Archive, AttachmentKind
from records.uploads import attachment_create

register_event_labels({
    "cpe.attendance_uploaded": "上传面授学员名单",
    "cpe.attendance_registered": "登记面授学员学分",
})

DEFAULT_PER_HOUR = Decimal("3")
DEFAULT_DAILY_CAP = Decimal("30")
MAX_EVIDENCE = 20
ALREADY_REGISTERED = "此前已登记，不再重复登记"
ONE_DECIMAL = Decimal("0.1")


# --- the credit standard ----------------------------------------------------------------------

@dataclass(frozen=True)
class FaceToFaceStandard:
    per_hour: Decimal  # credits per 学时
    daily_hours: Decimal  # at most this many 学时 a day

    def credits(self, hours: Decimal) -> Decimal:
        return (hours * self.per_hour).quantize(ONE_DECIMAL)


def standard_for(year: int) -> FaceToFaceStandard:
    """The face-to-face standard in force for ``year`` (CreditStandard, else 3 per 学时, 30 a day)."""
    row = (CreditStandard.objects.filter(form=CreditForm.FACE_TO_FACE, variant="per_hour", effective_from__lte=year)
           .order_by("-effective_from").first())
    per_hour = row.credits if row and row.credits > 0 else DEFAULT_PER_HOUR
    cap = row.daily_cap if row and row.daily_cap else DEFAULT_DAILY_CAP
    return FaceToFaceStandard(per_hour=per_hour, daily_hours=(cap / per_hour).quantize(ONE_DECIMAL))


def max_hours(training: TrainingPlan, standard: FaceToFaceStandard) -> Decimal:
    """At most the plan's hours (days × hours a day), and at most the daily cap × days."""
    return min(training.days * training.hours_per_day, training.days * standard.daily_hours)


# --- selectors (404 outside one's own: R-ACL-1) -------------------------------------------------

def _is_institution(user) -> bool:
    return getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.INSTITUTION


def institution_training_get(user, pk) -> TrainingPlan:
    """A face-to-face training of an institution ``user`` owns; anything else is a 404."""
    if not _is_institution(user):
        raise Http404
    training = (TrainingPlan.objects.select_related("institution", "year")
                .filter(pk=pk, institution__owner=user).first())
    if training is None:
        raise Http404
    return training


def institution_lists(user) -> QuerySet[AttendanceList]:
    if not _is_institution(user):
        return AttendanceList.objects.none()
    return AttendanceList.objects.filter(training__institution__owner=user).select_related("training__institution")


def institution_list_get(user, pk) -> AttendanceList:
    found = institution_lists(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def bureau_lists(user) -> QuerySet[AttendanceList]:
    """The lists of institutions in the reviewer's region (subtree); nothing for anyone else."""
    qs = AttendanceList.objects.select_related("training__institution__region", "uploaded_by")
    return scope_queryset(qs, user, region_field="training__institution__region")


def bureau_list_get(user, pk) -> AttendanceList:
    return get_scoped_or_404(AttendanceList.objects.select_related("training__institution__region", "training__year"),
                             user, region_field="training__institution__region", pk=pk)


def with_counts(qs: QuerySet[AttendanceList]) -> QuerySet[AttendanceList]:
    """Each list with ``n_valid``, ``n_invalid``, ``n_duplicate``, ``n_registered``, ``n_rows``."""
    return qs.annotate(
        n_rows=Count("rows"),
        n_valid=Count("rows", filter=Q(rows__state=RowState.VALID)),
        n_invalid=Count("rows", filter=Q(rows__state=RowState.INVALID)),
        n_duplicate=Count("rows", filter=Q(rows__state=RowState.DUPLICATE)),
        n_registered=Count("rows", filter=Q(rows__state=RowState.REGISTERED)))


def list_counts(attendance: AttendanceList) -> dict[str, int]:
    counts = {state: 0 for state in RowState.values}
    for state, n in attendance.rows.values_list("state").annotate(n=Count("id")).order_by():
        counts[state] = n
    counts["total"] = sum(counts.values())
    return counts


def lists_with_evidence_visible_to(user) -> QuerySet:
    """For records.selectors.attachment_get (ATTACHMENT_HOLDERS): lists whose evidence ``user`` may open.

    The hook filters on ``attachments``; the list's scans are its ``evidence``, so it is annotated.
    """
    qs = AttendanceList.objects.annotate(attachments=F("evidence"))
    if _is_institution(user):
        return qs.filter(training__institution__owner=user)
    return scope_queryset(qs, user, region_field="training__institution__region")


if lists_with_evidence_visible_to not in records_selectors.ATTACHMENT_HOLDERS:
    records_selectors.ATTACHMENT_HOLDERS.append(lists_with_evidence_visible_to)


# --- checking the rows ------------------------------------------------------------------------

def _normalise_id(raw: str) -> str:
    return re.sub(r"\s+", "", raw or "").upper()


def _normalise_name(raw: str) -> str:
    return re.sub(r"\s+", "", (raw or "").replace("•", "·").replace("・", "·").replace("．", "·"))


def id_number_problem(number: str) -> str:
    """Why ``number`` is not a valid ID number, or ""."""
    if re.fullmatch(r"\d(\.\d+)?E\+\d+", number):
        return "证件号码被 Excel 显示为科学计数法，请将该列设为文本格式后重新填写"
    if len(number) == 18 and number[:17].isdigit():
        try:
            parse_resident_id(number)
        except ValidationError as exc:
            return exc.messages[0].replace("，请核对后重新输入", "").rstrip("。")
        return ""
    if any(re.fullmatch(pattern, number) for pattern, _message in OTHER_ID_FORMATS.values()):
        return ""
    return "证件号码格式不正确（身份证号码应为18位）"


def _parse_hours(raw: str) -> tuple[Decimal | None, str]:
    text = (raw or "").replace("学时", "").strip()
    try:
        hours = Decimal(text)
    except InvalidOperation:
        return None, "学时应为数字"
    if not hours.is_finite():
        return None, "学时应为数字"
    if hours <= 0:
        return None, "学时应大于0"
    if hours != hours.quantize(ONE_DECIMAL):
        return None, "学时最多保留一位小数"
    return hours.quantize(ONE_DECIMAL), ""


def check_rows(training: TrainingPlan, raw_rows: list[dict]) -> list[AttendanceRow]:
    """Every row of a list checked (unsaved ``AttendanceRow`` objects): a fixed number of queries."""
    standard = standard_for(training.year_id)
    limit = max_hours(training, standard)
    numbers = {_normalise_id(r.get("id_number", "")) for r in raw_rows} - {""}
    archives: dict[str, Archive] = {}
    for archive in Archive.objects.filter(id_number__in=numbers, status=Archive.Status.ACTIVE,
                                          collected_at__isnull=False).order_by("pk"):
        archives.setdefault(archive.id_number, archive)
    registered = set(CreditEntry.objects.filter(
        year_id=training.year_id, source_type=SourceType.INSTITUTION_LIST, source_id=str(training.pk),
        archive__in=archives.values()).values_list("archive_id", flat=True))

    rows: list[AttendanceRow] = []
    first_seen: dict[str, AttendanceRow] = {}
    for raw in raw_rows:
        line = raw["row"]
        number = _normalise_id(raw.get("id_number", ""))
        name = (raw.get("name") or "").strip()
        problems: list[str] = []
        if not number:
            problems.append(f"第{line}行缺少证件号码")
        if not name:
            problems.append(f"第{line}行缺少姓名")
        hours = None
        if not (raw.get("hours") or "").strip():
            problems.append(f"第{line}行缺少学时")
        else:
            hours, problem = _parse_hours(raw["hours"])
            if problem:
                problems.append(problem)
            elif hours > limit:
                problems.append(f"学时超过培训方案（每日最多{standard.daily_hours.normalize():f}学时，"
                                f"本次培训最多{limit.normalize():f}学时）")
        archive = None
        if number:
            problem = id_number_problem(number)
            if problem:
                problems.append(problem)
            else:
                archive = archives.get(number)
                if archive is None:
                    problems.append("未找到该人员的已审核信息采集")
                elif name and _normalise_name(name) != _normalise_name(archive.name):
                    problems.append("姓名与档案不一致")
        row = AttendanceRow(row_no=line, id_number=number[:40], name=name[:60], hours=hours,
                            credits=standard.credits(hours) if hours is not None else None, archive=archive)
        if number and number in first_seen:
            first = first_seen[number]
            problems.append(f"与第{first.row_no}行重复")
            if first.hours != hours and first.state == RowState.VALID:
                first.state, first.problem = RowState.INVALID, f"与第{line}行重复且学时不同，请核实"
        elif number:
            first_seen[number] = row
        if problems:
            row.state, row.problem = RowState.INVALID, "；".join(problems)[:300]
        elif archive.pk in registered:
            row.state, row.problem = RowState.DUPLICATE, ALREADY_REGISTERED
        else:
            row.state = RowState.VALID
        rows.append(row)
    return rows


# --- services ---------------------------------------------------------------------------------

def _check_training(training: TrainingPlan, by) -> None:
    institution = training.institution
    if not _is_institution(by) or institution.owner_id != by.pk:
        raise DomainError({"detail": ["只能报送本机构面授培训的学员名单。"]}, status_code=404)
    if not institution.filed:
        raise DomainError({"detail": ["本机构尚未备案（或已被撤销备案），不能报送面授培训学员名单。"]})
    if timezone.localdate() <= training.ends_on:
        raise DomainError({"detail": [f"培训结束（{training.ends_on:%Y-%m-%d}）后才能报送学员名单。"]})
    if training.year.is_frozen:
        raise Conflict(f"{training.year_id}年度学分登记已结束并纳入信用信息档案，不能再报送该年度的学员名单。")


def attendance_upload(*, training: TrainingPlan, file, evidence, by) -> AttendanceList:
    """Store an institution's list for ``training`` with its evidence, every row checked (R-CE-9).

    ``file``: the uploaded .xlsx/.csv; ``evidence``: uploaded scans (PDF/JPG/PNG), at least one.
    DomainError (400/413/415, 404 for another's training, 409 for the same file still waiting).
    """
    _check_training(training, by)
    raw_rows = read_table(file, required=("id_number", "name", "hours"))
    evidence = list(evidence or [])
    if not evidence:
        raise DomainError({"evidence": ["请上传签到表等培训实证材料（PDF、JPG 或 PNG）。"]})
    if len(evidence) > MAX_EVIDENCE:
        raise DomainError({"evidence": [f"实证材料最多{MAX_EVIDENCE}个文件。"]})
    file.seek(0)
    data = file.read()
    file.seek(0)
    digest = hashlib.sha256(data).hexdigest()
    is_csv = not data.startswith(b"PK\x03\x04")
    with transaction.atomic():
        TrainingPlan.objects.select_for_update().filter(pk=training.pk).first()  # one upload at a time
        if AttendanceList.objects.filter(training=training, sha256=digest,
                                         status=AttendanceList.Status.CHECKED).exists():
            raise Conflict("同一名单文件已上传，正在等待属地财政部门登记，无需重复上传。")
        rows = check_rows(training, raw_rows)
        scans = [attachment_create(owner=by, kind=AttachmentKind.EVIDENCE, upload=scan) for scan in evidence]
        attendance = AttendanceList(training=training, file_name=_display_name(file.name), sha256=digest,
                                    uploaded_by=by)
        attendance.file.save("list.csv" if is_csv else "list.xlsx", ContentFile(data), save=False)
        try:
            attendance.save()
            attendance.evidence.set(scans)
            for row in rows:
                row.list = attendance
            AttendanceRow.objects.bulk_create(rows)
        except Exception:
            attendance.file.delete(save=False)
            raise
        states = {state: sum(1 for r in rows if r.state == state) for state in RowState.values}
        record_event(attendance, "cpe.attendance_uploaded", by=by, extra={
            "training": training.pk, "rows": len(rows), "sha256": digest,
            **{state: n for state, n in states.items() if n}})
    return attendance


@dataclass(frozen=True)
class RegisterResult:
    registered: int
    duplicate: int
    invalid: int


def attendance_register(*, attendance: AttendanceList, by) -> RegisterResult:
    """登记有效学员学分: every valid row of the list registered in one transaction (R-CE-9, R-CE-12, R-CE-13).

    Only a reviewer of the institution's region (or above). A row whose person already has this
    training's credits (an earlier list) becomes ``duplicate``; a person no longer collected (a
    transfer out since the upload) becomes ``invalid`` with the reason. The institution is notified.
    """
    training = attendance.training
    if not can_act_in(by, training.institution.region):
        raise DomainError({"detail": ["未找到。"]}, status_code=404)
    with transaction.atomic():
        locked = AttendanceList.objects.select_for_update().get(pk=attendance.pk)
        if locked.status == AttendanceList.Status.REGISTERED:
            raise Conflict("该名单已登记，不能重复登记。")
        if training.year.is_frozen:
            raise Conflict(f"{training.year_id}年度学分登记已结束并纳入信用信息档案，不能再登记。")
        evidence = locked.evidence.order_by("pk").first()
        done = duplicate = 0
        for row in locked.rows.filter(state=RowState.VALID).select_related("archive"):
            try:
                row.entry = credit_register(
                    archive=row.archive, year=training.year_id, subject_kind=training.subject_kind,
                    form=CreditForm.FACE_TO_FACE, credits=row.credits, source_type=SourceType.INSTITUTION_LIST,
                    source_id=str(training.pk), source_label=training.title, by=by, evidence=evidence)
                row.state, row.problem = RowState.REGISTERED, ""
                done += 1
            except Conflict:
                row.state, row.problem = RowState.DUPLICATE, ALREADY_REGISTERED
                duplicate += 1
            except DomainError as exc:
                row.state, row.problem = RowState.INVALID, exc.message[:300]
            row.save(update_fields=["state", "problem", "entry"])
        locked.status = AttendanceList.Status.REGISTERED
        locked.registered_by = by
        locked.registered_at = timezone.now()
        locked.save(update_fields=["status", "registered_by", "registered_at"])
        invalid = locked.rows.filter(state=RowState.INVALID).count()
        duplicate = locked.rows.filter(state=RowState.DUPLICATE).count()
        record_event(locked, "cpe.attendance_registered", by=by, extra={
            "training": training.pk, "registered": done, "duplicate": duplicate, "invalid": invalid})
        owner = training.institution.owner
        if owner is not None:
            body = f"已为{done}人登记{training.year_id}年度面授培训学分。"
            if invalid:
                body += f"有{invalid}行有误未登记，原因见名单页面，更正后可重新上传。"
            if duplicate:
                body += f"{duplicate}人此前已登记，未重复登记。"
            notification_send(user=owner, title=f"面授学员名单已登记：{training.title}"[:200], body=body,
                              link=reverse("institution_attendance", args=[locked.pk]))
    attendance.refresh_from_db()
    return RegisterResult(registered=done, duplicate=duplicate, invalid=invalid)


def _display_name(raw: str | None) -> str:
    import unicodedata

    name = (raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    return name.strip()[:200] or "名单"
