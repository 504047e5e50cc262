"""The transfers REST API as HTTP round trips (API.md §1; R-TRF-1…4, R-CHG-4, R-ACL-*)."""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from accounts.models import mask_id_number
from kjzx.workflow import workflow_transition
from records.models import Archive
from tests.factories import (
    PASSWORD,
    inbound_body,
    make_accountant,
    make_active_archive,
    make_attachment,
    make_transfer,
    upload,
)
from transfers.models import Province, Transfer
from transfers.services import inbound_receive

pytestmark = pytest.mark.django_db

API = "/api/v1"
SYSTEM_ONLY = ("mark_uploaded", "mark_received", "mark_rejected", "time_out")


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def move(client, pk, name, reason=None):
    return client.post(f"{API}/transfers/{pk}/transitions/{name}/", {} if reason is None else {"reason": reason},
                       format="json")


def open_transfer(client, **body):
    return client.post(f"{API}/transfers/", body, format="json")


def proof(person) -> int:
    return make_attachment(person, "employment_proof").pk


def make_other_person():
    """Another accountant of 城区 (140502)."""
    return make_accountant(sequence=107, name="王五", mobile="13700000000")


def test_intra_transfer_goes_from_draft_to_completed_over_http(accountant, county_reviewer, other_county_reviewer):
    """The person applies and submits, 城区 accepts, 沁水 approves: the archive moves to 沁水 (R-TRF-1)."""
    make_active_archive(accountant)
    person = APIClient()
    token = person.post(f"{API}/auth/token/", {"username": accountant.login_name, "password": PASSWORD},
                        format="json").json()["token"]
    person.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    scan = person.post(f"{API}/attachments/", {"kind": "employment_proof", "file": upload("proof.png")},
                       format="multipart")
    assert scan.status_code == 201

    opened = open_transfer(person, type="intra", to_region="140521", to_unit="沁水县某会计师事务所",
                           attachments=[scan.json()["id"]])
    assert opened.status_code == 201, opened.json()
    body = opened.json()
    pk = body["id"]
    assert body["status"] == "draft" and body["type"] == "intra" and body["type_display"] == "省内调转"
    assert body["from_region"] == "140502" and body["to_region"] == "140521"
    assert body["destination_label"] and body["attachments"] == [scan.json()["id"]]
    assert body["number"].startswith("DZ") and body["available_transitions"] == ["submit", "withdraw"]

    submitted = move(person, pk, "submit").json()
    assert submitted["status"] == "submitted" and submitted["jurisdiction"] == "140502" and submitted["due_date"]
    assert submitted["available_transitions"] == ["withdraw"]

    origin, destination = client_for(county_reviewer), client_for(other_county_reviewer)
    assert origin.get(f"{API}/transfers/{pk}/").json()["available_transitions"] == ["accept", "return"]
    coming = destination.get(f"{API}/transfers/{pk}/")
    assert coming.status_code == 200 and coming.json()["available_transitions"] == []  # sees what is coming

    accepted = move(origin, pk, "accept")
    assert accepted.status_code == 200
    assert accepted.json()["status_display"] == "调出地已受理，待调入地审核"
    assert accepted.json()["jurisdiction"] == "140521"
    assert destination.get(f"{API}/transfers/{pk}/").json()["available_transitions"] == ["approve", "reject"]

    completed = move(destination, pk, "approve")
    assert completed.status_code == 200 and completed.json()["status"] == "completed"
    assert [row["transition"] for row in completed.json()["history"]] == ["created", "submit", "accept", "approve"]
    assert person.get(f"{API}/me/archive/").json()["jurisdiction"] == "140521"
    listed = person.get(f"{API}/transfers/").json()["results"]
    assert [(row["id"], row["status"]) for row in listed] == [(pk, "completed")]


