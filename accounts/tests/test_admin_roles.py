"""三权分立 in the admin site, and no full ID number in it or in django-axes' tables.

System, security and audit administration are three roles, one per account (security promise 9; 等保
8.1.4.2 d, 8.1.5): each cross-role action is refused (403, or absent from the index) with an audit row.
The admin's lists, searches and details show accountants' ID numbers masked; axes keys its rows by a
keyed hash of the login name (items 46, 47).
"""

from __future__ import annotations

from io import StringIO

import pytest
from axes.models import AccessAttempt, AccessFailureLog
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import PermissionDenied
from django.core.management import call_command
from django.db import IntegrityError, transaction
from knox.models import AuthToken

from accounts import otp
from accounts.lockout import axes_rows_rehash, login_name_digest
from accounts.models import AuthenticatorDevice, Role, User
from kjzx.audit import record_event
from kjzx.models import AuditEvent, Notice
from tests.factories import PASSWORD, login_staff, make_active_archive, make_admin, make_staff

pytestmark = pytest.mark.django_db

ROLES = ("system_admin", "security_admin", "audit_admin")
# URL → the one role that may open it (GET); the other two get 403.
MATRIX = {
    "/manage/kjzx/calendarday/": "system_admin",
    "/manage/kjzx/stepdeadline/": "system_admin",
    "/manage/kjzx/notice/add/": "system_admin",
    "/manage/cpe/ceyear/": "system_admin",
    "/manage/records/archive/": "system_admin",
    "/manage/transfers/transfer/": "system_admin",
    "/manage/accounts/staffaccount/": "security_admin",
    "/manage/accounts/accountantaccount/": "security_admin",
    "/manage/knox/authtoken/": "security_admin",
    "/manage/kjzx/auditevent/": "audit_admin",
    "/manage/axes/accessfailurelog/": "audit_admin",
}


@pytest.fixture
def admins(db):
    return {role: make_admin(role) for role in ROLES}


def denials(user):
    return AuditEvent.objects.filter(event_type="admin.denied", actor=user)


def test_each_role_opens_only_its_own_lists_and_each_refusal_is_audited(client, admins):
    """The role × list matrix: 200 for the owner, 403 plus one admin.denied row for the others."""
    for role, user in admins.items():
        login_staff(client, user)
        for url, owner in MATRIX.items():
            before = denials(user).count()
            status = client.get(url).status_code
            if role == owner:
                assert status == 200, (role, url)
                assert denials(user).count() == before
            else:
                assert status == 403, (role, url)
                assert denials(user).count() == before + 1, (role, url)
                assert denials(user).latest("id").extra["path"] == url.split("?")[0]


def test_the_index_lists_only_what_the_role_may_open(client, admins):
    expected = {"system_admin": ("/manage/kjzx/calendarday/", "/manage/kjzx/auditevent/"),
                "security_admin": ("/manage/accounts/staffaccount/", "/manage/records/archive/"),
                "audit_admin": ("/manage/kjzx/auditevent/", "/manage/kjzx/calendarday/")}
    for role, (present, absent) in expected.items():
        login_staff(client, admins[role])
        page = client.get("/manage/").content.decode()
        assert present in page and absent not in page, role


