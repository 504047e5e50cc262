"""The credit ledger (学分台账): who owes a year, what they have, registering and freezing. R-CE-1…5, 12, 13.

Every credit is one append-only :class:`~cpe.models.CreditEntry`; totals are computed, never
stored, by :func:`year_status` — the one piece of code behind the personal page, the API, the
certificate and the dashboards. Every source (an online course, an institution's list, an exam
file, a claim) ends in :func:`credit_register`, which enforces:

- R-CE-12: no credit before the person's information collection is approved;
- R-CE-13: nothing in a frozen year;
- one registration per source, person and year (a unique constraint, and a clear message).

A year closes on its policy's ``registration_closes_on`` (:func:`ce_year_close`, a beat task and
the ``close_cpe_year`` command): each obliged person's result is written to their
credit-information file (``IntegrityRecord``) and the year no longer changes.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from decimal import Decimal

from django.db import IntegrityError, transaction
from django.db.models import Q, Sum
from django.utils import timezone

from cpe.models import CEYear, CreditEntry, CreditForm, IntegrityRecord, SourceType, SubjectKind
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from records.models import Archive

register_event_labels({
    "cpe.credit_registered": "登记学分",
    "cpe.credit_reversed": "冲销学分",
    "cpe.year_closed": "年度学分登记结束（纳入信用信息档案）",
})

ZERO = Decimal("0")

# Hooks run just before a year is frozen, each with (year): e.g. online learning registers the
# credits people earned but had not yet had registered (cpe.learning).
BEFORE_CLOSE: list[Callable[[CEYear], None]] = []


# --- who owes a year (R-CE-1) -----------------------------------------------------------------

def obligation_start_year(archive: Archive) -> int | None:
    """The first CE year a person owes: the year after the qualification or the start of accounting
    work, whichever came first (R-CE-1); None if neither is known."""
    dates = [q.obtained_on for q in archive.qualifications.all() if q.obtained_on]
    if archive.began_accounting_on:
        dates.append(archive.began_accounting_on)
    return min(dates).year + 1 if dates else None


def is_obliged(archive: Archive, year: int) -> bool:
    start = obligation_start_year(archive)
    return archive.status == Archive.Status.ACTIVE and start is not None and year >= start


# --- a person's year --------------------------------------------------------------------------

@dataclasses.dataclass(frozen=True)
class YearStatus:
    """What a person has for one year (API.md ``GET /api/v1/me/cpe/{year}/``)."""

    year: int
    obliged: bool
    required_total: Decimal
    required_professional: Decimal
    total: Decimal
    professional: Decimal
    general: Decimal
    by_form: dict[str, Decimal]
    completed: bool
    deadline: dt.date
    frozen: bool

    @property
    def missing_total(self) -> Decimal:
        return max(self.required_total - self.total, ZERO)

    @property
    def missing_professional(self) -> Decimal:
        return max(self.required_professional - self.professional, ZERO)


def _sums(entries) -> tuple[Decimal, Decimal, dict[str, Decimal]]:
    professional = general = ZERO
    by_form: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for subject_kind, form, credits in entries:
        if subject_kind == SubjectKind.PROFESSIONAL:
            professional += credits
        else:
            general += credits
        by_form[form] += credits
    return professional, general, {form: by_form[form] for form in CreditForm.values if by_form[form]}


def is_complete(policy: CEYear, total: Decimal, professional: Decimal) -> bool:
    """R-CE-3: at least the required total, of which at least the required professional credits."""
    return total >= policy.required_total and professional >= policy.required_professional


def year_status(archive: Archive, year: int | CEYear) -> YearStatus:
    """The one computation of a person's year (R-CE-3): two queries, or one once the year is frozen."""
    policy = year if isinstance(year, CEYear) else CEYear.objects.get(pk=year)
    frozen = IntegrityRecord.objects.filter(archive=archive, year=policy).first() if policy.is_frozen else None
    obliged = is_obliged(archive, policy.year) or frozen is not None
    if frozen is not None:
        by_form = {form: Decimal(value) for form, value in frozen.by_form.items()}
        return YearStatus(policy.year, obliged, policy.required_total, policy.required_professional, frozen.total,
                          frozen.professional, frozen.general, by_form, frozen.completed, policy.deadline, True)
    rows = CreditEntry.objects.filter(archive=archive, year=policy).values_list("subject_kind", "form", "credits")
    professional, general, by_form = _sums(rows)
    total = professional + general
    return YearStatus(policy.year, obliged, policy.required_total, policy.required_professional, total,
                      professional, general, by_form, is_complete(policy, total, professional), policy.deadline,
                      policy.is_frozen)


# --- registering ------------------------------------------------------------------------------

def _check_open(archive: Archive, policy: CEYear) -> None:
    if archive.status != Archive.Status.ACTIVE or archive.collected_at is None:
        raise DomainError({"archive": ["该人员尚未完成信息采集（审核通过），不能登记学分。"]})  # R-CE-12
    if policy.is_frozen:
        raise Conflict(f"{policy.year}年度学分登记已结束并纳入信用信息档案，不能再登记或更正。")  # R-CE-13


