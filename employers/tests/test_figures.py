"""The employer's CE figures: what each person has and still lacks, the same as the person's own page, at a
fixed number of queries whatever the page holds (R-CE-1, R-CE-3, R-CE-13)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cpe.ledger.policy import ce_year_ensure
from cpe.ledger.selectors import year_status
from cpe.ledger.services import ce_year_close
from employers import selectors
from employers.conftest import UNIT_A, give_credits
from records.models import Archive
from tests.factories import login_staff, make_accountant, make_change, make_transfer

pytestmark = pytest.mark.django_db

NOT_OBLIGED = {"career": {"began_accounting_on": "2026-02-01"}, "qualifications": []}


@pytest.fixture
def people(year_2026, person_in):
    """Four people of unit A: complete, barely started, enough credits but too few professional, and one who
    began accounting work this year (owes 2027 first, R-CE-1)."""
    done = person_in(UNIT_A, sequence=201, name="完成者")
    give_credits(done, 70, source="p1")
    give_credits(done, 30, kind="general", source="g1")
    started = person_in(UNIT_A, sequence=203, name="起步者")
    give_credits(started, 24, source="p1")
    general = person_in(UNIT_A, sequence=205, name="公需者")
    give_credits(general, 90, kind="general", source="g1")
    new = person_in(UNIT_A, sequence=207, name="新入职", data=NOT_OBLIGED)
    return {"done": done, "started": started, "general": general, "new": new}


def _rows(employer, year: int, **filters) -> dict[str, selectors.PersonRow]:
    policy = ce_year_ensure(year)
    return {row.archive.name: row for row in selectors.person_rows(
        selectors.people_list(employer, policy, **filters), policy)}


def _agrees_with_year_status(row: selectors.PersonRow) -> None:
    status = year_status(Archive.objects.get(pk=row.archive.pk), row.year)
    assert (row.obliged, row.total, row.professional, row.completed) == (
        status.obliged, status.total, status.professional, status.completed), row.archive.name
    if status.obliged:
        assert (row.missing_total, row.missing_professional) == (status.missing_total, status.missing_professional)


def test_the_figures_are_the_persons_own_year_status(employer_a, people):
    """Each person's total, professional, completed and what they lack equal year_status, the one computation
    of a person's year (R-CE-3) — here read from the per-person-year summary."""
    rows = _rows(employer_a, 2026)
    assert set(rows) == {"完成者", "起步者", "公需者", "新入职"}
    for row in rows.values():
        _agrees_with_year_status(row)
    started, general, new = rows["起步者"], rows["公需者"], rows["新入职"]
    assert (started.missing_total, started.missing_professional) == (Decimal("66"), Decimal("36"))
    assert (general.total, general.completed, general.missing_total, general.missing_professional) == (
        Decimal("90"), False, Decimal("0"), Decimal("60"))  # 90 credits, none professional: not done
    assert (new.obliged, new.completed, new.missing_total, new.ce_label) == (
        False, False, Decimal("0"), "本年度无需参加")
    assert rows["完成者"].completed and not rows["完成者"].behind


def test_a_frozen_year_reads_the_credit_information_file(employer_a, person_in, year_2026):
    """A closed year shows what the credit-information file holds (R-CE-13), as year_status does; its people
    can no longer be reminded."""
    ce_year_ensure(2025)
    complete = person_in(UNIT_A, sequence=211, name="去年完成")
    give_credits(complete, 90, year=2025, source="y25")
    short = person_in(UNIT_A, sequence=213, name="去年未完成")
    give_credits(short, 30, year=2025, source="y25")
    ce_year_close(year=2025)
    rows = _rows(employer_a, 2025)
    for row in rows.values():
        _agrees_with_year_status(row)
    assert rows["去年完成"].completed and rows["去年未完成"].behind
    assert rows["去年未完成"].remind_refusal == "该年度继续教育已归档，不能再发送提醒。"