def test_the_auditor_reads_the_log_but_changes_nothing(client, admins, accountant):
    """审计管理员: read only, everywhere (promise 9)."""
    event = record_event(accountant, "account.login", by=accountant)
    auditor = admins["audit_admin"]
    login_staff(client, auditor)
    assert client.get(f"/manage/kjzx/auditevent/{event.pk}/change/").status_code == 200
    assert client.post(f"/manage/kjzx/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post("/manage/kjzx/notice/add/", {"title": "x", "body": "y"}).status_code == 403
    assert AuditEvent.objects.filter(pk=event.pk).exists() and not Notice.objects.filter(title="x").exists()
    assert denials(auditor).count() == 2


def test_the_system_administrator_cannot_read_or_delete_the_audit_log(client, admins, accountant):
    event = record_event(accountant, "account.login", by=accountant)
    system = admins["system_admin"]
    login_staff(client, system)
    assert client.get(f"/manage/kjzx/auditevent/{event.pk}/change/").status_code == 403
    assert client.post(f"/manage/kjzx/auditevent/{event.pk}/delete/", {"post": "yes"}).status_code == 403
    assert client.post("/manage/kjzx/notice/add/", {"title": "停电通知", "body": "周六停机维护。",
                                                    "is_published": "on", "published_at_0": "2026-03-02",
                                                    "published_at_1": "09:00"}).status_code in (200, 302)
    assert AuditEvent.objects.filter(pk=event.pk).exists() and denials(system).count() == 2


def test_the_security_administrator_cannot_read_archives(client, admins, accountant):
    archive = make_active_archive(accountant)
    security = admins["security_admin"]
    login_staff(client, security)
    assert client.get(f"/manage/records/archive/{archive.pk}/change/").status_code == 403
    assert client.get("/manage/cpe/creditentry/").status_code == 403
    assert denials(security).count() == 2


def test_reviewers_and_provincial_staff_have_no_admin_site(client, province_staff):
    """Only the three administrators: a verified provincial staff member gets 403, audited."""
    login_staff(client, province_staff)
    assert client.get("/manage/", follow=True).status_code == 403
    assert denials(province_staff).exists()


def test_no_account_holds_every_right(admins):
    """No superuser (a constraint), and groups or ticked permissions give nothing (accounts.backends)."""
    auditor = admins["audit_admin"]
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.filter(pk=auditor.pk).update(is_superuser=True)
    group = Group.objects.create(name="日历维护")
    group.permissions.add(Permission.objects.get(codename="change_calendarday"))
    auditor.groups.add(group)
    auditor.user_permissions.add(Permission.objects.get(codename="delete_auditevent"))
    auditor = User.objects.get(pk=auditor.pk)
    assert not auditor.has_perm("kjzx.change_calendarday") and not auditor.has_perm("kjzx.delete_auditevent")
    assert auditor.has_perm("kjzx.view_auditevent")


def test_createsuperuser_makes_a_security_administrator_not_a_superuser():
    user = User.objects.create_superuser("anquan9", "Strong@pass1", name="安全管理员")
    assert (user.role, user.region_id, user.is_superuser) == (Role.SECURITY_ADMIN, "140000", False)


def test_the_security_administrator_resets_a_lost_device_audited(client, admins, api_client, county_reviewer):
    """设备丢失: an audited admin action; the person's sessions and tokens end; they bind anew."""
    AuthToken.objects.create(user=county_reviewer)
    security = admins["security_admin"]
    login_staff(client, security)
    response = client.post("/manage/accounts/staffaccount/", {
        "action": "reset_second_factor", "_selected_action": [county_reviewer.pk]}, follow=True)
    assert response.status_code == 200 and "已重置 1 个账号" in response.content.decode()
    assert not AuthenticatorDevice.objects.filter(user=county_reviewer).exists()
    assert not AuthToken.objects.filter(user=county_reviewer).exists()
    county_reviewer.refresh_from_db()
    assert county_reviewer.sessions_valid_after is not None
    reset = AuditEvent.objects.get(event_type="account.otp_reset")
    assert (reset.actor_id, reset.target_id) == (security.pk, str(county_reviewer.pk))
    fresh = client.__class__()
    fresh.post("/accounts/login/", {"username": county_reviewer.username, "password": PASSWORD})
    assert fresh.get("/accounts/login/otp/")["Location"] == "/accounts/login/otp/setup/"


def test_only_the_security_administrator_can_reset_a_device(client, admins, county_reviewer):
    login_staff(client, admins["system_admin"])
    response = client.post("/manage/accounts/staffaccount/", {
        "action": "reset_second_factor", "_selected_action": [county_reviewer.pk]})
    assert response.status_code == 403 and otp.otp_enrolled(county_reviewer)
    with pytest.raises(PermissionDenied):
        otp.otp_reset(user=county_reviewer, by=admins["audit_admin"])
    assert otp.otp_enrolled(county_reviewer)


def test_nobody_edits_their_own_account_here(client, admins):
    security = admins["security_admin"]
    login_staff(client, security)
    url = f"/manage/accounts/staffaccount/{security.pk}/change/"
    assert 'name="role"' not in client.get(url).content.decode()  # read only
    assert client.post(url, {"name": "x", "role": "system_admin", "region": "140000"}).status_code == 403
    assert User.objects.get(pk=security.pk).role == "security_admin"


def test_a_role_change_keeps_the_region_rule_and_is_audited(client, admins, county_reviewer):
    login_staff(client, admins["security_admin"])
    url = f"/manage/accounts/staffaccount/{county_reviewer.pk}/change/"
    data = {"name": county_reviewer.name, "role": "audit_admin", "region": "140502", "organisation": "",
            "is_active": "on"}
    assert "的属地应为省级" in client.post(url, data).content.decode()
    assert client.post(url, {**data, "region": "140000"}).status_code == 302
    county_reviewer.refresh_from_db()
    assert county_reviewer.role == "audit_admin"
    changed = AuditEvent.objects.get(event_type="account.admin_changed")
    assert changed.extra["fields"] == ["region", "role"]


# --- no full ID number in the admin -----------------------------------------------------------------

def test_the_admin_shows_staff_and_accountants_apart_and_accountants_masked(client, admins, accountant,
                                                                             county_reviewer):
    login_staff(client, admins["security_admin"])
    staff_page = client.get("/manage/accounts/staffaccount/").content.decode()
    assert county_reviewer.username in staff_page and accountant.masked_id_number not in staff_page
    pages = [client.get("/manage/accounts/accountantaccount/"),
             client.get("/manage/accounts/accountantaccount/", {"q": accountant.id_number}),
             client.get(f"/manage/accounts/accountantaccount/{accountant.pk}/change/")]
    for response in pages:
        html = response.content.decode()
        assert response.status_code == 200
        assert accountant.id_number not in html and accountant.masked_id_number in html
    assert pages[1].context["cl"].result_count == 1  # found by the full number, not echoing it


def test_archive_admin_masks_the_number_in_list_search_and_detail(client, admins, accountant):
    archive = make_active_archive(accountant)
    login_staff(client, admins["system_admin"])
    for response in (client.get("/manage/records/archive/"),
                     client.get("/manage/records/archive/", {"q": archive.id_number}),
                     client.get(f"/manage/records/archive/{archive.pk}/change/"),
                     client.get("/manage/records/collectionapplication/"),
                     client.get("/manage/cpe/creditentry/", {"q": archive.id_number})):
        html = response.content.decode()
        assert response.status_code == 200
        assert archive.id_number not in html, response.request["PATH_INFO"]
    assert archive.masked_id_number in client.get(f"/manage/records/archive/{archive.pk}/change/").content.decode()


def test_the_audit_log_names_accountants_masked(client, admins, accountant):
    record_event(accountant, "account.login", by=accountant)
    login_staff(client, admins["audit_admin"])
    html = client.get("/manage/kjzx/auditevent/").content.decode()
    assert accountant.id_number not in html and accountant.masked_id_number in html


# --- django-axes holds no ID number -----------------------------------------------------------------

def test_axes_rows_hold_a_keyed_hash_never_the_typed_number(client, accountant, admins):
    """Typed and mistyped numbers: neither is stored; the lockout still works per user (items 15, 47)."""
    mistyped = accountant.login_name[:-2] + "99"
    for name in (accountant.login_name, mistyped, accountant.login_name.lower()):
        client.post("/accounts/login/", {"username": name, "password": "wrong-Pass1"})
    rows = list(AccessAttempt.objects.values()) + list(AccessFailureLog.objects.values())
    dump = repr(rows)
    typed = accountant.login_name
    assert rows and typed not in dump and mistyped not in dump and typed[:14] not in dump
    assert set(AccessAttempt.objects.values_list("username", flat=True)) == {
        login_name_digest(accountant.login_name), login_name_digest(mistyped)}
    for _ in range(3):
        client.post("/accounts/login/", {"username": accountant.login_name, "password": "wrong-Pass1"})
    assert client.post("/accounts/login/", {"username": accountant.login_name, "password": PASSWORD}).status_code == 429
    login_staff(client, admins["audit_admin"])
    html = client.get("/manage/axes/accessfailurelog/").content.decode()
    assert login_name_digest(accountant.login_name) in html and accountant.login_name not in html


def test_old_plain_rows_are_rewritten_and_a_lockout_lifted_by_name(accountant):
    """The migration's rewrite of rows stored before (accounts.0004) and ``unlock_login`` (audited)."""
    AccessAttempt.objects.create(username=accountant.login_name, ip_address="192.0.2.1", user_agent="x",
                                 get_data="", post_data=f"username={accountant.login_name}", http_accept="*/*",
                                 path_info="/accounts/login/", failures_since_start=5)
    AccessFailureLog.objects.create(username=accountant.login_name.lower(), ip_address="192.0.2.1", user_agent="x",
                                    http_accept="*/*", path_info="/accounts/login/")
    assert axes_rows_rehash() == 2 and axes_rows_rehash() == 0
    dump = repr(list(AccessAttempt.objects.values()) + list(AccessFailureLog.objects.values()))
    assert accountant.login_name not in dump and accountant.login_name.lower() not in dump
    out = StringIO()
    call_command("unlock_login", accountant.login_name.lower(), stdout=out)
    assert "已解除 1 条" in out.getvalue() and not AccessAttempt.objects.exists()
    assert AuditEvent.objects.filter(event_type="account.unlocked", target_id=str(accountant.pk)).count() == 1


def test_staff_personas_are_made_with_their_device():
    user = make_staff("t_staff", Role.INSTITUTION, "140502")
    assert otp.otp_enrolled(user)
