"""Exam pass lists, the provincial staff's pages (考试合格名单导入), R-CE-10.

- ``/workbench/exams/`` (``workbench_exam_imports``): the lists uploaded, newest first;
- ``/workbench/exams/new/`` (``workbench_exam_import_new``): year, exam, file → stored and checked
  in the background (``check_exam_import``);
- ``/workbench/exams/<pk>/`` (``workbench_exam_import``): progress, counts, the preview (rows with
  problems first, in words) and the people waiting for their collection, and the 登记学分 button;
- ``/workbench/exams/<pk>/register/`` (``workbench_exam_import_register``, POST): starts
  ``register_exam_import``.

Only provincial staff use them (403 for every other role); they see the whole province's lists.
"""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from accounts.models import mask_id_number
from accounts.permissions import province_staff_required
from cpe import exams
from cpe.models import CEYear, ExamImport, ExamKind, ExamRow, RowState
from kjzx.api import DomainError
from kjzx.tasks import enqueue_after_commit

PAGE_ROWS = 50


def _year_choices():
    return [(policy.year, f"{policy.year}年") for policy in CEYear.objects.filter(frozen_at__isnull=True)]


class ExamImportForm(forms.Form):
    year = forms.TypedChoiceField(label=gettext_lazy("考试年度"), coerce=int)
    exam = forms.ChoiceField(label=gettext_lazy("考试"), choices=ExamKind.choices)
    file = forms.FileField(label=gettext_lazy("合格名单文件"), help_text=gettext_lazy(
        "Excel（.xlsx）或CSV文件，须有“证件号码”“姓名”“通过科目数”三列（表头在前10行内）；"
        "每通过一科登记专业科目90学分，计入考试年度。"))

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
    from cpe.tasks_exams import check_exam_import

    form = ExamImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            exam_import = exams.exam_import_create(year=form.cleaned_data["year"], exam=form.cleaned_data["exam"],
                                                   upload=form.cleaned_data["file"], by=request.user)
        except DomainError as error:
            for field, field_messages in error.errors.items():
                for message in field_messages:
                    form.add_error(field if field in form.fields else None, message)
        else:
            enqueue_after_commit(check_exam_import, exam_import.pk)
            messages.success(request, _("名单已上传，正在校验。"))
            return redirect("workbench_exam_import", pk=exam_import.pk)
    return render(request, "cpe/exams/new.html", {"form": form}, status=400 if form.errors else 200)


@province_staff_required
@require_http_methods(["GET"])
def exam_import_detail(request, pk: int):
    exam_import = get_object_or_404(ExamImport.objects.select_related("uploaded_by", "year"), pk=pk)
    counts = exams.exam_import_counts(exam_import)
    rows = (ExamRow.objects.filter(import_file=exam_import).exclude(state=RowState.PENDING)
            .annotate(first=Case(When(state=RowState.INVALID, then=Value(0)), default=Value(1),
                                 output_field=IntegerField())).order_by("first", "row_no"))
    page = Paginator(rows, PAGE_ROWS).get_page(request.GET.get("page"))
    pending = ExamRow.objects.filter(import_file=exam_import, state=RowState.PENDING).order_by("row_no")
    pending_page = Paginator(pending, PAGE_ROWS).get_page(request.GET.get("pending_page"))
    for row in [*page.object_list, *pending_page.object_list]:
        row.masked_id_number = mask_id_number(row.id_number) if not row.problem or row.state != RowState.INVALID \
            else row.id_number  # a wrong number is shown as typed, to be found in the file
    busy = exam_import.status in exams.ACTIVE_STATES
    can_register = exam_import.status in (ExamImport.Status.CHECKED, ExamImport.Status.FAILED) and bool(
        counts[RowState.VALID] or counts[RowState.PENDING]) and exam_import.total_rows > 0
    return render(request, "cpe/exams/detail.html", {
        "exam_import": exam_import, "counts": counts, "page": page, "rows": page.object_list,
        "pending_page": pending_page, "pending": pending_page.object_list, "busy": busy,
        "can_register": can_register, "credits_per_subject": exams.CREDITS_PER_SUBJECT,
        "percent": round(100 * exam_import.done_rows / exam_import.total_rows) if exam_import.total_rows else 0,
    })


@province_staff_required
@require_POST
def exam_import_register(request, pk: int):
    from cpe.tasks_exams import register_exam_import

    exam_import = get_object_or_404(ExamImport, pk=pk)
    try:
        exams.exam_import_register_start(exam_import=exam_import, by=request.user)
    except DomainError as error:
        messages.error(request, error.message)
    else:
        enqueue_after_commit(register_exam_import, exam_import.pk, request.user.pk)
        messages.success(request, _("已开始登记学分。"))
    return redirect("workbench_exam_import", pk=pk)
