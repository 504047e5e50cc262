"""The queue's hand-built statements (PostgreSQL, no search term) against its ORM selects, which define it
(R-COL-4, R-DL-2, R-ACL-1): the same rows in the same order for every scope and filter, page by page either
way, the same header count, and the same application objects for the rows (bench/README.md "Queues")."""

from __future__ import annotations

import datetime as dt
from itertools import count

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region
from kjzx.workflow import annotate_days_left
from kjzx.workflow_views import workflow_rows
from tests.factories import inbound_body, make_accountant, make_change, make_collection, make_transfer
from transfers.services import inbound_receive
from workbench import selectors
from workbench.selectors import (
    QUEUE_MODELS,
    QueueCursor,
    QueueFilters,
    _OrmQueue,
    _parts,
    _queue,
    _SqlQueue,
    queue_count,
    queue_page,
    queue_page_objects,
    queue_page_rows,
)

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))

FILTERS = [QueueFilters(), QueueFilters(kind="change"), QueueFilters(kind="collection"),
           QueueFilters(status="first_reviewed"), QueueFilters(region="140521"), QueueFilters(region="140502"),
           QueueFilters(region="140100"), QueueFilters(overdue=True), QueueFilters(overdue=True, kind="transfer"),
           QueueFilters(region="140500", status="submitted")]


@pytest.fixture
def backlog():
    """Open work of every common kind in 城区 and 沁水, submitted on three days (some overdue by now), several
    at the same instant (ties broken by kind, then id), an inbound transfer without an archive here, and
    rows the queue must leave out (drafts, an outbound transfer accepted: waiting for the platform)."""
    sequence = count(801, 2)

    def person(name: str, address: str = "140502"):
        return make_accountant(sequence=next(sequence), address=address, name=name)

    for day, hour in ((6, 9), (13, 10), (13, 10)):
        with time_machine.travel(dt.datetime(2025, 1, day, hour, 0, tzinfo=BEIJING), tick=False):
            make_collection(person(f"城区{day}"))
            make_collection(person(f"沁水{day}", "140521"), jurisdiction="140521")
            make_collection(person(f"初审{day}"), "first_reviewed")
            make_change(person(f"变更{day}"))
            make_transfer(person(f"调转{day}"))
    with time_machine.travel(dt.datetime(2025, 1, 13, 10, 0, tzinfo=BEIJING), tick=False):
        make_collection(person("草稿"), "draft")
        make_transfer(person("调出"), "accepted", type="outbound")
        inbound_receive(body=inbound_body("11202600801", to_region="140502", name="调入人"))
    with connection.cursor() as cursor:  # statistics, as autovacuum keeps them in production
        for model in QUEUE_MODELS.values():
            cursor.execute(f"ANALYZE {model._meta.db_table}")


@pytest.fixture
def reviewers(county_reviewer, other_county_reviewer, city_reviewer, other_city_reviewer, province_staff):
    return [county_reviewer, other_county_reviewer, city_reviewer, other_city_reviewer, province_staff]


def both(user, filters):
    queue = _queue(user, filters)
    assert isinstance(queue, _SqlQueue)
    return queue, _OrmQueue(_parts(user, filters))


def test_every_scope_and_filter_lists_the_same_rows_in_the_same_order(backlog, reviewers):
    seen = 0
    with time_machine.travel(dt.datetime(2025, 1, 20, 9, 0, tzinfo=BEIJING), tick=False):  # some overdue
        for user in reviewers:
            for filters in FILTERS:
                sql, orm = both(user, filters)
                everything = orm.rows(100)
                assert sql.rows(100) == everything, (user.username, filters)
                seen += len(everything)
                for offset in (0, 1, 3):
                    assert sql.rows(2, offset=offset) == orm.rows(2, offset=offset)
                for row in everything:  # after and before every row: the pager's links
                    cursor = QueueCursor.of(row)
                    assert sql.rows(3, cursor=cursor) == orm.rows(3, cursor=cursor)
                    assert sql.rows(3, cursor=cursor, backwards=True) == orm.rows(3, cursor=cursor, backwards=True)
    assert seen > 100


def test_no_row_outside_the_callers_region(backlog, county_reviewer, other_county_reviewer, city_reviewer):
    """R-ACL-1: a county sees its own code only, a city its subtree; a region outside the scope, nothing."""
    def regions(user, filters=None):
        pages = queue_page_objects(_queue(user, filters or QueueFilters()).rows(100))
        return {obj.jurisdiction_id for obj in pages}

    assert regions(county_reviewer) == {"140502"}
    assert regions(other_county_reviewer) == {"140521"}
    assert regions(city_reviewer) == {"140502", "140521"}
    assert regions(county_reviewer, QueueFilters(region="140521")) == set()
    assert _queue(county_reviewer, QueueFilters(region="140521")).count() == (0, True)


