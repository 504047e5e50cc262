"""Credit certificates (学分证明): issuing, numbering, the PDF, public verification, revocation (R-CE-13, R-CE-15).

A certificate that proves itself. The signature and the seal: test_certificate_signing.py.
"""

from __future__ import annotations

import ctypes.util
import datetime as dt
import re
import shutil
import subprocess
import time
import uuid
from decimal import Decimal

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.http import Http404
from django.test import Client
from rest_framework.test import APIClient

from cpe.ledger.api import VerifyThrottle
from cpe.ledger.certificates.document import certificate_html
from cpe.ledger.certificates.services import certificate_for, certificate_issue, certificate_pdf
from cpe.ledger.selectors import certificate_statement, certificate_verify
from cpe.ledger.services import ce_year_close, credit_register, credit_reverse
from cpe.models import Certificate, CEYear
from kjzx.audit import AuditEvent
from tests.factories import login_staff, make_active_archive

pytestmark = pytest.mark.django_db

SITE = "https://kjzx.example.gov.cn"
NUMBER = re.compile(r"^晋财会继教证〔(\d{4})〕(\d{6})$")


def give(archive, credits, *, kind="professional", source="c1", year=2024, source_type="course"):
    return credit_register(archive=archive, year=year, subject_kind=kind, form="online", credits=credits,
                           source_type=source_type, source_id=source, source_label=f"网络课程{source}")


def complete(archive, year=2024):
    give(archive, 60, source="p1", year=year)
    give(archive, 30, kind="general", source="g1", year=year, source_type="province")


def poppler(tool: str, *args: str, pdf: bytes) -> str:
    """Run one of poppler-utils' tools (pdftotext, pdfinfo, pdffonts, pdfimages) on the PDF given on stdin."""
    path = shutil.which(tool)
    assert path, f"{tool} missing: apt-get install poppler-utils (scripts/setup.sh)"
    return subprocess.run([path, *args], input=pdf, capture_output=True, check=True).stdout.decode()  # noqa: S603


def pdf_text(pdf: bytes) -> str:
    """The PDF's text as a reader's search finds it."""
    return poppler("pdftotext", "-layout", "-", "-", pdf=pdf)


@pytest.fixture(autouse=True)
def site_url(settings):
    settings.SITE_URL = SITE


@pytest.fixture
def archive(accountant):
    return make_active_archive(accountant)


def policy(year=2024) -> CEYear:
    return CEYear.objects.get(pk=year)


# --- issuing and numbering ----------------------------------------------------------------------

def test_a_certificate_is_issued_once_for_a_completed_year(archive):
    """R-CE-15: the first request issues it (numbered, audited), later ones return the same."""
    complete(archive)
    first = certificate_issue(archive, policy())
    assert certificate_issue(archive, policy()) == first and Certificate.objects.count() == 1
    assert len(first.code) == 16 and NUMBER.match(first.number)
    assert first.stated["name"] == "张三" and first.stated["status"]["total"] == "90.0"
    event = AuditEvent.objects.get(event_type="cpe.certificate_issued", target_id=str(first.pk))
    assert event.extra["number"] == first.number and event.extra["code"] == first.code


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


def test_document_numbers_run_per_issue_year(archive, other_accountant):
    """晋财会继教证〔YYYY〕NNNNNN — one sequence per year of issue, unique, from 000001 each year."""
    theirs = make_active_archive(other_accountant, "140521")
    for person in (archive, theirs):
        complete(person, 2024)
        complete(person, 2025)
    with time_machine.travel(dt.datetime(2025, 12, 30, 10, tzinfo=dt.UTC)):
        first, second = certificate_issue(archive, policy(2024)), certificate_issue(theirs, policy(2024))
    with time_machine.travel(dt.datetime(2026, 1, 2, 10, tzinfo=dt.UTC)):
        third = certificate_issue(archive, policy(2025))
        fourth = Certificate.objects.create(archive=theirs, year=policy(2025))
    assert [first.number, second.number, third.number, fourth.number] == [
        "晋财会继教证〔2025〕000001", "晋财会继教证〔2025〕000002", "晋财会继教证〔2026〕000001",
        "晋财会继教证〔2026〕000002"]


