"""Operating the CE ledger: the daily close, the new year's policy, the close command and the admin.

R-CE-5 (deadlines as data), R-CE-6 (make-up windows), R-CE-13 (the freeze), R-DL-3 (on time, even late).
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import OperationalError

from cpe.ledger.policy import ce_year_ensure, ce_year_save
from cpe.ledger.selectors import year_status
from cpe.ledger.services import ce_year_close, credit_register
from cpe.models import Certificate, CEYear, CreditEntry, CreditStandard, IntegrityRecord
from cpe.tasks import close_due_cpe_years
from kjzx.api import Conflict, DomainError
from kjzx.models import AuditEvent
from tests.factories import as_admin, login_staff, make_active_archive

# "This year" is 2026 here, the last CE year of the test database (tests/conftest_dates.py).
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_ce_calendar")]

SHANGHAI = ZoneInfo("Asia/Shanghai")
YEARS = "/manage/cpe/ceyear/"


def at(day: str, hour: int = 0, minute: int = 30):
    """Beijing time on ``day`` (the beat runs at 00:30)."""
    return time_machine.travel(dt.datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=SHANGHAI),
                               tick=False)


def register(archive, credits, *, year, source="s1", kind="professional"):
    return credit_register(archive=archive, year=year, subject_kind=kind, form="online", credits=credits,
                           source_type="province", source_id=source, source_label=f"登记{source}")


def frozen_years() -> list[int]:
    return list(CEYear.objects.filter(frozen_at__isnull=False).order_by("year").values_list("year", flat=True))


@pytest.fixture
def staff_client(client, province_staff):
    """The system administrator (like the demo's 'xitong'): the policy is theirs (三权分立)."""
    as_admin(province_staff, "system_admin")  # the policy is the system administrator's (三权分立)
    login_staff(client, province_staff)
    return client


def year_form(policy: CEYear, **changes) -> dict:
    data = {"year": policy.year, "required_total": policy.required_total,
            "required_professional": policy.required_professional, "deadline": policy.deadline,
            "makeup_until": policy.makeup_until or "", "registration_closes_on": policy.registration_closes_on,
            "note": policy.note}
    data.update(changes)
    return {key: str(value) for key, value in data.items()}


# --- the daily task ----------------------------------------------------------------------------

def test_the_beat_task_closes_each_year_the_day_after_registration_closes(accountant):
    """R-CE-13, R-DL-3: on 2026-03-31 (2025's last registration day) 2025 stays open; on 2026-04-01 it freezes."""
    archive = make_active_archive(accountant)
    register(archive, 90, year=2025)
    with at("2026-03-31"):
        assert close_due_cpe_years()["closed"] == list(range(2018, 2025))
        register(archive, 5, year=2025, source="last-day", kind="general")
    with at("2026-04-01"):
        assert close_due_cpe_years() == {"closed": [2025], "current": 2026}
        assert close_due_cpe_years() == {"closed": [], "current": 2026}  # a second run does nothing
    record = IntegrityRecord.objects.get(archive=archive, year=2025)
    assert record.completed and record.total == 95 and record.professional == 90
    with pytest.raises(Conflict):
        register(archive, 5, year=2025, source="too-late")
    event = AuditEvent.objects.get(event_type="cpe.year_closed", target_id="2025")
    assert event.actor is None and event.extra["records"] == 1


def test_the_beat_task_catches_up_after_the_machine_was_down(accountant):
    """R-DL-3: no run for a year: the next one closes every year that came due meanwhile, and creates this year."""
    archive = make_active_archive(accountant)
    register(archive, 30, year=2026)
    with at("2026-01-02"):
        close_due_cpe_years()
    assert frozen_years() == list(range(2018, 2025))
    with at("2027-04-20", hour=9):
        assert close_due_cpe_years() == {"closed": [2025, 2026], "current": 2027}
        assert close_due_cpe_years()["closed"] == []
    assert frozen_years() == list(range(2018, 2027)) and not CEYear.objects.get(pk=2027).is_frozen
    assert not IntegrityRecord.objects.get(archive=archive, year=2026).completed
    assert year_status(archive, 2026).total == 30


def test_the_new_year_appears_on_1_january_with_the_previous_years_numbers():
    """R-CE-5, R-CE-6: 2027 copies 2026's numbers, is due 2028-03-31, has no make-up window; audited by the system."""
    CEYear.objects.filter(pk=2026).update(required_total=Decimal("96"), required_professional=Decimal("64"),
                                          makeup_until=dt.date(2027, 6, 30),
                                          registration_closes_on=dt.date(2027, 6, 30))
    with at("2026-12-31", hour=23, minute=59):
        assert close_due_cpe_years()["current"] == 2026
        assert not CEYear.objects.filter(pk=2027).exists()
    with at("2027-01-01"):
        close_due_cpe_years()
        close_due_cpe_years()
    policy = CEYear.objects.get(pk=2027)
    assert (policy.required_total, policy.required_professional) == (96, 64)
    assert policy.deadline == policy.registration_closes_on == dt.date(2028, 3, 31)
    assert policy.makeup_until is None and not policy.is_frozen
    created = AuditEvent.objects.filter(event_type="cpe.year_created")
    assert created.count() == 1 and created.get().actor is None and created.get().target_id == "2027"


def test_ensuring_a_later_year_fills_the_gap_in_order():
    """R-CE-5: each missing year copies its predecessor; an existing year is returned as it is."""
    CEYear.objects.filter(pk=2026).update(required_total=Decimal("100"), required_professional=Decimal("70"))
    policy = ce_year_ensure(2029)
    assert policy.year == 2029 and set(CEYear.objects.filter(year__gt=2026).values_list("year", flat=True)) == {
        2027, 2028, 2029}
    assert {(p.required_total, p.required_professional) for p in CEYear.objects.filter(year__gt=2026)} == {(100, 70)}
    assert ce_year_ensure(2024).deadline == dt.date(2025, 3, 31)
    with pytest.raises(DomainError) as caught:
        ce_year_ensure(2017)
    assert "2018" in caught.value.message


def test_the_task_retries_on_database_trouble_and_runs_daily():
    """Retried with backoff like the other sweeps; beat runs it once a day (STYLE §4, R-DL-3)."""
    assert OperationalError in close_due_cpe_years.autoretry_for
    assert close_due_cpe_years.max_retries == 5 and close_due_cpe_years.retry_backoff
    entry = settings.CELERY_BEAT_SCHEDULE["close-due-cpe-years"]
    assert entry["task"] == close_due_cpe_years.name
    assert isinstance(entry["schedule"], crontab) and len(entry["schedule"].hour) == 1


# --- the command -------------------------------------------------------------------------------

def close(*args) -> str:
    out = io.StringIO()
    call_command("close_cpe_year", *args, stdout=out)
    return out.getvalue()


def test_the_command_closes_a_year_and_says_how_many_records(accountant):
    """R-CE-13: the year's results go into the credit-information file; the audit row is the system's."""
    archive = make_active_archive(accountant)
    register(archive, 90, year=2025)
    with at("2026-11-29", hour=10):
        output = close("2025")
    assert "2025年度学分登记已结束：1条" in output
    assert CEYear.objects.get(pk=2025).is_frozen and IntegrityRecord.objects.get(archive=archive, year=2025).completed
    assert AuditEvent.objects.get(event_type="cpe.year_closed", target_id="2025").actor is None
    with at("2026-11-29", hour=11):
        assert "无需再次结束" in close("2025")  # already frozen: a message, exit 0
    assert IntegrityRecord.objects.filter(year=2025).count() == 1


def test_the_command_refuses_a_year_that_does_not_exist():
    with pytest.raises(CommandError) as caught:
        close("2031")
    assert "2031年度的继续教育政策不存在" in str(caught.value)


def test_the_command_refuses_before_registration_closes_unless_forced(accountant):
    """R-CE-13: 2026 registers until 2027-03-31; closing it earlier needs --force, and is audited as forced."""
    archive = make_active_archive(accountant)
    register(archive, 45, year=2026)
    with at("2026-11-29", hour=10):
        with pytest.raises(CommandError) as caught:
            close("2026")
        assert "2027-03-31" in str(caught.value) and "--force" in str(caught.value)
        assert not CEYear.objects.get(pk=2026).is_frozen and not IntegrityRecord.objects.exists()
        assert "1条" in close("2026", "--force")
    assert CEYear.objects.get(pk=2026).is_frozen
    forced = AuditEvent.objects.get(event_type="cpe.year_close_forced")
    assert forced.actor is None and forced.extra == {"registration_closes_on": "2027-03-31", "closed_on": "2026-11-29"}


# --- the admin: the policy ---------------------------------------------------------------------

def test_staff_change_a_years_policy_and_it_is_audited(staff_client, province_staff):
    """R-CE-5, R-CE-6: the deadline and a make-up window are data provincial staff edit."""
    policy = CEYear.objects.get(pk=2026)
    response = staff_client.post(f"{YEARS}2026/change/", year_form(
        policy, makeup_until="2027-06-30", registration_closes_on="2027-06-30", note="补学至2027年6月30日"))
    assert response.status_code == 302
    policy.refresh_from_db()
    assert policy.makeup_until == dt.date(2027, 6, 30) and policy.note == "补学至2027年6月30日"
    event = AuditEvent.objects.get(event_type="cpe.year_updated", target_id="2026")
    assert event.actor == province_staff
    assert event.extra["registration_closes_on"] == {"from": "2027-03-31", "to": "2027-06-30"}
    assert set(event.extra) == {"makeup_until", "registration_closes_on", "note"}


def test_staff_are_told_a_year_past_its_registration_closes_tonight(client, province_staff):
    """R-CE-13, R-DL-3: a year whose registration date has passed is frozen by the next nightly run."""
    as_admin(province_staff, "system_admin")  # the policy is the system administrator's (三权分立)
    with at("2027-04-02", hour=10):
        login_staff(client, province_staff)
        policy = CEYear.objects.get(pk=2026)
        response = client.post(f"{YEARS}2026/change/", year_form(policy, note="待结束"), follow=True)
        assert "系统将在今夜结束该年度的学分登记" in response.text
        assert close_due_cpe_years()["closed"] == list(range(2018, 2027))


@pytest.mark.parametrize(("changes", "message"), [
    ({"deadline": "2026-12-31"}, "完成期限应在2026年12月31日之后"),
    ({"makeup_until": "2027-03-30"}, "补学截止日期不能早于完成期限"),
    ({"registration_closes_on": "2027-03-30"}, "学分登记截止日期不能早于完成期限和补学截止日期（2027-03-31）"),
    ({"makeup_until": "2027-06-30"}, "学分登记截止日期不能早于完成期限和补学截止日期（2027-06-30）"),
    ({"required_professional": "95"}, "专业科目应修学分应在0至应修总学分之间"),
    ({"required_total": "0", "required_professional": "0"}, "应修总学分应大于0"),
])
def test_an_inconsistent_policy_is_refused_in_chinese(staff_client, changes, message):
    """R-CE-5, R-CE-6, R-CE-13: the admin shows the policy service's message by the field; nothing is saved."""
    policy = CEYear.objects.get(pk=2026)
    response = staff_client.post(f"{YEARS}2026/change/", year_form(policy, **changes))
    assert response.status_code == 200 and message in response.text
    assert CEYear.objects.get(pk=2026).deadline == policy.deadline
    assert not AuditEvent.objects.filter(event_type="cpe.year_updated").exists()


def test_staff_add_a_year_and_a_year_before_2018_is_refused(staff_client):
    """R-CE-5: a new year is added like any policy; the national rules start in 2018."""
    data = {"year": "2027", "required_total": "90", "required_professional": "60", "deadline": "2028-03-31",
            "makeup_until": "", "registration_closes_on": "2028-03-31", "note": ""}
    assert staff_client.post(f"{YEARS}add/", data).status_code == 302
    assert CEYear.objects.get(pk=2027).deadline == dt.date(2028, 3, 31)
    assert AuditEvent.objects.filter(event_type="cpe.year_created", target_id="2027").exists()
    response = staff_client.post(f"{YEARS}add/", {**data, "year": "2017", "deadline": "2018-03-31",
                                                  "registration_closes_on": "2018-03-31"})
    assert response.status_code == 200 and "继续教育年度自2018年起" in response.text
    assert staff_client.post(f"{YEARS}2024/delete/", {"post": "yes"}).status_code == 403


def test_a_frozen_years_numbers_are_read_only(staff_client, accountant):
    """R-CE-13: once frozen, the admin shows the numbers and dates as text; only the note can change."""
    ce_year_close(year=2025)
    page = staff_client.get(f"{YEARS}2025/change/")
    assert page.status_code == 200 and 'name="note"' in page.text
    assert 'name="required_total"' not in page.text and 'name="deadline"' not in page.text
    response = staff_client.post(f"{YEARS}2025/change/", {"required_total": "120", "deadline": "2026-06-30",
                                                         "note": "已纳入信用信息档案"})
    assert response.status_code == 302
    policy = CEYear.objects.get(pk=2025)
    assert policy.required_total == 90 and policy.deadline == dt.date(2026, 3, 31)
    assert policy.note == "已纳入信用信息档案" and policy.is_frozen
    listing = staff_client.get(YEARS)
    assert listing.status_code == 200 and "已归档（" in listing.text and "登记中" in listing.text
    policy.required_total = Decimal("120")
    with pytest.raises(Conflict) as caught:
        ce_year_save(policy=policy, by=None)  # the service refuses whoever calls it
    assert "不能再修改" in caught.value.message


def test_a_credit_standard_changes_by_a_new_row_with_a_later_year(staff_client, province_staff):
    """SPEC table: a new value from 2027 on leaves earlier years theirs; a standard used by a frozen year is fixed."""
    data = {"form": "conference", "variant": "per_day", "label": "会计类专业会议", "credits": "12", "per": "天",
            "daily_cap": "", "subject_kind": "professional", "effective_from": "2027"}
    assert staff_client.get("/manage/cpe/creditstandard/").status_code == 200
    assert staff_client.post("/manage/cpe/creditstandard/add/", data).status_code == 302
    assert CreditStandard.objects.filter(form="conference", variant="per_day").count() == 2
    event = AuditEvent.objects.get(event_type="cpe.standard_created")
    assert event.actor == province_staff and event.extra["credits"] == "12"
    again = staff_client.post("/manage/cpe/creditstandard/add/", {**data, "credits": "0"})
    assert again.status_code == 200 and "学分应大于0" in again.text
    ce_year_close(year=2018)
    old = CreditStandard.objects.get(form="conference", variant="per_day", effective_from=2018)
    page = staff_client.get(f"/manage/cpe/creditstandard/{old.pk}/change/")
    assert page.status_code == 200 and 'name="credits"' not in page.text and 'name="label"' in page.text
    assert staff_client.post(f"/manage/cpe/creditstandard/{old.pk}/delete/", {"post": "yes"}).status_code == 403


# --- the admin: the ledger, read only ----------------------------------------------------------

def test_the_ledger_is_read_only_in_the_admin_and_shows_no_raw_id_number(staff_client, accountant):
    """STYLE §3, R-CE-13: entries, the credit-information file and certificates have no add, change or delete."""
    archive = make_active_archive(accountant)
    entry = register(archive, 90, year=2025)
    ce_year_close(year=2025)
    certificate = Certificate.objects.create(archive=archive, year_id=2025)
    record = IntegrityRecord.objects.get(archive=archive, year=2025)
    for model, obj in (("creditentry", entry), ("integrityrecord", record), ("certificate", certificate)):
        listing = staff_client.get(f"/manage/cpe/{model}/")
        assert listing.status_code == 200, model
        assert accountant.name in listing.text and archive.masked_id_number in listing.text, model
        assert archive.id_number not in listing.text, model
        assert staff_client.get(f"/manage/cpe/{model}/add/").status_code == 403, model
        assert staff_client.post(f"/manage/cpe/{model}/{obj.pk}/change/", {"credits": "1"}).status_code == 403
        assert staff_client.post(f"/manage/cpe/{model}/{obj.pk}/delete/", {"post": "yes"}).status_code == 403
        assert staff_client.get(f"/manage/cpe/{model}/{obj.pk}/change/").status_code == 200
    assert CreditEntry.objects.get(pk=entry.pk).credits == 90 and certificate.code in staff_client.get(
        "/manage/cpe/certificate/").text


def test_the_ledger_admin_finds_a_person_by_the_full_id_number_only(staff_client, accountant, other_accountant):
    archive = make_active_archive(accountant)
    other = make_active_archive(other_accountant, "140521")
    register(archive, 30, year=2026)
    register(other, 60, year=2026)
    found = staff_client.get("/manage/cpe/creditentry/", {"q": accountant.id_number})
    assert [e.archive_id for e in found.context["cl"].queryset] == [archive.pk]
    partial = staff_client.get("/manage/cpe/creditentry/", {"q": accountant.id_number[:10]})
    assert not partial.context["cl"].queryset.exists()
    by_year = staff_client.get("/manage/cpe/creditentry/", {"year__year__exact": "2026", "source_type": "province"})
    assert by_year.context["cl"].queryset.count() == 2
