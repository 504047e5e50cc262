"""Face-to-face list pages (面授学员名单), R-CE-9; thin views over :mod:`cpe.face_to_face`.

- ``/institution/trainings/<pk>/attendance/`` (``institution_attendance_upload``): the institution
  that owns the training uploads the list (Excel/CSV) and the evidence scans; the lists already
  uploaded for the training are listed. Another institution's training: 404.
- ``/institution/attendance/<pk>/`` (``institution_attendance``): one list as its institution sees
  it — counts, every row with its result and problem in words (the invalid rows to correct).
- ``/workbench/attendance/`` (``workbench_attendance_list``): the lists of the reviewer's region,
  those waiting first (``?status=registered`` for the done ones).
- ``/workbench/attendance/<pk>/`` (``workbench_attendance``): the preview, counts, the evidence
  inline, and 登记有效学员学分 (POST ``…/register/``, ``workbench_attendance_register``). Outside the
  reviewer's region: 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import Role
from accounts.permissions import reviewer_required, role_required
from cpe import face_to_face
from cpe.models.sources import AttendanceList
from kjzx.api import DomainError

institution_required = role_required(Role.INSTITUTION)
PAGE_SIZE = 30


def _errors(exc: DomainError) -> list[str]:
    return [message for found in exc.errors.values() for message in found]


def _list_context(attendance: AttendanceList) -> dict:
    training = attendance.training
    return {"attendance": attendance, "training": training, "rows": attendance.rows.select_related("archive"),
            "counts": face_to_face.list_counts(attendance),
            "standard": face_to_face.standard_for(training.year_id),
            "max_hours": face_to_face.max_hours(training, face_to_face.standard_for(training.year_id))}


@institution_required
@require_http_methods(["GET", "POST"])
def attendance_upload(request, pk: int):
    """上传学员名单: the list and the evidence of one of the institution's trainings (R-CE-9)."""
    training = face_to_face.institution_training_get(request.user, pk)
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
            messages.success(request, "名单已上传并逐行校验，等待属地财政部门登记学分。")
            return redirect("institution_attendance", pk=attendance.pk)
    lists = face_to_face.with_counts(training.attendance_lists.all())
    standard = face_to_face.standard_for(training.year_id)
    return render(request, "cpe/face_to_face/upload.html", {
        "training": training, "lists": lists, "errors": errors, "standard": standard,
        "max_hours": face_to_face.max_hours(training, standard)}, status=status)


@institution_required
@require_GET
def institution_attendance(request, pk: int):
    """One list as its institution sees it: the rows to correct and why (R-CE-9)."""
    attendance = face_to_face.institution_list_get(request.user, pk)
    return render(request, "cpe/face_to_face/institution_list.html", _list_context(attendance))


@reviewer_required
@require_GET
def bureau_attendance_list(request):
    """面授学员名单: the lists of the reviewer's region, the waiting ones first."""
    done = request.GET.get("status") == AttendanceList.Status.REGISTERED
    status = AttendanceList.Status.REGISTERED if done else AttendanceList.Status.CHECKED
    qs = face_to_face.with_counts(face_to_face.bureau_lists(request.user).filter(status=status))
    qs = qs.order_by("-registered_at", "-id") if done else qs.order_by("uploaded_at", "id")
    page = Paginator(qs, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "cpe/face_to_face/bureau_lists.html", {"page": page, "done": done})


@reviewer_required
@require_GET
def bureau_attendance(request, pk: int):
    """One list: the preview with each problem in words, counts, evidence, and the one button (R-CE-9)."""
    attendance = face_to_face.bureau_list_get(request.user, pk)
    context = _list_context(attendance)
    context["evidence"] = attendance.evidence.order_by("pk")
    return render(request, "cpe/face_to_face/bureau_list.html", context)


@reviewer_required
@require_POST
def bureau_attendance_register(request, pk: int):
    """登记有效学员学分: every valid row in one step (R-CE-9, R-CE-12, R-CE-13)."""
    attendance = face_to_face.bureau_list_get(request.user, pk)
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
