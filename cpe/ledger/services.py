"""Writes of the ledger (学分台账): registering credits, correcting them, closing a year.

R-CE-4, R-CE-12, R-CE-13, R-CE-15, STYLE §3. Every credit is one append-only
:class:`~cpe.models.CreditEntry`; totals are computed, never stored
(:func:`cpe.ledger.selectors.year_status`).

**One way in.** Every source — an online course, an institution's face-to-face list, an exam pass
list, a claim, the province one by one — ends in :func:`credits_register`, a set-based batch that
owns every rule of registering:

- the year's lock: its ``CEYear`` row ``FOR UPDATE``, as :func:`ce_year_close` takes it, so a close
  waits for a batch and a batch for a close;
- R-CE-13: nothing in a frozen year (the whole batch refused, :func:`cpe.ledger.rules.frozen_refusal`);
- R-CE-12: only archives whose collection is approved (one query over the batch,
  :data:`cpe.ledger.rules.COLLECTION_APPROVED`); the others come back as ``not_collected``;
- one entry per source, person and year (one query over the batch, and the unique constraint
  ``credit_entry_unique_source`` behind it); repeats come back as ``duplicate``;
- the audit: one row per batch, on the object the batch came from, with its rows and credits.

Rows are lightweight :class:`CreditRow` tuples whose source, subject kind and label default to the
batch's, inserted with one ``bulk_create``: a list of 5,000 people costs a handful of queries.
:func:`credit_register` is its one-row case, which raises instead of reporting (400 not collected,
409 frozen or already registered).

A year closes on its policy's ``registration_closes_on`` (:func:`ce_year_close`, a beat task and the
``close_cpe_year`` command): each obliged person's result goes into their credit-information file
(``IntegrityRecord``) and the year no longer changes. Just before, the :data:`BEFORE_CLOSE` hooks run
— the one plug-in point of the ledger: online learning registers what people earned but had not
yet had registered (``cpe.learning`` depends on the ledger, so the ledger cannot call it by name).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Iterable
from decimal import Decimal, InvalidOperation
from typing import NamedTuple

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from cpe.ledger.certificates.services import certificate_revoke_if_incomplete
from cpe.ledger.rules import COLLECTION_APPROVED, NOT_COLLECTED, frozen_refusal
from cpe.ledger.selectors import ZERO, is_complete, obliged_archive_ids, registered_sources
from cpe.ledger.staged import StagedCredits, staged_register
from cpe.ledger.summaries import credit_summaries_add, credit_summaries_freeze, ledger_rows_between
from cpe.models import CEYear, CreditEntry, CreditForm, IntegrityRecord, SourceType, SubjectKind
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from records.models import Archive

register_event_labels({
    "cpe.credit_registered": "登记学分",
    "cpe.credit_reversed": "冲销学分",
    "cpe.year_closed": "年度学分登记结束（纳入信用信息档案）",
})

# Hooks run inside the close's transaction just before a year is frozen, each with (year): the one
# plug-in point of the ledger (online learning registers pending passes; cpe.apps fills it).
BEFORE_CLOSE: list[Callable[[CEYear], None]] = []
INTEGRITY_BATCH = 5000


# --- registering ------------------------------------------------------------------------------

class CreditRow(NamedTuple):
    """One credit of a batch: whose and how much; an empty field takes the batch's value."""

    archive_id: int
    credits: Decimal
    source_id: str = ""
    subject_kind: str = ""
    source_label: str = ""


@dataclasses.dataclass(frozen=True)
class Registration:
    """What a batch came to: the new entries, and the rows the ledger refused with the reason."""

    entries: list[CreditEntry]
    duplicate: list[CreditRow]  # this source is in the ledger for the person and year already
    not_collected: list[CreditRow]  # R-CE-12

    @property
    def credits(self) -> Decimal:
        return sum((entry.credits for entry in self.entries), ZERO)


def _positive(credits) -> Decimal:
    try:
        value = Decimal(str(credits))
    except InvalidOperation:
        value = None
    if value is None or not value.is_finite() or value <= 0:
        raise DomainError({"credits": ["学分应大于0。"]})
    return value


def _duplicate_refusal(row: CreditRow, year: int) -> Conflict:
    return Conflict(f"该来源（{row.source_label}）已为此人登记过{year}年度学分，不能重复登记。")


