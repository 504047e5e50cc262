"""Records services: the collection and change workflows (R-COL-2…5, R-CHG-1…4, R-ACL-3)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django_fsm import TransitionNotAllowed

from kjzx.api import Conflict, DomainError
from kjzx.audit import history_for
from kjzx.models import Notification
from kjzx.workflow import workflow_transition
from records.models import Archive
from records.services import archive_for_person, archive_update, change_open, collection_open
from tests.factories import make_active_archive, make_attachment, make_change, make_collection

pytestmark = pytest.mark.django_db


def test_submission_names_every_missing_field(accountant):
    """A half-filled draft saves; submitting it names each missing item at once (R-COL-2, R-COL-4a)."""
    archive = archive_update(archive=archive_for_person(accountant), by=accountant,
                             data={"basic": {"name": "张三", "ethnicity": ""}})
    collection = collection_open(person=accountant)
    with pytest.raises(DomainError) as caught:
        workflow_transition(collection, "submit", by=accountant)
    errors = caught.value.errors
    for key in ("basic.ethnicity", "contact.address", "education", "employer.name", "jurisdiction",
                "attachments", "pledge_accepted"):
        assert key in errors, key
    collection.refresh_from_db()
    assert collection.status == "draft"
    archive.refresh_from_db()
    assert archive.status == Archive.Status.DRAFT


def test_draft_rejects_malformed_values_and_writes_nothing(accountant):
    archive = archive_for_person(accountant)
    with pytest.raises(DomainError) as caught:
        archive_update(archive=archive, by=accountant, data={
            "contact": {"mobile": "12345", "address": "x"},
            "employer": {"name": "某公司", "credit_code": "91140500MA0GR12340", "unit_type": "company"},
            "education": [{"level": "bachelor", "graduated_on": "2012-13-01"}]})
    errors = caught.value.errors
    assert set(errors) >= {"contact.mobile", "employer.credit_code", "employer.unit_type",
                           "education[0].graduated_on"}
    archive.refresh_from_db()
    assert archive.address == "" and archive.education.count() == 0


@time_machine.travel(dt.datetime(2025, 1, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_collection_due_in_five_working_days(accountant):
    """The bureau has 5 working days from submission (R-COL-5, R-DL-1): 2025-01-24 → 2025-02-07."""
    collection = make_collection(accountant, "submitted")
    assert collection.status == "submitted"
    assert collection.due_date == dt.date(2025, 2, 7)
    assert collection.jurisdiction_id == "140502"


def test_two_reviews_by_two_reviewers(accountant, county_reviewer, second_reviewer):
    """First and second review are two different people (R-COL-4)."""
    collection = make_collection(accountant, "submitted")
    assert collection.transition_names_for(county_reviewer) == ["approve_first", "return"]
    collection = workflow_transition(collection, "approve_first", by=county_reviewer)
    assert collection.transition_names_for(county_reviewer) == ["return"]
    with pytest.raises(TransitionNotAllowed):
        workflow_transition(collection, "approve_second", by=county_reviewer)
    collection = workflow_transition(collection, "approve_second", by=second_reviewer)
    assert collection.status == "approved" and collection.due_date is None
    archive = Archive.objects.get(pk=collection.archive_id)
    assert archive.status == Archive.Status.ACTIVE and archive.collected_at


def test_return_needs_a_reason_and_the_person_sees_it(accountant, county_reviewer):
    """A return always has a reason, which the applicant is told (R-ACL-3, R-COL-4)."""
    collection = make_collection(accountant, "submitted")
    with pytest.raises(DomainError) as caught:
        workflow_transition(collection, "return", by=county_reviewer, reason="  ")
    assert "reason" in caught.value.errors
    collection = workflow_transition(collection, "return", by=county_reviewer, reason="学历证书不清晰")
    assert collection.status == "returned" and collection.reason == "学历证书不清晰"
    note = Notification.objects.get(user=accountant)
    assert "已退回" in note.title and "学历证书不清晰" in note.body
    # corrected and resubmitted, it passes (R-COL-4)
    archive_update(archive=collection.archive, by=accountant, data={"contact": {
        "mobile": "13800000000", "address": "山西省晋城市城区凤台东街2号"}})
    collection = workflow_transition(collection, "submit", by=accountant)
    assert collection.status == "submitted" and collection.reason == ""
    events = [e.event_type for e in history_for(collection)]
    assert events == ["collection.created", "collection.submit", "collection.return", "collection.submit"]


def test_other_county_reviewer_cannot_act(accountant, other_county_reviewer, city_reviewer):
    """A reviewer acts only inside their own region; a city reviewer acts on its counties (R-ACL-1)."""
    collection = make_collection(accountant, "submitted")
    assert collection.transition_names_for(other_county_reviewer) == []
    with pytest.raises(TransitionNotAllowed):
        workflow_transition(collection, "approve_first", by=other_county_reviewer)
    assert collection.transition_names_for(city_reviewer) == ["approve_first", "return"]


def test_archive_locked_while_in_review(accountant):
    collection = make_collection(accountant, "submitted")
    with pytest.raises(Conflict):
        archive_update(archive=collection.archive, by=accountant, data={"basic": {"name": "王五"}})


def test_change_applies_atomically_and_keeps_old_values(accountant, county_reviewer):
    """Approval puts the new values in the archive and keeps the old ones (R-CHG-2)."""
    change = make_change(accountant, "submitted")
    assert change.old_values["contact"]["mobile"] == "13800000000"
    change = workflow_transition(change, "approve", by=county_reviewer)
    archive = Archive.objects.get(pk=change.archive_id)
    assert archive.mobile == "13911112222"
    assert change.old_values["contact"]["address"] == "山西省晋城市城区凤台东街1号"
    accountant.refresh_from_db()
    assert accountant.mobile == "13911112222"


@time_machine.travel(dt.datetime(2025, 1, 24, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_change_due_in_ten_working_days(accountant):
    """R-CHG-3: 10 working days; 2025-01-24 → 2025-02-13 (the Spring Festival in between)."""
    change = make_change(accountant, "submitted")
    assert change.due_date == dt.date(2025, 2, 13)


def test_one_open_change_per_archive(accountant):
    """While a change is open, another cannot start (R-CHG-4)."""
    make_change(accountant, "submitted")
    with pytest.raises(Conflict):
        change_open(person=accountant, items=["basic"], values={"basic": {"name": "张三丰", "ethnicity": "汉族"}},
                    attachments=[make_attachment(accountant, "evidence").pk])


def test_withdrawn_change_frees_the_archive(accountant):
    change = make_change(accountant, "withdrawn")
    assert change.status == "withdrawn"
    again = change_open(person=accountant, items=["basic"], values={"basic": {"name": "张三丰", "ethnicity": "汉族"}},
                        attachments=[])
    assert again.status == "draft"


def test_change_that_changes_nothing_is_refused(accountant):
    make_active_archive(accountant)
    change = change_open(person=accountant, items=["basic"], values={"basic": {"name": "张三", "ethnicity": "汉族"}},
                         attachments=[make_attachment(accountant, "evidence").pk])
    with pytest.raises(DomainError) as caught:
        workflow_transition(change, "submit", by=accountant)
    assert "values.basic" in caught.value.errors


def test_no_change_before_collection(accountant):
    with pytest.raises(Conflict):
        change_open(person=accountant, items=["basic"], values={"basic": {"name": "李", "ethnicity": "汉族"}})


def test_personal_page_shows_the_collection_status_and_reason(client, accountant, county_reviewer):
    """The person sees where the collection stands on 个人中心, with the reason if returned (R-ACL-3)."""
    collection = make_collection(accountant, "submitted")
    workflow_transition(collection, "return", by=county_reviewer, reason="照片不清晰，请重新上传")
    client.force_login(accountant)
    html = client.get("/me/").content.decode()
    assert "已退回" in html and "照片不清晰，请重新上传" in html
