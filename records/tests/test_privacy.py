"""ID numbers: masked by default, shown in full only through an audited reveal (security item 46; R-ACL-1).

Pages and API show ``140***********0022``; a reviewer in scope sees the whole number once, after
giving a reason, and each reveal writes exactly one audit row (actor, archive, reason). Outside the
region, or for an accountant, there is nothing to reveal (404) and nothing is written.
"""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from rest_framework.test import APIClient

from kjzx.audit import event_label
from kjzx.models import AuditEvent
from kjzx.workflow import history_rows
from records.privacy import REVEAL_EVENT
from tests.factories import login_staff, make_accountant, make_change, make_collection

pytestmark = pytest.mark.django_db

API = "/api/v1"
REASON = "核对证件扫描件"


def detail_url(obj) -> str:
    return reverse(f"workbench_{obj.KIND}", kwargs={"pk": obj.pk})


def reveal_url(obj) -> str:
    return reverse(f"workbench_{obj.KIND}_reveal", kwargs={"pk": obj.pk})


def api_reveal_url(obj) -> str:
    return f"{API}/{obj.KIND}s/{obj.pk}/reveal-id/"


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def reveals():
    return AuditEvent.objects.filter(event_type=REVEAL_EVENT)


@pytest.fixture
def collection(accountant):
    return make_collection(accountant)


@pytest.fixture
def change(db):
    """A submitted change of another 城区 accountant (the archive is active)."""
    return make_change(make_accountant(sequence=107, name="钱二", mobile="13700000001"))


# --- masked by default ------------------------------------------------------------------------

def test_workbench_pages_show_the_id_number_masked_by_default(client, county_reviewer, collection, change):
    """Queue and application pages show the masked number and a reveal form, never the whole one (item 46)."""
    login_staff(client, county_reviewer)
    queue = client.get("/workbench/").content.decode()
    for obj in (collection, change):
        assert obj.archive.id_number not in queue and obj.archive.masked_id_number in queue
        page = client.get(detail_url(obj)).content.decode()
        assert obj.archive.id_number not in page and obj.archive.masked_id_number in page
        assert f'action="{reveal_url(obj)}"' in page
        # Not pre-filled, no one-click choice: the reviewer types the reason.
        assert '<label for="reveal-reason">查看原因' in page and "<datalist" not in page
        assert 'id="reveal-reason" name="reason" value="" required minlength="4"' in page
        assert "显示完整号码" in page


def test_api_shows_reviewers_the_id_number_masked(county_reviewer, collection, change):
    """The workflow objects, their lists and the nested archive carry no whole ID number (item 46)."""
    reviewer = client_for(county_reviewer)
    for obj in (collection, change):
        number, masked = obj.archive.id_number, obj.archive.masked_id_number
        for url in (f"{API}/{obj.KIND}s/{obj.pk}/", f"{API}/{obj.KIND}s/"):
            response = reviewer.get(url)
            assert response.status_code == 200
            assert number not in response.content.decode() and masked in response.content.decode(), url
    seen = reviewer.get(f"{API}/collections/{collection.pk}/").json()
    assert seen["archive"]["id_number"] == seen["applicant"]["id_number"] == collection.archive.masked_id_number


def test_person_sees_their_own_whole_number_on_me_archive_only(accountant, collection):
    """The accountant's /me/archive/ is their own, in full; their application shows it masked (item 46)."""
    person = client_for(accountant)
    assert person.get(f"{API}/me/archive/").json()["id_number"] == accountant.id_number
    own = person.get(f"{API}/collections/{collection.pk}/").json()
    assert own["archive"]["id_number"] == own["applicant"]["id_number"] == accountant.masked_id_number


def test_queue_export_is_masked_even_after_a_reveal(client, county_reviewer, collection, change):
    """The Excel export holds masked numbers only; a reveal does not change that (item 46)."""
    login_staff(client, county_reviewer)
    client.post(reveal_url(collection), {"reason": REASON})
    response = client.get(reverse("workbench_export"))
    cells = [str(value) for row in load_workbook(io.BytesIO(response.content)).active.iter_rows(values_only=True)
             for value in row if value is not None]
    for obj in (collection, change):
        assert obj.archive.masked_id_number in cells
        assert not any(obj.archive.id_number in cell for cell in cells)


# --- the reveal on the workbench page ---------------------------------------------------------

def test_reveal_with_a_reason_shows_the_number_once_and_writes_one_audit_row(client, county_reviewer, collection):
    """The whole number is on the reveal's response only; one audit row names reviewer, archive, reason (item 46)."""
    login_staff(client, county_reviewer)
    response = client.post(reveal_url(collection), {"reason": f"  {REASON} "})
    page = response.content.decode()
    archive = collection.archive
    assert response.status_code == 200 and response["Cache-Control"] == "no-store"
    assert f"<strong>{archive.id_number}</strong>" in page and "本次查看已记录" in page
    event = reveals().get()
    assert (event.actor, event.actor_role, event.target, event.reason) == (
        county_reviewer, "county_reviewer", archive, REASON)
    assert event.extra == {"application": collection.number, "kind": "collection"}
    assert archive.id_number not in f"{event.reason}{event.extra}"  # the audit row holds no ID (item 47)
    assert archive.id_number not in str(dict(client.session))
    again = client.get(detail_url(collection)).content.decode()
    assert archive.id_number not in again and archive.masked_id_number in again
    assert reveals().count() == 1


