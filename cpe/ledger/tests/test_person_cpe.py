"""The person's CE API and pages: 学分查询, entries, the certificate download (R-CE-3, 4, 13, 15, R-ACL-2)."""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from cpe.ledger.services import ce_year_close, credit_register, credit_reverse
from cpe.models import Certificate
from records.models import Archive
from tests.factories import login_staff, make_active_archive

pytestmark = pytest.mark.django_db

API = "/api/v1/me/cpe"
STATUS_KEYS = {"year", "obliged", "required_total", "required_professional", "total", "professional", "general",
               "by_form", "completed", "deadline", "frozen",
               "pending_online", "pending_online_professional"}  # additive, 已学待登记 (R-CE-8)


def give(archive, credits, *, kind="professional", source="c1", year=2024, source_type="course", by=None):
    return credit_register(archive=archive, year=year, subject_kind=kind, form="online", credits=credits,
                           source_type=source_type, source_id=source, source_label=f"网络课程{source}", by=by)


def complete(archive, year=2024):
    give(archive, 60, source="p1", year=year)
    give(archive, 30, kind="general", source="g1", year=year, source_type="province")


def api_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def page_for(user) -> Client:
    client = Client()
    login_staff(client, user)
    return client


@pytest.fixture
def archive(accountant):
    return make_active_archive(accountant)


# --- the API ---------------------------------------------------------------------------------------

def test_year_status_has_the_documented_shape_with_decimal_strings(accountant, archive):
    """API.md: the year's figures from year_status, credits as decimal strings (R-CE-3)."""
    give(archive, 45.5)
    give(archive, 20, kind="general", source="g1", source_type="province")
    data = api_for(accountant).get(f"{API}/2024/").json()
    assert set(data) == STATUS_KEYS
    assert data == {"year": 2024, "obliged": True, "required_total": "90.0", "required_professional": "60.0",
                    "total": "65.5", "professional": "45.5", "general": "20.0", "by_form": {"online": "65.5"},
                    "completed": False, "deadline": "2025-03-31", "frozen": False, "pending_online": "0.0",
                    "pending_online_professional": "0.0"}


def test_a_completed_year_says_so_and_a_frozen_year_states_its_frozen_figures(accountant, archive):
    """R-CE-3, R-CE-13: completed once 90 with 60 professional; once closed, the figures no longer change."""
    complete(archive)
    client = api_for(accountant)
    assert client.get(f"{API}/2024/").json()["completed"] is True
    ce_year_close(year=2024)
    data = client.get(f"{API}/2024/").json()
    assert data["frozen"] is True and data["total"] == "90.0" and data["by_form"] == {"online": "90.0"}


def test_credits_count_only_in_their_own_year(accountant, archive):
    """R-CE-4: 2023's credits are not 2024's."""
    complete(archive, year=2023)
    client = api_for(accountant)
    assert client.get(f"{API}/2023/").json()["completed"] is True
    assert client.get(f"{API}/2024/").json()["total"] == "0.0"


def test_a_year_without_a_policy_is_404(accountant, archive):
    client = api_for(accountant)
    for url in (f"{API}/2017/", f"{API}/2099/", f"{API}/2099/entries/", f"{API}/2099/certificate.pdf"):
        assert client.get(url).status_code == 404, url


def test_an_accountant_without_an_archive_owes_nothing_yet(accountant):
    """Before the collection nothing is owed or registered (R-CE-12); the read opens no archive."""
    data = api_for(accountant).get(f"{API}/2024/").json()
    assert data["obliged"] is False and data["total"] == "0.0" and data["completed"] is False
    assert api_for(accountant).get(f"{API}/2024/entries/").json()["results"] == []
    assert api_for(accountant).get(f"{API}/2024/certificate.pdf").status_code == 404
    assert not Archive.objects.filter(person=accountant).exists()


def test_entries_list_source_form_kind_credits_and_who_registered(accountant, archive, county_reviewer):
    """The year's ledger entries with their source and registration; the system registers as 系统."""
    course = give(archive, 30)
    give(archive, 20, kind="general", source="p9", source_type="province", by=county_reviewer)
    credit_reverse(entry=course, by=county_reviewer, reason="课程重复登记")
    give(archive, 10, source="other-year", year=2023)
    data = api_for(accountant).get(f"{API}/2024/entries/").json()
    assert data["count"] == 3
    first, second, reversal = data["results"]
    assert first["source"] == {"type": "course", "type_display": "网络课程", "label": "网络课程c1"}
    assert first["form"] == "online" and first["form_display"] == "网络培训"
    assert first["subject_kind"] == "professional" and first["subject_kind_display"] == "专业科目"
    assert first["credits"] == "30.0" and first["registered_by"] == "系统" and first["year"] == 2024
    assert first["registered_at"].endswith("+08:00")
    assert second["registered_by"] == county_reviewer.name and second["source"]["type"] == "province"
    assert reversal["credits"] == "-30.0" and reversal["reverses"] == first["id"]
    assert reversal["reason"] == "课程重复登记"


