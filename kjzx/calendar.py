"""Calendar corrections (工作日历变更): every write to the working-day calendar and the due dates it moves, R-DL-1.

Provincial staff enter each year's holiday arrangement when the State Council publishes it (November or
December), and correct a day when it changes. Until then a year ``chinese_calendar`` does not know counts
Monday–Friday, so a step that reaches into it has a provisional due date (暂按周一至周五计算). Every write
here, in one transaction:

1. takes the calendar lock (one change at a time) and locks the open steps that reach the changed days —
   every application in a bureau's review whose due date is on or after the first changed day;
2. reads each step's start and working days: stored when it began (``step_started_on``, ``step_days``,
   :meth:`kjzx.workflow.WorkflowModel.step_begin`); for a row from before they were stored, the start is the
   later of ``submitted_at`` and ``accepted_at`` and the number is counted back from its due date on the
   calendar as it is *before* the write;
3. writes the calendar, with an audit row;
4. recomputes each due date as the n-th working day after the start (R-DL-1), updates the rows whose date
   moved — one UPDATE per new date and kind, not one per row — and writes one history event for each,
   ``<kind>.due_date_recomputed``, whose reason says why: "因 2027 年节假日安排更新，办理期限由 … 调整为 …".

A due date in a year whose days did not change does not move. A step's number of working days is the
policy's when the step began: editing StepDeadline changes new steps only.
"""

from __future__ import annotations

import bisect
import datetime as dt
import re
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import connection, transaction
from django.utils import timezone

from kjzx.audit import record_event, record_events, register_event_labels
from kjzx.models import CalendarDay, CalendarYear
from kjzx.workdays import CALENDAR_LOCK, working_day_set

register_event_labels({
    "calendar.day_saved": "修改工作日历",
    "calendar.day_deleted": "删除工作日历日期",
    "calendar.year_arranged": "录入全年节假日安排",
    "calendar.year_confirmed": "确认工作日历年度",
})
RECOMPUTED_LABEL = "办理期限调整"
RECOMPUTED_EVENT = "due_date_recomputed"
# How far past the latest step start a due date can lie: n working days of at most 60, plus the longest
# run of holidays; the working-day set is loaded once over this span.
_SPAN_DAYS = 60 * 3 + 40


@dataclass(frozen=True)
class DayArrangement:
    """One day of a year's arrangement as staff enter it: a holiday on a weekday, or a working weekend."""

    date: dt.date
    is_working_day: bool
    name: str = ""


@dataclass
class _Step:
    model: type
    pk: int
    created_at: dt.datetime  # with pk, the application number the history quotes
    due: dt.date
    start: dt.date
    days: int
    stored: bool  # start and days were on the row; else derived and now written with it


# --- the writes staff make -----------------------------------------------------------------------------

def calendar_day_save(*, day: CalendarDay, by, ip: str | None = None) -> int:
    """Save one day of the calendar (a correction), R-DL-1; returns how many open due dates moved."""
    before = CalendarDay.objects.filter(pk=day.pk).values("date", "is_working_day", "name").first() if day.pk else None
    dates = {day.date} | ({before["date"]} if before else set())

    def write():
        day.save()
        record_event(day, "calendar.day_saved", by=by, ip=ip, extra={
            "date": day.date.isoformat(), "is_working_day": day.is_working_day, "name": day.name,
            "before": {**before, "date": before["date"].isoformat()} if before else None})

    return calendar_change(dates, write, by=by)


def calendar_days_delete(*, days: Iterable[CalendarDay], by, ip: str | None = None) -> int:
    """Delete days from the calendar (they answer by the library or Monday–Friday again); returns moves."""
    days = list(days)
    if not days:
        return 0

    def write():
        for day in days:
            record_event(day, "calendar.day_deleted", by=by, ip=ip, extra={
                "date": day.date.isoformat(), "is_working_day": day.is_working_day, "name": day.name})
        CalendarDay.objects.filter(pk__in=[day.pk for day in days]).delete()

    return calendar_change({day.date for day in days}, write, by=by)


def calendar_year_arrange(*, year: int, days: list[DayArrangement], by, ip: str | None = None) -> int:
    """Make ``year``'s CalendarDay rows exactly ``days`` (录入全年节假日安排), R-DL-1; returns moves.

    Rows of the year not listed are deleted, changed ones updated, new ones created; the open due
    dates are recomputed once for the whole arrangement.
    """
    wanted = {day.date: day for day in days}
    if any(date.year != year for date in wanted):
        raise ValueError("every day must be in the year")
    existing = {row.date: row for row in CalendarDay.objects.filter(date__year=year)}
    gone = [row for date, row in existing.items() if date not in wanted]
    changed = [CalendarDay(pk=existing[date].pk, date=date, is_working_day=day.is_working_day, name=day.name,
                           note=existing[date].note)
               for date, day in wanted.items()
               if date in existing and (existing[date].is_working_day, existing[date].name) != (day.is_working_day,
                                                                                             day.name)]
    new = [CalendarDay(date=date, is_working_day=day.is_working_day, name=day.name)
           for date, day in wanted.items() if date not in existing]
    dates = {row.date for row in [*gone, *changed, *new]}
    if not dates:
        return 0

    def write():
        CalendarDay.objects.filter(pk__in=[row.pk for row in gone]).delete()
        CalendarDay.objects.bulk_update(changed, ["is_working_day", "name"])
        CalendarDay.objects.bulk_create(new)
        record_event(CalendarYear.objects.filter(year=year).first(), "calendar.year_arranged", by=by, ip=ip,
                     extra={"year": year, "added": len(new), "changed": len(changed), "deleted": len(gone)})

    return calendar_change(dates, write, by=by)


