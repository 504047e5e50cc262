"""Employers' reads (用人单位): their own accountants and nothing else. the 404 rule of R-ACL-1.

**The one scope** (:func:`people_of`): an employer administrator sees the archives that name one of
their units (``Archive.employer_credit_code`` among their :class:`~employers.models.EmployerUnit` codes)
and that a bureau has received — collected (``active``), or being collected (``collecting``: submitted at
least once, so that a unit can urge a returned collection, as the seeds ask). A draft nobody submitted
is the person's own business, and an archive that left Shanxi is no one's here. Anyone else's person is
a 404 in the pages, the API and the export alike. ``accounts.scoping`` gives employers nothing (other
roles get "narrower selectors" in their own app): this module is that selector.

The scope is read from the archive at every request, never copied: a person who leaves the unit through
an approved change (records writes the new code on approval, R-CHG-2) leaves the list at once.

**CE figures** of a page of people come from the per-person-year summary (``cpe.models.CreditSummary``,
kept in step with the ledger in the ledger's own transaction; frozen years hold the credit-information
file's figures, R-CE-13) as correlated subqueries, so a page costs a fixed number of queries whatever it
holds. Who owes the year is :func:`cpe.ledger.selectors.obliged_archives_q` (plus, for a frozen year, a
result in the credit-information file), as in :func:`~cpe.ledger.selectors.year_status`, which the
figures equal (a test compares them person by person).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from decimal import Decimal

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    DecimalField,
    Exists,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.http import Http404
from django.utils import timezone

from accounts.models import Role, User
from cpe.ledger.selectors import is_complete, obliged_archives_q
from cpe.models import CEYear, CreditSummary, IntegrityRecord
from employers.models import EmployerReminder, EmployerUnit
from records.models import Archive, ChangeRequest, CollectionApplication
from transfers.models import Transfer

VISIBLE_STATUSES = (Archive.Status.ACTIVE, Archive.Status.COLLECTING)
ZERO = Decimal("0")
CREDITS = DecimalField(max_digits=12, decimal_places=1)


class CeFilter:
    """``?ce=``: the people of a page by this year's progress."""

    BEHIND = "behind"  # owe the year and have not completed it: those a reminder is for
    COMPLETED = "completed"
    CHOICES = ((BEHIND, "未完成"), (COMPLETED, "已完成"))


def is_employer(user) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and user.role == Role.EMPLOYER)


def employer_codes(user) -> list[str]:
    """The unified social credit codes of the units ``user`` oversees; none for anyone else."""
    if not is_employer(user):
        return []
    return list(EmployerUnit.objects.filter(user=user).values_list("credit_code", flat=True))


def people_of(user) -> QuerySet[Archive]:
    """The archives ``user`` may read as an employer (see the module doc): one query, codes as a subquery."""
    if not is_employer(user):
        return Archive.objects.none()
    codes = EmployerUnit.objects.filter(user=user).values("credit_code")
    return Archive.objects.filter(status__in=VISIBLE_STATUSES, employer_credit_code__in=codes)


def _latest(model, field: str = "pk"):
    """The archive's latest application of ``model`` that reached a bureau (a draft is the person's own)."""
    return Subquery(model.objects.filter(archive=OuterRef("pk"), submitted_at__isnull=False)
                    .order_by("-submitted_at", "-pk").values(field)[:1])


def with_figures(qs: QuerySet[Archive], policy: CEYear, today: dt.date) -> QuerySet[Archive]:
    """``qs`` with the year's CE figures, the collection status, the latest change and transfer and whether
    the person was reminded ``today``: all in the one SELECT (correlated subqueries on unique indexes)."""
    summary = CreditSummary.objects.filter(archive=OuterRef("pk"), year=policy.year)
    obliged = obliged_archives_q(policy.year)
    if policy.is_frozen:  # a result in the credit-information file means the year was owed (year_status)
        obliged |= Q(Exists(IntegrityRecord.objects.filter(archive=OuterRef("pk"), year=policy.year)))
    collection = Coalesce(_latest(CollectionApplication, "status"), Value("submitted"), output_field=CharField())
    return qs.select_related("jurisdiction__parent", "person").annotate(
        e_total=Coalesce(Subquery(summary.values("total")[:1]), Value(ZERO), output_field=CREDITS),
        e_professional=Coalesce(Subquery(summary.values("professional")[:1]), Value(ZERO), output_field=CREDITS),
        e_completed=Coalesce(Subquery(summary.values("completed")[:1]),
                             Value(is_complete(policy, ZERO, ZERO)), output_field=BooleanField()),
        e_obliged=Case(When(obliged, then=Value(True)), default=Value(False), output_field=BooleanField()),
        e_collection=Case(When(status=Archive.Status.ACTIVE, then=Value(CollectionApplication.Status.APPROVED)),
                          default=collection, output_field=CharField()),
        e_change_id=_latest(ChangeRequest),
        e_transfer_id=_latest(Transfer),
        e_reminded=Exists(EmployerReminder.objects.filter(archive=OuterRef("pk"), sent_on=today)),
    )


def people_list(user, policy: CEYear, *, ce: str = "", credit_code: str = "",
                today: dt.date | None = None) -> QuerySet[Archive]:
    """The employer's people with their figures (:func:`with_figures`), by name; ``ce`` and ``credit_code``
    narrow it (a code the employer does not oversee leaves nothing)."""
    qs = with_figures(people_of(user), policy, today or timezone.localdate())
    if credit_code:
        qs = qs.filter(employer_credit_code=credit_code.strip().upper())
    if ce == CeFilter.BEHIND:
        qs = qs.filter(e_obliged=True, e_completed=False)
    elif ce == CeFilter.COMPLETED:
        qs = qs.filter(e_obliged=True, e_completed=True)
    return qs.order_by("name", "pk")


