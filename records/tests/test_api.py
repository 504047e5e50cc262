"""The records REST API as HTTP round trips (API.md §1; R-COL-*, R-CHG-*, R-ACL-*)."""

from __future__ import annotations

import hashlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.models import Role
from kjzx.models import AuditEvent
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication
from records.services import archive_for_person, collection_open
from tests.factories import (
    PASSWORD,
    PDF_BYTES,
    complete_archive_data,
    fill_archive,
    make_accountant,
    make_active_archive,
    make_attachment,
    make_change,
    make_collection,
    make_staff,
    png_bytes,
    upload,
)

pytestmark = pytest.mark.django_db

API = "/api/v1"
NEW_CONTACT = {"mobile": "13911112222", "email": "", "address": "山西省晋城市城区新市街9号"}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def flat_archive(person, attachment_ids) -> dict:
    """A complete archive in the flat person-record shape of API.md §2."""
    data = complete_archive_data()
    return {"name": person.name, "ethnicity": "汉族", **data["contact"], "education": data["education"],
            "qualifications": data["qualifications"], "employer": data["employer"],
            "began_accounting_on": data["career"]["began_accounting_on"], "jurisdiction": "140502",
            "pledge_accepted": True, "attachments": attachment_ids}


def post_file(client, kind, name, content, content_type="application/octet-stream"):
    return client.post(f"{API}/attachments/", {"kind": kind, "file": SimpleUploadedFile(name, content, content_type)},
                       format="multipart")


def move(client, kind, pk, name, reason=None):
    return client.post(f"{API}/{kind}/{pk}/transitions/{name}/", {} if reason is None else {"reason": reason},
                       format="json")


def events_of(obj) -> int:
    return AuditEvent.objects.filter(target_id=str(obj.pk), event_type__startswith=f"{obj.KIND}.").count()


@pytest.fixture
def neighbour(db):
    """Another accountant of 城区 (140502)."""
    return make_accountant(sequence=105, name="王五", mobile="13700000000")


# --- information collection ------------------------------------------------------------------

def test_collection_goes_from_draft_to_approved_through_the_api(accountant, county_reviewer, second_reviewer):
    """The person fills, uploads and submits; two reviewers pass it; the archive is active (R-COL-2, R-COL-4)."""
    person = APIClient()
    token = person.post(f"{API}/auth/token/", {"username": accountant.login_name, "password": PASSWORD},
                        format="json").json()["token"]
    person.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    archive = person.get(f"{API}/me/archive/").json()
    assert archive["status"] == "draft" and archive["editable"] is True
    assert archive["id_number"] == accountant.id_number and archive["sex"] == "M"
    ids = [post_file(person, kind, f"{kind}.png", png_bytes()).json()["id"]
           for kind in ("photo", "id_card", "diploma", "qualification")]
    response = person.patch(f"{API}/me/archive/", flat_archive(accountant, ids), format="json")
    assert response.status_code == 200, response.json()
    archive = response.json()
    assert archive["education"][0]["school"] == "山西财经大学" and archive["employer"]["unit_type"] == "enterprise"
    assert archive["jurisdiction"] == "140502" and archive["pledge_accepted"] is True
    assert archive["attachments"] == sorted(ids)

    opened = person.post(f"{API}/collections/")
    assert opened.status_code == 201
    collection = opened.json()
    assert collection["status"] == "draft" and collection["available_transitions"] == ["submit"]
    assert collection["archive"]["name"] == accountant.name
    again = person.post(f"{API}/collections/")
    assert again.status_code == 200 and again.json()["id"] == collection["id"]

    submitted = move(person, "collections", collection["id"], "submit").json()
    assert submitted["status"] == "submitted" and submitted["status_display"] == "待初审"
    assert submitted["jurisdiction"] == "140502" and submitted["due_date"] and submitted["overdue"] is False
    assert submitted["available_transitions"] == []
    assert submitted["applicant"] == {"id": accountant.pk, "name": accountant.name,
                                      "id_number": accountant.masked_id_number}

    reviewer = client_for(county_reviewer)
    queue = reviewer.get(f"{API}/collections/").json()
    assert [row["id"] for row in queue["results"]] == [collection["id"]]
    seen = reviewer.get(f"{API}/collections/{collection['id']}/").json()
    assert seen["available_transitions"] == ["approve_first", "return"]
    assert seen["archive"]["id_number"] == accountant.masked_id_number  # whole only through reveal-id (item 46)
    first = move(reviewer, "collections", collection["id"], "approve_first")
    assert first.status_code == 200 and first.json()["status"] == "first_reviewed"
    assert first.json()["available_transitions"] == ["return"]
    second = move(client_for(second_reviewer), "collections", collection["id"], "approve_second").json()
    assert second["status"] == "approved" and second["due_date"] is None
    history = second["history"]
    assert [row["transition"] for row in history] == ["created", "submit", "approve_first", "approve_second"]
    assert history[-1] == {"transition": "approve_second", "from": "first_reviewed", "to": "approved",
                           "by": second_reviewer.name, "at": history[-1]["at"], "reason": ""}
    assert history[-1]["at"].endswith("+08:00")

    archive = person.get(f"{API}/me/archive/").json()
    assert archive["status"] == "active" and archive["editable"] is False
    assert person.patch(f"{API}/me/archive/", {"address": "别处"}, format="json").status_code == 409