def credit_register(*, archive: Archive, year: int, subject_kind: str, form: str, credits, source_type: str,
                    source_id: str, source_label: str, by=None, evidence=None) -> CreditEntry:
    """Register one credit entry (学分登记) from any source; see the module doc for the rules."""
    credits = Decimal(str(credits))
    if credits <= 0:
        raise DomainError({"credits": ["学分应大于0。"]})
    if subject_kind not in SubjectKind.values or form not in CreditForm.values or source_type not in SourceType.values:
        raise DomainError({"form": ["科目类别、形式或来源不正确。"]})
    try:
        with transaction.atomic():
            policy = CEYear.objects.select_for_update().get(pk=year)  # a close waits for us, or we for it
            _check_open(archive, policy)
            entry = CreditEntry.objects.create(
                archive=archive, year=policy, subject_kind=subject_kind, form=form, credits=credits,
                source_type=source_type, source_id=str(source_id), source_label=source_label[:200],
                registered_by=by if getattr(by, "pk", None) else None, evidence=evidence)
            record_event(entry, "cpe.credit_registered", by=by, extra={
                "archive": archive.pk, "year": year, "credits": str(credits), "source": f"{source_type}:{source_id}"})
    except IntegrityError:
        raise Conflict(f"该来源（{source_label}）已为此人登记过{year}年度学分，不能重复登记。") from None
    except CEYear.DoesNotExist:
        raise DomainError({"year": [f"{year}年度的继续教育政策尚未设置。"]}) from None
    return entry


@transaction.atomic
def credit_reverse(*, entry: CreditEntry, by, reason: str) -> CreditEntry:
    """Correct a wrong entry with a reversing one (更正), never by editing it (STYLE §3)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": ["请填写更正原因。"]})
    policy = CEYear.objects.select_for_update().get(pk=entry.year_id)
    _check_open(entry.archive, policy)
    if CreditEntry.objects.filter(reverses=entry).exists() or entry.reverses_id:
        raise Conflict("该记录已冲销，或本身就是冲销记录。")
    reversal = CreditEntry.objects.create(
        archive=entry.archive, year=policy, subject_kind=entry.subject_kind, form=entry.form, credits=-entry.credits,
        source_type=SourceType.REVERSAL, source_id=str(entry.pk), source_label=f"冲销：{entry.source_label}"[:200],
        registered_by=by, reverses=entry, reason=reason[:200])
    record_event(reversal, "cpe.credit_reversed", by=by, reason=reason, extra={"reverses": entry.pk})
    return reversal


def entries_of(archive: Archive, year: int):
    return CreditEntry.objects.filter(archive=archive, year_id=year).select_related("registered_by", "reverses")


# --- closing a year (R-CE-13) -----------------------------------------------------------------

def ce_year_close(*, year: int, by=None, now: dt.datetime | None = None) -> int:
    """Freeze ``year``: every obliged person's result into their credit-information file. Returns how many.

    Safe to run twice (a frozen year answers 0). Set-based: one aggregate over the year's entries,
    then bulk inserts, so a province of a million people closes in one pass.
    """
    now = now or timezone.now()
    with transaction.atomic():
        policy = CEYear.objects.select_for_update().get(pk=year)
        if policy.is_frozen:
            return 0
        for hook in BEFORE_CLOSE:
            hook(policy)
        count = _write_integrity_records(policy, now)
        policy.frozen_at = now
        policy.save(update_fields=["frozen_at"])
        record_event(policy, "cpe.year_closed", by=by, extra={"year": year, "records": count})
    return count


def _write_integrity_records(policy: CEYear, now) -> int:
    sums: dict[int, dict] = defaultdict(lambda: {"professional": ZERO, "general": ZERO, "by_form": defaultdict(
        lambda: ZERO)})
    rows = (CreditEntry.objects.filter(year=policy).values("archive_id", "subject_kind", "form")
            .annotate(credits=Sum("credits")).order_by())
    for row in rows:
        person = sums[row["archive_id"]]
        person["professional" if row["subject_kind"] == SubjectKind.PROFESSIONAL else "general"] += row["credits"]
        person["by_form"][row["form"]] += row["credits"]
    obliged = _obliged_archive_ids(policy.year) | set(sums)
    batch, count = [], 0
    for archive_id in obliged:
        person = sums.get(archive_id)
        professional = person["professional"] if person else ZERO
        general = person["general"] if person else ZERO
        by_form = {k: str(v) for k, v in person["by_form"].items() if v} if person else {}
        batch.append(IntegrityRecord(archive_id=archive_id, year=policy, total=professional + general,
                                     professional=professional, general=general, by_form=by_form,
                                     completed=is_complete(policy, professional + general, professional),
                                     frozen_at=now))
        if len(batch) >= 5000:
            count += len(IntegrityRecord.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    count += len(IntegrityRecord.objects.bulk_create(batch, ignore_conflicts=True))
    return count


def obliged_archives_q(year: int) -> Q:
    """Archives that owe ``year`` (R-CE-1), as one condition for set-based queries (the close, the dashboards):
    active, with accounting work or a qualification begun before 1 January of ``year``."""
    from django.db.models import Exists, OuterRef

    from records.models import Qualification

    before = dt.date(year, 1, 1)
    qualified = Qualification.objects.filter(archive=OuterRef("pk"), obtained_on__lt=before)
    return Q(status=Archive.Status.ACTIVE) & (Q(began_accounting_on__lt=before) | Exists(qualified))


def _obliged_archive_ids(year: int) -> set[int]:
    return set(Archive.objects.filter(obliged_archives_q(year)).values_list("pk", flat=True))


def due_years_close(today: dt.date | None = None) -> list[int]:
    """Close every year whose registration closed before today and is not frozen (R-DL-3: catches up)."""
    today = today or timezone.localdate()
    closed = []
    for year in CEYear.objects.filter(frozen_at__isnull=True, registration_closes_on__lt=today).order_by("year"):
        ce_year_close(year=year.year)
        closed.append(year.year)
    return closed