# --- the PDF ----------------------------------------------------------------------------------------

def test_the_pdf_is_one_a4_page_of_searchable_text_in_a_song_face_with_its_number(archive):
    """R-CE-15, title, number, name, masked ID, year, credits by kind and form, issuer, code and
    the verify address — real text, the body in Noto Serif CJK SC (a 宋体 face)."""
    complete(archive)
    certificate = certificate_for(archive, 2024)
    pdf = certificate_pdf(certificate)
    assert pdf.startswith(b"%PDF-")
    text = pdf_text(pdf)
    for expected in ("会计专业技术人员继续教育学分证明", certificate.number, "姓名", "张三", "2024年度", "90.0", "60.0",
                     "30.0", "网络培训", "山西省财政厅", certificate.code, f"{SITE}/verify/{certificate.code}",
                     archive.masked_id_number):
        assert expected in text, expected
    assert archive.id_number not in text
    info = poppler("pdfinfo", "-", pdf=pdf)
    assert re.search(r"^Pages:\s+1$", info, re.M) and "(A4)" in info
    fonts = poppler("pdffonts", "-", pdf=pdf)
    assert "Noto-Serif-CJK-SC" in fonts and "Sans" not in fonts  # Debian's fonts-noto-cjk, embedded (subset)


def test_the_verify_url_is_site_url_never_the_requests_host(accountant, archive):
    """a download from 127.0.0.1:8124 prints (and QR-codes) SITE_URL's address, not the host."""
    complete(archive)
    client = Client()
    login_staff(client, accountant)
    response = client.get("/me/cpe/2024/certificate.pdf", HTTP_HOST="127.0.0.1:8124")
    assert response.status_code == 200
    text = pdf_text(response.content)
    code = Certificate.objects.get(archive=archive).code
    assert f"{SITE}/verify/{code}" in text and "127.0.0.1" not in text
    html = certificate_html(certificate_statement(Certificate.objects.get(archive=archive)))
    assert html.count(f"{SITE}/verify/{code}") == 1 and "127.0.0.1" not in html  # the QR code is made from it


def test_the_download_is_the_same_bytes_every_time_whatever_happens_since(accountant, archive):
    """signed once at issue and kept — later credits, the year's close, another download: same bytes,
    stating what was true at issue (as the verify page does)."""
    complete(archive)
    client = APIClient()
    client.force_authenticate(accountant)
    first = client.get("/api/v1/me/cpe/2024/certificate.pdf")
    assert first.status_code == 200 and first["Content-Type"] == "application/pdf"
    give(archive, 12, source="p2")
    ce_year_close(year=2024)
    again = client.get("/api/v1/me/cpe/2024/certificate.pdf")
    assert again.content == first.content and Certificate.objects.count() == 1
    text = pdf_text(again.content)
    assert "90.0" in text and "102.0" not in text
    data = Client().get(f"/api/v1/verify/{Certificate.objects.get().code}/").json()
    assert data["total"] == "90.0" and data["professional"] == "60.0" and data["valid"] is True
    signed = AuditEvent.objects.filter(event_type="cpe.certificate_signed")
    assert signed.count() == 1 and len(signed.get().extra["sha256"]) == 64


def test_a_certificate_issued_before_signing_existed_is_signed_at_its_first_download(archive):
    """a certificate without a kept statement or PDF (issued before) gets both on first download."""
    complete(archive)
    legacy = Certificate.objects.create(archive=archive, year=policy())
    assert NUMBER.match(legacy.number) and not legacy.stated and not legacy.document
    pdf = certificate_pdf(legacy)
    legacy.refresh_from_db()
    assert legacy.document and legacy.stated["status"]["total"] == "90.0" and legacy.signed_by
    assert certificate_pdf(legacy) == pdf and legacy.number in pdf_text(pdf)


def test_a_certificate_renders_quickly_with_the_harfbuzz_subsetter(archive, other_accountant):
    """with libharfbuzz-subset0 a CJK page is rendered and signed in a fraction of a second."""
    assert ctypes.util.find_library("harfbuzz-subset"), "apt-get install libharfbuzz-subset0 (scripts/setup.sh)"
    theirs = make_active_archive(other_accountant, "140521")
    complete(archive)
    complete(theirs)
    certificate_for(archive, 2024)  # fonts, templates and the signing key loaded once
    started = time.perf_counter()
    certificate_for(theirs, 2024)  # issued, rendered and signed
    assert time.perf_counter() - started < 2.0


