"""The name-list pages: face-to-face lists (面授学员名单, R-CE-9) and exam pass lists (考试合格名单, R-CE-10).

Thin views over :mod:`cpe.lists.selectors` and :mod:`cpe.lists.services`.

Face-to-face lists:

- ``/institution/trainings/<pk>/attendance/`` (``institution_attendance_upload``): the institution
  that owns the training uploads the list (Excel/CSV) and the evidence scans — the file is stored and
  checked in the background (``check_attendance_list``); the lists already uploaded for the training
  are listed. Another institution's training: 404.
- ``/institution/attendance/<pk>/`` (``institution_attendance``): one list as its institution sees
  it — the check's progress (the page refreshes itself while it runs), or why the file was refused,
  then counts and every row with its result and problem in words (the invalid rows to correct).
- ``/workbench/attendance/`` (``workbench_attendance_list``): the lists of the reviewer's region,
  those waiting first (``?status=registered`` for the done ones).
- ``/workbench/attendance/<pk>/`` (``workbench_attendance``): the preview, counts, the evidence
  inline, and 登记有效学员学分 (POST ``…/register/``, ``workbench_attendance_register``). Outside the
  reviewer's region: 404.

ID numbers are masked on every list page (``row.masked_id_number``, the one masking function of
``accounts.models``), whatever the row's state.

Exam pass lists, provincial staff only (403 for every other role; they see the whole province's lists):

- ``/workbench/exams/`` (``workbench_exam_imports``): the lists uploaded, newest first;
- ``/workbench/exams/new/`` (``workbench_exam_import_new``): year, exam, file → stored and checked
  in the background (``check_exam_import``);
- ``/workbench/exams/<pk>/`` (``workbench_exam_import``): progress, counts, the preview (rows with
  problems first, in words) and the people waiting for their collection, and the 登记学分 button;
- ``/workbench/exams/<pk>/register/`` (``workbench_exam_import_register``, POST): starts
  ``register_exam_import``.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import province_staff_required, reviewer_required, role_required
from cpe import tasks
from cpe.institutions.selectors import face_to_face_standard, max_hours
from cpe.lists import selectors
from cpe.lists.services import exams, face_to_face
from cpe.models import AttendanceList, CEYear, ExamImport, ExamKind, ExamRow, RowState
from kjzx.api import DomainError
from kjzx.tasks import enqueue_after_commit

institution_required = role_required(Role.INSTITUTION)
PAGE_SIZE = 30
PAGE_ROWS = 50


def _errors(exc: DomainError) -> list[str]:
    return [message for found in exc.errors.values() for message in found]


def _standard_context(training) -> dict:
    """The face-to-face standard in force for the training's year, and what one person may earn there."""
    standard = face_to_face_standard(training.year_id)
    return {"standard": standard, "max_hours": max_hours(training, standard) if standard else None}


def _list_context(attendance: AttendanceList) -> dict:
    training = attendance.training
    busy = attendance.status == AttendanceList.Status.CHECKING
    return {"attendance": attendance, "training": training, "rows": attendance.rows.all(),
            "counts": selectors.list_counts(attendance), "busy": busy,
            "percent": round(100 * attendance.done_rows / attendance.total_rows) if attendance.total_rows else 0,
            **_standard_context(training)}


@institution_required
@require_http_methods(["GET", "POST"])
def attendance_upload(request, pk: int):
    """上传学员名单: the list and the evidence of one of the institution's trainings (R-CE-9)."""
    training = selectors.institution_training_get(request.user, pk)
    errors, status = [], 200
    if request.method == "POST":
        try:
            attendance = face_to_face.attendance_upload(
                training=training, file=request.FILES.get("file"), evidence=request.FILES.getlist("evidence"),
                by=request.user)
        except DomainError as exc:
            if exc.status_code == 404:
                raise Http404 from None
            errors, status = _errors(exc), exc.status_code
        else:
            enqueue_after_commit(tasks.check_attendance_list, attendance.pk)
            messages.success(request, "名单已上传，正在逐行校验；校验完成后等待属地财政部门登记学分。")
            return redirect("institution_attendance", pk=attendance.pk)
    lists = selectors.with_counts(training.attendance_lists.all())
    return render(request, "cpe/face_to_face/upload.html", {
        "training": training, "lists": lists, "errors": errors, **_standard_context(training)}, status=status)


@institution_required
@require_GET
def institution_attendance(request, pk: int):
    """One list as its institution sees it: the rows to correct and why (R-CE-9)."""
    attendance = selectors.institution_list_get(request.user, pk)
    return render(request, "cpe/face_to_face/institution_list.html", _list_context(attendance))


@reviewer_required
@require_GET
def bureau_attendance_list(request):
    """面授学员名单: the lists of the reviewer's region, the waiting ones first."""
    done = request.GET.get("status") == AttendanceList.Status.REGISTERED
    status = AttendanceList.Status.REGISTERED if done else AttendanceList.Status.CHECKED
    qs = selectors.with_counts(selectors.bureau_lists(request.user).filter(status=status))
    qs = qs.order_by("-registered_at", "-id") if done else qs.order_by("uploaded_at", "id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cpe/face_to_face/bureau_lists.html", {"page": page, "done": done})


