"""Other-form credit claims (其他形式学分登记): proposal, workflow, ledger, scope, API and pages (R-CE-11…13)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone
from django_fsm import TransitionNotAllowed
from rest_framework.test import APIClient

from cpe.claims.services import claim_open, claim_propose, claim_transition, claim_update
from cpe.ledger.selectors import year_status
from cpe.models import CEYear, CreditClaim, CreditEntry, CreditStandard
from kjzx.api import Conflict, DomainError
from tests.factories import login_staff, make_active_archive, make_attachment, make_collection, png_bytes, upload

pytestmark = pytest.mark.django_db

API = "/api/v1/cpe/claims"
CONFERENCE = {"days": 2}


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def open_claim(person, *, year=2024, form="conference", details=None, evidence=True) -> CreditClaim:
    files = [make_attachment(person, "evidence").pk] if evidence else []
    return claim_open(person=person, year=year, form=form, details=details or CONFERENCE, attachments=files)


def submitted_claim(person, **kwargs) -> CreditClaim:
    make_active_archive(person)
    claim = open_claim(person, **kwargs)
    return claim_transition(claim, "submit", by=person)


# --- the proposal (the SPEC table, R-CE-11) ------------------------------------------------------

@pytest.mark.parametrize(("form", "details", "credits"), [
    ("exam", {"exam": "cpa", "subjects_passed": 2}, "180.0"),
    ("exam", {"exam": "tax_adviser", "subjects_passed": 1}, "90.0"),
    ("exam", {"exam": "other", "subjects_passed": 1}, "90.0"),
    ("conference", {"days": 2}, "20.0"),
    ("degree", {"courses_passed": 1}, "90.0"),
    ("degree", {"courses_passed": 3}, "90.0"),
    ("research", {"role": "sole"}, "90.0"),
    ("research", {"role": "host"}, "90.0"),
    ("research", {"role": "participant"}, "60.0"),
    ("paper", {"authorship": "sole", "cn_number": "CN14-1234/F"}, "30.0"),
    ("paper", {"authorship": "first", "cn_number": "CN14-1234/F"}, "30.0"),
    ("paper", {"authorship": "other", "cn_number": "cn11-5678/f"}, "10.0"),
    ("book", {"authorship": "sole"}, "90.0"),
    ("book", {"authorship": "first"}, "90.0"),
    ("book", {"authorship": "other"}, "60.0"),
])
def test_each_form_and_variant_is_proposed_by_the_credit_table(form, details, credits):
    """The standards of the SPEC table; a degree gives 90 once for the year however many courses (R-CE-11)."""
    proposed, subject_kind = claim_propose(2024, form, details)
    assert proposed == Decimal(credits) and subject_kind == "professional"


@pytest.mark.parametrize(("form", "details", "field"), [
    ("exam", {"exam": "driving", "subjects_passed": 1}, "details.exam"),
    ("exam", {"exam": "cpa", "subjects_passed": 0}, "details.subjects_passed"),
    ("conference", {"days": "two"}, "details.days"),
    ("conference", {}, "details.days"),
    ("degree", {"courses_passed": True}, "details.courses_passed"),
    ("research", {"role": "boss"}, "details.role"),
    ("paper", {"authorship": "first", "cn_number": "ISSN 1234-5678"}, "details.cn_number"),
    ("paper", {"authorship": "first", "cn_number": "CN14-123/F"}, "details.cn_number"),
    ("book", {"authorship": "ghost"}, "details.authorship"),
    ("contest", {}, "form"),
])
def test_bad_details_are_refused_naming_the_field(form, details, field):
    """Each form's details as API.md gives them; the CN number is CNdd-dddd/X (R-CE-11)."""
    with pytest.raises(DomainError) as caught:
        claim_propose(2024, form, details)
    assert field in caught.value.errors


def test_a_later_standard_changes_the_proposal_for_later_years_only():
    """Standards are data with the year they take effect: earlier years keep theirs (SPEC table)."""
    CreditStandard.objects.create(form="conference", variant="per_day", label="会计类专业会议", credits=Decimal("12"),
                                  per="天", effective_from=2025)
    assert claim_propose(2024, "conference", CONFERENCE)[0] == Decimal("20.0")
    assert claim_propose(2025, "conference", CONFERENCE)[0] == Decimal("24.0")
    assert claim_propose(2026, "conference", CONFERENCE)[0] == Decimal("24.0")


# --- the workflow --------------------------------------------------------------------------------