def test_outbound_transfer_reaches_accepted_and_waits_for_the_platform(accountant, county_reviewer):
    """To a connected province: submitted, accepted by the origin, then queued for the platform (R-TRF-3)."""
    make_active_archive(accountant)
    person = client_for(accountant)
    opened = open_transfer(person, type="outbound", to_province="11", to_unit="北京某公司",
                           attachments=[proof(accountant)])
    assert opened.status_code == 201, opened.json()
    pk = opened.json()["id"]
    assert opened.json()["to_province"] == "11" and opened.json()["destination_label"] == "北京市"
    assert move(person, pk, "submit").status_code == 200
    accepted = move(client_for(county_reviewer), pk, "accept").json()
    assert accepted["status"] == "accepted" and accepted["status_display"] == "调出地已受理，待上传全国平台"
    assert accepted["transfer_no"] == accepted["number"] and accepted["available_transitions"] == []
    shown = person.get(f"{API}/transfers/{pk}/").json()
    assert shown["person"]["name"] == accountant.name
    assert shown["person"]["id_number"] == mask_id_number(accountant.id_number)  # masked (item 46)
    assert shown["available_transitions"] == []  # too late to withdraw


def test_outbound_to_a_province_not_on_the_platform_is_refused(accountant):
    """Not connected to the national platform → 400 on to_province, "暂缓办理"; nothing is made (R-TRF-3)."""
    make_active_archive(accountant)
    Province.objects.filter(pk="54").update(connected=False)
    refused = open_transfer(client_for(accountant), type="outbound", to_province="54", to_unit="拉萨某单位",
                            attachments=[proof(accountant)])
    assert refused.status_code == 400
    assert "暂缓办理" in refused.json()["to_province"][0]
    assert not Transfer.objects.exists()


def test_a_second_transfer_while_one_is_open_is_a_conflict(accountant):
    """R-CHG-4: one open change or transfer per archive → 409."""
    make_transfer(accountant, "submitted")
    again = open_transfer(client_for(accountant), type="intra", to_region="140522", to_unit="阳城某单位")
    assert again.status_code == 409 and again.json()["detail"]
    assert Transfer.objects.count() == 1


def test_only_an_accountant_opens_a_transfer(county_reviewer):
    """A reviewer cannot apply for a transfer (403, a role matter, not a jurisdiction one)."""
    refused = open_transfer(client_for(county_reviewer), type="intra", to_region="140521", to_unit="某单位")
    assert refused.status_code == 403


@pytest.mark.parametrize("body, field", [
    ({"type": "inbound", "to_region": "140521", "to_unit": "某单位"}, "type"),
    ({"type": "intra", "to_region": "110101", "to_unit": "某单位"}, "to_region"),
    ({"type": "intra", "to_region": "140502", "to_unit": "某单位"}, "to_region"),
    ({"type": "intra", "to_region": "140521", "to_unit": ""}, "to_unit"),
    ({"type": "intra", "to_region": "140521", "to_unit": {"name": "x"}}, "to_unit"),
    ({"type": "intra", "to_region": "140521", "to_unit": "某单位", "attachments": "1"}, "attachments"),
    ({"type": "intra", "to_region": "140521", "to_unit": "某单位", "attachments": [987654]}, "attachments"),
    ({"type": "outbound", "to_province": "14", "to_unit": "某单位"}, "to_province"),
    ({"type": "outbound", "to_province": ["11"], "to_unit": "某单位"}, "to_province"),
])
def test_bad_opening_data_is_a_400_with_the_field(accountant, body, field):
    """Wrong or missing data names the field in Chinese, never a 500, nothing written (API.md §1)."""
    make_active_archive(accountant)
    answer = open_transfer(client_for(accountant), **body)
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    assert not Transfer.objects.exists()


