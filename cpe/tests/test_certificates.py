"""Credit certificates (学分证明): issuing, the PDF, public verification, frozen figures (R-CE-13, R-CE-15)."""

from __future__ import annotations

import ctypes.util
import re
import shutil
import subprocess
import time
from decimal import Decimal

import pytest
from django.core.cache.backends.locmem import LocMemCache
from django.http import Http404
from django.test import Client
from rest_framework.test import APIClient

from cpe.api import VerifyThrottle
from cpe.certificates import certificate_for, certificate_pdf, certificate_verify
from cpe.ledger import ce_year_close, credit_register, credit_reverse
from cpe.models import Certificate
from kjzx.audit import AuditEvent
from tests.factories import make_active_archive

pytestmark = pytest.mark.django_db

SITE = "https://kjzx.example.gov.cn"


def give(archive, credits, *, kind="professional", source="c1", year=2024, source_type="course"):
    return credit_register(archive=archive, year=year, subject_kind=kind, form="online", credits=credits,
                           source_type=source_type, source_id=source, source_label=f"网络课程{source}")


def complete(archive, year=2024):
    give(archive, 60, source="p1", year=year)
    give(archive, 30, kind="general", source="g1", year=year, source_type="province")


def poppler(tool: str, *args: str, pdf: bytes) -> str:
    """Run one of poppler-utils' tools (pdftotext, pdfinfo, pdffonts) on the PDF given on stdin ("-")."""
    path = shutil.which(tool)
    assert path, f"{tool} missing: apt-get install poppler-utils (scripts/setup.sh)"
    command = [path, *args]
    return subprocess.run(command, input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S603


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as a reader's search finds it."""
    return poppler("pdftotext", "-layout", "-", "-", pdf=pdf)


@pytest.fixture
def archive(accountant):
    return make_active_archive(accountant)


def test_a_certificate_is_issued_once_for_a_completed_year(archive):
    """R-CE-15: the first request issues it (and says so in the audit log), later ones return the same."""
    complete(archive)
    first = certificate_for(archive, 2024)
    assert certificate_for(archive, 2024) == first and Certificate.objects.count() == 1
    assert len(first.code) == 16
    assert AuditEvent.objects.filter(event_type="cpe.certificate_issued", target_id=str(first.pk)).count() == 1


def test_no_certificate_while_the_year_is_not_complete(archive):
    """R-CE-3, R-CE-15: 90 credits with only 50 professional is not complete; nothing is issued."""
    give(archive, 50)
    give(archive, 40, kind="general", source="g1")
    with pytest.raises(Http404):
        certificate_for(archive, 2024)
    with pytest.raises(Http404):
        certificate_for(archive, 2017)  # no such year
    assert not Certificate.objects.exists()


def test_credits_of_another_year_do_not_complete_this_one(archive):
    """R-CE-4: 2023's credits do not carry into 2024."""
    complete(archive, year=2023)
    with pytest.raises(Http404):
        certificate_for(archive, 2024)


def test_the_pdf_is_one_a4_page_of_searchable_chinese_text(archive):
    """R-CE-15: title, name, masked ID, year, credits by kind and form, issuer, code — real text in Noto CJK."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    pdf = certificate_pdf(certificate, site_url=SITE)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in ("会计专业技术人员继续教育学分证明", "姓名", "张三", "年度", "2024", "90.0", "60.0", "30.0",
                     "网络培训", "山西省财政厅", certificate.code, f"{SITE}/verify/{certificate.code}",
                     archive.masked_id_number):
        assert expected in text, expected
    assert archive.id_number not in text
    info = poppler("pdfinfo", "-", pdf=pdf)
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info
    fonts = poppler("pdffonts", "-", pdf=pdf)
    assert "Noto-Sans-CJK-SC" in fonts  # Debian's fonts-noto-cjk, embedded (subset)


def test_a_certificate_renders_quickly_with_the_harfbuzz_subsetter(archive):
    """Issue 5: with libharfbuzz-subset0 a CJK page takes a fraction of a second; without it, seconds."""
    assert ctypes.util.find_library("harfbuzz-subset"), "apt-get install libharfbuzz-subset0 (scripts/setup.sh)"
    assert shutil.which("pdftotext"), "apt-get install poppler-utils (scripts/setup.sh)"
    complete(archive)
    certificate = certificate_for(archive, 2024)
    certificate_pdf(certificate, site_url=SITE)  # fonts and templates loaded once
    started = time.perf_counter()
    certificate_pdf(certificate, site_url=SITE)
    assert time.perf_counter() - started < 2.0


def test_verification_states_the_certificate_with_the_id_masked(archive):
    """R-CE-15: anyone may check a code; it answers what the certificate states, never the whole ID."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    statement = certificate_verify(certificate.code.lower())  # people type lower case
    assert statement.valid and statement.name == "张三" and statement.status.total == Decimal("90")
    assert statement.masked_id_number == archive.masked_id_number != archive.id_number
    assert certificate_verify("ABCDEFGHJKLMNPQR") is None
    assert certificate_verify("not a code") is None


def test_a_year_frozen_after_issue_shows_the_frozen_figures(archive):
    """R-CE-13: issue, add credits, close the year — the PDF and /verify state the frozen figures."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    give(archive, 12, source="p2")
    ce_year_close(year=2024)
    text = pdf_text(certificate_pdf(certificate, site_url=SITE))
    assert "102.0" in text and "72.0" in text and "信用信息档案" in text
    data = Client().get(f"/api/v1/verify/{certificate.code}/").json()
    assert data["total"] == "102.0" and data["professional"] == "72.0" and data["by_form"] == {"online": "102.0"}
    assert certificate_for(archive, 2024) == certificate  # still the one certificate


def test_verify_api_is_public_and_masks_the_id(archive):
    """R-CE-15: no login, no token; the JSON states the certificate (API.md), the ID masked."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    response = APIClient().get(f"/api/v1/verify/{certificate.code}/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"valid", "name", "id_number", "year", "total", "professional", "general", "by_form",
                         "completed", "issued_at", "issuer"}
    assert data["valid"] is True and data["completed"] is True and data["year"] == 2024
    assert data["name"] == "张三" and data["id_number"] == archive.masked_id_number
    assert archive.id_number not in response.content.decode()
    assert (data["total"], data["professional"], data["general"]) == ("90.0", "60.0", "30.0")
    assert data["by_form"] == {"online": "90.0"} and data["issuer"] == "山西省财政厅"
    assert data["issued_at"].endswith("+08:00")