def test_a_claim_goes_through_return_and_resubmission_to_one_ledger_entry(accountant, county_reviewer):
    """Draft → submit → return (reason) → resubmit → approve: one entry of that year, never twice (R-CE-11)."""
    archive = make_active_archive(accountant)
    claim = open_claim(accountant, form="research", details={"role": "participant"})
    assert claim.status == "draft" and claim.proposed_credits == Decimal("60.0") and claim.number.startswith("XF")
    claim = claim_transition(claim, "submit", by=accountant)
    assert claim.status == "submitted" and claim.jurisdiction_id == "140502" and claim.due_date
    with pytest.raises(DomainError) as caught:
        claim_transition(claim, "return", by=county_reviewer)
    assert "reason" in caught.value.errors
    claim = claim_transition(claim, "return", by=county_reviewer, reason="请上传课题结项证书。")
    assert claim.status == "returned" and claim.reason == "请上传课题结项证书。"
    claim = claim_update(claim=claim, by=accountant, details={"role": "host"})
    assert claim.proposed_credits == Decimal("90.0")
    claim = claim_transition(claim, "submit", by=accountant)
    assert claim.reason == ""
    claim = claim_transition(claim, "approve", by=county_reviewer)
    entry = CreditEntry.objects.get(archive=archive)
    assert (entry.year_id, entry.credits, entry.form, entry.source_type, entry.source_id) == (
        2024, Decimal("90.0"), "research", "claim", str(claim.pk))
    assert claim.status == "approved" and claim.approved_credits == Decimal("90.0") and claim.entry == entry
    assert year_status(archive, 2024).professional == Decimal("90.0")
    with pytest.raises(TransitionNotAllowed):
        claim_transition(claim, "approve", by=county_reviewer)
    assert CreditEntry.objects.filter(archive=archive).count() == 1


def test_an_adjusted_approval_needs_a_reason(accountant, county_reviewer):
    """The bureau may register other credits than proposed, with a reason the person reads (R-CE-11)."""
    claim = submitted_claim(accountant, details={"days": 3})
    with pytest.raises(DomainError) as caught:
        claim_transition(claim, "approve", by=county_reviewer, credits="20")
    assert "reason" in caught.value.errors and CreditEntry.objects.count() == 0
    with pytest.raises(DomainError) as caught:
        claim_transition(claim, "approve", by=county_reviewer, credits="-5", reason="x")
    assert "credits" in caught.value.errors
    claim = claim_transition(claim, "approve", by=county_reviewer, credits="20.0", reason="会议实际为2天。")
    assert claim.approved_credits == Decimal("20.0") and claim.adjust_reason == "会议实际为2天。"
    assert CreditEntry.objects.get().credits == Decimal("20.0")
    assert accountant.notifications.filter(body__contains="会议实际为2天").exists()


def test_a_claim_is_refused_before_the_collection_is_approved(accountant):
    """No credit before collection (R-CE-12): no claim can be opened, nor submitted."""
    make_collection(accountant, "submitted")
    with pytest.raises(Conflict):
        open_claim(accountant)
    archive = accountant.archive
    claim = CreditClaim.objects.create(applicant=accountant, archive=archive, year_id=2024, form="conference",
                                       details=CONFERENCE, proposed_credits=Decimal("20"))
    claim.attachments.add(make_attachment(accountant, "evidence"))
    with pytest.raises(DomainError) as caught:
        claim_transition(claim, "submit", by=accountant)
    assert "archive" in caught.value.errors


def test_a_frozen_year_is_refused(accountant, county_reviewer):
    """Nothing in a year whose registration closed (R-CE-13): not opened, submitted or approved."""
    make_active_archive(accountant)
    claim = open_claim(accountant, year=2019)
    claim = claim_transition(claim, "submit", by=accountant)
    CEYear.objects.filter(year=2019).update(frozen_at=timezone.now())
    with pytest.raises(Conflict):
        claim_transition(claim, "approve", by=county_reviewer)
    with pytest.raises(DomainError) as caught:
        open_claim(accountant, year=2019)
    assert "year" in caught.value.errors
    assert CreditEntry.objects.count() == 0 and CreditClaim.objects.get(pk=claim.pk).status == "submitted"


def test_submission_needs_evidence(accountant):
    """A claim comes with evidence (R-CE-11)."""
    make_active_archive(accountant)
    claim = open_claim(accountant, evidence=False)
    with pytest.raises(DomainError) as caught:
        claim_transition(claim, "submit", by=accountant)
    assert "attachments" in caught.value.errors


# --- the API -------------------------------------------------------------------------------------

