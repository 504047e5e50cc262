"""Drafts that never lose work, and the same file uploaded twice (R-COL-2, R-CHG-1).

A draft save stores every well-formed value and every accepted file, and answers with what it did not
save and why; the all-or-nothing calls keep their contract (the API's default, API.md's 400). A
submission still needs everything (R-COL-4a, rules.archive_missing).
"""

from __future__ import annotations

import pytest
from rest_framework.test import APIClient

from kjzx.api import DomainError
from kjzx.models import AuditEvent
from records.models import Archive, Attachment
from records.services import (
    archive_draft_save,
    archive_for_person,
    archive_update,
    change_draft_save,
    collection_missing,
)
from records.uploads import attachment_create
from tests.factories import fill_archive, make_accountant, make_active_archive, make_attachment, png_bytes, upload

pytestmark = pytest.mark.django_db

API = "/api/v1"


def draft(person, data):
    return archive_draft_save(archive=archive_for_person(person), by=person, data=data)


# --- the service ---------------------------------------------------------------------------------

def test_a_draft_saves_every_well_formed_value_and_names_the_rest(accountant):
    """One bad e-mail, one bad date in an entry, an unknown region: the rest is saved (R-COL-2)."""
    photo = make_attachment(accountant, "photo")
    archive, unsaved = draft(accountant, {
        "basic": {"ethnicity": "汉族"},
        "contact": {"mobile": "13911112222", "email": "zhang@", "address": "凤台东街1号"},
        "education": [{"level": "bachelor", "school": "山西财经大学", "graduated_on": "2012-13-01"}],
        "jurisdiction": "999999", "attachments": [photo.pk, 987654],
    })
    assert set(unsaved) == {"contact.email", "education[0].graduated_on", "jurisdiction", "attachments"}
    assert unsaved["contact.email"] == ["邮箱格式不正确（应如 name@example.com）。"]
    archive.refresh_from_db()
    assert (archive.ethnicity, archive.mobile, archive.address, archive.email) == ("汉族", "13911112222",
                                                                                  "凤台东街1号", "")
    assert list(archive.education.values_list("school", "graduated_on")) == [("山西财经大学", None)]
    assert archive.jurisdiction is None and list(archive.attachments.all()) == [photo]
    event = AuditEvent.objects.filter(event_type="archive.updated", target_id=str(archive.pk)).latest("id")
    assert event.extra["unsaved"] == sorted(unsaved)


def test_a_malformed_value_keeps_what_the_archive_had(accountant):
    """A wrong value never blanks a good one saved before: the old e-mail, region and attachments stay."""
    photo = make_attachment(accountant, "photo")
    draft(accountant, {"contact": {"email": "zs@example.com"}, "jurisdiction": "140502", "attachments": [photo.pk]})
    archive, unsaved = draft(accountant, {"contact": {"email": "zs@", "address": "新地址"}, "jurisdiction": 14,
                                          "attachments": "all", "pledge_accepted": "yes"})
    assert set(unsaved) == {"contact.email", "jurisdiction", "attachments", "pledge_accepted"}
    archive.refresh_from_db()
    assert archive.email == "zs@example.com" and archive.address == "新地址"
    assert archive.jurisdiction_id == "140502" and list(archive.attachments.all()) == [photo]
    assert archive.pledge_accepted_at is None


def test_a_malformed_section_or_entry_is_not_saved_but_the_others_are(accountant):
    """A section that is not an object, an entry that is not one, or over ten entries: left as they were."""
    draft(accountant, {"education": [{"level": "bachelor", "school": "甲大学"}]})
    archive, unsaved = draft(accountant, {
        "contact": "not an object", "basic": {"ethnicity": "回族"},
        "qualifications": [{"level": "junior", "certificate_no": "C1"}, "x"],
        "education": [{"school": "乙"}] * 11,
    })
    assert {"contact", "qualifications[1]", "education"} <= set(unsaved)
    archive.refresh_from_db()
    assert archive.ethnicity == "回族"
    assert list(archive.education.values_list("school", flat=True)) == ["甲大学"]
    assert list(archive.qualifications.values_list("certificate_no", flat=True)) == ["C1"]


def test_the_strict_save_still_writes_nothing_on_any_error(accountant):
    """archive_update stays all or nothing (the API's default, API.md errors)."""
    with pytest.raises(DomainError) as caught:
        archive_update(archive=archive_for_person(accountant), by=accountant,
                       data={"contact": {"email": "zhang@", "address": "凤台东街1号"}})
    assert "contact.email" in caught.value.errors
    assert archive_for_person(accountant).address == ""


def test_a_draft_does_not_make_a_submission_possible(accountant):
    """What a draft leaves out is still missing at submission (R-COL-2, R-COL-4a)."""
    archive = fill_archive(accountant)
    archive, unsaved = draft(accountant, {"contact": {"mobile": "123"}, "pledge_accepted": False})
    assert "contact.mobile" in unsaved and archive.mobile == "13800000000"
    assert set(collection_missing(archive)) == {"pledge_accepted"}


def test_a_draft_is_refused_once_the_archive_is_in_review(accountant):
    """Only a draft or returned collection is edited directly (R-COL-4)."""
    from kjzx.api import Conflict

    archive = make_active_archive(accountant)
    with pytest.raises(Conflict):
        archive_draft_save(archive=archive, by=accountant, data={"contact": {"address": "x"}})