def test_a_body_that_is_not_an_object_is_a_400(accountant):
    """A list, broken JSON, JSON nested past Python's limits: 400, never a 500 (API.md §1)."""
    make_active_archive(accountant)
    client = client_for(accountant)
    assert client.post(f"{API}/transfers/", ["intra"], format="json").status_code == 400
    assert client.post(f"{API}/transfers/", "{not json", content_type="application/json").status_code == 400
    deep = "[" * 50000 + "]" * 50000
    assert client.post(f"{API}/transfers/", deep, content_type="application/json").status_code == 400
    transfer = make_transfer(accountant, "draft")
    assert client.post(f"{API}/transfers/{transfer.pk}/transitions/submit/", deep,
                       content_type="application/json").status_code == 400


def test_transitions_not_available_now_are_409(accountant, county_reviewer, other_county_reviewer):
    """Only what is in available_transitions moves it; the rest, and unknown names, are 409 (API.md §1)."""
    transfer = make_transfer(accountant, "submitted")
    person, origin = client_for(accountant), client_for(county_reviewer)
    assert move(person, transfer.pk, "accept").status_code == 409  # the person is not the bureau
    assert move(origin, transfer.pk, "submit").status_code == 409  # already submitted, and not theirs
    assert move(origin, transfer.pk, "approve").status_code == 409  # the destination's step, later
    assert move(client_for(other_county_reviewer), transfer.pk, "accept").status_code == 409
    assert move(origin, transfer.pk, "frobnicate").status_code == 409
    transfer.refresh_from_db()
    assert transfer.status == "submitted"


def test_the_exchanges_own_moves_are_409_for_every_user(accountant, county_reviewer, city_reviewer, province_staff):
    """mark_uploaded, mark_received, mark_rejected and time_out belong to the platform and the sweep (API.md §2)."""
    transfer = make_transfer(accountant, "accepted", type="outbound")
    for user in (accountant, county_reviewer, city_reviewer, province_staff):
        for name in SYSTEM_ONLY:
            assert move(client_for(user), transfer.pk, name, reason="x").status_code == 409, (user, name)
    uploaded = make_transfer(make_other_person(), "uploaded", type="outbound")
    assert move(client_for(province_staff), uploaded.pk, "time_out", reason="x").status_code == 409
    assert sorted(Transfer.objects.values_list("status", flat=True)) == ["accepted", "uploaded"]


def test_return_and_reject_need_a_reason(accountant, county_reviewer, other_county_reviewer):
    """R-ACL-3: the origin's return and the destination's rejection say why; the person reads it."""
    transfer = make_transfer(accountant, "submitted")
    origin = client_for(county_reviewer)
    for body in ({}, {"reason": ""}, {"reason": "   "}):
        answer = origin.post(f"{API}/transfers/{transfer.pk}/transitions/return/", body, format="json")
        assert answer.status_code == 400 and "reason" in answer.json()
    assert move(origin, transfer.pk, "return", reason="工作证明未加盖公章").json()["status"] == "returned"

    accepted = make_transfer(make_other_person(), "accepted")
    destination = client_for(other_county_reviewer)
    assert move(destination, accepted.pk, "reject").status_code == 400
    rejected = move(destination, accepted.pk, "reject", reason="调入单位信息不符").json()
    assert rejected["status"] == "rejected"
    shown = client_for(accountant).get(f"{API}/transfers/{transfer.pk}/").json()
    assert shown["history"][-1]["reason"] == "工作证明未加盖公章"


def test_withdraw_before_acceptance(accountant):
    """The person withdraws a submitted transfer; then they may apply again (R-CHG-4)."""
    transfer = make_transfer(accountant, "submitted")
    person = client_for(accountant)
    assert move(person, transfer.pk, "withdraw").json()["status"] == "withdrawn"
    again = open_transfer(person, type="intra", to_region="140522", to_unit="阳城某单位")
    assert again.status_code == 201


