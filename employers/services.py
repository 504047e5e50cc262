"""Employers' writes (用人单位): administrators and their units, reminders to people behind on CE.

- :func:`employer_account_create` — provincial staff (the portal's 用人单位管理员 page, or
  ``create_staff --role employer --credit-code C [--credit-code C2]``) make an employer administrator bound
  to one or more units. Every code is checked (18 characters, the GB 32100 check character) and every
  problem is said at once; nothing is written unless everything is right.
- :func:`employer_units_set` — provincial staff change which units an administrator oversees.
- :func:`reminder_send` / :func:`reminders_send_behind` — an employer reminds one person / everyone behind
  on a CE year (单位提醒): a notification "单位提醒：…" linking to the person's CE page of that year, at
  most one per person per day whoever sends it (``EmployerReminder``'s unique constraint decides a race),
  each with its audit row. Who may be reminded is :attr:`employers.selectors.PersonRow.remind_refusal`.

Employers change nothing about their people: they read (:mod:`employers.selectors`) and remind.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from accounts.models import Role, User
from accounts.services import staff_create
from accounts.validators import validate_credit_code
from cpe.models import CEYear
from employers import selectors
from employers.models import EmployerReminder, EmployerUnit
from employers.selectors import CeFilter, PersonRow
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, record_events, register_event_labels
from kjzx.models import Notification
from kjzx.notifications import notification_send, notifications_send_bulk

register_event_labels({
    "employer.units_changed": "变更用人单位管理员所辖单位",
    "employer.reminder_sent": "用人单位发送继续教育提醒",
    "employer.people_exported": "用人单位导出本单位会计人员名单",
})

REMINDER_EVENT = "employer.reminder"
REMINDER_RACE = "刚刚已有人向其中的人员发送了提醒（每人每天最多一次），请刷新页面后重试。"
MAX_CODES = 50


# --- administrators and their units ---------------------------------------------------------------

def credit_codes_clean(values: Iterable) -> list[str]:
    """The distinct codes of ``values`` in upper case, each checked (GB 32100); DomainError naming each wrong one."""
    codes: list[str] = []
    errors: list[str] = []
    for value in values or ():
        code = str(value or "").strip().upper()
        if not code:
            continue
        try:
            validate_credit_code(code)
        except ValidationError:
            errors.append(f"统一社会信用代码“{code[:30]}”不正确：应为18位，且校验位正确。")
            continue
        if code not in codes:
            codes.append(code)
    if not codes and not errors:
        errors.append("请至少填写一个统一社会信用代码。")
    if len(codes) > MAX_CODES:
        errors.append(f"一个用人单位管理员账号最多绑定{MAX_CODES}个单位。")
    if errors:
        raise DomainError({"credit_codes": errors})
    return codes


@transaction.atomic
def employer_account_create(*, username: str, password: str, region_code: str, credit_codes: Iterable,
                            name: str = "", by: User | None = None) -> User:
    """An employer administrator (用人单位管理员) bound to ``credit_codes``, with its TOTP device (API.md §3)."""
    errors: dict[str, list[str]] = {}
    codes: list[str] = []
    try:
        codes = credit_codes_clean(credit_codes)
    except DomainError as exc:
        errors.update(exc.errors)
    user = None
    try:
        user = staff_create(role=Role.EMPLOYER, region_code=region_code, username=username, password=password,
                            name=name, by=by)
    except DomainError as exc:
        errors = {**exc.errors, **errors}
    if errors:  # the account, if made, goes with the transaction: nothing half-written
        raise DomainError(errors)
    EmployerUnit.objects.bulk_create(EmployerUnit(user=user, credit_code=code) for code in codes)
    record_event(user, "employer.units_changed", by=by, extra={"before": [], "after": sorted(codes)})
    return user


@transaction.atomic
def employer_units_set(*, employer: User, credit_codes: Iterable, by: User | None) -> list[str]:
    """The units ``employer`` oversees become exactly ``credit_codes`` (provincial staff), audited."""
    employer = User.objects.select_for_update().get(pk=employer.pk)  # two edits at once: one after the other
    if employer.role != Role.EMPLOYER:
        raise DomainError({"detail": ["该账号不是用人单位管理员，不能绑定单位。"]})
    codes = credit_codes_clean(credit_codes)
    before = sorted(EmployerUnit.objects.filter(user=employer).values_list("credit_code", flat=True))
    if before == sorted(codes):
        return before
    EmployerUnit.objects.filter(user=employer).exclude(credit_code__in=codes).delete()
    EmployerUnit.objects.bulk_create(EmployerUnit(user=employer, credit_code=code) for code in codes
                                     if code not in before)
    record_event(employer, "employer.units_changed", by=by, extra={"before": before, "after": sorted(codes)})
    return sorted(codes)


# --- reminders (单位提醒) ---------------------------------------------------------------------------

def _number(credits: Decimal) -> str:
    """24, 22.5: credits as people write them."""
    text = f"{credits.quantize(Decimal('0.1')):f}"
    return text[:-2] if text.endswith(".0") else text


def reminder_text(row: PersonRow) -> tuple[str, str]:
    """(title, body) of the reminder to ``row``'s person: what they have and still lack, and by when."""
    year, policy = row.year, row.policy
    unit = row.archive.employer_name.strip() or "您的工作单位"
    lacks = f"还差{_number(row.missing_total)}学分"
    if row.missing_professional:
        lacks += f"（其中专业科目还差{_number(row.missing_professional)}学分）"
    body = (f"{unit}提醒您：您{year}年度继续教育已取得{_number(row.total)}学分（其中专业科目"
            f"{_number(row.professional)}学分），{lacks}。每年应取得不少于{_number(policy.required_total)}学分，"
            f"其中专业科目不少于{_number(policy.required_professional)}学分，"
            f"请于{policy.deadline.year}年{policy.deadline.month}月{policy.deadline.day}日前完成。")
    return f"单位提醒：请尽快完成{year}年度继续教育", body