def test_certificate_pdf_is_served_for_a_completed_year_only(accountant, archive):
    """API.md, R-CE-15: application/pdf when complete; 404 while not (and nothing issued)."""
    client = api_for(accountant)
    give(archive, 60)
    response = client.get(f"{API}/2024/certificate.pdf")
    assert response.status_code == 404 and "尚未完成" in response.json()["detail"]
    assert not Certificate.objects.exists()
    give(archive, 30, kind="general", source="g1")
    response = client.get(f"{API}/2024/certificate.pdf", HTTP_ACCEPT="application/pdf")
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF-") and "attachment" in response["Content-Disposition"]
    assert Certificate.objects.filter(archive=archive, year=2024).count() == 1


def test_staff_may_not_use_the_personal_cpe_api_or_pages(county_reviewer, province_staff):
    """R-ACL-2: /me/cpe/ is an accountant's; staff get 403, anonymous callers 401 or the login page."""
    for user in (county_reviewer, province_staff):
        assert api_for(user).get(f"{API}/2024/").status_code == 403
        assert api_for(user).get(f"{API}/2024/entries/").status_code == 403
        assert api_for(user).get(f"{API}/2024/certificate.pdf").status_code == 403
        assert page_for(user).get("/me/cpe/").status_code == 403
        assert page_for(user).get("/me/cpe/2024/").status_code == 403
    assert APIClient().get(f"{API}/2024/").status_code == 401
    response = Client().get("/me/cpe/")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_another_accountant_sees_nothing_of_mine(accountant, archive, other_accountant):
    """R-ACL-2: my URLs carry no id; another accountant's /me/ shows only theirs, and my completed year
    is not theirs: their certificate for it is a 404."""
    complete(archive)
    assert api_for(accountant).get(f"{API}/2024/certificate.pdf").status_code == 200
    make_active_archive(other_accountant, "140521")
    theirs = api_for(other_accountant)
    assert theirs.get(f"{API}/2024/").json()["total"] == "0.0"
    assert theirs.get(f"{API}/2024/entries/").json()["count"] == 0
    assert theirs.get(f"{API}/2024/certificate.pdf").status_code == 404
    assert page_for(other_accountant).get("/me/cpe/2024/certificate.pdf").status_code == 404
    page = page_for(other_accountant).get("/me/cpe/2024/").content.decode()
    assert "网络课程p1" not in page and "张三" not in page
    assert Certificate.objects.count() == 1


def test_the_schema_describes_the_cpe_endpoints(client):
    """API.md: every endpoint is in the OpenAPI schema, the verify one without authentication."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    for path in ("/api/v1/me/cpe/{year}/", "/api/v1/me/cpe/{year}/entries/", "/api/v1/me/cpe/{year}/certificate.pdf",
                 "/api/v1/verify/{code}/"):
        assert path in paths, path
    assert "application/pdf" in paths["/api/v1/me/cpe/{year}/certificate.pdf"]["get"]["responses"]["200"]["content"]
    assert paths["/api/v1/verify/{code}/"]["get"].get("security") in ([], [{}], None)


# --- the pages ----------------------------------------------------------------------------------

def test_overview_lists_each_year_from_2018_with_its_status(accountant, archive):
    """学分查询: 2018 (obliged since 2013) to this year, completed or how far, deadline, 已归档, progress."""
    complete(archive, year=2023)
    give(archive, 40, year=2024)
    ce_year_close(year=2023)
    response = page_for(accountant).get(reverse("person_cpe"))
    page = response.content.decode()
    assert response.status_code == 200
    years = [int(y) for y in re.findall(r'href="/me/cpe/(\d{4})/"', page)]
    assert min(years) == 2018 and 2017 not in years and 2024 in years
    assert "还差 50.0 学分，其中专业科目还差 20.0 学分" in page
    assert "已归档" in page and "2024-03-31" in page and "<progress" in page
    assert 'href="/me/cpe/2023/certificate.pdf"' in page and 'href="/me/cpe/2024/certificate.pdf"' not in page


def test_overview_before_collection_points_to_the_collection(accountant):
    """R-CE-12: no years to show before the collection is approved; the page says what to do."""
    page = page_for(accountant).get(reverse("person_cpe")).content.decode()
    assert "学分登记前须完成个人信息采集" in page and reverse("person_collection") in page


def test_year_page_shows_entries_by_form_and_the_download_when_complete(accountant, archive):
    """/me/cpe/<year>/: the ledger, credits by form in Chinese, 下载学分证明 once complete (R-CE-15)."""
    give(archive, 60)
    client = page_for(accountant)
    page = client.get(reverse("person_cpe_year", args=[2024])).content.decode()
    assert "网络课程c1" in page and "网络培训" in page and "系统" in page and "下载学分证明" not in page
    assert client.get(reverse("person_cpe_certificate", args=[2024])).status_code == 404
    give(archive, 30, kind="general", source="g1")
    page = client.get(reverse("person_cpe_year", args=[2024])).content.decode()
    assert "下载学分证明" in page and "已完成" in page
    response = client.get(reverse("person_cpe_certificate", args=[2024]))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert client.get("/me/cpe/2099/").status_code == 404


def test_sidebar_links_to_the_cpe_pages(accountant, archive):
    """The accountant's menu: 学分查询 and 学分证明 lead to the real pages."""
    page = page_for(accountant).get(reverse("person_cpe")).content.decode()
    assert 'href="/me/cpe/" aria-current="page">学分查询</a>' in page
    assert 'href="/me/cpe/#certificates">学分证明</a>' in page and 'id="certificates"' in page