def test_verify_api_answers_404_for_an_unknown_code(db):
    """An unknown code: 404 with valid false and a message, never a 500 (whatever is typed)."""
    client = APIClient()
    response = client.get("/api/v1/verify/ABCDEFGHJKLMNPQR/")
    assert response.status_code == 404
    assert response.json()["valid"] is False and "未找到该证明" in response.json()["detail"][0]
    assert client.get("/api/v1/verify/%E4%B8%AD%27--/").status_code == 404


def test_verify_is_throttled_per_address(db, settings, monkeypatch):
    """Codes cannot be tried by the thousand: the public check is rate-limited (the page and the API)."""
    # A private cache: other test runs on this machine share the Redis database and clear it.
    monkeypatch.setattr(VerifyThrottle, "cache", LocMemCache("verify-throttle-test", {}))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "verify": "3/minute"}}
    client = Client()
    codes = [client.get("/api/v1/verify/ABCDEFGHJKLMNPQR/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert client.get("/verify/ABCDEFGHJKLMNPQR").status_code == 429


def test_verify_page_needs_no_login_and_masks_the_id(archive):
    """R-CE-15: the page behind the QR code: genuine, what it states, the ID masked; works on a phone."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    response = Client().get(f"/verify/{certificate.code}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "该学分证明真实有效" in page and "张三" in page and "2024年度" in page and "90.0" in page
    assert archive.masked_id_number in page and archive.id_number not in page
    assert 'name="viewport"' in page and "山西省财政厅" in page


def test_verify_page_says_an_unknown_code_is_not_found(db):
    """An unknown code is a 404 page with a clear message, not an error page."""
    response = Client().get("/verify/ABCDEFGHJKLMNPQR")
    assert response.status_code == 404 and "未找到该证明" in response.content.decode()


def test_verify_form_takes_a_typed_code(archive):
    """/verify/ has a form; what is typed (spaces, lower case) leads to the code's page."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    client = Client()
    assert 'name="code"' in client.get("/verify/").content.decode()
    typed = " ".join([certificate.code[:8].lower(), certificate.code[8:]])
    response = client.get("/verify/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/verify/{certificate.code}"
    refused = client.get("/verify/", {"code": "？？"})
    assert refused.status_code == 400 and "16位验证码" in refused.content.decode()


def test_a_certificate_of_a_year_corrected_below_the_requirement_is_no_longer_valid(archive, county_reviewer):
    """R-CE-3, R-CE-15: a reversal after issue takes the year below 90 — /verify says so, no new download."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    professional = archive.credits.get(source_id="p1")
    credit_reverse(entry=professional, by=county_reviewer, reason="课程重复登记")
    data = APIClient().get(f"/api/v1/verify/{certificate.code}/").json()
    assert data["valid"] is False and data["completed"] is False and data["total"] == "30.0"
    assert "不再有效" in Client().get(f"/verify/{certificate.code}").content.decode()
    with pytest.raises(Http404):
        certificate_for(archive, 2024)
