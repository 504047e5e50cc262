"""The training institutions' REST API as HTTP round trips (R-CE-14, R-ACL-1)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from rest_framework.test import APIClient

from cpe.models import Teacher, TrainingInstitution, TrainingPlan
from tests.factories import valid_credit_code

pytestmark = pytest.mark.django_db

API = "/api/v1"
BEIJING = dt.timezone(dt.timedelta(hours=8))


def client_for(user=None) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


def filing_body(name="晋城市财会培训学校", first17="52140502MJ0K7H3L2", kind="face_to_face"):
    return {"name": name, "credit_code": valid_credit_code(first17), "kind": kind,
            "address": "晋城市城区泽州路8号", "contact": "王老师 0356-1234567"}


def make_institution(owner, *, name="城区会计培训中心", first17="52140502MJ0A1B2C3", filed=True):
    return TrainingInstitution.objects.create(name=name, credit_code=valid_credit_code(first17), kind="face_to_face",
                                              region_id="140502", filed=filed, owner=owner, address="城区",
                                              contact="0356-1")


def training_body(teacher, **changes):
    body = {"title": "新收入准则面授班", "starts_on": "2026-04-10", "ends_on": "2026-04-11", "hours_per_day": "8",
            "subject_kind": "professional", "venue": "城区会议中心", "teachers": [teacher.pk], "capacity": 60}
    body.update(changes)
    return body


def test_public_list_needs_no_login_and_shows_only_filed_institutions(institution_user):
    """Anyone may look up the filed and published institutions, by name (R-CE-14)."""
    make_institution(institution_user, name="城区会计培训中心")
    make_institution(institution_user, name="未备案培训学校", first17="52140502MJ0A1B2C4", filed=False)

    response = client_for().get(f"{API}/cpe/institutions/")

    assert response.status_code == 200
    assert [row["name"] for row in response.json()["results"]] == ["城区会计培训中心"]
    row = response.json()["results"][0]
    assert row["kind"] == "face_to_face" and row["kind_display"] == "面授培训"
    assert row["region"] == "140502" and row["region_name"].endswith("城区")
    assert client_for().get(f"{API}/cpe/institutions/", {"q": "未备案"}).json()["results"] == []


def test_institution_files_via_api_reviewer_approves_and_it_is_listed(institution_user, county_reviewer):
    """申请备案 → 城区财政局准予备案 → 公布 (R-CE-14)."""
    applicant = client_for(institution_user)

    created = applicant.post(f"{API}/cpe/filings/", filing_body(), format="json")

    assert created.status_code == 201, created.json()
    filing = created.json()
    assert filing["status"] == "submitted" and filing["number"].startswith("BA")
    assert filing["institution"]["name"] == "晋城市财会培训学校" and filing["institution"]["filed"] is False
    assert client_for().get(f"{API}/cpe/institutions/").json()["results"] == []

    reviewer = client_for(county_reviewer)
    seen = reviewer.get(f"{API}/cpe/filings/{filing['id']}/")
    assert seen.status_code == 200 and "approve" in seen.json()["available_transitions"]
    approved = reviewer.post(f"{API}/cpe/filings/{filing['id']}/transitions/approve/", {}, format="json")

    assert approved.status_code == 200
    assert approved.json()["status"] == "filed" and approved.json()["institution"]["filed"] is True
    assert [row["name"] for row in client_for().get(f"{API}/cpe/institutions/").json()["results"]] == [
        "晋城市财会培训学校"]
    own = applicant.get(f"{API}/cpe/filings/{filing['id']}/")
    assert own.status_code == 200 and own.json()["status"] == "filed"


def test_revoke_needs_a_reason_and_removes_the_institution_from_the_list(institution_user, county_reviewer):
    """撤销备案 requires a reason; the institution is no longer published (R-CE-14, R-ACL-3)."""
    filing = client_for(institution_user).post(f"{API}/cpe/filings/", filing_body(), format="json").json()
    reviewer = client_for(county_reviewer)
    reviewer.post(f"{API}/cpe/filings/{filing['id']}/transitions/approve/", {}, format="json")

    assert reviewer.post(f"{API}/cpe/filings/{filing['id']}/transitions/revoke/", {},
                         format="json").status_code == 400
    revoked = reviewer.post(f"{API}/cpe/filings/{filing['id']}/transitions/revoke/", {"reason": "年度评价不合格"},
                            format="json")

    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert client_for().get(f"{API}/cpe/institutions/").json()["results"] == []


def test_other_countys_reviewer_gets_404_on_the_filing_and_its_transitions(institution_user, other_county_reviewer):
    """Outside the reviewer's jurisdiction a filing does not exist (R-ACL-1)."""
    filing = client_for(institution_user).post(f"{API}/cpe/filings/", filing_body(), format="json").json()
    outsider = client_for(other_county_reviewer)

    assert outsider.get(f"{API}/cpe/filings/{filing['id']}/").status_code == 404
    assert outsider.post(f"{API}/cpe/filings/{filing['id']}/transitions/approve/", {},
                         format="json").status_code == 404
    assert TrainingInstitution.objects.get().filed is False