@transaction.atomic
def calendar_year_save(*, calendar_year: CalendarYear, by) -> tuple[CalendarYear, int]:
    """Save a calendar year (工作日历年度), stamping who confirmed it and when, R-DL-1.

    Confirming a year also recomputes the open due dates that reach into it: it is the moment staff say
    the year is complete, whatever way its days were entered. Returns the year and how many moved.
    """
    was_confirmed = CalendarYear.objects.filter(pk=calendar_year.pk, confirmed=True).exists()
    newly_confirmed = calendar_year.confirmed and not was_confirmed
    if newly_confirmed:
        calendar_year.confirmed_by, calendar_year.confirmed_at = by, timezone.now()
    elif not calendar_year.confirmed:
        calendar_year.confirmed_by, calendar_year.confirmed_at = None, None
    calendar_year.save()
    moved = 0
    if newly_confirmed:
        record_event(calendar_year, "calendar.year_confirmed", by=by, extra={"source": calendar_year.source})
        moved = calendar_change({dt.date(calendar_year.year, 1, 1)}, lambda: None, by=by)
    return calendar_year, moved


# --- a year's arrangement as text: what staff copy from the State Council's notice ---------------------

HOLIDAY_WORDS = ("放假", "休息", "休")
WORKING_WORDS = ("上班", "工作", "班")
_LINE = re.compile(r"^(?P<first>\d{4}-\d{1,2}-\d{1,2})(?:\s*(?:至|到|~|～)\s*(?P<last>\d{4}-\d{1,2}-\d{1,2}))?"
                   r"\s+(?P<kind>\S+)(?:\s+(?P<name>.+))?$")
MAX_RANGE_DAYS = 31