def test_returned_collection_is_corrected_resubmitted_and_passes(accountant, county_reviewer, second_reviewer):
    """A return names its reason; the person corrects and resubmits until it passes (R-COL-4, R-ACL-3)."""
    collection = make_collection(accountant, "submitted")
    person, reviewer = client_for(accountant), client_for(county_reviewer)
    returned = move(reviewer, "collections", collection.pk, "return", "学历证书不清晰").json()
    assert returned["status"] == "returned"

    seen = person.get(f"{API}/collections/{collection.pk}/").json()
    assert seen["available_transitions"] == ["submit"]
    assert seen["history"][-1]["reason"] == "学历证书不清晰" and seen["history"][-1]["by"] == county_reviewer.name
    fixed = person.patch(f"{API}/me/archive/", {"address": "山西省晋城市城区凤台东街2号"}, format="json")
    assert fixed.status_code == 200
    assert fixed.json()["address"] == "山西省晋城市城区凤台东街2号"
    assert fixed.json()["mobile"] == "13800000000" and len(fixed.json()["education"]) == 1  # the rest is kept

    assert move(person, "collections", collection.pk, "submit").json()["status"] == "submitted"
    assert move(reviewer, "collections", collection.pk, "approve_first").status_code == 200
    passed = move(client_for(second_reviewer), "collections", collection.pk, "approve_second").json()
    assert passed["status"] == "approved"
    assert [row["transition"] for row in passed["history"]][1:] == [
        "submit", "return", "submit", "approve_first", "approve_second"]


def test_return_without_a_reason_is_400_and_changes_nothing(accountant, county_reviewer):
    """A return must say why (R-ACL-3)."""
    collection = make_collection(accountant, "submitted")
    before = events_of(collection)
    for body in ({}, {"reason": "   "}):
        response = client_for(county_reviewer).post(f"{API}/collections/{collection.pk}/transitions/return/", body,
                                                    format="json")
        assert response.status_code == 400 and "reason" in response.json()
    collection.refresh_from_db()
    assert collection.status == "submitted" and events_of(collection) == before


def test_transition_not_available_now_is_409_and_changes_nothing(accountant, county_reviewer):
    """Only what is available to this caller now may be done; anything else is 409 (API.md §1)."""
    collection = make_collection(accountant, "submitted")
    before = events_of(collection)
    for client, name in ((client_for(county_reviewer), "approve_second"), (client_for(accountant), "approve_first"),
                         (client_for(accountant), "submit"), (client_for(county_reviewer), "explode")):
        response = move(client, "collections", collection.pk, name, "原因")
        assert response.status_code == 409, name
        assert response.json()["detail"]
    collection.refresh_from_db()
    assert collection.status == "submitted" and events_of(collection) == before


def test_the_first_reviewer_cannot_do_the_second_review(accountant, county_reviewer, second_reviewer):
    """初审 and 复审 are two different reviewers (R-COL-4)."""
    collection = make_collection(accountant, "submitted")
    first = client_for(county_reviewer)
    assert move(first, "collections", collection.pk, "approve_first").status_code == 200
    refused = move(first, "collections", collection.pk, "approve_second")
    assert refused.status_code == 409
    collection.refresh_from_db()
    assert collection.status == "first_reviewed"
    assert move(client_for(second_reviewer), "collections", collection.pk, "approve_second").status_code == 200


