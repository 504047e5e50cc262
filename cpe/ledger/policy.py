"""The continuing-education policy as data (继续教育年度政策、学分计量标准), R-CE-3, R-CE-5, R-CE-6, R-CE-13.

Every write to a year's policy or a credit standard goes through here — the admin, the daily beat
task, the ``close_cpe_year`` command — so the same checks and the same audit rows apply to all:

- :func:`ce_year_ensure`: the year exists. A new year copies the previous year's numbers (90 / 60
  unless the province changed them), is due by 31 March of the next year and has no make-up
  window (the 2024 notice: "今后不再组织补学"); registration closes on the deadline. Staff then
  adjust it in the admin if the province decides otherwise.
- :func:`ce_year_errors` / :func:`ce_year_save`: the deadline falls after the year, a make-up window
  ends no earlier than the deadline, registration closes no earlier than both, professional credits
  fit within the total; a frozen year's numbers and dates never change (R-CE-13), only its note.
- :func:`credit_standard_save`: a standard's value changes by adding a row with a later
  ``effective_from``; a row already in force for a frozen year keeps its numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from django.db import transaction

from cpe.ledger.rules import frozen_refusal
from cpe.ledger.summaries import credit_summaries_recount
from cpe.models import CEYear, CreditStandard
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels

register_event_labels({
    "cpe.year_created": "新增继续教育年度",
    "cpe.year_updated": "修改继续教育年度政策",
    "cpe.standard_created": "新增学分计量标准",
    "cpe.standard_updated": "修改学分计量标准",
})

FIRST_YEAR = 2018  # 财会〔2018〕10号 took effect on 2018-07-01
DEFAULT_TOTAL, DEFAULT_PROFESSIONAL = Decimal("90"), Decimal("60")
# What a frozen year keeps (R-CE-13): everything but its note.
YEAR_NUMBERS = ("required_total", "required_professional", "deadline", "makeup_until", "registration_closes_on")
STANDARD_NUMBERS = ("form", "variant", "credits", "per", "daily_cap", "subject_kind", "effective_from")


def default_deadline(year: int) -> dt.date:
    """R-CE-5: year N is completed by 31 March of N+1."""
    return dt.date(year + 1, 3, 31)


# --- a year's policy ---------------------------------------------------------------------------

def ce_year_ensure(year: int) -> CEYear:
    """The policy of ``year``, created from the latest earlier year's numbers if it is missing (R-CE-5).

    Gaps are filled in order, so each year copies its predecessor. Safe to run twice and by two
    workers at once (the year is the primary key). The creation is audited, by the system.
    """
    if year < FIRST_YEAR:
        raise DomainError({"year": [f"继续教育年度自{FIRST_YEAR}年起。"]})
    existing = CEYear.objects.filter(pk=year).first()
    if existing is not None:
        return existing
    previous = CEYear.objects.filter(year__lt=year).order_by("-year").first()
    if previous is not None and previous.year < year - 1:
        previous = ce_year_ensure(year - 1)
    deadline = default_deadline(year)
    with transaction.atomic():
        policy, created = CEYear.objects.get_or_create(year=year, defaults={
            "required_total": previous.required_total if previous else DEFAULT_TOTAL,
            "required_professional": previous.required_professional if previous else DEFAULT_PROFESSIONAL,
            "deadline": deadline, "makeup_until": None, "registration_closes_on": deadline})
        if created:
            record_event(policy, "cpe.year_created", extra=_year_figures(policy))
    return policy


def ce_year_errors(policy: CEYear) -> dict[str, list[str]]:
    """What is wrong with a year's policy, in Chinese, by field (empty when it is consistent)."""
    errors: dict[str, list[str]] = {}

    def add(field: str, message: str) -> None:
        errors.setdefault(field, []).append(message)

    if policy.year is None or policy.year < FIRST_YEAR:
        add("year", f"继续教育年度自{FIRST_YEAR}年起。")
        return errors
    total, professional = policy.required_total, policy.required_professional
    if total is not None and total <= 0:
        add("required_total", "应修总学分应大于0。")
    if total is not None and professional is not None and not 0 <= professional <= total:
        add("required_professional", "专业科目应修学分应在0至应修总学分之间。")
    if policy.deadline and policy.deadline <= dt.date(policy.year, 12, 31):
        add("deadline", f"完成期限应在{policy.year}年12月31日之后（通常为{policy.year + 1}年3月31日）。")
    if policy.makeup_until and policy.deadline and policy.makeup_until < policy.deadline:
        add("makeup_until", "补学截止日期不能早于完成期限；不组织补学请留空。")
    latest = max(filter(None, [policy.deadline, policy.makeup_until]), default=None)
    if policy.registration_closes_on and latest and policy.registration_closes_on < latest:
        add("registration_closes_on",
            f"学分登记截止日期不能早于完成期限和补学截止日期（{latest:%Y-%m-%d}）。")
    return errors


