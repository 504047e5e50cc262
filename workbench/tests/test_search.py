"""The review queue's search (审核工作台查找): by name, application number, the whole ID number or its last
four or more characters, inside the reviewer's region only (R-ACL-1), the term never in a URL (item 44)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from records.models import Archive
from tests.factories import login_staff, make_accountant, make_collection, make_id_number, make_transfer
from workbench.selectors import QueueFilters, queue_rows, search_match

pytestmark = pytest.mark.django_db

QUEUE = "/workbench/"


@pytest.fixture
def people(accountant):
    """张三 in 城区 (140502) and 王五 in 沁水县 (140521) whose ID numbers end with the same four characters."""
    tail = accountant.id_number[-4:]
    born = next(day for day in (dt.date(1985, 1, 1) + dt.timedelta(days=n) for n in range(3000))
                if make_id_number("140521", day, 101)[-4:] == tail)
    twin = make_accountant(address="140521", born=born, sequence=101, name="王五", mobile="13900000101")
    here = make_collection(accountant, jurisdiction="140502")
    there = make_collection(twin, jurisdiction="140521")
    return here, there


def names_in(client, url: str) -> str:
    return client.get(url).content.decode()


def search(client, term: str, **filters):
    """POST the filter form as the page does; the redirect's URL."""
    response = client.post(QUEUE, {"q": term, **filters})
    assert response.status_code == 302
    return response["Location"]


def test_the_last_four_digits_find_the_person_in_the_region_only(client, county_reviewer, people):
    """Four trailing digits (a clerk on the phone) find 城区's person, never 沁水县's with the same tail."""
    here, there = people
    login_staff(client, county_reviewer)
    html = names_in(client, search(client, here.archive.id_number[-4:]))
    assert here.number in html and there.number not in html


def test_the_other_county_finds_its_own_person_by_the_same_digits(client, other_county_reviewer, people):
    """R-ACL-1 the other way: 沁水县's reviewer finds 王五, not 张三 (indistinguishable from nobody)."""
    here, there = people
    login_staff(client, other_county_reviewer)
    html = names_in(client, search(client, there.archive.id_number[-6:].lower()))
    assert there.number in html and here.number not in html


def test_name_whole_number_and_application_number_find_the_application(county_reviewer, people):
    """The other ways of asking: the name, the whole number (through its keyed hash), the number shown."""
    here, _there = people
    for term in ("张三", here.archive.id_number, here.archive.id_number[-9:], here.number):
        rows = queue_rows(county_reviewer, QueueFilters(q=term))
        assert [(row["kind"], row["pk"]) for row in rows] == [("collection", here.pk)], term
    assert queue_rows(county_reviewer, QueueFilters(q="999999")) == []
    assert queue_rows(county_reviewer, QueueFilters(q="王五")) == []


def test_a_province_wide_search_opens_only_the_few_candidates(django_assert_max_num_queries, people):
    """The tail search is one indexed query on the hash of the last four, then a comparison in clear."""
    here, there = people
    tail = here.archive.id_number[-4:]
    with django_assert_max_num_queries(3):  # name or whole number, archives by the tail, transfers by the tail
        match = search_match(tail, None)
    assert set(match.archive_pks) == {here.archive_id, there.archive_id}
    assert set(match.archive_pks) == set(Archive.objects.filter(
        id_last4_hash=here.archive.id_last4_hash).values_list("pk", flat=True))


def test_the_search_term_is_in_no_url_of_the_redirect_or_the_page(client, county_reviewer, people):
    """POST → redirect to a clean URL (the term under an opaque id in the session); the pager, the
    export link and the filters carry that id, never the term (docs/security.md item 44)."""
    here, _there = people
    login_staff(client, county_reviewer)
    for term in (here.archive.id_number, here.archive.id_number[-4:], "张三"):
        location = search(client, term, kind="collection")
        assert term not in location and "kind=collection" in location
        assert re.search(r"[?&]s=[\w-]+", location)
        response = client.get(location)
        html = response.content.decode()
        assert here.number in html
        for url in re.findall(r'(?:href|action|src)="([^"]*)"', html):
            assert term not in url, url
        export = re.search(r'href="(/workbench/export\.xlsx[^"]*)"', html).group(1).replace("&amp;", "&")
        assert "s=" in export and client.get(export).status_code == 200
    assert "overdue=on" in search(client, "张三", overdue="on")  # every filter kept, the term by its id


def test_a_term_typed_into_the_url_is_not_searched_and_an_expired_id_says_so(client, county_reviewer, people):
    """``?q=<ID number>`` is ignored (it must not become a habit); an unknown ``s`` asks to search again."""
    here, there = people
    login_staff(client, county_reviewer)
    html = names_in(client, f"{QUEUE}?q={there.archive.id_number}")
    assert here.number in html  # the whole queue, unfiltered
    response = client.get(f"{QUEUE}?s=unknown")
    assert "查找条件已失效" in response.content.decode()
    assert names_in(client, f"{QUEUE}?q={here.number}").count(here.number) >= 1  # an application number may


def test_only_reviewers_may_post_the_filters(client, accountant):
    client.force_login(accountant)
    assert client.post(QUEUE, {"q": accountant.id_number[-4:]}).status_code == 403
    assert reverse("accounts:workbench") == QUEUE


def test_the_destination_finds_an_accepted_transfer_by_the_trailing_digits(client, accountant, other_county_reviewer):
    """An intra transfer accepted by 城区 waits in 沁水县 (R-TRF-1): found there by name or last digits, by the
    transfer's own sealed number, though the archive is still 城区's."""
    transfer = make_transfer(accountant, "accepted", to_region="140521")
    login_staff(client, other_county_reviewer)
    for term in (accountant.id_number[-5:], "张三"):
        assert transfer.number in names_in(client, search(client, term))