def test_reviewer_lists_are_queues_oldest_submission_first(accountant, neighbour, county_reviewer):
    """A bureau's list is its queue: submitted only, oldest submission first, filterable (R-COL-4)."""
    fill_archive(accountant)
    fill_archive(neighbour)
    early, late = collection_open(person=accountant), collection_open(person=neighbour)
    person = client_for(accountant)
    assert [row["id"] for row in person.get(f"{API}/collections/").json()["results"]] == [early.pk]
    reviewer = client_for(county_reviewer)
    assert reviewer.get(f"{API}/collections/").json()["count"] == 0  # drafts are the person's own business
    move(client_for(neighbour), "collections", late.pk, "submit")
    move(person, "collections", early.pk, "submit")
    queue = reviewer.get(f"{API}/collections/").json()
    assert [row["id"] for row in queue["results"]] == [late.pk, early.pk]
    assert reviewer.get(f"{API}/collections/?status=first_reviewed").json()["count"] == 0
    assert reviewer.get(f"{API}/collections/?status=submitted").json()["count"] == 2
    bad = reviewer.get(f"{API}/collections/?status=nonsense")
    assert bad.status_code == 400 and "status" in bad.json()


# --- the archive -----------------------------------------------------------------------------

def test_archive_errors_come_back_keyed_as_the_rules_name_them(accountant):
    """Bad values are named field by field, all at once, and nothing is written (R-COL-2)."""
    person = client_for(accountant)
    response = person.patch(f"{API}/me/archive/", {
        "mobile": "12345", "employer": {"name": "某公司", "unit_type": "company"},
        "education": [{"level": "bachelor", "graduated_on": "2012-13-01"}], "jurisdiction": "999999"},
        format="json")
    assert response.status_code == 400
    assert set(response.json()) >= {"contact.mobile", "employer.unit_type", "education[0].graduated_on",
                                    "jurisdiction"}
    archive = archive_for_person(accountant)
    assert archive.employer_name == "" and archive.education.count() == 0
    assert person.patch(f"{API}/me/archive/", {"pledge_accepted": "yes"}, format="json").status_code == 400
    assert person.patch(f"{API}/me/archive/", ["x"], format="json").status_code == 400
    other = make_attachment(make_accountant(sequence=107), "photo")
    refused = person.patch(f"{API}/me/archive/", {"attachments": [other.pk]}, format="json")
    assert refused.status_code == 400 and "attachments" in refused.json()
    assert person.patch(f"{API}/me/archive/", {"name": "x"}, format="multipart").status_code == 415


def test_archive_patch_changes_only_what_is_sent(accountant):
    person = client_for(accountant)
    person.patch(f"{API}/me/archive/", {"mobile": "13911112222", "address": "晋城", "employer": {
        "name": "无"}}, format="json")
    archive = person.patch(f"{API}/me/archive/", {"address": "晋城市城区", "employer": {"unit_type": "other"}},
                           format="json").json()
    assert archive["mobile"] == "13911112222" and archive["address"] == "晋城市城区"
    assert archive["employer"] == {"name": "无", "credit_code": "", "unit_type": "other"}
    assert archive["id_type"] == "resident_id" and archive["birth_date"] == "1990-01-01"


# --- changes ---------------------------------------------------------------------------------