# --- verification ---------------------------------------------------------------------------------

def test_verification_states_the_certificate_with_the_id_masked(archive):
    """R-CE-15: anyone may check a code; it answers what the certificate states, never the whole ID."""
    complete(archive)
    certificate = certificate_issue(archive, policy())
    statement = certificate_verify(certificate.code.lower())  # people type lower case
    assert statement.valid and statement.name == "张三" and statement.status.total == Decimal("90")
    assert statement.masked_id_number == archive.masked_id_number != archive.id_number
    assert certificate_verify("ABCDEFGHJKLMNPQR") is None
    assert certificate_verify("not a code") is None


def test_verify_api_is_public_and_masks_the_id(archive):
    """R-CE-15: no login, no token; the JSON states the certificate (API.md), its number, the ID masked."""
    complete(archive)
    certificate = certificate_issue(archive, policy())
    response = APIClient().get(f"/api/v1/verify/{certificate.code}/")
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {"valid", "state", "state_display", "number", "revoked_at", "revoked_reason", "name",
                         "id_number", "year", "total", "professional", "general", "by_form", "completed",
                         "issued_at", "issuer"}
    assert data["valid"] is True and data["state"] == "valid" and data["state_display"] == "有效"
    assert data["number"] == certificate.number and data["revoked_at"] is None and data["revoked_reason"] == ""
    assert data["completed"] is True and data["year"] == 2024
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


@pytest.fixture
def tight_throttle(settings, monkeypatch):
    # A private cache: other test runs on this machine share the Redis database and clear it.
    monkeypatch.setattr(VerifyThrottle, "cache", LocMemCache(f"verify-throttle-{uuid.uuid4()}", {}))
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": {
        **settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}), "verify": "3/minute"}}


def test_verify_is_throttled_per_address(db, tight_throttle):
    """Codes cannot be tried by the thousand: the public check is rate-limited (the page and the API)."""
    client = Client()
    codes = [client.get("/api/v1/verify/ABCDEFGHJKLMNPQR/").status_code for _ in range(4)]
    assert codes == [404, 404, 404, 429]
    assert client.get("/verify/ABCDEFGHJKLMNPQR").status_code == 429


def test_a_made_up_forwarded_for_does_not_reset_the_verify_throttle(db, tight_throttle, settings):
    """kjzx.http.client_ip is the one reading of the client's address: X-Forwarded-For counts only behind
    a trusted proxy, so a new made-up value per request does not buy new tries."""
    settings.TRUSTED_PROXY_COUNT = 0
    client = Client()
    codes = [client.get("/api/v1/verify/ABCDEFGHJKLMNPQR/", HTTP_X_FORWARDED_FOR=f"10.0.0.{n}").status_code
             for n in range(4)]
    assert codes == [404, 404, 404, 429]


def test_verify_page_needs_no_login_and_masks_the_id(archive):
    """R-CE-15: the page behind the QR code: genuine, its number, what it states, the ID masked; on a phone."""
    complete(archive)
    certificate = certificate_issue(archive, policy())
    response = Client().get(f"/verify/{certificate.code}")
    page = response.content.decode()
    assert response.status_code == 200
    assert "该学分证明真实有效" in page and "张三" in page and "2024年度" in page and "90.0" in page
    assert certificate.number in page and "已作废" not in page
    assert archive.masked_id_number in page and archive.id_number not in page
    assert 'name="viewport"' in page and "山西省财政厅" in page


def test_verify_page_says_an_unknown_code_is_not_found(db):
    """An unknown code is a 404 page with a clear message, not an error page."""
    response = Client().get("/verify/ABCDEFGHJKLMNPQR")
    assert response.status_code == 404 and "未找到该证明" in response.content.decode()