def _reminder(row: PersonRow, employer: User, today: dt.date, notification: Notification) -> EmployerReminder:
    return EmployerReminder(archive=row.archive, year=row.policy, sent_by=employer,
                            credit_code=row.archive.employer_credit_code, sent_on=today,
                            missing_total=row.missing_total, missing_professional=row.missing_professional,
                            notification=notification)


def _reminders_save(rows: list[PersonRow], employer: User, today: dt.date,
                    notifications: list[Notification]) -> list[EmployerReminder]:
    """The reminders and their audit rows; a person reminded meanwhile by someone else is a Conflict."""
    reminders = [_reminder(row, employer, today, n) for row, n in zip(rows, notifications, strict=True)]
    try:
        with transaction.atomic():
            reminders = EmployerReminder.objects.bulk_create(reminders)
    except IntegrityError:
        raise Conflict(REMINDER_RACE) from None
    record_events([(row.archive, {"extra": {
        "year": row.year, "credit_code": row.archive.employer_credit_code, "missing_total": str(row.missing_total),
        "missing_professional": str(row.missing_professional), "notification": n.pk}})
        for row, n in zip(rows, notifications, strict=True)], "employer.reminder_sent", by=employer)
    return reminders


@transaction.atomic
def reminder_send(*, employer: User, archive_id, policy: CEYear, today: dt.date | None = None) -> EmployerReminder:
    """Remind one of the employer's people behind on ``policy``'s year (单位提醒); 404 for anyone else's person,
    Conflict when they may not be reminded now (done, frozen, no login, already today)."""
    today = today or timezone.localdate()
    row = selectors.person_get(employer, archive_id, policy, today=today)
    if refusal := row.remind_refusal:
        raise Conflict(refusal)
    title, body = reminder_text(row)
    notification = notification_send(user=row.archive.person, title=title, body=body, event=REMINDER_EVENT,
                                     link=reverse("person_cpe_year", kwargs={"year": row.year}))
    return _reminders_save([row], employer, today, [notification])[0]


@transaction.atomic
def reminders_send_behind(*, employer: User, policy: CEYear, credit_code: str = "",
                          today: dt.date | None = None) -> int:
    """Remind every one of the employer's people behind on the year and not reminded today; how many."""
    if policy.is_frozen:
        raise Conflict("该年度继续教育已归档，不能再发送提醒。")
    today = today or timezone.localdate()
    behind = selectors.people_list(employer, policy, ce=CeFilter.BEHIND, credit_code=credit_code, today=today)
    rows = [row for row in selectors.person_rows(behind.filter(person__isnull=False, e_reminded=False), policy)
            if row.can_remind]
    if not rows:
        return 0
    link = reverse("person_cpe_year", kwargs={"year": policy.year})
    notifications = notifications_send_bulk([
        Notification(user=row.archive.person, title=title, body=body, link=link, event=REMINDER_EVENT)
        for row in rows for title, body in [reminder_text(row)]])
    _reminders_save(rows, employer, today, notifications)
    return len(rows)


def people_export_record(*, employer: User, policy: CEYear, count: int) -> None:
    """An employer took its people's list away as a file: who, when, which year, how many (PIPL)."""
    record_event(employer, "employer.people_exported", by=employer, extra={"year": policy.year, "people": count})