def test_the_api_opens_a_claim_and_answers_the_workflow_shape(accountant, county_reviewer):
    """API.md: 201 draft with proposed_credits as a decimal string; the workflow-object shape (R-CE-11)."""
    make_active_archive(accountant)
    person = api_for(accountant)
    scan = person.post("/api/v1/attachments/", {"kind": "evidence", "file": upload("proof.png")},
                       format="multipart").json()["id"]
    bad = person.post(f"{API}/", {"year": 2024, "form": "paper", "details": {"authorship": "first"},
                                  "attachments": [scan]}, format="json")
    assert bad.status_code == 400 and "details.cn_number" in bad.json()
    made = person.post(f"{API}/", {"year": 2024, "form": "exam", "details": {"exam": "cpa", "subjects_passed": 2},
                                   "attachments": [scan]}, format="json")
    assert made.status_code == 201
    body = made.json()
    assert body["status"] == "draft" and body["proposed_credits"] == "180.0" and body["approved_credits"] is None
    assert body["year"] == 2024 and body["form"] == "exam" and body["attachments"] == [scan]
    assert body["available_transitions"] == ["submit"] and body["history"][0]["transition"] == "created"
    for key in ("id", "number", "status_display", "applicant", "jurisdiction", "submitted_at", "due_date", "overdue",
                "details", "adjust_reason"):
        assert key in body
    pk = body["id"]
    patched = person.patch(f"{API}/{pk}/", {"details": {"exam": "cpa", "subjects_passed": 1}}, format="json")
    assert patched.status_code == 200 and patched.json()["proposed_credits"] == "90.0"
    assert person.post(f"{API}/{pk}/transitions/submit/", {}, format="json").json()["status"] == "submitted"
    assert person.patch(f"{API}/{pk}/", {"details": {"exam": "cpa", "subjects_passed": 2}},
                        format="json").status_code == 409
    bureau = api_for(county_reviewer)
    assert bureau.get(f"{API}/").json()["results"][0]["id"] == pk
    no_reason = bureau.post(f"{API}/{pk}/transitions/approve/", {"credits": "45"}, format="json")
    assert no_reason.status_code == 400 and "reason" in no_reason.json()
    done = bureau.post(f"{API}/{pk}/transitions/approve/", {"credits": "45.0", "reason": "只认可半科。"}, format="json")
    assert done.status_code == 200 and done.json()["approved_credits"] == "45.0"
    assert done.json()["adjust_reason"] == "只认可半科。"
    assert bureau.post(f"{API}/{pk}/transitions/approve/", {}, format="json").status_code == 409
    assert person.get(f"{API}/").json()["results"][0]["status"] == "approved"


def test_the_api_refuses_a_claim_before_collection(accountant):
    """R-CE-12: 409 with the reason."""
    make_collection(accountant, "submitted")
    answer = api_for(accountant).post(f"{API}/", {"year": 2024, "form": "conference", "details": CONFERENCE},
                                      format="json")
    assert answer.status_code == 409 and "信息采集" in str(answer.json())


def test_a_claim_outside_ones_scope_is_a_404(accountant, other_accountant, county_reviewer, other_county_reviewer):
    """Another county's reviewer and another accountant see nothing (R-ACL-1, R-ACL-2), API and pages alike."""
    claim = submitted_claim(accountant)
    scan = claim.attachments.get()
    for user in (other_county_reviewer, other_accountant):
        client = api_for(user)
        assert client.get(f"{API}/{claim.pk}/").status_code == 404
        assert client.post(f"{API}/{claim.pk}/transitions/approve/", {}, format="json").status_code == 404
        assert client.get(f"{API}/").json()["count"] == 0
    for user, urls in ((other_county_reviewer, [f"/workbench/claims/{claim.pk}/", f"/files/{scan.pk}/"]),
                       (other_accountant, [f"/me/cpe/claims/{claim.pk}/", f"/files/{scan.pk}/"])):
        client = APIClient()
        login_staff(client, user)
        for url in urls:
            assert client.get(url).status_code == 404, (user, url)
    client = APIClient()
    login_staff(client, other_county_reviewer)
    assert client.post(f"/workbench/claims/{claim.pk}/transitions/approve/").status_code == 404
    assert CreditEntry.objects.count() == 0
    login_staff(client, county_reviewer)
    assert client.get(f"/files/{scan.pk}/").status_code == 200


def test_a_draft_is_not_the_bureaus_business(accountant, county_reviewer):
    """A reviewer sees a claim once it is submitted (R-ACL-2)."""
    make_active_archive(accountant)
    claim = open_claim(accountant)
    assert api_for(county_reviewer).get(f"{API}/{claim.pk}/").status_code == 404