def _open_year(year: int) -> CEYear:
    """The year's policy, locked (a close waits for us, or we for it); refused when frozen (R-CE-13)."""
    policy = CEYear.objects.select_for_update().filter(pk=year).first()
    if policy is None:
        raise DomainError({"year": [f"{year}年度的继续教育政策尚未设置。"]})
    if policy.is_frozen:
        raise Conflict(frozen_refusal(policy.year))
    return policy


def _complete_rows(rows: Iterable[CreditRow], *, source_id: str, subject_kind: str, source_label: str
                   ) -> list[CreditRow]:
    filled = [CreditRow(row.archive_id, _positive(row.credits), str(row.source_id or source_id),
                        row.subject_kind or subject_kind, (row.source_label or source_label)[:200]) for row in rows]
    if any(not row.source_id or row.subject_kind not in SubjectKind.values for row in filled):
        raise DomainError({"form": ["科目类别或来源不正确。"]})
    return filled


def credits_register(rows: Iterable[CreditRow] | StagedCredits, *, year: int, form: str, source_type: str,
                     source_id: str = "",
                     subject_kind: str = "", source_label: str = "", by=None, evidence=None, strict: bool = False,
                     audit_target=None, event: str = "cpe.credit_registered",
                     audit_extra: dict | None = None) -> Registration:
    """Register a batch of credits of one year, form and source type (学分登记); see the module doc.

    ``strict``: refuse the whole batch at the first refused row (DomainError for R-CE-12, Conflict for
    a repeat) instead of reporting it. A frozen year is always refused (Conflict). The audit row
    ``event`` goes on ``audit_target`` (default: the entry, when there is one), ``audit_extra`` merged.
    ``rows`` may be a :class:`~cpe.ledger.staged.StagedCredits` (a list's rows already in a table): the
    same rules, set-based, one ``INSERT … SELECT`` (:func:`cpe.ledger.staged.staged_register`).
    """
    if form not in CreditForm.values or source_type not in SourceType.values:
        raise DomainError({"form": ["形式或来源不正确。"]})
    staged = isinstance(rows, StagedCredits)
    if not staged:
        rows = _complete_rows(rows, source_id=source_id, subject_kind=subject_kind, source_label=source_label)
        archive_ids = {row.archive_id for row in rows}
    try:
        with transaction.atomic():
            policy = _open_year(year)
            if staged:
                entries, *refused = staged_register(
                    rows, policy=policy, form=form, source_type=source_type, source_id=str(source_id),
                    subject_kind=subject_kind, source_label=source_label, by=by, evidence=evidence)
                duplicate, not_collected = ([CreditRow(*row) for row in found] for found in refused)
            else:
                collected = set(Archive.objects.filter(COLLECTION_APPROVED, pk__in=archive_ids)
                                .values_list("pk", flat=True))
                seen = registered_sources(year=policy.year, source_type=source_type, archive_ids=archive_ids,
                                          source_ids={row.source_id for row in rows})
                new, duplicate, not_collected = _sort_rows(rows, collected, seen, policy, strict)
                now = timezone.now()
                entries = CreditEntry.objects.bulk_create([CreditEntry(
                    archive_id=row.archive_id, year=policy, subject_kind=row.subject_kind, form=form,
                    credits=row.credits, source_type=source_type, source_id=row.source_id,
                    source_label=row.source_label, evidence=evidence,
                    registered_by=by if getattr(by, "pk", None) else None, registered_at=now) for row in new])
            registration = Registration(entries, duplicate, not_collected)
            if entries:  # the dashboards' sums, in this transaction (cpe.ledger.summaries)
                credit_summaries_add(*ledger_rows_between(policy.year, min(e.pk for e in entries),
                                                          max(e.pk for e in entries)))
                record_event(audit_target if audit_target is not None else entries[0] if len(entries) == 1 else None,
                             event, by=by, extra=_audit_extra(registration, policy, source_type, audit_extra))
    except IntegrityError:  # the unique source, should two batches of one year ever race past the lock
        raise Conflict(f"部分来源已为相关人员登记过{year}年度学分，未作任何改动，请刷新后重试。") from None
    return registration


