"""What a page costs in queries: the accountant's home, the reviewer's queue and the dashboard.

Each page is a fixed number of queries whatever it shows (no per-row query, STYLE "no per-row queries in
lists"), and no more than it needs today: the bound is the count measured when the pages were made
cheaper for the HTTP bench (bench/http_bench.py, docs/scaling.md). Session-table queries are left out:
sessions are read from the cache and written at most once a minute (accounts/tests/test_session_writes.py).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tests.factories import login_staff, make_accountant, make_change, make_collection, make_transfer

pytestmark = pytest.mark.django_db


def queries(client, url: str) -> list[str]:
    """The queries of one GET of ``url`` (after a first, which may renew the session), session table aside."""
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries if '"django_session"' not in query["sql"]]


def test_the_accountants_home_is_five_queries_with_or_without_applications(client, accountant):
    """个人中心 (R-COL-2, R-TRF-1, R-TRF-4): the user, the latest collection (one query, not archive then
    collection), the unread-notification badge, claimable inbound transfers, the latest own transfer (its own
    fields, not the transfer list's six joins) — the same five once the person has a collection and transfers."""
    login_staff(client, accountant)
    empty = queries(client, "/me/")
    assert len(empty) <= 5, empty
    make_transfer(accountant, "withdrawn")  # an approved collection, two transfers
    make_transfer(accountant, "submitted")
    full = queries(client, "/me/")
    assert len(full) == len(empty), full
    latest = next(sql for sql in full if '"transfers_transfer"' in sql and '"applicant_id" =' in sql)
    assert "JOIN" not in latest


def test_the_queue_page_does_not_grow_with_its_rows(client, county_reviewer):
    """审核工作台 (R-COL-4, R-DL-2): one open application of each kind, then three of each: the same queries."""
    login_staff(client, county_reviewer)

    def open_work(sequence: int) -> None:
        make_collection(make_accountant(sequence=sequence, mobile=f"1380000{sequence:04d}"), "submitted")
        make_change(make_accountant(sequence=sequence + 1, mobile=f"1380000{sequence + 1:04d}"), "submitted")
        make_transfer(make_accountant(sequence=sequence + 2, mobile=f"1380000{sequence + 2:04d}"), "submitted")

    open_work(501)
    one_each = queries(client, "/workbench/")
    open_work(511)
    open_work(521)
    three_each = queries(client, "/workbench/")
    assert len(three_each) == len(one_each), three_each
    assert len(one_each) <= 20, one_each


def test_the_dashboard_does_not_grow_with_the_work(client, province_staff):
    """统计看板 (R-DL-2, R-CE-3): the province's dashboard reads the kept figures and the live open counts, a
    fixed number of queries however many applications there are."""
    login_staff(client, province_staff)
    make_collection(make_accountant(sequence=601, mobile="13800006010"), "submitted")
    before = queries(client, "/dashboard/")
    make_collection(make_accountant(address="140521", sequence=603, mobile="13800006030"), "submitted")
    make_change(make_accountant(sequence=605, mobile="13800006050"), "submitted")
    after = queries(client, "/dashboard/")
    assert len(after) == len(before), after
    assert len(before) <= 25, before