@dataclasses.dataclass(frozen=True)
class PersonRow:
    """One of the employer's people as every door shows them (page, card, API, Excel)."""

    archive: Archive
    policy: CEYear
    total: Decimal
    professional: Decimal
    completed: bool
    obliged: bool
    collection_status: str
    reminded_today: bool
    change: ChangeRequest | None = None
    transfer: Transfer | None = None

    @property
    def year(self) -> int:
        return self.policy.year

    @property
    def missing_total(self) -> Decimal:
        """What the person still lacks of the year's total (R-CE-3); nothing for a year they do not owe."""
        return max(self.policy.required_total - self.total, ZERO) if self.obliged else ZERO

    @property
    def missing_professional(self) -> Decimal:
        return max(self.policy.required_professional - self.professional, ZERO) if self.obliged else ZERO

    @property
    def behind(self) -> bool:
        return self.obliged and not self.completed

    @property
    def ce_label(self) -> str:
        if not self.obliged:
            return "本年度无需参加"
        return "已完成" if self.completed else "未完成"

    @property
    def collection_status_display(self) -> str:
        return str(CollectionApplication.Status(self.collection_status).label)

    @property
    def remind_refusal(self) -> str:
        """Why no reminder can go to this person now, or "" (the one rule; the service raises it)."""
        if self.policy.is_frozen:
            return "该年度继续教育已归档，不能再发送提醒。"
        if not self.behind:
            return "该人员本年度继续教育已完成或无需参加，无需提醒。"
        if self.archive.person_id is None:
            return "该人员尚未在平台登录认领档案，无法发送提醒。"
        if self.reminded_today:
            return "今天已提醒过该人员（每人每天最多提醒一次），请明天再试。"
        return ""

    @property
    def can_remind(self) -> bool:
        return not self.remind_refusal


def person_rows(archives, policy: CEYear) -> list[PersonRow]:
    """Rows of archives from :func:`with_figures`: two more queries for their latest change and transfer."""
    archives = list(archives)
    changes = ChangeRequest.objects.in_bulk([a.e_change_id for a in archives if a.e_change_id])
    transfers = Transfer.objects.select_related("to_region__parent").in_bulk(
        [a.e_transfer_id for a in archives if a.e_transfer_id])
    return [PersonRow(archive=a, policy=policy, total=a.e_total, professional=a.e_professional,
                      completed=a.e_completed, obliged=a.e_obliged, collection_status=a.e_collection,
                      reminded_today=a.e_reminded, change=changes.get(a.e_change_id),
                      transfer=transfers.get(a.e_transfer_id))
            for a in archives]


def person_get(user, pk, policy: CEYear, *, today: dt.date | None = None) -> PersonRow:
    """One of the employer's people; anyone else's, or anything that is not a number, is a 404."""
    try:
        pk = int(pk)
    except (TypeError, ValueError):
        raise Http404 from None
    found = list(with_figures(people_of(user).filter(pk=pk), policy, today or timezone.localdate()))
    if not found:
        raise Http404
    return person_rows(found, policy)[0]


@dataclasses.dataclass(frozen=True)
class PersonHistory:
    """What an employer reads about one person beside the year's row: changes, transfers, its reminders."""

    changes: list[ChangeRequest]
    transfers: list[Transfer]
    reminders: list[EmployerReminder]


def person_history(archive: Archive, user) -> PersonHistory:
    """The person's changes and transfers that reached a bureau (newest first), and the reminders sent in
    the name of ``user``'s units (not a former unit's)."""
    changes = list(ChangeRequest.objects.filter(archive=archive, submitted_at__isnull=False)
                   .order_by("-submitted_at", "-pk"))
    transfers = list(Transfer.objects.filter(archive=archive, submitted_at__isnull=False)
                     .select_related("to_region__parent").order_by("-submitted_at", "-pk"))
    reminders = list(EmployerReminder.objects.filter(archive=archive, credit_code__in=employer_codes(user))
                     .select_related("sent_by")
                     .order_by("-sent_at", "-pk")[:20])
    return PersonHistory(changes, transfers, reminders)


def ce_year_for(asked, *, today: dt.date | None = None) -> CEYear | None:
    """The CE year a list shows: ``asked`` (a year with a policy), else this year, else the newest
    earlier one; None for an ``asked`` year without a policy (the doors say so)."""
    if asked not in (None, ""):
        return CEYear.objects.filter(pk=asked).first()
    this_year = (today or timezone.localdate()).year
    return CEYear.objects.filter(year__lte=this_year).order_by("-year").first()


def ce_years() -> list[int]:
    return list(CEYear.objects.order_by("-year").values_list("year", flat=True))


# --- provincial staff: the employer accounts ---------------------------------------------------

def employer_accounts() -> QuerySet[User]:
    """Every employer administrator's account with its units (provincial staff only; the view checks)."""
    return (User.objects.filter(role=Role.EMPLOYER).select_related("region__parent")
            .prefetch_related("employer_units").order_by("username"))


def employer_account_get(pk) -> User:
    """One employer administrator's account; any other account is a 404."""
    try:
        return employer_accounts().get(pk=int(pk))
    except (TypeError, ValueError, User.DoesNotExist):
        raise Http404 from None
