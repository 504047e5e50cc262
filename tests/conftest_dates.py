"""Any day of the year: the clock, the ``date_sensitive`` marker and the demo the tests share (a pytest plugin).

**The clock.** ``KJZX_TODAY=YYYY-MM-DD`` (or ``YYYY-MM-DDTHH:MM``, Asia/Shanghai; a date alone means
10:00) runs the whole session as if it were that moment, the clock ticking from there (time-machine),
started before the first test module is imported:

    KJZX_TODAY=2026-12-05 bash scripts/test.sh -q

**The marker.** A test is ``date_sensitive`` when what it checks depends on the real date it runs on:
the demo, which ``load_demo`` builds backwards from today, and any test written relative to today
rather than pinned with time_machine. Every test that uses ``demo`` is marked here; mark any other
one with ``@pytest.mark.date_sensitive``. ``KJZX_DATES`` (dates as above, separated by spaces or
commas) runs each date-sensitive test once at every one of those dates, in one session (the database
is migrated once): the ``kjzx_today`` fixture moves the clock there. ``scripts/test_dates.sh``, a step
of ``.ci/run``, does it for a weekend, the eve of a holiday, 31 December and a 调休 working Sunday, so a
test or a demo story that only holds on some days fails in CI on any day:

    KJZX_DATES="2026-12-05 2026-12-31" bash scripts/test.sh -m date_sensitive -q

**The demo.** The ``demo`` fixture runs ``load_demo`` twice (the second run must add nothing) once for
the session (once per date with ``KJZX_DATES``), inside a transaction: loading it is the slowest thing
the tests do. The tests that use it run first, one after the other, on the freshly migrated database;
the transaction is rolled back as soon as the last of them ends, so no other test sees the demo's rows.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
import time
import zoneinfo

import pytest
import time_machine
from django.conf import settings

TODAY_ENV = "KJZX_TODAY"
DATES_ENV = "KJZX_DATES"
DEMO_FIXTURE = "demo"
DATE_FIXTURE = "kjzx_today"
_TRAVELLER = pytest.StashKey[time_machine.travel]()
_DEMO_TRANSACTION: list[contextlib.ExitStack] = []  # while the demo is loaded: what rolls it back


def moment_from_env(name: str, value: str) -> dt.datetime:
    """The moment ``value`` names, in the portal's time zone; 10:00 when only a date is given."""
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        raise pytest.UsageError(f"{name}={value!r}：日期格式应为 YYYY-MM-DD 或 YYYY-MM-DDTHH:MM。") from None
    if len(value) == len("YYYY-MM-DD"):
        moment = moment.replace(hour=10)
    return moment if moment.tzinfo else moment.replace(tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))


def _dates() -> list[str]:
    dates = [value for value in re.split(r"[\s,]+", os.environ.get(DATES_ENV, "")) if value]
    for value in dates:
        moment_from_env(DATES_ENV, value)  # a bad one stops the session at once, with the reason
    return dates


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "date_sensitive: depends on the real date; scripts/test_dates.sh runs it at fixed dates")
    _dates()
    value = os.environ.get(TODAY_ENV, "").strip()
    if value:
        traveller = time_machine.travel(moment_from_env(TODAY_ENV, value), tick=True)
        traveller.start()
        config.stash[_TRAVELLER] = traveller


def pytest_unconfigure(config):
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config):
    lines = []
    if config.stash.get(_TRAVELLER, None) is not None:
        from django.utils import timezone

        start = timezone.localtime()
        lines.append(f"{TODAY_ENV}={os.environ[TODAY_ENV]}: the clock starts at {start:%Y-%m-%d %H:%M %Z}")
    if _dates():
        lines.append(f"{DATES_ENV}: the date-sensitive tests run at {', '.join(_dates())}")
    return lines