def test_change_goes_from_draft_to_approved_through_the_api(accountant, county_reviewer):
    """A change is drafted, edited, submitted and approved; the archive keeps its history (R-CHG-1, R-CHG-2)."""
    make_active_archive(accountant)
    person = client_for(accountant)
    evidence = post_file(person, "evidence", "证明.pdf", PDF_BYTES).json()["id"]
    opened = person.post(f"{API}/changes/", {"items": ["contact"], "values": {"contact": {
        **NEW_CONTACT, "mobile": "13911110000"}}, "attachments": [evidence]}, format="json")
    assert opened.status_code == 201, opened.json()
    change = opened.json()
    assert change["status"] == "draft" and change["items"] == ["contact"] and change["attachments"] == [evidence]
    assert change["current_values"]["contact"]["mobile"] == "13800000000"
    edited = person.patch(f"{API}/changes/{change['id']}/", {"values": {"contact": NEW_CONTACT}}, format="json")
    assert edited.status_code == 200 and edited.json()["new_values"]["contact"]["mobile"] == "13911112222"
    assert edited.json()["attachments"] == [evidence]  # left out: kept

    submitted = move(person, "changes", change["id"], "submit").json()
    assert submitted["status"] == "submitted" and submitted["old_values"]["contact"]["mobile"] == "13800000000"
    reviewer = client_for(county_reviewer)
    assert reviewer.get(f"{API}/changes/{change['id']}/").json()["available_transitions"] == ["approve", "return"]
    approved = move(reviewer, "changes", change["id"], "approve").json()
    assert approved["status"] == "approved"
    assert [row["transition"] for row in approved["history"]] == ["created", "updated", "submit", "approve"]

    assert person.get(f"{API}/me/archive/").json()["mobile"] == "13911112222"
    history = person.get(f"{API}/me/archive/history/").json()
    assert history["count"] == 1
    assert history["results"][0]["number"] == approved["number"]
    assert history["results"][0]["old_values"]["contact"]["mobile"] == "13800000000"
    assert history["results"][0]["new_values"]["contact"]["mobile"] == "13911112222"


def test_change_input_errors_and_conflicts(accountant, county_reviewer):
    """Bad items or values are 400 as the service names them; no change before collection, one at a time (R-CHG-4)."""
    person = client_for(accountant)
    body = {"items": ["contact"], "values": {"contact": NEW_CONTACT}, "attachments": []}
    assert person.post(f"{API}/changes/", body, format="json").status_code == 409  # not collected yet
    make_active_archive(accountant)
    bad = person.post(f"{API}/changes/", {"items": ["jurisdiction"], "values": {}}, format="json")
    assert bad.status_code == 400 and "items" in bad.json()
    bad = person.post(f"{API}/changes/", {"items": ["contact"], "values": {"contact": {"mobile": "1"}}},
                      format="json")
    assert bad.status_code == 400 and "values.contact.mobile" in bad.json()
    assert person.post(f"{API}/changes/", body, format="json").status_code == 201
    assert person.post(f"{API}/changes/", body, format="json").status_code == 409
    assert ChangeRequest.objects.filter(applicant=accountant).count() == 1
    assert client_for(county_reviewer).post(f"{API}/changes/", body, format="json").status_code == 403


def test_change_withdrawn_by_the_person(accountant, county_reviewer):
    """The person may withdraw before a decision; afterwards nothing more moves it (R-CHG states)."""
    change = make_change(accountant, "submitted")
    person = client_for(accountant)
    assert move(client_for(county_reviewer), "changes", change.pk, "withdraw").status_code == 409
    withdrawn = move(person, "changes", change.pk, "withdraw")
    assert withdrawn.status_code == 200 and withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["available_transitions"] == []
    assert move(client_for(county_reviewer), "changes", change.pk, "approve").status_code == 409
    assert person.patch(f"{API}/changes/{change.pk}/", {"items": ["contact"]}, format="json").status_code == 409


def test_change_return_needs_a_reason_and_only_the_person_edits(accountant, county_reviewer):
    """R-ACL-3 for changes; a reviewer may read but not edit a change (403)."""
    change = make_change(accountant, "submitted")
    reviewer = client_for(county_reviewer)
    assert move(reviewer, "changes", change.pk, "return").status_code == 400
    assert reviewer.patch(f"{API}/changes/{change.pk}/", {"items": ["basic"]}, format="json").status_code == 403
    assert move(reviewer, "changes", change.pk, "return", "证明材料不全").json()["status"] == "returned"
    edited = client_for(accountant).patch(f"{API}/changes/{change.pk}/", {"values": {"contact": {
        **NEW_CONTACT, "address": "山西省晋城市城区新市街10号"}}}, format="json")
    assert edited.status_code == 200 and edited.json()["available_transitions"] == ["submit", "withdraw"]


# --- uploads ---------------------------------------------------------------------------------