def frozen_year_errors(policy: CEYear, stored: CEYear | None) -> dict[str, list[str]]:
    """R-CE-13: once frozen, a year's numbers and dates are what its results were judged by."""
    if stored is None or not stored.is_frozen:
        return {}
    changed = [field for field in YEAR_NUMBERS if getattr(policy, field) != getattr(stored, field)]
    message = frozen_refusal(stored.year, "应修学分和各项日期不能再修改")
    return {field: [message] for field in changed}


@transaction.atomic
def ce_year_save(*, policy: CEYear, by) -> CEYear:
    """Create or change a year's policy (年度继续教育政策), checked and audited (R-CE-3, 5, 6, 13)."""
    stored = CEYear.objects.select_for_update().filter(pk=policy.year).first()
    frozen = frozen_year_errors(policy, stored)
    if frozen:
        raise Conflict(next(iter(frozen.values()))[0])
    errors = ce_year_errors(policy)
    if errors:
        raise DomainError(errors)
    if stored is not None:
        policy.frozen_at = stored.frozen_at  # never set or cleared here: only ce_year_close freezes
    changed = [field for field in (*YEAR_NUMBERS, "note")
               if stored is None or getattr(policy, field) != getattr(stored, field)]
    policy.save()
    if stored is not None and {"required_total", "required_professional"} & set(changed):
        credit_summaries_recount(policy)  # who has completed the year changes with what it requires
    if stored is None:
        record_event(policy, "cpe.year_created", by=by, extra=_year_figures(policy))
    elif changed:
        record_event(policy, "cpe.year_updated", by=by, extra={
            field: {"from": _plain(getattr(stored, field)), "to": _plain(getattr(policy, field))}
            for field in changed})
    return policy


def _plain(value):
    if isinstance(value, (dt.date, Decimal)):
        return str(value)
    return value


def _year_figures(policy: CEYear) -> dict:
    return {field: _plain(getattr(policy, field)) for field in YEAR_NUMBERS}


# --- credit standards --------------------------------------------------------------------------

def credit_standard_is_fixed(standard: CreditStandard) -> bool:
    """A standard in force for a frozen year keeps its numbers: later values are new rows."""
    return standard.pk is not None and CEYear.objects.filter(
        year__gte=standard.effective_from, frozen_at__isnull=False).exists()


def credit_standard_errors(standard: CreditStandard) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if standard.effective_from is not None and standard.effective_from < FIRST_YEAR:
        errors["effective_from"] = [f"起始年度不能早于{FIRST_YEAR}年。"]
    if standard.credits is not None and standard.credits <= 0:
        errors["credits"] = ["学分应大于0。"]
    if standard.daily_cap is not None and standard.daily_cap <= 0:
        errors["daily_cap"] = ["每日上限应大于0；不设上限请留空。"]
    return errors


@transaction.atomic
def credit_standard_save(*, standard: CreditStandard, by) -> CreditStandard:
    """Add or correct a credit standard (学分计量标准), checked and audited (R-CE-11, the SPEC table)."""
    stored = CreditStandard.objects.select_for_update().filter(pk=standard.pk).first() if standard.pk else None
    if stored is not None and credit_standard_is_fixed(stored):
        if any(getattr(standard, field) != getattr(stored, field) for field in STANDARD_NUMBERS):
            raise Conflict("该标准已用于已归档年度，不能修改；如需调整，请新增一条起始年度更晚的标准。")
    errors = credit_standard_errors(standard)
    if errors:
        raise DomainError(errors)
    changed = [field for field in (*STANDARD_NUMBERS, "label")
               if stored is None or getattr(standard, field) != getattr(stored, field)]
    standard.save()
    if changed:
        record_event(standard, "cpe.standard_created" if stored is None else "cpe.standard_updated", by=by,
                     extra={field: _plain(getattr(standard, field)) for field in changed})
    return standard
