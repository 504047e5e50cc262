"""Reads of training institutions (继续教育培训机构), R-CE-9, R-CE-14, R-ACL-1.

Scoped to the caller: an institution account sees only the institutions it owns, a bureau only its
region's (anything else is a 404); anyone sees the filed (已备案、公布) ones. The face-to-face credit
standard in force for a year (:func:`face_to_face_standard`) is read here, once, for the training
plans (the daily cap when a plan is filed) and for the lists of people they credit.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db.models import Exists, OuterRef, Prefetch, QuerySet
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Role
from accounts.scoping import can_act_in, region_filter
from cpe.ledger.selectors import ONE_DECIMAL, standard_in_force
from cpe.models import (
    AnnualReport,
    AttendanceList,
    CreditForm,
    Evaluation,
    InstitutionFiling,
    InstitutionKind,
    ReportKind,
    Teacher,
    TrainingInstitution,
    TrainingPlan,
)

PLAN_DUE = (1, 31)  # an online institution's plan: by the end of January (R-CE-14)
ONLINE_KINDS = (InstitutionKind.ONLINE, InstitutionKind.BOTH)
FACE_TO_FACE_KINDS = (InstitutionKind.FACE_TO_FACE, InstitutionKind.BOTH)


# --- the face-to-face credit standard (the SPEC table, as data) ----------------------------------

@dataclasses.dataclass(frozen=True)
class FaceToFaceStandard:
    """``CreditStandard`` face_to_face/per_hour in force for a year: credits per 学时 and the daily cap."""

    year: int
    per_hour: Decimal  # credits per 学时 of 45 minutes
    daily_hours: Decimal | None  # at most this many 学时 a day (the standard's daily cap ÷ per hour); None: no cap

    def credits(self, hours: Decimal) -> Decimal:
        return (hours * self.per_hour).quantize(ONE_DECIMAL)


def face_to_face_standard(year: int) -> FaceToFaceStandard | None:
    """The face-to-face standard in force for ``year`` (3 per 学时, 30 a day = 10 学时, as seeded); None if none."""
    row = standard_in_force(CreditForm.FACE_TO_FACE, "per_hour", year)
    if row is None:
        return None
    cap = (row.daily_cap / row.credits).quantize(ONE_DECIMAL) if row.daily_cap else None
    return FaceToFaceStandard(year=year, per_hour=row.credits, daily_hours=cap)


def max_hours(training: TrainingPlan, standard: FaceToFaceStandard) -> Decimal:
    """What one person may earn at a training: its days × its hours a day, within the daily cap."""
    per_day = training.hours_per_day
    if standard.daily_hours is not None:
        per_day = min(per_day, standard.daily_hours)
    return training.days * per_day


# --- institutions, filings, teachers --------------------------------------------------------------

def is_institution_user(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.INSTITUTION)


def owned_institutions(user) -> QuerySet[TrainingInstitution]:
    """The institutions this institution account runs; nobody else's (R-ACL-1)."""
    if not is_institution_user(user):
        return TrainingInstitution.objects.none()
    return TrainingInstitution.objects.filter(owner=user).select_related("region__parent")


def owned_institution_get(user, pk) -> TrainingInstitution:
    try:
        return owned_institutions(user).get(pk=int(pk))
    except (TrainingInstitution.DoesNotExist, TypeError, ValueError):
        raise Http404 from None


def institution_home(user) -> list[TrainingInstitution]:
    """Each owned institution with its filings, teachers, reports, trainings and evaluations, prefetched."""
    return list(owned_institutions(user).prefetch_related(
        Prefetch("filings", queryset=InstitutionFiling.objects.order_by("-created_at", "-id")),
        "teachers",
        Prefetch("reports", queryset=AnnualReport.objects.order_by("-year_id", "kind")),
        Prefetch("training_plans", queryset=TrainingPlan.objects.prefetch_related("teachers")),
        Prefetch("evaluations", queryset=Evaluation.objects.order_by("-year_id")),
    ))


def latest_filing(institution: TrainingInstitution) -> InstitutionFiling | None:
    return institution.filings.order_by("-created_at", "-id").first()


def teacher_get(user, pk) -> Teacher:
    found = Teacher.objects.filter(pk=pk, institution__in=owned_institutions(user)).select_related(
        "institution").first()
    if found is None:
        raise Http404
    return found