def test_upload_is_judged_by_content_not_name(accountant):
    """A PNG named .pdf is a PNG; text renamed .pdf or a truncated PNG is refused with 415."""
    person = client_for(accountant)
    content = png_bytes()
    response = post_file(person, "photo", "scan.pdf", content, "application/pdf")
    assert response.status_code == 201
    stored = Attachment.objects.get()  # images are stored re-encoded: size and hash are of what is kept
    assert stored.content_type == "image/png"
    data = stored.file.read()
    assert response.json() == {"id": stored.pk, "kind": "photo", "name": "scan.pdf",
                               "size": len(data), "sha256": hashlib.sha256(data).hexdigest(), "reused": False}
    assert post_file(person, "diploma", "diploma.pdf", "这不是PDF".encode()).status_code == 415
    whole = png_bytes((64, 64))
    assert post_file(person, "photo", "cut.png", whole[: len(whole) - 20], "image/png").status_code == 415
    assert post_file(person, "photo", "head.png", whole[:40], "image/png").status_code == 415
    assert Attachment.objects.count() == 1


@override_settings(UPLOAD_MAX_BYTES=1000)
def test_upload_over_the_configured_limit_is_413(accountant):
    response = post_file(client_for(accountant), "evidence", "big.pdf", PDF_BYTES + b"0" * 1000)
    assert response.status_code == 413 and "file" in response.json()
    assert not Attachment.objects.exists()


def test_a_real_file_over_the_default_limit_is_413_not_500(accountant):
    """A file just over UPLOAD_MAX_BYTES goes through Django's temporary upload and is refused cleanly."""
    content = PDF_BYTES + b"0" * (settings.UPLOAD_MAX_BYTES + 1 - len(PDF_BYTES))
    response = post_file(client_for(accountant), "evidence", "big.pdf", content, "application/pdf")
    assert response.status_code == 413
    assert not Attachment.objects.exists()


def test_upload_needs_a_file_a_kind_and_multipart(accountant, county_reviewer):
    person = client_for(accountant)
    missing_file = person.post(f"{API}/attachments/", {"kind": "photo"}, format="multipart")
    assert missing_file.status_code == 400 and "file" in missing_file.json()
    missing_kind = person.post(f"{API}/attachments/", {"file": upload()}, format="multipart")
    assert missing_kind.status_code == 400 and "kind" in missing_kind.json()
    assert person.post(f"{API}/attachments/", {"kind": "photo"}, format="json").status_code == 415
    assert post_file(client_for(county_reviewer), "photo", "a.png", png_bytes()).status_code == 403
    assert not Attachment.objects.exists()


