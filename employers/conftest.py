"""Fixtures of the employers' tests: two units, an administrator for each, and people walked through the
real services into each unit."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine

from accounts.models import Role
from cpe.ledger.policy import ce_year_ensure
from cpe.ledger.services import credit_register
from employers.services import employer_account_create
from kjzx.workflow import workflow_transition
from records.services import archive_update, collection_open
from tests.factories import fill_archive, make_accountant, make_staff, valid_credit_code

UNIT_A = valid_credit_code("91140502MA0EMPA01")  # 晋城市甲公司
UNIT_B = valid_credit_code("12140521MB0EMPB02")  # 沁水县乙医院
UNIT_NOBODY = valid_credit_code("91140105MA0EMPC03")
# A Monday in June: CE year 2026 open, its deadline 2027-03-31 ahead.
STAFF_PASSWORD = "Hq7#vR2!zLp9wT"  # noqa: S105  (a test account's; passes the portal's password rules)
NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


@pytest.fixture
def clock():
    """Today pinned (reminders are per day, CE years per year)."""
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def year_2026(db, clock):
    return ce_year_ensure(2026)


@pytest.fixture
def employer_a(db):
    return employer_account_create(username="danwei_a", password=STAFF_PASSWORD, region_code="140502",
                                   credit_codes=[UNIT_A], name="甲公司 财务部")


@pytest.fixture
def employer_b(db):
    return employer_account_create(username="danwei_b", password=STAFF_PASSWORD, region_code="140521",
                                   credit_codes=[UNIT_B], name="乙医院 人事科")


@pytest.fixture
def reviewers(db):
    """(first, second) reviewer of 城区 and of 沁水: who walks the collections and changes."""
    return {"140502": (make_staff("cq_first", Role.COUNTY_REVIEWER, "140502"),
                       make_staff("cq_second", Role.COUNTY_REVIEWER, "140502")),
            "140521": (make_staff("qs_first", Role.COUNTY_REVIEWER, "140521"),
                       make_staff("qs_second", Role.COUNTY_REVIEWER, "140521"))}


@pytest.fixture
def person_in(reviewers):
    """``person_in(unit, sequence=…, name=…, state=…, data=…)``: an accountant whose archive names ``unit``
    (``data``: other sections of the collection form), the collection walked through the real services
    to ``state`` (draft, submitted, returned, approved)."""

    def make(unit: str, *, sequence: int, name: str, state: str = "approved", jurisdiction: str = "140502",
             data: dict | None = None):
        person = make_accountant(address=jurisdiction, sequence=sequence, name=name,
                                 mobile=f"139{sequence:08d}")
        archive = fill_archive(person, jurisdiction)
        archive_update(archive=archive, by=person, data={"employer": {"credit_code": unit}, **(data or {})})
        collection = collection_open(person=person)
        if state != "draft":
            collection = workflow_transition(collection, "submit", by=person)
        first, second = reviewers[jurisdiction]
        if state == "returned":
            workflow_transition(collection, "return", by=first, reason="照片不清晰")
        elif state == "approved":
            collection = workflow_transition(collection, "approve_first", by=first)
            workflow_transition(collection, "approve_second", by=second)
        archive.refresh_from_db()
        return archive

    return make


def give_credits(archive, credits, *, kind="professional", year=2026, source="t1", form="online"):
    """Credits through the ledger's one way in (the summaries follow in the same transaction)."""
    return credit_register(archive=archive, year=year, subject_kind=kind, form=form, credits=credits,
                           source_type="province", source_id=source, source_label="省厅登记")
