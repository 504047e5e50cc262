"""Reads of the name lists: face-to-face lists (面授学员名单) and exam pass lists (考试合格名单), R-CE-9, R-CE-10.

A face-to-face list is its institution's and its region's bureau's (scoped through accounts.scoping;
anything else is a 404, R-ACL-1); exam lists are the province's (the views admit provincial staff
only). The exam credit standard in force for a year (:func:`exam_standard`) and the subjects an exam
has (:data:`SUBJECTS`) are read here, once.
"""

from __future__ import annotations

from django.db.models import Count, F, Q, QuerySet
from django.http import Http404

from accounts.scoping import get_scoped_or_404, scope_queryset
from cpe.institutions.selectors import is_institution_user
from cpe.ledger.selectors import standard_in_force
from cpe.models import AttendanceList, CreditForm, CreditStandard, ExamImport, ExamKind, ExamRow, RowState, TrainingPlan

# Subjects one person can pass in one sitting of each exam: 会计专业技术资格 中级 has three (初级 two,
# 高级 one); the CPA professional stage six; 资产评估师 four; 税务师 five.
SUBJECTS = {ExamKind.ACCOUNTING_QUALIFICATION: 3, ExamKind.CPA: 6, ExamKind.ASSET_APPRAISER: 4,
            ExamKind.TAX_ADVISER: 5}
EXAM_BUSY = (ExamImport.Status.CHECKING, ExamImport.Status.REGISTERING)


def exam_standard(year: int) -> CreditStandard | None:
    """``CreditStandard`` exam/per_subject in force for ``year``: the credits of one passed subject (R-CE-10)."""
    return standard_in_force(CreditForm.EXAM, "per_subject", year)


def exam_import_counts(exam_import: ExamImport) -> dict[str, int]:
    """{state: rows} with every state present (one query)."""
    counts = dict.fromkeys(RowState.values, 0)
    rows = ExamRow.objects.filter(import_file=exam_import).values("state").annotate(n=Count("pk")).order_by()
    counts.update({row["state"]: row["n"] for row in rows})
    return counts


def exam_import_checked(exam_import: ExamImport) -> bool:
    """Every row of the file is in the preview (the check ran to its end)."""
    return exam_import.total_rows > 0 and ExamRow.objects.filter(import_file=exam_import).count() == \
        exam_import.total_rows


# --- face-to-face lists (404 outside one's own: R-ACL-1) -------------------------------------------

def institution_training_get(user, pk) -> TrainingPlan:
    """A face-to-face training of an institution ``user`` owns; anything else is a 404."""
    if not is_institution_user(user):
        raise Http404
    training = (TrainingPlan.objects.select_related("institution", "year")
                .filter(pk=pk, institution__owner=user).first())
    if training is None:
        raise Http404
    return training


def institution_lists(user) -> QuerySet[AttendanceList]:
    if not is_institution_user(user):
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
    """An attachment holder (``records.selectors.ATTACHMENT_HOLDERS``): lists whose evidence ``user`` may open.

    The hook filters on ``attachments``; the list's scans are its ``evidence``, so it is annotated.
    """
    qs = AttendanceList.objects.annotate(attachments=F("evidence"))
    if is_institution_user(user):
        return qs.filter(training__institution__owner=user)
    return scope_queryset(qs, user, region_field="training__institution__region")
