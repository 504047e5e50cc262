"""Every event class the audit trail promises is a row with who, what, when and from where (security promises 55, 56).

Login, failure, lockout, refusal (403), a 404 for another region's object, reveal, export, decision and
admin action: each appears after its action, with the actor, the client's address (kjzx.http.client_ip)
and User-Agent, and no full ID or mobile number. "Refused requests (about 14,000 in the matrix) wrote
no audit row": a 403 is ``authz.denied``, a 404 on an object outside the caller's scope
``scope.not_found`` (the answer stays the same 404), rate-limited per user and route.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Role
from kjzx.audit import record_event
from kjzx.models import AuditEvent, Notice
from records.privacy import REVEAL_EVENT
from tests.factories import PASSWORD, login_staff, make_admin, make_collection, make_transfer

pytestmark = pytest.mark.django_db

AGENT = "Mozilla/5.0 (审计测试)\r\nX-Injected: 1"  # control characters are not stored as such (promise 60)
STORED_AGENT = "Mozilla/5.0 (审计测试)??X-Injected: 1"


def page_client() -> Client:
    return Client(HTTP_USER_AGENT=AGENT)


def api_client(user) -> APIClient:
    client = APIClient(HTTP_USER_AGENT=AGENT)
    client.force_authenticate(user)
    return client


def last(event_type: str, **filters) -> AuditEvent:
    return AuditEvent.objects.filter(event_type=event_type, **filters).latest("id")


def assert_from_the_client(event: AuditEvent, actor=None):
    """Who and from where: the actor, 127.0.0.1 (the test client's REMOTE_ADDR) and the User-Agent."""
    assert event.actor == actor
    assert event.ip_address == "127.0.0.1"
    assert event.user_agent == STORED_AGENT
    assert event.row_hash and event.prev_hash


# --- login, failure, lockout ------------------------------------------------------------------------

def login(client, username, password=PASSWORD):
    return client.post(reverse("accounts:login"), {"username": username, "password": password})


def test_login_failure_and_lockout_are_audited_from_the_client(accountant):
    """account.login, account.login_failed (without the typed name) and account.locked_out (等保 8.1.4.3)."""
    client = page_client()
    assert login(client, accountant.login_name).status_code == 302
    assert_from_the_client(last("account.login"), accountant)
    client.post(reverse("accounts:logout"))
    for _ in range(settings.AXES_FAILURE_LIMIT):
        login(client, accountant.login_name, "Wrong@pass1")
    failed = AuditEvent.objects.filter(event_type="account.login_failed")
    assert failed.count() == settings.AXES_FAILURE_LIMIT
    assert_from_the_client(failed.latest("id"))
    assert accountant.login_name not in str(failed.latest("id").extra)
    assert login(client, accountant.login_name).status_code == 429
    locked = last("account.locked_out")
    assert locked.ip_address == "127.0.0.1"


# --- refusals -----------------------------------------------------------------------------------------

def test_a_403_page_writes_authz_denied(accountant):
    """An accountant at the reviewers' workbench: 403 and one authz.denied row (route, not the path)."""
    client = page_client()
    client.force_login(accountant)
    assert client.get(f"/workbench/?q={accountant.id_number}").status_code == 403
    event = last("authz.denied")
    assert_from_the_client(event, accountant)
    assert accountant.id_number not in str(event.extra)
    assert event.extra == {"route": "workbench/", "view": "accounts:workbench", "method": "GET", "status": 403}


def test_a_403_from_the_api_writes_authz_denied(accountant):
    """The API's refusals go through the same door (DRF's 403 is a response like any other)."""
    assert api_client(accountant).get("/api/v1/stats/reviews/").status_code == 403
    event = last("authz.denied")
    assert_from_the_client(event, accountant)
    assert event.extra["route"] == "api/v1/stats/reviews/"


def test_another_regions_application_is_the_same_404_with_a_scope_row(county_reviewer, other_county_reviewer,
                                                                      accountant):
    """A 404 for an object that exists outside one's scope is scope.not_found (object type and id); a
    missing object is a 404 with no row; both answers are identical (R-ACL-1: 404, never 403)."""
    collection = make_collection(accountant, first=county_reviewer)
    client = api_client(other_county_reviewer)
    outside = client.get(f"/api/v1/collections/{collection.pk}/")
    missing = client.get(f"/api/v1/collections/{collection.pk + 1000}/")
    assert outside.status_code == missing.status_code == 404
    assert outside.content == missing.content
    events = AuditEvent.objects.filter(event_type="scope.not_found")
    assert events.count() == 1
    event = events.get()
    assert_from_the_client(event, other_county_reviewer)
    assert event.target == collection
    assert event.extra["object"] == "records.collectionapplication"
    assert event.extra["route"] == "api/v1/collections/<int:pk>/"


def test_an_accountant_probing_anothers_application_page_is_audited(accountant, other_accountant):
    """The person's own pages answer 404 for another person's application; the row says whose it was."""
    collection = make_collection(other_accountant, jurisdiction="140521")
    assert api_client(accountant).get(f"/api/v1/collections/{collection.pk}/").status_code == 404
    assert last("scope.not_found", actor=accountant).target == collection


def test_another_regions_transfer_is_audited_too(accountant, other_city_reviewer):
    """transfers.selectors.transfer_get: the same 404 and a scope.not_found row."""
    transfer = make_transfer(accountant)
    assert api_client(other_city_reviewer).get(f"/api/v1/transfers/{transfer.pk}/").status_code == 404
    assert last("scope.not_found").target == transfer


def test_refusals_are_rate_limited_per_user_and_route_and_counted(accountant):
    """At most AUDIT_DENIALS_PER_MINUTE rows a minute per (user, route, kind); the next row counts the rest."""
    client = page_client()
    client.force_login(accountant)
    limit = settings.AUDIT_DENIALS_PER_MINUTE
    start = timezone.now().replace(second=1)
    with time_machine.travel(start, tick=False):
        for _ in range(limit + 3):
            assert client.get("/workbench/").status_code == 403
        assert client.get("/dashboard/").status_code == 403  # another route: its own budget
    assert AuditEvent.objects.filter(event_type="authz.denied", extra__route="workbench/").count() == limit
    with time_machine.travel(start + dt.timedelta(minutes=1), tick=False):
        client.get("/workbench/")
    assert last("authz.denied", extra__route="workbench/").extra["suppressed_before"] == 3


def test_a_csrf_refusal_is_audited(accountant):
    """A POST without its CSRF token is a 403 like any other (anonymous: the address says who)."""
    client = Client(enforce_csrf_checks=True, HTTP_USER_AGENT=AGENT)
    assert login(client, accountant.login_name).status_code == 403
    event = last("authz.denied")
    assert_from_the_client(event)
    assert event.extra["view"] == "accounts:login"


# --- reveal, export, decision ------------------------------------------------------------------------

def test_reveal_export_and_decision_carry_the_clients_address(accountant, county_reviewer):
    """The reveal, the Excel export and a decision (workflow transition), each a row from the client."""
    collection = make_collection(accountant)
    client = api_client(county_reviewer)
    response = client.post(f"/api/v1/collections/{collection.pk}/reveal-id/", {"reason": "核对证件扫描件"},
                           format="json")
    assert response.status_code == 200
    assert_from_the_client(last(REVEAL_EVENT), county_reviewer)

    response = client.post(f"/api/v1/collections/{collection.pk}/transitions/approve_first/", {}, format="json")
    assert response.status_code == 200, response.content
    decision = last("collection.approve_first")
    assert_from_the_client(decision, county_reviewer)
    assert (decision.from_state, decision.to_state) == ("submitted", "first_reviewed")

    pages = page_client()
    login_staff(pages, county_reviewer)
    response = pages.get("/workbench/export.xlsx?q=" + accountant.id_number)
    assert response.status_code == 200
    export = last("data.exported")
    assert_from_the_client(export, county_reviewer)
    assert export.extra["route"] == "workbench/export.xlsx" and export.extra["bytes"] == len(response.content)
    assert accountant.id_number not in str(export.extra)  # the search is kept, masked
    assert "140***********" in export.extra["query"]


def test_dashboard_exports_are_audited(province_staff):
    pages = page_client()
    login_staff(pages, province_staff)
    assert pages.get("/dashboard/reviews.xlsx").status_code == 200
    assert last("data.exported", actor=province_staff).extra["view"] == "accounts:dashboard_reviews_xlsx"


# --- admin actions -------------------------------------------------------------------------------------

def test_admin_add_change_and_delete_are_mirrored_into_the_audit_history():
    """Django's LogEntry and an admin.added / admin.changed / admin.deleted row, fields named, not valued."""
    admin = make_admin(Role.SYSTEM_ADMIN)
    client = page_client()
    login_staff(client, admin)
    form = {"title": "关于报名的通知", "body": "正文", "issuer": "山西省财政厅", "published_at_0": "2026-12-01",
            "published_at_1": "09:00:00", "is_published": "on"}
    assert client.post("/manage/kjzx/notice/add/", form).status_code == 302
    notice = Notice.objects.get(title="关于报名的通知")
    added = last("admin.added")
    assert_from_the_client(added, admin)
    assert added.target == notice and added.extra["model"] == "kjzx.notice"

    assert client.post(f"/manage/kjzx/notice/{notice.pk}/change/", {**form, "title": "更正"}).status_code == 302
    changed = last("admin.changed")
    assert changed.target == notice and "标题" in changed.extra["fields"]
    assert "更正" not in str(changed.extra)

    assert client.post(f"/manage/kjzx/notice/{notice.pk}/delete/", {"post": "yes"}).status_code == 302
    deleted = last("admin.deleted")
    assert deleted.target_id == str(notice.pk) and deleted.actor == admin
    assert LogEntry.objects.filter(object_id=str(notice.pk)).count() == 3


def test_reading_the_audit_log_is_itself_audited():
    """The audit administrator's look at the audit log is an audit.viewed row (promise 61)."""
    auditor = make_admin(Role.AUDIT_ADMIN)
    client = page_client()
    login_staff(client, auditor)
    assert client.get("/manage/kjzx/auditevent/?event_type=account.login").status_code == 200
    event = last("audit.viewed")
    assert_from_the_client(event, auditor)
    assert event.extra["query"] == "event_type=account.login"


# --- no personal numbers in a row -------------------------------------------------------------------

def test_no_full_id_or_mobile_number_in_extra_or_reason(accountant):
    """Masked whoever wrote them; hex digests and other numbers stay as they are (promise 56)."""
    digest = "ab" + "13800001111" + "cd" * 25
    event = record_event(accountant, "test.pii", reason=f"核对{accountant.id_number}号码",
                         extra={"q": accountant.id_number, "nested": [{"m": "手机13812345678"}], "sha256": digest,
                                "number": "CJ2026140502000123"})
    event.refresh_from_db()
    assert accountant.id_number not in str(event.extra) + event.reason
    assert event.extra["q"] == "140***********" + accountant.id_number[-4:]
    assert event.extra["nested"] == [{"m": "手机138****5678"}]
    assert event.extra["sha256"] == digest and event.extra["number"] == "CJ2026140502000123"
    not_an_id = accountant.id_number[:17] + ("0" if accountant.id_number[17] != "0" else "1")  # wrong check digit
    assert record_event(None, "test.pii", extra={"serial": not_an_id}).extra == {"serial": not_an_id}