def arrangement_parse(text: str, year: int) -> list[DayArrangement]:
    """The lines ``2027-02-15至2027-02-21 放假 春节`` / ``2027-02-07 上班 春节调休`` as days (R-DL-1).

    Raises ValueError with every wrong line named (第n行：…), so that nothing is half-saved.
    """
    days: dict[dt.date, DayArrangement] = {}
    errors = []
    for number, line in enumerate((text or "").splitlines(), start=1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        try:
            for day in _parse_line(line, year):
                if day.date in days and days[day.date] != day:
                    raise ValueError(f"{day.date:%Y-%m-%d} 已在前面写过，且安排不同")
                days[day.date] = day
        except ValueError as exc:
            errors.append(f"第{number}行：{exc}")
    if errors:
        raise ValueError("；".join(errors))
    return sorted(days.values(), key=lambda day: day.date)


def _parse_line(line: str, year: int) -> list[DayArrangement]:
    match = _LINE.match(line)
    if not match:
        raise ValueError("格式应为“日期 放假/上班 名称”，如“2027-01-01 放假 元旦”或“2027-02-15至2027-02-21 放假 春节”")
    try:
        first = dt.date.fromisoformat(_padded(match["first"]))
        last = dt.date.fromisoformat(_padded(match["last"])) if match["last"] else first
    except ValueError:
        raise ValueError("日期不存在") from None
    kind = match["kind"]
    if kind not in HOLIDAY_WORDS + WORKING_WORDS:
        raise ValueError(f"“{kind}”应为“放假”或“上班”")
    if first.year != year or last.year != year:
        raise ValueError(f"日期应在{year}年内")
    if last < first or (last - first).days >= MAX_RANGE_DAYS:
        raise ValueError("日期范围应从前到后，且不超过31天")
    name = (match["name"] or "").strip()[:50]
    working = kind in WORKING_WORDS
    return [DayArrangement(first + dt.timedelta(days=i), working, name) for i in range((last - first).days + 1)]


def _padded(text: str) -> str:
    year, month, day = text.split("-")
    return f"{year}-{int(month):02d}-{int(day):02d}"


def arrangement_text(year: int) -> str:
    """The year's CalendarDay rows as the lines :func:`arrangement_parse` reads, runs of days joined."""
    lines, run = [], []
    for row in CalendarDay.objects.filter(date__year=year).order_by("date"):
        if run and (row.date - run[-1].date).days == 1 and (row.is_working_day, row.name) == (
                run[-1].is_working_day, run[-1].name):
            run.append(row)
            continue
        if run:
            lines.append(_run_line(run))
        run = [row]
    if run:
        lines.append(_run_line(run))
    return "\n".join(lines)


def _run_line(run: list[CalendarDay]) -> str:
    dates = f"{run[0].date:%Y-%m-%d}" + (f"至{run[-1].date:%Y-%m-%d}" if len(run) > 1 else "")
    kind = "上班" if run[0].is_working_day else "放假"
    return f"{dates} {kind} {run[0].name}".strip()


# --- the recompute -------------------------------------------------------------------------------------

@transaction.atomic
def calendar_change(dates: set[dt.date], write: Callable[[], None], *, by) -> int:
    """Run ``write`` (a change to the days ``dates``) and recompute the open due dates it moves; see the
    module doc. Returns how many due dates moved."""
    _lock_calendar()
    first = min(dates)
    steps = _open_steps(first)
    write()
    return _recompute(steps, years=sorted({date.year for date in dates}), by=by)


def _lock_calendar() -> None:
    """Exclusive: two changes at once would each recompute on the other's old calendar, and a step beginning
    meanwhile (which shares the lock, kjzx.workdays.calendar_read_lock) would count on the old one."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [CALENDAR_LOCK])


def _workflow_models() -> list[type]:
    from kjzx.deadlines import workflow_models

    return workflow_models()


def _open_steps(first: dt.date) -> list[_Step]:
    """The open steps whose due date is on or after ``first``, locked, with their start and working days."""
    steps, legacy = [], []
    for model in _workflow_models():
        fields = ["pk", "created_at", "due_date", "step_started_on", "step_days", "submitted_at"]
        has_accepted = any(field.name == "accepted_at" for field in model._meta.concrete_fields)
        rows = (model.objects.select_for_update().filter(model.review_q(), due_date__gte=first)
                .values(*fields, *(["accepted_at"] if has_accepted else [])))
        for row in rows:
            if row["step_started_on"] and row["step_days"]:
                steps.append(_Step(model, row["pk"], row["created_at"], row["due_date"], row["step_started_on"],
                                   row["step_days"], True))
            else:
                moments = [row[name] for name in ("submitted_at", "accepted_at") if row.get(name)]
                start = timezone.localdate(max(moments)) if moments else None
                if start and start < row["due_date"]:
                    legacy.append(_Step(model, row["pk"], row["created_at"], row["due_date"], start, 0, False))
    if legacy:  # count their working days on the calendar as it is now, before the write
        working = sorted(working_day_set(min(s.start for s in legacy), max(s.due for s in legacy)))
        for step in legacy:
            step.days = bisect.bisect_right(working, step.due) - bisect.bisect_right(working, step.start)
    return [*steps, *(step for step in legacy if step.days > 0)]


def _due_dates(pairs: set[tuple[dt.date, int]]) -> dict[tuple[dt.date, int], dt.date]:
    """``working_days_after(start, n)`` for many pairs, loading the calendar once (R-DL-1)."""
    if not pairs:
        return {}
    first = min(start for start, _ in pairs) + dt.timedelta(days=1)
    last = max(start for start, _ in pairs) + dt.timedelta(days=_SPAN_DAYS)
    working = sorted(working_day_set(first, last))
    result = {}
    for start, n in pairs:
        index = bisect.bisect_right(working, start) + n - 1
        if index >= len(working):  # beyond the loaded span: count it alone
            from kjzx.workdays import working_days_after

            result[(start, n)] = working_days_after(start, n)
        else:
            result[(start, n)] = working[index]
    return result


def recompute_reason(years: list[int], before: dt.date, after: dt.date) -> str:
    """The history's words for a moved due date: why, from what, to what."""
    shown = "、".join(str(year) for year in years)
    return f"因 {shown} 年节假日安排更新，办理期限由 {before:%Y-%m-%d} 调整为 {after:%Y-%m-%d}"


def _recompute(steps: list[_Step], *, years: list[int], by) -> int:
    due = _due_dates({(step.start, step.days) for step in steps})
    groups: dict[tuple, list[_Step]] = defaultdict(list)
    for step in steps:
        new = due[(step.start, step.days)]
        if new != step.due or not step.stored:
            groups[(step.model, new, step.start, step.days)].append(step)
    moved: list[tuple[_Step, dt.date]] = []
    for (model, new, start, days), group in groups.items():
        model.objects.filter(pk__in=[step.pk for step in group]).update(
            due_date=new, step_started_on=start, step_days=days, updated_at=timezone.now())
        moved += [(step, new) for step in group if step.due != new]
    _record_moves(moved, years, by)
    return len(moved)


def _record_moves(moved: list[tuple[_Step, dt.date]], years: list[int], by) -> None:
    by_model: dict[type, list[tuple[_Step, dt.date]]] = defaultdict(list)
    for step, new in moved:
        by_model[step.model].append((step, new))
    for model, found in by_model.items():
        event = f"{model.KIND}.{RECOMPUTED_EVENT}"
        register_event_labels({event: RECOMPUTED_LABEL})
        rows = []
        for step, new in found:
            target = model(pk=step.pk, created_at=step.created_at)  # enough for the event and the number
            rows.append((target, {"reason": recompute_reason(years, step.due, new), "extra": {
                "number": target.number, "transition": RECOMPUTED_EVENT, "before": step.due.isoformat(),
                "after": new.isoformat(), "years": years}}))
        record_events(rows, event, by=by)