def test_attachment_file_is_served_inline_and_sandboxed(accountant):
    """Scans are served only through the authorised view, never sniffed or run (security item 38)."""
    person = client_for(accountant)
    content = png_bytes()
    pk = post_file(person, "photo", "照片.png", content, "image/png").json()["id"]
    assert person.get(f"{API}/attachments/{pk}/").json()["name"] == "照片.png"
    response = person.get(f"{API}/attachments/{pk}/file/", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200
    served = b"".join(response.streaming_content)
    assert served == Attachment.objects.get(pk=pk).file.read() and served.startswith(b"\x89PNG")
    assert response["Content-Type"] == "image/png"
    assert response["Content-Disposition"].startswith("inline;") and "utf-8''" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "sandbox"
    assert "no-store" in response["Cache-Control"]
    disguised = post_file(person, "photo", "page.html", png_bytes((9, 9)), "text/html").json()["id"]
    response = person.get(f"{API}/attachments/{disguised}/file/")
    assert response["Content-Type"] == "image/png" and 'filename="page.png"' in response["Content-Disposition"]


# --- jurisdiction and roles (R-ACL-1, R-ACL-2) -------------------------------------------------

@pytest.fixture
def city_cases(accountant, neighbour):
    """In 城区 (140502): a submitted collection (neighbour) and a submitted change (accountant)."""
    collection = make_collection(neighbour, "submitted")
    change = make_change(accountant, "submitted")
    return {"collection": collection, "change": change,
            "scan": collection.archive.attachments.order_by("pk").first(),
            "evidence": change.attachments.get()}


def object_requests(cases):
    collection, change = cases["collection"].pk, cases["change"].pk
    return [
        ("get", f"{API}/collections/{collection}/", None),
        ("post", f"{API}/collections/{collection}/transitions/approve_first/", {}),
        ("post", f"{API}/collections/{collection}/transitions/return/", {"reason": "x"}),
        ("get", f"{API}/changes/{change}/", None),
        ("patch", f"{API}/changes/{change}/", {"items": ["basic"]}),
        ("post", f"{API}/changes/{change}/transitions/approve/", {}),
        ("post", f"{API}/changes/{change}/transitions/withdraw/", {}),
        ("get", f"{API}/attachments/{cases['scan'].pk}/", None),
        ("get", f"{API}/attachments/{cases['scan'].pk}/file/", None),
        ("get", f"{API}/attachments/{cases['evidence'].pk}/", None),
        ("get", f"{API}/attachments/{cases['evidence'].pk}/file/", None),
    ]


@pytest.mark.parametrize("persona", ["other_county_reviewer", "other_city_reviewer", "other_accountant"])
def test_outside_the_jurisdiction_everything_is_404(request, persona, city_cases):
    """Another county's or city's reviewer, or another person, cannot tell these exist (R-ACL-1, R-ACL-2)."""
    user = request.getfixturevalue(persona)
    client = client_for(user)
    for method, url, body in object_requests(city_cases):
        response = getattr(client, method)(url, body, format="json") if body is not None else client.get(url)
        assert response.status_code == 404, (method, url)
    for kind in ("collections", "changes"):
        assert client.get(f"{API}/{kind}/").json()["count"] == 0
    assert CollectionApplication.objects.get(pk=city_cases["collection"].pk).status == "submitted"
    assert ChangeRequest.objects.get(pk=city_cases["change"].pk).status == "submitted"


@pytest.mark.parametrize("persona", ["city_reviewer", "province_staff"])
def test_the_city_and_the_province_see_a_county_application(request, persona, city_cases):
    """A city reviewer sees its counties, provincial staff everything in Shanxi (R-ACL-1)."""
    client = client_for(request.getfixturevalue(persona))
    collection = client.get(f"{API}/collections/{city_cases['collection'].pk}/")
    assert collection.status_code == 200
    assert collection.json()["jurisdiction"] == "140502"
    assert collection.json()["available_transitions"] == ["approve_first", "return"]
    assert client.get(f"{API}/changes/{city_cases['change'].pk}/").json()["available_transitions"] == [
        "approve", "return"]
    for attachment in (city_cases["scan"], city_cases["evidence"]):
        assert client.get(f"{API}/attachments/{attachment.pk}/").status_code == 200
        assert client.get(f"{API}/attachments/{attachment.pk}/file/").status_code == 200
    listed = [row["id"] for row in client.get(f"{API}/collections/").json()["results"]]
    assert city_cases["collection"].pk in listed
    assert [row["id"] for row in client.get(f"{API}/changes/").json()["results"]] == [city_cases["change"].pk]


def test_a_reviewer_does_not_see_drafts_or_unsubmitted_scans(accountant, county_reviewer):
    """Drafts and their scans are the person's own business until submitted (R-ACL-2)."""
    collection = make_collection(accountant, "draft")
    reviewer = client_for(county_reviewer)
    assert reviewer.get(f"{API}/collections/{collection.pk}/").status_code == 404
    scan = collection.archive.attachments.first()
    assert reviewer.get(f"{API}/attachments/{scan.pk}/").status_code == 404


def test_role_gates(accountant, county_reviewer, city_cases):
    """Other roles may not list applications (403) nor find one (404); /me/* and opening are accountants' (403)."""
    institution = client_for(make_staff("jigou_a", Role.INSTITUTION, "140500"))
    for kind in ("collections", "changes"):
        assert institution.get(f"{API}/{kind}/").status_code == 403
    assert institution.get(f"{API}/collections/{city_cases['collection'].pk}/").status_code == 404
    assert institution.get(f"{API}/attachments/{city_cases['scan'].pk}/").status_code == 404
    reviewer = client_for(county_reviewer)
    for method, url in (("get", "/me/archive/"), ("patch", "/me/archive/"), ("get", "/me/archive/history/"),
                        ("post", "/collections/"), ("post", "/changes/")):
        assert getattr(reviewer, method)(f"{API}{url}", {}, format="json").status_code == 403, url
    anonymous = APIClient()
    for url in ("/me/archive/", "/collections/", f"/collections/{city_cases['collection'].pk}/",
                f"/attachments/{city_cases['scan'].pk}/file/"):
        assert anonymous.get(f"{API}{url}").status_code == 401, url


def test_the_schema_describes_the_records_api(client):
    """The OpenAPI schema is generated from the code and lists every records endpoint (API.md §1)."""
    response = client.get("/api/schema/?format=json")
    assert response.status_code == 200
    schema = response.json()
    paths = schema["paths"]
    for path in ("/api/v1/me/archive/", "/api/v1/me/archive/history/", "/api/v1/attachments/",
                 "/api/v1/attachments/{id}/", "/api/v1/attachments/{id}/file/", "/api/v1/collections/",
                 "/api/v1/collections/{id}/", "/api/v1/collections/{id}/transitions/{name}/",
                 "/api/v1/changes/", "/api/v1/changes/{id}/", "/api/v1/changes/{id}/transitions/{name}/"):
        assert path in paths, path
    assert set(paths["/api/v1/attachments/"]["post"]["responses"]) >= {"201", "400", "413", "415"}
    assert set(paths["/api/v1/collections/{id}/transitions/{name}/"]["post"]["responses"]) >= {
        "200", "400", "404", "409"}
    history = schema["components"]["schemas"]["WorkflowHistoryRow"]["properties"]
    assert set(history) == {"transition", "from", "to", "by", "at", "reason"}


def test_archive_of_the_person_is_kept_per_person(accountant, other_accountant):
    """Each accountant's /me/archive/ is their own (R-ACL-2)."""
    mine = client_for(accountant).get(f"{API}/me/archive/").json()
    theirs = client_for(other_accountant).get(f"{API}/me/archive/").json()
    assert mine["id_number"] == accountant.id_number and theirs["id_number"] == other_accountant.id_number
    assert Archive.objects.count() == 2



def test_hostile_bodies_are_refused_never_a_500(accountant):
    """Malformed JSON or multipart, too big a body, too many files: a 4xx, nothing stored (security item 31, 41)."""
    person = client_for(accountant)
    assert person.generic("PATCH", f"{API}/me/archive/", b"{not json",
                          content_type="application/json").status_code == 400
    assert person.generic("POST", f"{API}/attachments/", b"abc",
                          content_type="multipart/form-data").status_code == 400
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=1000):
        assert person.patch(f"{API}/me/archive/", {"address": "x" * 2000}, format="json").status_code == 400
    with override_settings(DATA_UPLOAD_MAX_NUMBER_FILES=1):
        response = person.post(f"{API}/attachments/", {"kind": "photo", "file": upload(), "more": upload("b.png")},
                               format="multipart")
        assert response.status_code == 400
    assert not Attachment.objects.exists()


def test_a_change_withdrawn_as_a_draft_stays_private(accountant, county_reviewer):
    """A change that was never submitted is the person's own business, withdrawn or not (R-ACL-2)."""
    change = make_change(accountant, "draft")
    move(client_for(accountant), "changes", change.pk, "withdraw")
    reviewer = client_for(county_reviewer)
    evidence = change.attachments.get()
    assert reviewer.get(f"{API}/changes/{change.pk}/").status_code == 404
    assert reviewer.get(f"{API}/attachments/{evidence.pk}/").status_code == 404



def test_a_list_page_costs_the_same_queries_for_one_or_many(accountant, neighbour, county_reviewer):
    """A reviewer's list page is a fixed number of queries, whatever it holds (STYLE §4, §9)."""
    make_collection(accountant, "submitted")
    reviewer = client_for(county_reviewer)
    with CaptureQueriesContext(connection) as one:
        reviewer.get(f"{API}/collections/")
    make_collection(neighbour, "submitted")
    for i in range(3):
        make_collection(make_accountant(sequence=111 + 2 * i), "submitted")
    with CaptureQueriesContext(connection) as five:
        assert reviewer.get(f"{API}/collections/").json()["count"] == 5
    assert len(five) <= len(one)