def filings_for_reviewer(user) -> QuerySet[InstitutionFiling]:
    """Submitted filings in the reviewer's region (drafts are the institution's own), R-ACL-1."""
    condition = region_filter(user, "jurisdiction")
    if condition is None:
        return InstitutionFiling.objects.none()
    return InstitutionFiling.objects.filter(condition, submitted_at__isnull=False).select_related(
        "institution__region__parent", "jurisdiction__parent", "applicant")


def filing_get_for_reviewer(user, pk) -> InstitutionFiling:
    found = filings_for_reviewer(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def institutions_for_reviewer(user) -> QuerySet[TrainingInstitution]:
    condition = region_filter(user, "region")
    if condition is None:
        return TrainingInstitution.objects.none()
    return TrainingInstitution.objects.filter(condition).select_related("region__parent")


def institution_get_for_reviewer(user, pk) -> TrainingInstitution:
    found = institutions_for_reviewer(user).filter(pk=pk).first()
    if found is None:
        raise Http404
    return found


def public_institutions(query: str = "") -> QuerySet[TrainingInstitution]:
    """Filed (已备案、公布) institutions, by name (R-CE-14): what anyone may look up."""
    qs = TrainingInstitution.objects.filter(filed=True).select_related("region__parent").order_by("name", "id")
    query = (query or "").strip()[:50]
    return qs.filter(name__icontains=query) if query else qs


@dataclasses.dataclass
class OverviewRow:
    institution: TrainingInstitution
    filing: InstitutionFiling | None
    issues: list[str]
    late_trainings: list[TrainingPlan]
    evaluation: Evaluation | None
    can_evaluate: bool


def _issues(inst: TrainingInstitution, year: int, today: dt.date) -> tuple[list[str], list[TrainingPlan]]:
    """What is missing or late for ``year`` (R-CE-14); only a filed institution owes anything."""
    if not inst.filed:
        return [], []
    issues: list[str] = []
    reports = {(r.year_id, r.kind): r for r in inst.reports.all()}
    created = timezone.localtime(inst.created_at).date()
    if inst.kind in ONLINE_KINDS:
        plan_due = dt.date(year, *PLAN_DUE)
        plan = reports.get((year, ReportKind.ANNUAL_PLAN))
        if plan is None and today > plan_due and created <= plan_due:
            issues.append(_("%(year)s年度培训方案未报送（应于1月31日前报送）") % {"year": year})
        elif plan is not None and timezone.localtime(plan.submitted_at).date() > plan_due:
            issues.append(_("%(year)s年度培训方案逾期报送") % {"year": year})
        for report_year in (year - 1, year):
            ended = dt.date(report_year, 12, 31)
            if (today > ended and created <= ended and (report_year, ReportKind.ANNUAL_REPORT) not in reports):
                issues.append(_("%(year)s年度继续教育整体情况未报送") % {"year": report_year})
    late = [plan for plan in inst.training_plans.all() if plan.year_id == year and plan.filed_late]
    if late:
        issues.append(_("%(n)s项面授培训方案未在开训前报送") % {"n": len(late)})
    return issues, late


def institution_overview(user, year: int, today: dt.date | None = None) -> list[OverviewRow]:
    """The bureau's overview: every institution of its region with filing status, what is missing or
    late in ``year`` and that year's evaluation, in a fixed number of queries (R-CE-14)."""
    today = today or timezone.localdate()
    institutions = institutions_for_reviewer(user).order_by("name", "id").prefetch_related(
        Prefetch("filings", queryset=InstitutionFiling.objects.order_by("-created_at", "-id")),
        Prefetch("reports", queryset=AnnualReport.objects.filter(year_id__in=(year - 1, year))),
        Prefetch("training_plans", queryset=TrainingPlan.objects.filter(year_id=year)),
        Prefetch("evaluations", queryset=Evaluation.objects.filter(year_id=year).select_related("evaluated_by")),
    )
    rows = []
    for inst in institutions:
        filings = list(inst.filings.all())
        issues, late = _issues(inst, year, today)
        evaluations = list(inst.evaluations.all())
        rows.append(OverviewRow(institution=inst, filing=filings[0] if filings else None, issues=issues,
                                late_trainings=late, evaluation=evaluations[0] if evaluations else None,
                                can_evaluate=not evaluations and can_act_in(user, inst.region)))
    return rows


# --- the institution's own pending work (the head of its workbench) ------------------------------

@dataclasses.dataclass(frozen=True)
class PendingItem:
    text: str
    due: dt.date | None  # None: no date by which it must be done
    overdue: bool


@dataclasses.dataclass(frozen=True)
class InstitutionCounts:
    """待办, 今日到期, 逾期 of an institution account, and each thing they count in words."""

    items: tuple[PendingItem, ...]
    today: dt.date

    @property
    def open(self) -> int:
        return len(self.items)

    @property
    def due_today(self) -> int:
        return sum(1 for item in self.items if item.due == self.today)

    @property
    def overdue(self) -> int:
        return sum(1 for item in self.items if item.overdue)


def institution_work_counts(user, today: dt.date | None = None) -> InstitutionCounts | None:
    """What the institutions ``user`` runs owe now (R-CE-9, R-CE-14), or None for anyone else; three queries:

    - a filing to (re)submit: a draft, or one the bureau returned;
    - a filed online institution's plan of this year (due 31 January: overdue after it, for an institution that
      existed then) and its report of last year's overall results (overdue once that year has ended), and this
      year's report on its last day (due today) — as :func:`institution_overview` shows them to the bureau;
    - a face-to-face training that has ended without a list of the people who earned credits (none sent, or
      only lists that failed their check).
    """
    if not is_institution_user(user):
        return None
    today = today or timezone.localdate()
    items: list[PendingItem] = []
    for name, status in (InstitutionFiling.objects.filter(institution__owner=user, status__in=("draft", "returned"))
                         .order_by("institution__name", "pk").values_list("institution__name", "status")):
        text = (_("%(name)s：备案申请已退回，请修改后重新提交") if status == "returned"
                else _("%(name)s：备案申请尚未提交"))
        items.append(PendingItem(text % {"name": name}, None, False))
    year, plan_due, last_end = today.year, dt.date(today.year, *PLAN_DUE), dt.date(today.year - 1, 12, 31)

    def report(year_, kind):
        return Exists(AnnualReport.objects.filter(institution=OuterRef("pk"), year_id=year_, kind=kind))

    online = (TrainingInstitution.objects.filter(owner=user, filed=True, kind__in=ONLINE_KINDS)
              .annotate(plan=report(year, ReportKind.ANNUAL_PLAN), last=report(year - 1, ReportKind.ANNUAL_REPORT),
                        this=report(year, ReportKind.ANNUAL_REPORT))
              .order_by("name", "pk").values_list("name", "created_at", "plan", "last", "this"))
    for name, created_at, plan, last, this in online:
        created = timezone.localtime(created_at).date()
        if not plan:
            late = today > plan_due and created <= plan_due
            items.append(PendingItem(_("%(name)s：%(year)s年度培训方案未报送（应于1月31日前报送）")
                                     % {"name": name, "year": year}, plan_due, late))
        if not last and created <= last_end:
            items.append(PendingItem(_("%(name)s：%(year)s年度继续教育整体情况未报送")
                                     % {"name": name, "year": year - 1}, last_end, True))
        if not this and today == dt.date(year, 12, 31):
            items.append(PendingItem(_("%(name)s：%(year)s年度继续教育整体情况未报送")
                                     % {"name": name, "year": year}, today, False))
    sent = AttendanceList.objects.filter(training=OuterRef("pk")).exclude(status=AttendanceList.Status.FAILED)
    for name, title in (TrainingPlan.objects.filter(institution__owner=user, ends_on__lt=today)
                        .exclude(Exists(sent)).order_by("ends_on", "pk").values_list("institution__name", "title")):
        items.append(PendingItem(_("%(name)s：面授培训“%(title)s”已结束，取得学分人员名单尚未报送")
                                 % {"name": name, "title": title}, None, False))
    return InstitutionCounts(tuple(items), today)


def evaluations_for_province(user) -> QuerySet[Evaluation]:
    """All evaluations the caller may see: provincial staff see every one (R-CE-14); others their region's."""
    condition = region_filter(user, "institution__region")
    if condition is None:
        return Evaluation.objects.none()
    return Evaluation.objects.filter(condition).select_related("institution", "evaluated_by").order_by(
        "-year_id", "institution__name")


def filing_get(user, pk) -> InstitutionFiling:
    """A filing: the institution account's own institutions' ones, a bureau's region's submitted ones; else 404."""
    if getattr(user, "role", None) == Role.INSTITUTION:
        found = InstitutionFiling.objects.filter(pk=pk, institution__in=owned_institutions(user)).select_related(
            "institution__region__parent", "jurisdiction__parent", "applicant").first()
        if found is None:
            raise Http404
        return found
    return filing_get_for_reviewer(user, pk)