@pytest.mark.parametrize("limit", [2, 5, 2000])
def test_the_header_count_is_the_same(backlog, reviewers, limit):
    """Exact up to ``limit``, PostgreSQL's estimate above: the same figures, the bounded count sent with the
    estimate (a county) or after it (a city, the province)."""
    for user in reviewers:
        for filters in FILTERS:
            sql, _orm = both(user, filters)
            expected = queue_count(_parts(user, filters), limit=limit)
            for speculate in (False, True):
                assert _SqlQueue(sql.codes, filters, speculate=speculate, limit=limit).count() == expected
                queue = _SqlQueue(sql.codes, filters, speculate=speculate, limit=limit)
                queue.rows(3, with_count=True)
                assert queue.count() == expected


def test_a_plan_of_another_shape_falls_back_to_asking_plainly(backlog, county_reviewer):
    """The bounded count is read off EXPLAIN ANALYZE's Limit node; a plan without one (another PostgreSQL) is
    not guessed at: the estimate and the count are asked for as the ORM's way does."""
    queue = _SqlQueue(["140502"], QueueFilters(), speculate=True, limit=5)
    odd = [[([{"Plan": {"Node Type": "Result", "Plan Rows": 1}}],)]]
    assert queue._counted(odd) == queue_count(_parts(county_reviewer, QueueFilters()), limit=5)


def test_pages_are_the_same_both_ways(backlog, reviewers, monkeypatch):
    """queue_page walked forward by its links and back, and by typed page numbers, with and without the
    hand-built statements (the ORM's way is also the embedded default's)."""
    def walk(user):
        found, page = [], queue_page(user, size=4)
        found.append(page)
        while page.has_next:
            page = queue_page(user, after=page.next_token, page=page.next_number, size=4)
            found.append(page)
        while page.has_previous:
            page = queue_page(user, before=page.previous_token, page=page.previous_number, size=4)
            found.append(page)
        found += [queue_page(user, page=number, size=4) for number in (1, 2, 3, 99)]
        return [(p.rows, p.number, p.count, p.count_exact, p.has_next, p.has_previous) for p in found]

    built = [walk(user) for user in reviewers]
    monkeypatch.setattr("workbench.selectors._queue", lambda user, filters: _OrmQueue(_parts(user, filters)))
    assert [walk(user) for user in reviewers] == built


def test_the_objects_are_what_select_related_builds(backlog, province_staff):
    """The page's applications: what a row shows read (QUEUE_FIELDS), with the values the ORM reads, the related
    objects in the foreign keys' caches as select_related leaves them (the inbound transfer: no archive), no
    sealed column a row does not show, and no query per row when the rows are built."""
    rows = _queue(province_staff, QueueFilters()).rows(100)
    objects = queue_page_objects(rows)
    assert len(objects) == len(rows) > 15
    for obj in objects:
        model = type(obj)
        related = getattr(model, "QUEUE_RELATED", ("archive", "jurisdiction__parent"))
        expected = model.objects.select_related(*related).get(pk=obj.pk)
        assert {"new_values", "old_values", "person_record"} & {f.attname for f in model._meta.fields} \
            <= obj.get_deferred_fields()
        loaded = [f.attname for f in model._meta.concrete_fields if f.attname not in obj.get_deferred_fields()]
        assert {"id", "status", "submitted_at", "due_date", "created_at", "jurisdiction_id"} <= set(loaded)
        assert [getattr(obj, name) for name in loaded] == [getattr(expected, name) for name in loaded]
        for path in related:
            assert model._meta.get_field(path.split("__")[0]).is_cached(obj)
            mine, theirs = obj, expected
            for name in path.split("__"):
                mine, theirs = getattr(mine, name), getattr(theirs, name)
                if theirs is None:
                    assert mine is None
                    break
                fields = [f.attname for f in type(theirs)._meta.concrete_fields
                          if f.attname not in mine.get_deferred_fields()]
                assert [getattr(mine, f) for f in fields] == [getattr(theirs, f) for f in fields]
        if getattr(obj, "archive", None) is not None:
            assert "mobile" in obj.archive.get_deferred_fields()
    assert any(obj.KIND == "transfer" and obj.archive is None for obj in objects)
    with CaptureQueriesContext(connection) as queries:
        shown = [(row.kind_label, row.name, row.masked_id_number, row.region_label, row.days_left, row.due_state,
                  row.url, row.obj.number, row.obj.status_display, row.obj.submitted_at, row.obj.due_date)
                 for row in queue_page_rows(rows)]
    # every kind's applications, the working-day calendar, and for the inbound person (no archive here: the
    # name is in the sealed record, deferred as before) the record and django-fsm's re-read of the status
    # after a deferred load; nothing else, whatever the number of rows
    assert len(queries) == 4, [q["sql"][:80] for q in queries.captured_queries]
    expected_rows = workflow_rows(annotate_days_left(
        [QUEUE_MODELS[row["kind"]].objects.select_related(
            *getattr(QUEUE_MODELS[row["kind"]], "QUEUE_RELATED", ("archive", "jurisdiction__parent")))
         .get(pk=row["pk"]) for row in rows]))
    assert shown == [(row.kind_label, row.name, row.masked_id_number, row.region_label, row.days_left, row.due_state,
                      row.obj.reviewer_url(), row.obj.number, row.obj.status_display, row.obj.submitted_at,
                      row.obj.due_date) for row in expected_rows]


