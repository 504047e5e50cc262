"""The rows of a dashboard from one read of the region tree, grouped without a join where the codes allow it
(R-ACL-1): the province's rows are its cities by the first four digits of a code (GB/T 2260), a city's and a
county's are the codes themselves, and a tree that broke the rule would still be right, through the paths."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import Region
from cpe.models import CEYear
from tests.factories import make_accountant, make_collection
from workbench.stats import cpe_figures, review_figures, scope_rows

pytestmark = pytest.mark.django_db


def person(n, address="140502"):
    return make_accountant(address=address, sequence=750 + n, name=f"行{n}")


def by_row(figures) -> dict[str, int]:
    return {row.region.pk: row.total.open for row in figures.rows if row.total.open}


def test_the_rows_of_each_scope_come_from_one_query(province_staff, city_reviewer, county_reviewer):
    for user, first, count in ((province_staff, "140000", 12), (city_reviewer, "140500", None),
                               (county_reviewer, "140502", 1)):
        scope_rows(user)  # the persona's own region, loaded once and kept on the user
        with CaptureQueriesContext(connection) as queries:
            rows = scope_rows(user)
        assert len(queries) == 1
        assert rows.regions[0].pk == first and all(r.parent_id == first for r in rows.regions[1:])
        assert count is None or len(rows.regions) == count
    assert set(scope_rows(city_reviewer).row_of) == {"140500"} | {r.pk for r in Region.objects.filter(parent="140500")}


def test_the_figures_group_by_the_code_without_joining_the_region_tree(province_staff, city_reviewer):
    make_collection(person(1), "submitted")
    policy = CEYear.objects.get(pk=2026)
    for user in (province_staff, city_reviewer):
        with CaptureQueriesContext(connection) as queries:
            review_figures(user)
            cpe_figures(user, policy)
        tables = [q["sql"] for q in queries.captured_queries if "workbench_decisiontally" in q["sql"]
                  or "cpe_region" in q["sql"]]
        assert len(tables) == 4 and not any("accounts_region" in sql for sql in tables)


def test_a_region_whose_code_breaks_the_prefix_rule_is_still_counted_in_its_row(province_staff, city_reviewer):
    """A county under 晋城市 whose code does not start with 1405: the province falls back to the paths."""
    city = Region.objects.get(pk="140500")
    Region.objects.create(code="149901", name="试验县", level=Region.Level.COUNTY, parent=city,
                          path=city.path + "149901/")
    make_collection(person(1), "submitted")
    make_collection(person(2, "140521"), "submitted", jurisdiction="149901")
    make_collection(person(3, "140105"), "submitted", jurisdiction="140105")
    assert by_row(review_figures(province_staff)) == {"140500": 2, "140100": 1}
    assert by_row(review_figures(city_reviewer)) == {"140502": 1, "149901": 1}
    assert by_row(review_figures(province_staff, code="140500")) == {"140502": 1, "149901": 1}


def test_the_open_counts_read_the_index_of_each_kinds_open_rows():
    """Each kind's counting index covers exactly its review states, and the counts can be answered from it
    alone (an index-only scan once the planner is kept off the table, as it is at a million rows)."""
    from importlib import import_module

    from workbench.selectors import QUEUE_MODELS
    from workbench.stats import _open_select

    indexes = import_module("workbench.migrations.0002_open_counts_indexes").OPEN_COUNTS_INDEXES
    by_table = {table: (name, states) for name, (table, states, _extra) in indexes.items()}
    for kind, model in QUEUE_MODELS.items():
        name, states = by_table[model._meta.db_table]
        assert set(states) == set(model.REVIEW_STATES), kind
        sql, params = _open_select(kind, "{t}.jurisdiction_id, COUNT(*), COUNT(*) FILTER (WHERE {t}.due_date < %s)",
                                   None)
        with connection.cursor() as cursor:
            # The other partial indexes on the open rows (the queue's due-date index) cost the same on a table of
            # a few rows, and which one wins then depends on the statistics left by the tests before: set them
            # aside inside the test's transaction, so the plan shows whether this index answers the counts.
            cursor.execute(
                "SELECT i.relname FROM pg_index x JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indrelid = %s::regclass AND x.indpred IS NOT NULL AND i.relname <> %s "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = x.indexrelid)",
                [model._meta.db_table, name])
            for (other,) in cursor.fetchall():
                cursor.execute(f'DROP INDEX "{other}"')
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute("SET LOCAL enable_bitmapscan = off")
            cursor.execute(f"EXPLAIN {sql} GROUP BY 1", ["2026-12-05", *params])
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert f"Index Only Scan using {name}" in plan, plan
