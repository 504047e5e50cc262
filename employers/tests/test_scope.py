"""Employers see exactly their own people (the matrix test).

Two employers, each with people, and a person who changes unit through a real approved change request:
each employer sees exactly their people in the page, the API list, the detail and the export; the other's
are absent, and 404 wherever they are named (R-ACL-1's rule: outside one's scope is as if missing).
"""

from __future__ import annotations

import io

import pytest
from openpyxl import load_workbook

from employers.conftest import STAFF_PASSWORD, UNIT_A, UNIT_B, UNIT_NOBODY
from employers.services import employer_account_create
from kjzx.workflow import workflow_transition
from records.models import Archive
from records.services import change_open
from tests.factories import login_staff, make_attachment, make_staff, make_transfer

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(year_2026, employer_a, employer_b, person_in, reviewers):
    """A's people (one collected, one whose collection was returned, one still a draft), B's person, and
    the mover, collected in A."""
    people = {
        "alice": person_in(UNIT_A, sequence=111, name="甲一"),
        "anna": person_in(UNIT_A, sequence=113, name="甲二", state="returned"),
        "draft": person_in(UNIT_A, sequence=115, name="甲草稿", state="draft"),
        "bob": person_in(UNIT_B, sequence=117, name="乙一", jurisdiction="140521"),
        "mover": person_in(UNIT_A, sequence=119, name="调动人"),
    }
    return people


def _change_unit(archive: Archive, unit: str, reviewer, *, approve: bool = True):
    """The person asks to change employer (档案变更登记, R-CHG-1) and the bureau approves it (R-CHG-2)."""
    person = archive.person
    values = {"employer": {"name": "沁水县乙医院", "credit_code": unit, "unit_type": "institution"}}
    change = change_open(person=person, items=["employer"], values=values,
                         attachments=[make_attachment(person, "evidence").pk])
    change = workflow_transition(change, "submit", by=person)
    return workflow_transition(change, "approve", by=reviewer) if approve else change


def _client(client, user):
    return login_staff(client, user)


def _page_names(client) -> set[str]:
    html = client.get("/employer/?year=2026").content.decode()
    return {name for name in ("甲一", "甲二", "甲草稿", "乙一", "调动人") if name in html}


def _api_ids(client) -> set[int]:
    response = client.get("/api/v1/employer/people/?year=2026")
    assert response.status_code == 200
    return {row["id"] for row in response.json()["results"]}


def _export_names(client) -> set[str]:
    response = client.get("/employer/people.xlsx?year=2026")
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(response.content)).active
    return {row[0] for row in sheet.iter_rows(min_row=2, values_only=True)}


def _sees(client, world, expected: set[str]):
    """Exactly ``expected`` (by key of ``world``) in the page, the API, the export; detail 200 for them, 404 else."""
    names = {key: world[key].name for key in world}
    assert _page_names(client) == {names[key] for key in expected}
    assert _api_ids(client) == {world[key].pk for key in expected}
    assert _export_names(client) == {names[key] for key in expected}
    for key, archive in world.items():
        page = client.get(f"/employer/people/{archive.pk}/?year=2026").status_code
        api = client.get(f"/api/v1/employer/people/{archive.pk}/").status_code
        assert (page, api) == ((200, 200) if key in expected else (404, 404)), key


def test_each_employer_sees_exactly_its_people_and_a_unit_change_moves_the_person(client, world, employer_a,
                                                                                   employer_b, reviewers):
    """the matrix of two employers and a person who changes unit through an approved
    change — page, API list, detail and export; the other's people are absent or 404."""
    a = _client(client, employer_a)
    _sees(a, world, {"alice", "anna", "mover"})  # a draft collection is the person's own business
    b = _client(type(client)(), employer_b)
    _sees(b, world, {"bob"})

    change = _change_unit(world["mover"], UNIT_B, reviewers["140502"][0], approve=False)
    _sees(a, world, {"alice", "anna", "mover"})  # submitted, not approved: still A's
    workflow_transition(change, "approve", by=reviewers["140502"][0])
    _sees(a, world, {"alice", "anna"})  # at once, on approval (R-CHG-2)
    _sees(b, world, {"bob", "mover"})