def test_a_change_draft_keeps_its_well_formed_values(accountant):
    """A change draft opens with what is well-formed, keeps its earlier values for a wrong one (R-CHG-1)."""
    make_active_archive(accountant)
    evidence = make_attachment(accountant, "evidence")
    values = {"contact": {"mobile": "13911112222", "email": "bad@", "address": "新市街9号"}}
    change, unsaved = change_draft_save(person=accountant, change=None, items=["contact"], values=values,
                                        attachments=[evidence.pk, 555555])
    assert set(unsaved) == {"values.contact.email", "attachments"}
    assert change.status == "draft" and change.new_values["contact"] == {
        "mobile": "13911112222", "email": "", "address": "新市街9号"}
    assert list(change.attachments.all()) == [evidence]
    values = {"contact": {"mobile": "1", "email": "li@example.com", "address": "新市街10号"}}
    change, unsaved = change_draft_save(person=accountant, change=change, items=["contact"], values=values,
                                        attachments=[evidence.pk])
    assert set(unsaved) == {"values.contact.mobile"}
    assert change.new_values["contact"] == {"mobile": "13911112222", "email": "li@example.com",
                                            "address": "新市街10号"}
    with pytest.raises(DomainError):  # no item: nothing to keep a draft of
        change_draft_save(person=accountant, change=change, items=[], values={}, attachments=[])


# --- the same file twice ---------------------------------------------------------------------

def test_the_same_bytes_of_the_same_kind_are_stored_once(accountant, settings, tmp_path):
    """Uploading the same file again reuses the stored attachment: no second row, no second file."""
    settings.MEDIA_ROOT = tmp_path
    first = attachment_create(owner=accountant, kind="id_card", upload=upload("front.png"))
    again = attachment_create(owner=accountant, kind="id_card", upload=upload("front-again.png"))
    assert again.pk == first.pk and again.reused and not first.reused and again.name == "front.png"
    assert Attachment.objects.count() == 1
    assert len([p for p in tmp_path.rglob("*") if p.is_file()]) == 1
    assert AuditEvent.objects.filter(event_type="attachment.reused", target_id=str(first.pk)).count() == 1
    other_kind = attachment_create(owner=accountant, kind="photo", upload=upload("front.png"))
    other_bytes = attachment_create(owner=accountant, kind="id_card", upload=upload("back.png", png_bytes((9, 9))))
    someone_else = attachment_create(owner=make_accountant(sequence=103), kind="id_card", upload=upload("front.png"))
    assert len({first.pk, other_kind.pk, other_bytes.pk, someone_else.pk}) == 4
    assert not any(a.reused for a in (other_kind, other_bytes, someone_else))


def test_the_api_answers_the_stored_attachment_for_the_same_file(accountant):
    """POST /attachments/ with the same bytes again: the same id, ``reused`` true."""
    client = APIClient()
    client.force_authenticate(accountant)

    def post(name):
        return client.post(f"{API}/attachments/", {"kind": "diploma", "file": upload(name)}, format="multipart")

    first, again = post("a.png"), post("b.png")
    assert first.status_code == again.status_code == 201
    assert again.json()["id"] == first.json()["id"] and again.json()["reused"] is True
    assert first.json()["reused"] is False and again.json()["name"] == "a.png"


# --- the API: PATCH /me/archive/?partial=true ---------------------------------------------------

def test_the_api_patch_stays_all_or_nothing_by_default(accountant):
    """API.md: bad input is 400 with the fields; nothing is written (R-COL-2)."""
    client = APIClient()
    client.force_authenticate(accountant)
    response = client.patch(f"{API}/me/archive/", {"email": "zhang@", "address": "凤台东街1号"}, format="json")
    assert response.status_code == 400 and "contact.email" in response.json()
    assert archive_for_person(accountant).address == ""


def test_the_api_partial_patch_saves_what_is_well_formed_and_says_what_not(accountant):
    """``?partial=true`` is the pages' draft save: 200, every well-formed field saved, ``unsaved`` naming the
    rest in the 400's keys; ``unsaved`` is empty when everything was saved."""
    client = APIClient()
    client.force_authenticate(accountant)
    body = {"email": "zhang@", "address": "凤台东街1号", "ethnicity": "汉族",
            "education": [{"level": "bachelor", "school": "山西财经大学", "graduated_on": "2012-13-01"}],
            "pledge_accepted": "yes"}
    response = client.patch(f"{API}/me/archive/?partial=true", body, format="json")
    assert response.status_code == 200
    data = response.json()
    assert set(data["unsaved"]) == {"contact.email", "education[0].graduated_on", "pledge_accepted"}
    assert data["address"] == "凤台东街1号" and data["ethnicity"] == "汉族" and data["email"] == ""
    assert data["education"][0]["school"] == "山西财经大学" and data["education"][0]["graduated_on"] is None
    assert data["pledge_accepted"] is False
    response = client.patch(f"{API}/me/archive/?partial=true", {"email": "zs@example.com"}, format="json")
    assert response.json()["unsaved"] == {} and response.json()["email"] == "zs@example.com"
    assert Archive.objects.get(person=accountant).email == "zs@example.com"


def test_the_schema_documents_the_partial_save_and_the_reused_upload(client):
    """The OpenAPI schema says what ?partial does, what ``unsaved`` holds, and what ``reused`` means."""
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json").json()
    patch = schema["paths"]["/api/v1/me/archive/"]["patch"]
    assert any(p["name"] == "partial" for p in patch["parameters"]) and "unsaved" in patch["description"]
    ref = patch["responses"]["200"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "unsaved" in schema["components"]["schemas"][ref]["properties"]
    upload_ref = schema["paths"]["/api/v1/attachments/"]["post"]["responses"]["201"]["content"][
        "application/json"]["schema"]["$ref"].rsplit("/", 1)[-1]
    assert "reused" in schema["components"]["schemas"][upload_ref]["properties"]