def test_each_reveal_on_a_change_page_is_audited(client, second_reviewer, change):
    """A change's page reveals its archive's number; two reveals are two audit rows (item 46)."""
    login_staff(client, second_reviewer)
    for reason in ("核实申请人身份", "答复申请人咨询"):
        assert change.archive.id_number in client.post(reveal_url(change), {"reason": reason}).content.decode()
    assert list(reveals().values_list("actor", "target_id", "reason")) == [
        (second_reviewer.pk, str(change.archive.pk), "核实申请人身份"),
        (second_reviewer.pk, str(change.archive.pk), "答复申请人咨询")]


@pytest.mark.parametrize("reason", ["", "   ", "查", "核对", "核对号", "查" * 201])
def test_reveal_without_a_proper_reason_is_refused_and_writes_nothing(client, county_reviewer, collection,
                                                                       reason):
    """No reason, or one under 4 or over 200 characters: the page again, masked, with the error (item 46)."""
    login_staff(client, county_reviewer)
    response = client.post(reveal_url(collection), {"reason": reason})
    page = response.content.decode()
    assert response.status_code == 400
    assert collection.archive.id_number not in page and collection.archive.masked_id_number in page
    assert ("请填写查看完整证件号码的原因。" if not reason.strip() else "查看原因应为4至200个字。") in page
    assert not reveals().exists()


def test_reveal_outside_the_region_does_not_exist(client, other_county_reviewer, other_city_reviewer,
                                                  collection, change):
    """Another county's or city's reviewer gets 404 on the page and the API, and nothing is written (R-ACL-1)."""
    for reviewer in (other_county_reviewer, other_city_reviewer):
        login_staff(client, reviewer)
        api = client_for(reviewer)
        for obj in (collection, change):
            assert client.post(reveal_url(obj), {"reason": REASON}).status_code == 404
            assert api.post(api_reveal_url(obj), {"reason": REASON}, format="json").status_code == 404
    assert not reveals().exists()


def test_accountant_cannot_reveal_through_the_workbench_or_the_api(client, accountant, collection):
    """The applicant is no reviewer: the workbench door is 403, the API's reveal 404, nothing written (item 46)."""
    client.force_login(accountant)
    assert client.post(reveal_url(collection), {"reason": REASON}).status_code == 403
    response = client_for(accountant).post(api_reveal_url(collection), {"reason": REASON}, format="json")
    assert response.status_code == 404 and accountant.id_number not in response.content.decode()
    assert not reveals().exists()


def test_city_and_province_reviewers_may_reveal_in_their_region(city_reviewer, province_staff, collection):
    """The city above and the province reach the county's applications, so they may reveal too (R-ACL-1)."""
    for reviewer in (city_reviewer, province_staff):
        response = client_for(reviewer).post(api_reveal_url(collection), {"reason": REASON}, format="json")
        assert response.status_code == 200 and response.json() == {"id_number": collection.archive.id_number}
    assert sorted(reveals().values_list("actor_role", flat=True)) == ["city_reviewer", "province_staff"]


# --- the reveal through the API ---------------------------------------------------------------

def test_api_reveal_returns_the_number_and_writes_one_audit_row(county_reviewer, collection, change):
    """POST …/reveal-id/ with a reason → 200 {"id_number"}, one audit row each, never cached (item 46)."""
    reviewer = client_for(county_reviewer)
    for obj in (collection, change):
        response = reviewer.post(api_reveal_url(obj), {"reason": REASON}, format="json")
        assert response.status_code == 200 and response.json() == {"id_number": obj.archive.id_number}
        assert response["Cache-Control"] == "private, no-store"
        event = reveals().get(target_id=str(obj.archive.pk))
        assert (event.actor, event.reason, event.extra["application"]) == (county_reviewer, REASON, obj.number)
    assert reveals().count() == 2


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "x"}, {"reason": 42}, ["核对证件扫描件"]])
def test_api_reveal_without_a_reason_is_400_and_writes_nothing(county_reviewer, collection, body):
    """A missing, blank, too short or non-text reason → 400 on ``reason``, nothing revealed or written (item 46)."""
    response = client_for(county_reviewer).post(api_reveal_url(collection), body, format="json")
    assert response.status_code == 400 and list(response.json()) == ["reason"]
    assert collection.archive.id_number not in response.content.decode()
    assert not reveals().exists()


def test_reveal_stays_out_of_the_applicant_history(client, accountant, county_reviewer, collection):
    """The reveal is on the archive's audit trail, not in the application's history (item 46)."""
    client_for(county_reviewer).post(api_reveal_url(collection), {"reason": REASON}, format="json")
    assert reveals().count() == 1 and event_label(REVEAL_EVENT) == "查看完整证件号码"
    assert all(row["label"] != "查看完整证件号码" for row in history_rows(collection))
    own = client_for(accountant).get(f"{API}/collections/{collection.pk}/").json()
    assert [row["transition"] for row in own["history"]] == ["created", "submit"]
    client.force_login(accountant)
    assert "查看完整证件号码" not in client.get(reverse("person_collection")).content.decode()


def test_schema_documents_the_reveal_endpoints(client):
    """reveal-id is in the OpenAPI schema with its reason, answer and errors (item 46)."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for kind in ("collections", "changes"):
        operation = paths[f"/api/v1/{kind}/{{id}}/reveal-id/"]["post"]
        assert set(operation["responses"]) >= {"200", "400", "401", "404"}
        assert "requestBody" in operation