@reviewer_required
@require_GET
def bureau_attendance(request, pk: int):
    """One list: the preview with each problem in words, counts, evidence, and the one button (R-CE-9)."""
    attendance = selectors.bureau_list_get(request.user, pk)
    context = _list_context(attendance)
    context["evidence"] = attendance.evidence.order_by("pk")
    return render(request, "cpe/face_to_face/bureau_list.html", context)


@reviewer_required
@require_POST
def bureau_attendance_register(request, pk: int):
    """登记有效学员学分: every valid row in one step (R-CE-9, R-CE-12, R-CE-13)."""
    attendance = selectors.bureau_list_get(request.user, pk)
    try:
        result = face_to_face.attendance_register(attendance=attendance, by=request.user)
    except DomainError as exc:
        if exc.status_code == 404:
            raise Http404 from None
        for message in _errors(exc):
            messages.error(request, message)
    else:
        text = f"已登记{result.registered}人的面授培训学分。"
        if result.duplicate:
            text += f"{result.duplicate}人此前已登记，未重复登记。"
        if result.invalid:
            text += f"{result.invalid}行有误未登记，已通知培训机构。"
        messages.success(request, text)
    return redirect("workbench_attendance", pk=attendance.pk)


# --- exam pass lists (R-CE-10) ---------------------------------------------------------------

def _year_choices():
    return [(policy.year, f"{policy.year}年") for policy in CEYear.objects.filter(frozen_at__isnull=True)]


class ExamImportForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("考试年度"), coerce=int)
    exam = forms.ChoiceField(label=gettext_lazy("考试"), choices=ExamKind.choices)
    file = forms.FileField(label=gettext_lazy("合格名单文件"), help_text=gettext_lazy(
        "Excel（.xlsx）或CSV文件，须有“证件号码”“姓名”“通过科目数”三列（表头在前10行内），最多20万行；"
        "每通过一科按该年度考试学分计量标准登记学分，计入考试年度。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["year"].choices = _year_choices()
        self.fields["file"].widget.attrs["accept"] = ".xlsx,.csv"
        if not self.is_bound:
            self.initial.setdefault("year", timezone.localdate().year - 1)


@province_staff_required
@require_http_methods(["GET"])
def exam_import_list(request):
    page = Paginator(ExamImport.objects.select_related("uploaded_by"), 20).get_page(request.GET.get("page"))
    return render(request, "cpe/exams/list.html", {"page": page, "imports": page.object_list})


@province_staff_required
@require_http_methods(["GET", "POST"])
def exam_import_new(request):
    form = ExamImportForm(request.POST or None, request.FILES or None)
    refused = 400
    if request.method == "POST" and form.is_valid():
        try:
            exam_import = exams.exam_import_create(year=form.cleaned_data["year"], exam=form.cleaned_data["exam"],
                                                   upload=form.cleaned_data["file"], by=request.user)
        except DomainError as error:
            refused = error.status_code  # 413 too large, 415 not a list file, 400 otherwise
            for field, field_messages in error.errors.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            enqueue_after_commit(tasks.check_exam_import, exam_import.pk)
            messages.success(request, _("名单已上传，正在校验。"))
            return redirect("workbench_exam_import", pk=exam_import.pk)
    return render(request, "cpe/exams/new.html", {"form": form}, status=refused if form.errors else 200)


@province_staff_required
@require_http_methods(["GET"])
def exam_import_detail(request, pk: int):
    exam_import = get_object_or_404(ExamImport.objects.select_related("uploaded_by", "year"), pk=pk)
    counts = selectors.exam_import_counts(exam_import)
    rows = (ExamRow.objects.filter(import_file=exam_import).exclude(state=RowState.PENDING)
            .annotate(first=Case(When(state=RowState.INVALID, then=Value(0)), default=Value(1),
                                 output_field=IntegerField())).order_by("first", "row_no"))
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    pending = ExamRow.objects.filter(import_file=exam_import, state=RowState.PENDING).order_by("row_no")
    pending_page = Paginator(pending, PAGE_ROWS).get_page(request.GET.get("pending_page"))
    busy = exam_import.status in selectors.EXAM_BUSY
    can_register = exam_import.status in (ExamImport.Status.CHECKED, ExamImport.Status.FAILED) and bool(
        counts[RowState.VALID] or counts[RowState.PENDING]) and exam_import.total_rows > 0
    return render(request, "cpe/exams/detail.html", {
        "exam_import": exam_import, "counts": counts, "page": page, "rows": page.object_list,
        "pending_page": pending_page, "pending": pending_page.object_list, "busy": busy,
        "can_register": can_register, "standard": selectors.exam_standard(exam_import.year_id),
        "percent": round(100 * exam_import.done_rows / exam_import.total_rows) if exam_import.total_rows else 0,
    })


@province_staff_required
@require_POST
def exam_import_register(request, pk: int):
    exam_import = get_object_or_404(ExamImport, pk=pk)
    try:
        exams.exam_import_register_start(exam_import=exam_import, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        enqueue_after_commit(tasks.register_exam_import, exam_import.pk, request.user.pk)
        messages.success(request, _("已开始登记学分。"))
    return redirect("workbench_exam_import", pk=pk)