def pytest_generate_tests(metafunc):
    """With ``KJZX_DATES``, every date-sensitive test once per date (grouped by date: one demo each)."""
    dates = _dates()
    if not dates:
        return
    if metafunc.definition.get_closest_marker("date_sensitive") and DATE_FIXTURE not in metafunc.fixturenames:
        metafunc.fixturenames.append(DATE_FIXTURE)
    if DATE_FIXTURE in metafunc.fixturenames:
        metafunc.parametrize(DATE_FIXTURE, dates, indirect=True, scope="session", ids=dates)


@pytest.fixture(scope="session")
def kjzx_today(request):
    """The date this test runs at under ``KJZX_DATES`` (the clock is moved there, ticking); else None."""
    value = getattr(request, "param", None)
    if value is None:
        yield None
        return
    with time_machine.travel(moment_from_env(DATES_ENV, value), tick=True):
        yield value


# A working day of 2026, for tests written for "this year is 2026" (``in_ce_calendar``), so that they pass
# on 1 January 2027 as on any other day. Migration cpe 0002 seeds the CE years 2018 through the year the
# test database is created in: the fixture removes the later ones, inside the test's transaction.
CE_CALENDAR_DAY = (2026, 11, 16)  # a Monday


@pytest.fixture
def in_ce_calendar():
    """Move the clock to :data:`CE_CALENDAR_DAY`, 10:00 in the portal's time zone, ticking (nested
    ``time_machine.travel`` blocks inside the test still move it further), with no CE year after 2026.
    For tests marked ``django_db``."""
    from cpe.models import CEYear

    CEYear.objects.filter(year__gt=CE_CALENDAR_DAY[0]).delete()
    moment = dt.datetime(*CE_CALENDAR_DAY, 10, 0, tzinfo=zoneinfo.ZoneInfo(settings.TIME_ZONE))
    with time_machine.travel(moment, tick=True):
        yield moment


def _uses_demo(item) -> bool:
    return item is not None and DEMO_FIXTURE in getattr(item, "fixturenames", ())


def pytest_itemcollected(item):
    """Tests on the demo are date-sensitive (marked as they are collected, before ``-m`` selects)."""
    if _uses_demo(item):
        item.add_marker(pytest.mark.date_sensitive)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config, items):
    """Tests on the demo run first, together: after pytest-django's ordering (transactional tests
    last) and pytest's grouping by date, both of which this stable sort keeps."""
    items.sort(key=lambda item: not _uses_demo(item))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item, nextitem):
    """After the last test on the demo, roll it back: the next tests start from the migrated database."""
    try:
        return (yield)
    finally:
        if _uses_demo(item) and not _uses_demo(nextitem):
            _demo_rollback()


def _demo_rollback() -> None:
    from django.db import transaction

    while _DEMO_TRANSACTION:
        transaction.set_rollback(True)
        _DEMO_TRANSACTION.pop().close()


def model_counts() -> dict[str, int]:
    """Rows of every model of the project: what a second ``load_demo`` must leave as it is."""
    from django.apps import apps

    return {model._meta.label: model._default_manager.count() for model in apps.get_models()
            if not model._meta.proxy}


@pytest.fixture(scope="session")
def demo(django_db_setup, django_db_blocker, kjzx_today):
    """``load_demo`` twice: both printouts, the row counts after the first, the time taken (``elapsed``
    on the wall clock; ``cpu``, this process's CPU time, which a busy machine does not inflate)."""
    from django.core.management import call_command
    from django.db import transaction

    _demo_rollback()  # the previous date's, under KJZX_DATES
    stack = contextlib.ExitStack()
    stack.enter_context(django_db_blocker.unblock())
    stack.enter_context(transaction.atomic())
    _DEMO_TRANSACTION.append(stack)
    try:
        started, cpu_started = time.monotonic(), time.process_time()
        first, second = io.StringIO(), io.StringIO()
        call_command("load_demo", stdout=first)
        counts = model_counts()
        call_command("load_demo", stdout=second)
    except BaseException:
        _demo_rollback()
        raise
    yield {"first": first.getvalue(), "second": second.getvalue(), "counts": counts,
           "elapsed": time.monotonic() - started, "cpu": time.process_time() - cpu_started}
    _demo_rollback()  # already done after the last test on it, unless the session stopped early