def test_a_county_page_is_one_round_trip_before_its_rows(backlog, county_reviewer):
    """The estimate, the bounded count and the page go as one string; the rows' applications as another."""
    county_reviewer.region  # noqa: B018 - the user's own region, loaded with the session in a request
    with CaptureQueriesContext(connection) as queries:
        page = queue_page(county_reviewer)
    assert len(queries) == 1
    assert queries[0]["sql"].startswith("EXPLAIN") and "SELECT COUNT(*)" in queries[0]["sql"]
    assert (page.count, page.count_exact) == (queue_count(_parts(county_reviewer, QueueFilters())))
    with CaptureQueriesContext(connection) as queries:
        queue_page_objects(page.rows)
    assert len(queries) == 2  # every kind's applications in one, then the working-day calendar
    assert all(f'FROM "{model._meta.db_table}"' in queries[0]["sql"] for model in QUEUE_MODELS.values()
               if model.KIND in {row["kind"] for row in page.rows})


# --- what the queue keeps per process (workbench.selectors._SUBTREE_CODES, _SMALL_BACKLOG) ---------------

@pytest.fixture
def fresh_guesses(monkeypatch):
    monkeypatch.setattr("workbench.selectors._SUBTREE_CODES", {})
    monkeypatch.setattr("workbench.selectors._SMALL_BACKLOG", {})


def kept_regions(user) -> set[str]:
    return {obj.jurisdiction_id for obj in queue_page_objects(queue_page(user, size=100).rows)}


def test_a_citys_kept_codes_never_cross_to_another_reviewer(fresh_guesses, city_reviewer, other_city_reviewer,
                                                            county_reviewer):
    """R-ACL-1: each city's subtree is kept under its own path; reviewers of other cities, and a county inside
    the city, see their own regions whatever was kept before them."""
    with time_machine.travel(dt.datetime(2025, 1, 13, 10, 0, tzinfo=BEIJING), tick=False):
        make_collection(make_accountant(sequence=851, name="晋城人"))
        make_collection(make_accountant(sequence=853, address="140105", name="太原人"), jurisdiction="140105")
    for _ in range(2):  # the second time from what was kept
        assert kept_regions(city_reviewer) == {"140502"}
        assert kept_regions(other_city_reviewer) == {"140105"}
        assert kept_regions(county_reviewer) == {"140502"}
    assert sorted(selectors._SUBTREE_CODES) == ["140000/140100/", "140000/140500/"]
    assert "140105" not in selectors._SUBTREE_CODES["140000/140500/"]


def test_kept_codes_that_no_longer_hold_are_read_again_before_the_page(fresh_guesses, city_reviewer):
    """A region added under the city after its codes were kept is on the very next page; codes kept wrongly
    (here: another city's county planted in the guess) never reach the page: the check in the same round trip
    replaces them first."""
    with time_machine.travel(dt.datetime(2025, 1, 13, 10, 0, tzinfo=BEIJING), tick=False):
        make_collection(make_accountant(sequence=861, name="晋城人"))
        make_collection(make_accountant(sequence=863, address="140105", name="太原人"), jurisdiction="140105")
        assert kept_regions(city_reviewer) == {"140502"}
        Region.objects.create(code="140599", name="新区", level="county", parent_id="140500",
                              path="140000/140500/140599/")
        make_collection(make_accountant(sequence=865, name="新区人"), jurisdiction="140599")
        with CaptureQueriesContext(connection) as queries:
            assert kept_regions(city_reviewer) == {"140502", "140599"}
        assert not [q for q in queries.captured_queries if q["sql"].startswith('SELECT "accounts_region"')]
        assert "140599" in selectors._SUBTREE_CODES["140000/140500/"]
        selectors._SUBTREE_CODES["140000/140500/"] = [*selectors._SUBTREE_CODES["140000/140500/"], "140105"]
        assert kept_regions(city_reviewer) == {"140502", "140599"}  # not 太原's 140105
        assert "140105" not in selectors._SUBTREE_CODES["140000/140500/"]


def test_a_kept_backlog_size_changes_no_count(fresh_guesses, backlog, city_reviewer, county_reviewer):
    """Whether the bounded count went along with the estimate (a guess from the last page) or after it, the
    header says the same."""
    for user in (city_reviewer, county_reviewer):
        expected = queue_count(_parts(user, QueueFilters()), limit=3)
        for guess in (True, False, True):
            queue = _queue(user, QueueFilters())
            queue = _SqlQueue(queue.codes, QueueFilters(), limit=3)
            selectors._SMALL_BACKLOG[queue._key] = guess
            queue = _SqlQueue(queue.codes, QueueFilters(), limit=3)
            assert queue.speculate is guess
            queue.rows(3, with_count=True)
            assert queue.count() == expected
