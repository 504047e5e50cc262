"""The embedded default (SQLite, ``scripts/run.sh``) takes neither a LIMIT inside a UNION's parts nor
parenthesised parts: the queue and the counts then read the whole union and order it once. The same rows
and counts either way (R-COL-4, R-DL-2), checked here on PostgreSQL with those two features turned off."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
import time_machine
from django.db import connection

from tests.factories import make_accountant, make_change, make_collection, make_transfer
from workbench.selectors import queue_page
from workbench.stats import work_counts

pytestmark = pytest.mark.django_db

SATURDAY = dt.datetime(2026, 12, 5, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def read(user):
    page = queue_page(user, size=3)
    following = queue_page(user, after=page.next_token, page=2, size=3)
    return ([(row["kind"], row["pk"]) for row in page.rows + following.rows],
            dataclasses.astuple(work_counts(user)))


def test_without_limits_inside_a_union_the_queue_and_counts_are_the_same(monkeypatch, city_reviewer):
    with time_machine.travel(SATURDAY, tick=False):
        for n in range(4):
            make_collection(make_accountant(address="140502", sequence=700 + n, name=f"嵌入{n}"), "submitted")
        make_change(make_accountant(address="140502", sequence=710, name="嵌入变更"), "submitted")
        make_transfer(make_accountant(address="140502", sequence=711, name="嵌入转移"), "submitted")
        make_collection(make_accountant(address="140521", sequence=712, name="嵌入沁水"), "submitted",
                        jurisdiction="140521")
        on_postgresql = read(city_reviewer)
        monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
        monkeypatch.setattr(connection.features, "supports_parentheses_in_compound", False)
        embedded = read(city_reviewer)
    assert len(on_postgresql[0]) == 6 and on_postgresql[1][0] == 7
    assert embedded == on_postgresql
