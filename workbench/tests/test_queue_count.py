"""The queue's header count and page loads at province scale (R-COL-4, R-ACL-1): an estimate where an exact
count would cost more than the page, no region query for a county, no sealed column a row never shows."""

from __future__ import annotations

import datetime as dt
from itertools import count

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import make_accountant, make_change, make_collection
from workbench.selectors import QueueFilters, _parts, queue_count, queue_page, queue_page_objects

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
_sequence = count(701, 2)


def person(name: str):
    return make_accountant(sequence=next(_sequence), name=name)


@pytest.fixture
def backlog():
    """Five collections and two changes waiting in 城区 (140502), a January 2025 morning."""
    with time_machine.travel(dt.datetime(2025, 1, 6, 9, 0, tzinfo=BEIJING), tick=False):
        collections = [make_collection(person(f"排队{i}")) for i in range(5)]
        changes = [make_change(person(f"变更{i}")) for i in range(2)]
    with connection.cursor() as cursor:  # statistics, as autovacuum keeps them in production
        cursor.execute("ANALYZE records_collectionapplication")
        cursor.execute("ANALYZE records_changerequest")
    return collections, changes


def test_exact_count_up_to_the_limit(backlog, county_reviewer):
    """A backlog under the limit is counted exactly (待办 7 件)."""
    assert queue_count(_parts(county_reviewer, QueueFilters()), limit=100) == (7, True)


def test_above_the_limit_the_count_is_an_estimate(backlog, county_reviewer):
    """Above the limit the header says 约…件: never exact, never below the limit + 1, whichever path
    (PostgreSQL's estimate first, or the bounded count when the estimate is small) found it."""
    found, exact = queue_count(_parts(county_reviewer, QueueFilters()), limit=2)
    assert exact is False
    assert found >= 3


def test_a_county_page_does_not_ask_for_its_regions(backlog, county_reviewer):
    """A county has no region below it: its page filters by its own code, without asking for its subtree,
    and lists exactly its open work."""
    with CaptureQueriesContext(connection) as queries:
        page = queue_page(county_reviewer, QueueFilters())
    assert not [q for q in queries.captured_queries if '"path"::text LIKE' in q["sql"]]  # the subtree query
    assert (page.count, page.count_exact, len(page.rows)) == (7, True, 7)


def test_the_page_leaves_the_sealed_columns_it_never_shows(backlog, county_reviewer):
    """A change's old and new values and the archive's mobile are not read for the queue (each would be
    a decryption per row); the name and the ID number the row shows are."""
    objects = queue_page_objects(queue_page(county_reviewer, QueueFilters()).rows)
    changes = [obj for obj in objects if obj.KIND == "change"]
    assert len(objects) == 7 and len(changes) == 2
    for change in changes:
        assert {"new_values", "old_values"} <= change.get_deferred_fields()
        assert "mobile" in change.archive.get_deferred_fields()
        assert "id_number" not in change.archive.get_deferred_fields()