def test_verify_form_takes_a_typed_code(archive):
    """/verify/ has a form; what is typed (spaces, lower case) leads to the code's page."""
    complete(archive)
    certificate = certificate_issue(archive, policy())
    client = Client()
    assert 'name="code"' in client.get("/verify/").content.decode()
    typed = " ".join([certificate.code[:8].lower(), certificate.code[8:]])
    response = client.get("/verify/", {"code": typed})
    assert response.status_code == 302 and response["Location"] == f"/verify/{certificate.code}"
    refused = client.get("/verify/", {"code": "？？"})
    assert refused.status_code == 400 and "16位验证码" in refused.content.decode()


# --- revocation ------------------------------------------------------------------------------------

def test_a_correction_below_the_requirement_revokes_the_certificate(archive, county_reviewer):
    """R-CE-15: a reversal that takes the year below 90 voids the certificate in the same transaction;
    /verify (page and API) says 已作废 with the date, and no certificate can be downloaded meanwhile."""
    complete(archive)
    certificate = certificate_issue(archive, policy())
    with time_machine.travel(dt.datetime(2026, 3, 5, 2, tzinfo=dt.UTC), tick=False):
        reversal = credit_reverse(entry=archive.credits.get(source_id="p1"), by=county_reviewer, reason="课程重复登记")
    certificate.refresh_from_db()
    assert certificate.revoked_at == dt.datetime(2026, 3, 5, 2, tzinfo=dt.UTC)
    assert "课程重复登记" in certificate.revoked_reason
    event = AuditEvent.objects.get(event_type="cpe.certificate_revoked", target_id=str(certificate.pk))
    assert event.actor == county_reviewer and event.extra["reversal"] == reversal.pk
    data = APIClient().get(f"/api/v1/verify/{certificate.code}/").json()
    assert data["valid"] is False and data["state"] == "revoked" and data["state_display"] == "已作废"
    assert data["revoked_at"].startswith("2026-03-05T10:00:00") and "课程重复登记" in data["revoked_reason"]
    assert data["total"] == "90.0" and data["number"] == certificate.number  # what it stated, still shown
    page = Client().get(f"/verify/{certificate.code}").content.decode()
    assert "该学分证明已作废（2026年3月5日）" in page and "课程重复登记" in page and "真实有效" not in page
    with pytest.raises(Http404):
        certificate_for(archive, 2024)


def test_a_refused_correction_leaves_the_certificate_standing(archive, county_reviewer):
    """Same transaction: a correction that fails (no reason) neither reverses nor revokes anything."""
    complete(archive)
    certificate = certificate_issue(archive, policy())
    with pytest.raises(Exception, match="请填写更正原因"):
        credit_reverse(entry=archive.credits.get(source_id="p1"), by=county_reviewer, reason=" ")
    certificate.refresh_from_db()
    assert certificate.revoked_at is None and archive.credits.count() == 2


def test_a_correction_that_leaves_the_year_complete_keeps_the_certificate(archive, county_reviewer):
    """R-CE-3: 102 credits less 12 is still 90 with 60 professional: the certificate stands."""
    complete(archive)
    give(archive, 12, source="p2")
    certificate = certificate_issue(archive, policy())
    credit_reverse(entry=archive.credits.get(source_id="p2"), by=county_reviewer, reason="重复登记")
    certificate.refresh_from_db()
    assert certificate.revoked_at is None and certificate_verify(certificate.code).valid
    assert not AuditEvent.objects.filter(event_type="cpe.certificate_revoked").exists()


def test_a_new_certificate_is_issued_once_the_year_is_complete_again(archive, county_reviewer):
    """after a revocation, new credits that complete the year again give a new certificate (new code,
    new number); the old code still answers 已作废."""
    complete(archive)
    old = certificate_issue(archive, policy())
    credit_reverse(entry=archive.credits.get(source_id="p1"), by=county_reviewer, reason="课程重复登记")
    give(archive, 60, source="p5")
    new = certificate_for(archive, 2024)
    assert new.pk != old.pk and new.code != old.code and new.number != old.number and new.document
    assert certificate_for(archive, 2024) == new
    assert certificate_verify(old.code).state == "revoked" and certificate_verify(new.code).valid
    assert Certificate.objects.filter(archive=archive, year=2024).count() == 2