def test_outside_the_jurisdiction_a_transfer_does_not_exist(accountant, other_accountant, other_city_reviewer,
                                                            county_reviewer):
    """太原's reviewer and another accountant get 404 on the object and its transitions (R-ACL-1, R-ACL-2)."""
    transfer = make_transfer(accountant, "submitted")
    for user in (other_city_reviewer, other_accountant):
        client = client_for(user)
        assert client.get(f"{API}/transfers/{transfer.pk}/").status_code == 404
        for name in ("accept", "withdraw", "return", "claim"):
            assert move(client, transfer.pk, name, reason="x").status_code == 404
        assert client.get(f"{API}/transfers/").json()["results"] == []
    assert client_for(county_reviewer).get(f"{API}/transfers/").json()["count"] == 1
    transfer.refresh_from_db()
    assert transfer.status == "submitted"


def test_a_draft_is_not_in_any_reviewers_list(accountant, county_reviewer):
    """A reviewer sees a transfer once it is submitted (R-ACL-1)."""
    draft = make_transfer(accountant, "draft")
    assert client_for(county_reviewer).get(f"{API}/transfers/{draft.pk}/").status_code == 404


def _inbound_for(person, transfer_no="11202600077"):
    body = inbound_body(transfer_no, id_number=person.id_number, name=person.name)
    body["person"]["sex"], body["person"]["birth_date"] = person.sex, person.birth_date.isoformat()
    return inbound_receive(body=body)[0]


def test_an_inbound_record_is_claimed_by_the_person_with_that_id(accountant, other_accountant, county_reviewer):
    """R-TRF-4: the bureau approves; the person logging in with the same ID claims it; nobody else sees it."""
    transfer = _inbound_for(accountant)
    reviewer = client_for(county_reviewer)
    shown = reviewer.get(f"{API}/transfers/{transfer.pk}/").json()
    assert shown["type"] == "inbound" and shown["available_transitions"] == ["approve", "reject"]
    assert shown["person"]["id_number"] == mask_id_number(accountant.id_number)  # masked for the reviewer
    assert shown["from_province"] == "11" and shown["transfer_no"] == "11202600077"
    assert move(reviewer, transfer.pk, "approve").json()["status"] == "approved"

    person = client_for(accountant)
    assert [row["id"] for row in person.get(f"{API}/transfers/").json()["results"]] == [transfer.pk]
    assert person.get(f"{API}/transfers/{transfer.pk}/").json()["available_transitions"] == ["claim"]

    stranger = client_for(other_accountant)
    assert stranger.get(f"{API}/transfers/{transfer.pk}/").status_code == 404
    assert move(stranger, transfer.pk, "claim").status_code == 404

    claimed = move(person, transfer.pk, "claim")
    assert claimed.status_code == 200 and claimed.json()["status"] == "claimed"
    assert Archive.objects.get(transfers=transfer).person == accountant
    assert claimed.json()["archive"]["status"] == "active"
    assert move(person, transfer.pk, "claim").status_code == 409  # once


def test_an_inbound_record_for_someone_unregistered_waits_for_them(county_reviewer, other_accountant):
    """Approved before the person has an account: only the same ID may claim it later (R-TRF-4)."""
    transfer, _ = inbound_receive(body=inbound_body("11202600078"))
    workflow_transition(transfer, "approve", by=county_reviewer)
    assert client_for(other_accountant).get(f"{API}/transfers/{transfer.pk}/").status_code == 404


def test_the_transfer_list_is_a_fixed_number_of_queries(province_staff):
    """However many outbound rows, the destination names cost no query per row."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from rest_framework.test import APIClient

    from tests.factories import make_accountant, make_transfer
    from transfers.models import province_names

    client = APIClient()
    client.force_authenticate(province_staff)
    province_names()  # the per-process name map, loaded once
    client.get("/api/v1/transfers/")  # and the caller's region, cached on the user

    def count() -> int:
        with CaptureQueriesContext(connection) as queries:
            assert client.get("/api/v1/transfers/").status_code == 200
        return len(queries)

    make_transfer(make_accountant(sequence=401, name="甲"), "submitted", type="outbound")
    one = count()
    for sequence in (403, 405, 407):
        make_transfer(make_accountant(sequence=sequence, name="乙"), "submitted", type="outbound")
    assert count() == one