def test_the_other_employers_person_cannot_be_reminded_either(client, world, employer_a):
    """A reminder to someone else's person is a 404 in the page and the API, and sends nothing."""
    from kjzx.models import Notification

    login_staff(client, employer_a)
    bob = world["bob"]
    assert client.post(f"/employer/people/{bob.pk}/remind/", {"year": 2026}).status_code == 404
    assert client.post(f"/api/v1/employer/people/{bob.pk}/remind/", {}, content_type="application/json"
                       ).status_code == 404
    assert not Notification.objects.filter(user=bob.person, event="employer.reminder").exists()


def test_an_employer_without_people_or_units_sees_nobody(client, world):
    """An administrator of a unit nobody names, and one whose units are all gone, see an empty list."""
    lonely = employer_account_create(username="danwei_c", password=STAFF_PASSWORD, region_code="140105",
                                     credit_codes=[UNIT_NOBODY])
    login_staff(client, lonely)
    assert _api_ids(client) == set()
    assert client.get(f"/api/v1/employer/people/{world['alice'].pk}/").status_code == 404
    page = client.get("/employer/")
    assert page.status_code == 200 and "没有符合条件的人员" in page.content.decode()


def test_other_roles_may_not_open_the_employers_doors(client, world, county_reviewer, accountant):
    """Function-level separation (security item 4): reviewers and accountants get 403, pages and API alike;
    an employer may not open the provincial staff's management page."""
    for user in (county_reviewer, accountant):
        login_staff(client, user)
        assert client.get("/employer/").status_code == 403
        assert client.get("/employer/people.xlsx").status_code == 403
        assert client.get(f"/employer/people/{world['alice'].pk}/").status_code == 403
        assert client.get("/api/v1/employer/people/").status_code == 403
        assert client.post(f"/api/v1/employer/people/{world['alice'].pk}/remind/").status_code == 403


def test_an_archive_that_left_shanxi_leaves_the_list(client, world, employer_a, reviewers, year_2026):
    """An outbound transfer completed through the exchange: the archive left Shanxi, and the unit's list."""
    login_staff(client, employer_a)
    alice = world["alice"]
    make_transfer(alice.person, "completed", type="outbound", origin=reviewers["140502"][0])
    assert alice.pk not in _api_ids(client)
    assert client.get(f"/api/v1/employer/people/{alice.pk}/").status_code == 404


def test_the_list_shows_collection_change_and_transfer_status(client, world, employer_a, reviewers):
    """What the seeds ask units to supervise: collection, changes and transfers, as each stands."""
    login_staff(client, employer_a)
    _change_unit(world["mover"], UNIT_B, reviewers["140502"][0], approve=False)
    make_transfer(world["alice"].person, "submitted", origin=reviewers["140502"][0])
    rows = {row["name"]: row for row in client.get("/api/v1/employer/people/").json()["results"]}
    assert rows["甲一"]["collection_status"] == "approved"
    assert rows["甲二"]["collection_status"] == "returned"
    html = client.get("/employer/").content.decode()
    assert "已退回" in html and "待调出地受理" in html and "待审核" in html
    detail = client.get(f"/api/v1/employer/people/{world['mover'].pk}/").json()
    assert [c["status"] for c in detail["changes"]] == ["submitted"]
    assert detail["changes"][0]["items"] == ["工作单位"]
    alice = client.get(f"/api/v1/employer/people/{world['alice'].pk}/").json()
    assert [(t["type"], t["status"]) for t in alice["transfers"]] == [("intra", "submitted")]


def test_a_staff_member_of_another_unit_sharing_a_region_sees_nothing_of_it(client, world):
    """Region is not scope for employers: an employer in 城区 with another unit sees none of 城区's people."""
    other = employer_account_create(username="danwei_d", password=STAFF_PASSWORD, region_code="140502",
                                    credit_codes=[UNIT_NOBODY])
    login_staff(client, other)
    assert _api_ids(client) == set()
    assert _page_names(client) == set()


def test_a_reviewer_persona_cannot_be_made_an_employer_by_binding_codes(world):
    """Units bind to employer administrators only: another role's account is refused."""
    from employers.services import employer_units_set
    from kjzx.api import DomainError

    reviewer = make_staff("cq_other", "county_reviewer", "140502")
    with pytest.raises(DomainError):
        employer_units_set(employer=reviewer, credit_codes=[UNIT_A], by=None)