def _sort_rows(rows: list[CreditRow], collected: set[int], seen: set[tuple[int, str]], policy: CEYear,
               strict: bool) -> tuple[list[CreditRow], list[CreditRow], list[CreditRow]]:
    """(new rows, repeats, rows waiting for their collection: R-CE-12), or the first refusal when ``strict``."""
    new, duplicate, not_collected = [], [], []
    for row in rows:
        if row.archive_id not in collected:
            if strict:
                raise DomainError({"archive": [NOT_COLLECTED]})
            not_collected.append(row)
        elif (row.archive_id, row.source_id) in seen:
            if strict:
                raise _duplicate_refusal(row, policy.year)
            duplicate.append(row)
        else:
            seen.add((row.archive_id, row.source_id))
            new.append(row)
    return new, duplicate, not_collected


def _audit_extra(registration: Registration, policy: CEYear, source_type: str, extra: dict | None) -> dict:
    entries = registration.entries
    sources = sorted({entry.source_id for entry in entries})
    figures = {"year": policy.year, "rows": len(entries), "credits": str(registration.credits),
               "source": f"{source_type}:{sources[0]}" if len(sources) == 1 else source_type}
    archives = {entry.archive_id for entry in entries}
    if len(archives) == 1:
        figures["archive"] = next(iter(archives))
    return {**figures, **(extra or {})}


def credit_register(*, archive: Archive, year: int, subject_kind: str, form: str, credits, source_type: str,
                    source_id: str, source_label: str, by=None, evidence=None) -> CreditEntry:
    """Register one credit entry (学分登记): :func:`credits_register` of one row, refusals raised."""
    registration = credits_register(
        [CreditRow(archive.pk, credits)], year=year, form=form, source_type=source_type, source_id=str(source_id),
        subject_kind=subject_kind, source_label=source_label, by=by, evidence=evidence, strict=True)
    return registration.entries[0]


@transaction.atomic
def credit_reverse(*, entry: CreditEntry, by, reason: str) -> CreditEntry:
    """Correct a wrong entry with a reversing one (更正), never by editing it (STYLE §3)."""
    reason = (reason or "").strip()
    if not reason:
        raise DomainError({"reason": ["请填写更正原因。"]})
    policy = _open_year(entry.year_id)
    if not Archive.objects.filter(COLLECTION_APPROVED, pk=entry.archive_id).exists():
        raise DomainError({"archive": [NOT_COLLECTED]})
    if CreditEntry.objects.filter(reverses=entry).exists() or entry.reverses_id:
        raise Conflict("该记录已冲销，或本身就是冲销记录。")
    reversal = CreditEntry.objects.create(
        archive_id=entry.archive_id, year=policy, subject_kind=entry.subject_kind, form=entry.form,
        credits=-entry.credits, source_type=SourceType.REVERSAL, source_id=str(entry.pk),
        source_label=f"冲销：{entry.source_label}"[:200], registered_by=by, reverses=entry, reason=reason[:200])
    credit_summaries_add(*ledger_rows_between(policy.year, reversal.pk, reversal.pk))
    record_event(reversal, "cpe.credit_reversed", by=by, reason=reason, extra={"reverses": entry.pk})
    certificate_revoke_if_incomplete(reversal, by=by, reason=reason)  # R-CE-15: below the requirement → 作废
    return reversal


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
        credit_summaries_freeze(policy)
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
    batch, count = [], 0
    for archive_id in obliged_archive_ids(policy.year) | set(sums):
        person = sums.get(archive_id)
        professional = person["professional"] if person else ZERO
        general = person["general"] if person else ZERO
        by_form = {k: str(v) for k, v in person["by_form"].items() if v} if person else {}
        batch.append(IntegrityRecord(archive_id=archive_id, year=policy, total=professional + general,
                                     professional=professional, general=general, by_form=by_form,
                                     completed=is_complete(policy, professional + general, professional),
                                     frozen_at=now))
        if len(batch) >= INTEGRITY_BATCH:
            count += len(IntegrityRecord.objects.bulk_create(batch, ignore_conflicts=True))
            batch = []
    count += len(IntegrityRecord.objects.bulk_create(batch, ignore_conflicts=True))
    return count


def due_years_close(today: dt.date | None = None) -> list[int]:
    """Close every year whose registration closed before today and is not frozen (R-DL-3: catches up)."""
    today = today or timezone.localdate()
    closed = []
    for year in CEYear.objects.filter(frozen_at__isnull=True, registration_closes_on__lt=today).order_by("year"):
        ce_year_close(year=year.year)
        closed.append(year.year)
    return closed