def test_the_schema_documents_the_claims():
    """API.md §1: the OpenAPI schema describes every endpoint."""
    schema = APIClient().get("/api/schema/", {"format": "json"}).json()
    assert {f"{API}/", f"{API}/{{id}}/", f"{API}/{{id}}/transitions/{{name}}/"} <= set(schema["paths"])


# --- the pages -----------------------------------------------------------------------------------

def test_the_person_applies_on_the_page_sees_the_proposal_and_submits(client, accountant):
    """申请登记: year, form, details, evidence; the draft shows the proposed credits before submission (R-CE-11)."""
    make_active_archive(accountant)
    client.force_login(accountant)
    page = client.get("/me/cpe/claims/")
    assert page.status_code == 200 and "申请登记" in page.text and "会计类专业会议" in page.text
    bad = client.post("/me/cpe/claims/", {"year": "2024", "form": "paper", "authorship": "first",
                                          "cn_number": "123", "evidence": upload("a.png", png_bytes())})
    assert bad.status_code == 400 and "CN14-1234/F" in bad.text and CreditClaim.objects.count() == 0
    made = client.post("/me/cpe/claims/", {"year": "2024", "form": "book", "authorship": "other",
                                           "evidence": upload("b.png", png_bytes())})
    claim = CreditClaim.objects.get()
    assert made.status_code == 302 and made.url == f"/me/cpe/claims/{claim.pk}/"
    detail = client.get(made.url)
    assert detail.status_code == 200 and "60.0" in detail.text and "提交申请" in detail.text
    assert claim.attachments.get().kind == "evidence"
    client.post(f"/me/cpe/claims/{claim.pk}/transitions/submit/")
    assert CreditClaim.objects.get().status == "submitted"


def test_the_person_edits_and_resubmits_a_returned_claim(client, accountant, county_reviewer):
    """A returned claim shows the reason and can be corrected and submitted again (R-CE-11, R-ACL-3)."""
    claim = submitted_claim(accountant)
    claim_transition(claim, "return", by=county_reviewer, reason="参会天数与通知不符。")
    client.force_login(accountant)
    page = client.get(f"/me/cpe/claims/{claim.pk}/")
    assert "参会天数与通知不符" in page.text and "保存并提交" in page.text
    answer = client.post(f"/me/cpe/claims/{claim.pk}/", {"year": "2024", "form": "conference", "days": "1",
                                                         "pending": "", "submit": "1"})
    claim.refresh_from_db()
    assert answer.status_code == 302 and claim.status == "submitted" and claim.proposed_credits == Decimal("10.0")


def test_the_bureau_approves_with_adjusted_credits_on_its_page(client, accountant, county_reviewer):
    """workbench_claim: details, evidence inline, proposal; other credits need a reason (R-CE-11)."""
    claim = submitted_claim(accountant, details={"days": 3})
    login_staff(client, county_reviewer)
    page = client.get(f"/workbench/claims/{claim.pk}/")
    scan = claim.attachments.get()
    assert page.status_code == 200 and "30.0" in page.text and f"/files/{scan.pk}/" in page.text
    refused = client.post(f"/workbench/claims/{claim.pk}/transitions/approve/", {"credits": "20", "reason": ""})
    assert refused.status_code == 400 and "调整原因" in refused.text and CreditEntry.objects.count() == 0
    done = client.post(f"/workbench/claims/{claim.pk}/transitions/approve/", {"credits": "20", "reason": "实为2天"})
    assert done.status_code == 302 and CreditEntry.objects.get().credits == Decimal("20.0")
    returned = client.post(f"/workbench/claims/{claim.pk}/transitions/return/", {"reason": "x"})
    assert returned.status_code == 302 and CreditClaim.objects.get().status == "approved"


def test_a_refused_evidence_file_is_named_with_the_words_of_every_upload_page(client, accountant):
    """A claim's evidence goes through the same upload form as the records pages: a file refused by
    its content is named beside its input, said not saved, and nothing is opened."""
    make_active_archive(accountant)
    client.force_login(accountant)
    answer = client.post("/me/cpe/claims/", {"year": "2024", "form": "book", "authorship": "other",
                                             "evidence": upload("会议通知.png", b"%PDF-not really a picture")})
    assert answer.status_code == 400
    assert "会议通知.png：" in answer.text and "未保存此项。" in answer.text
    assert CreditClaim.objects.count() == 0