def test_another_institution_user_gets_404_on_my_filing_teachers_and_trainings(institution_user,
                                                                                other_institution_user):
    """An institution account sees only its own institutions (R-ACL-1)."""
    mine = make_institution(institution_user)
    teacher = Teacher.objects.create(institution=mine, name="李老师", title="高级会计师", field="企业会计准则")
    filing = client_for(institution_user).post(
        f"{API}/cpe/filings/", filing_body(first17="52140502MJ0K7H3L9"), format="json").json()
    other = client_for(other_institution_user)

    assert other.get(f"{API}/cpe/filings/{filing['id']}/").status_code == 404
    assert other.get(f"{API}/cpe/institutions/{mine.pk}/teachers/").status_code == 404
    assert other.post(f"{API}/cpe/institutions/{mine.pk}/teachers/",
                      {"name": "张三", "title": "讲师", "field": "税法"}, format="json").status_code == 404
    assert other.post(f"{API}/cpe/institutions/{mine.pk}/trainings/", training_body(teacher),
                      format="json").status_code == 404
    assert Teacher.objects.count() == 1 and not TrainingPlan.objects.exists()


def test_accountant_may_not_file_an_institution(accountant):
    """Only an institution account applies for filing (R-CE-14)."""
    response = client_for(accountant).post(f"{API}/cpe/filings/", filing_body(), format="json")

    assert response.status_code == 403
    assert not TrainingInstitution.objects.exists()


def test_bad_filing_input_is_400_per_field(institution_user):
    """A clear message per field, nothing written (R-CE-14)."""
    response = client_for(institution_user).post(f"{API}/cpe/filings/", {**filing_body(), "credit_code": "123"},
                                                 format="json")

    assert response.status_code == 400 and "credit_code" in response.json()
    assert not TrainingInstitution.objects.exists()


def test_owner_keeps_the_teacher_pool_and_files_a_training(institution_user):
    """师资库 and 面授培训方案 before the training starts (R-CE-9, R-CE-14)."""
    mine = make_institution(institution_user)
    owner = client_for(institution_user)

    added = owner.post(f"{API}/cpe/institutions/{mine.pk}/teachers/",
                       {"name": "李老师", "title": "高级会计师", "field": "企业会计准则"}, format="json")
    assert added.status_code == 201
    assert owner.post(f"{API}/cpe/institutions/{mine.pk}/teachers/", {"name": "张三"},
                      format="json").status_code == 400
    listed = owner.get(f"{API}/cpe/institutions/{mine.pk}/teachers/")
    assert [row["name"] for row in listed.json()["results"]] == ["李老师"]

    teacher = Teacher.objects.get(pk=added.json()["id"])
    with time_machine.travel(dt.datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING), tick=False):
        filed = owner.post(f"{API}/cpe/institutions/{mine.pk}/trainings/", training_body(teacher), format="json")

    assert filed.status_code == 201, filed.json()
    assert filed.json()["teachers"] == [teacher.pk] and filed.json()["filed_late"] is False
    assert filed.json()["year"] == 2026


def test_a_training_of_eleven_hours_a_day_is_refused(institution_user):
    """At most 10 学时 a day (R-CE-9): 400 with the service's message, nothing filed."""
    mine = make_institution(institution_user)
    teacher = Teacher.objects.create(institution=mine, name="李老师", title="高级会计师", field="企业会计准则")

    with time_machine.travel(dt.datetime(2026, 3, 1, 10, 0, tzinfo=BEIJING), tick=False):
        response = client_for(institution_user).post(
            f"{API}/cpe/institutions/{mine.pk}/trainings/", training_body(teacher, hours_per_day="11"),
            format="json")

    assert response.status_code == 400
    assert "10学时" in response.json()["hours_per_day"][0]
    assert not TrainingPlan.objects.exists()