def test_the_ce_filter_keeps_those_behind_or_those_done(employer_a, people):
    """``?ce=behind`` is exactly who a reminder is for; ``?ce=completed`` who is done."""
    assert set(_rows(employer_a, 2026, ce="behind")) == {"起步者", "公需者"}
    assert set(_rows(employer_a, 2026, ce="completed")) == {"完成者"}


def test_the_api_row_has_exactly_the_documented_fields(client, employer_a, people):
    """API.md §1: name, id_number (masked), credit_code, collection_status, year, total, professional,
    completed, missing_total, missing_professional — and the id its detail is addressed by."""
    login_staff(client, employer_a)
    body = client.get("/api/v1/employer/people/", {"ce": "behind"}).json()
    assert set(body) == {"count", "next", "previous", "results"}
    row = next(r for r in body["results"] if r["name"] == "起步者")
    assert set(row) == {"id", "name", "id_number", "credit_code", "collection_status", "year", "total",
                        "professional", "completed", "missing_total", "missing_professional"}
    archive = people["started"]
    assert row == {"id": archive.pk, "name": "起步者", "id_number": archive.masked_id_number, "credit_code": UNIT_A,
                   "collection_status": "approved", "year": 2026, "total": "24.0", "professional": "24.0",
                   "completed": False, "missing_total": "66.0", "missing_professional": "36.0"}
    assert archive.id_number not in str(body)


def test_year_defaults_to_this_year_and_a_wrong_one_is_a_400(client, employer_a, people):
    """``?year=`` defaults to this year (API.md §1); not a year, or a year without a policy, is a 400 in Chinese."""
    login_staff(client, employer_a)
    assert {r["year"] for r in client.get("/api/v1/employer/people/").json()["results"]} == {2026}
    for bad in ("abc", "20261", "1999"):
        response = client.get("/api/v1/employer/people/", {"year": bad})
        assert response.status_code == 400 and "year" in response.json(), bad
    assert client.get("/api/v1/employer/people/", {"ce": "maybe"}).status_code == 400
    page = client.get("/employer/", {"year": "1999"})
    assert page.status_code == 200 and "没有该年度的继续教育安排，已显示2026年度" in page.content.decode()


def _cheap_people(count: int, start: int) -> None:
    """More collected people of unit A without walking each collection (their number is what matters here),
    named to sort after the others (so that the first page still holds a change and a transfer)."""
    for n in range(count):
        person = make_accountant(sequence=start + 2 * n, name=f"魏某{n:02d}", mobile="13800000009")
        archive = Archive.objects.create(
            person=person, status=Archive.Status.ACTIVE, jurisdiction_id="140502", name=person.name,
            id_type="resident_id", id_number=person.id_number, sex=person.sex, birth_date=person.birth_date,
            employer_name="甲公司", employer_credit_code=UNIT_A, began_accounting_on=dt.date(2015, 7, 1),
            collected_at=timezone.now())
        if n % 3 == 0:
            give_credits(archive, 30 + n, source=f"c{n}")


def _count(client, url: str) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_a_page_costs_the_same_queries_for_3_and_30_people(client, employer_a, person_in, year_2026, reviewers):
    """No per-row queries (house rule): the page, the API list and the export count the same number
    of queries for 3 people as for 30, changes and transfers included."""
    with_change = person_in(UNIT_A, sequence=301, name="变更人")
    make_change(with_change.person, "submitted", reviewer=reviewers["140502"][0])
    with_transfer = person_in(UNIT_A, sequence=303, name="调转人")
    make_transfer(with_transfer.person, "submitted", origin=reviewers["140502"][0])
    give_credits(person_in(UNIT_A, sequence=305, name="学分人"), 40)
    login_staff(client, employer_a)
    urls = ["/employer/?year=2026", "/api/v1/employer/people/?year=2026", "/employer/people.xlsx?year=2026"]
    few = [_count(client, url) for url in urls]
    _cheap_people(27, 401)
    assert Archive.objects.filter(employer_credit_code=UNIT_A).count() == 30
    assert [_count(client, url) for url in urls] == few
