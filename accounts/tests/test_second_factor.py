"""The staff second factor (security items 16, 17, 22; API.md §1).

Staff give a TOTP code after the password before anyone is logged in; a password-only staff session
reaches no staff page or endpoint; a code works once; a recovery code works once; enrolment is by QR
code; accountants may opt in and are then held to it.
"""

from __future__ import annotations

import re
import time
from importlib import import_module

import pytest
import time_machine
from django.apps import apps as django_apps
from django.contrib.auth import SESSION_KEY
from django.db import IntegrityError, connection, transaction
from django.urls import reverse
from django_otp.oath import hotp
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from knox.models import AuthToken

from accounts import otp
from accounts.models import STAFF_ROLES, AuthenticatorDevice, Role, User
from kjzx import crypto
from kjzx.models import AuditEvent
from kjzx.sealing import sealed_tables
from tests.factories import PASSWORD, login_staff, make_staff, totp_now
from tests.test_security import PUBLIC, named_routes

pytestmark = pytest.mark.django_db

LOGIN, VERIFY, SETUP = "/accounts/login/", "/accounts/login/otp/", "/accounts/login/otp/setup/"


def password_step(client, user, next_url=""):
    data = {"username": user.login_name, "password": PASSWORD}
    return client.post(LOGIN + (f"?next={next_url}" if next_url else ""), data)


def _code(device: AuthenticatorDevice, moment: float) -> str:
    step = int(moment - device.t0) // device.step
    return f"{hotp(device.bin_key, step, device.digits):06d}"


def events(kind: str, user=None):
    rows = AuditEvent.objects.filter(event_type=kind)
    return rows.filter(target_id=str(user.pk)) if user is not None else rows


# --- the browser: password, then the code ------------------------------------------------------------

def test_the_password_alone_logs_no_staff_member_in(client, county_reviewer):
    """A right password sends staff to the code step, logged in as nobody (item 16)."""
    response = password_step(client, county_reviewer)
    assert response.status_code == 302 and response["Location"] == VERIFY
    assert SESSION_KEY not in client.session
    assert client.get(reverse("accounts:workbench"))["Location"].startswith(LOGIN)
    assert not events("account.login", county_reviewer).exists()


def test_the_right_code_logs_in_with_a_new_session_key(client, county_reviewer):
    """After the code: logged in, a new session key, the device verified, the next page reached (item 22)."""
    password_step(client, county_reviewer, next_url=reverse("accounts:workbench"))
    before = client.session.session_key
    response = client.post(VERIFY, {"code": totp_now(county_reviewer)})
    assert response.status_code == 302 and response["Location"] == reverse("accounts:workbench")
    assert client.session.session_key != before and client.session[SESSION_KEY] == str(county_reviewer.pk)
    assert client.get(reverse("accounts:workbench")).status_code == 200
    assert events("account.login", county_reviewer).count() == 1
    assert events("account.otp_verified", county_reviewer).count() == 1
    replay = client.__class__()
    replay.cookies[client.cookies.get("sessionid").key] = before
    assert replay.get(reverse("accounts:workbench")).status_code == 302  # the pre-code key is dead


def test_a_wrong_code_is_refused_audited_and_counts_towards_the_lockout(client, county_reviewer):
    """Five wrong codes lock the account for 30 minutes like five wrong passwords (API.md §1, item 15)."""
    with time_machine.travel("2026-03-02 09:00:00 +0800", tick=False) as clock:
        password_step(client, county_reviewer)
        for attempt in range(4):
            response = client.post(VERIFY, {"code": "000000"})
            assert response.status_code == 200 and "动态口令不正确" in response.content.decode(), attempt
            clock.shift(70)  # past django-otp's doubling delay, so each try is really checked
        assert client.post(VERIFY, {"code": "000000"}).status_code == 429
        assert events("account.otp_failed", county_reviewer).count() == 5
        # Locked: a right password and a right code are refused too, until the 30 minutes pass.
        assert client.post(LOGIN, {"username": county_reviewer.username, "password": PASSWORD}).status_code == 429
        clock.shift(31 * 60)
        password_step(client, county_reviewer)
        assert client.post(VERIFY, {"code": totp_now(county_reviewer)}).status_code == 302


def test_a_code_verifies_once_and_one_step_of_drift_is_allowed(county_reviewer):
    """RFC 6238, SHA-1, 30 s steps, ±1 step (API.md §1); a code used once is dead (item 17)."""
    device = otp.totp_device(county_reviewer)
    with time_machine.travel("2026-03-02 09:00:10 +0800", tick=False):
        now = time.time()
        assert otp.second_factor_verify(user=county_reviewer, code=_code(device, now - 30)) is not None
        assert otp.second_factor_verify(user=county_reviewer, code=_code(device, now - 30)) is None  # replay
        device.refresh_from_db()
        AuthenticatorDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0,
                                                            throttling_failure_timestamp=None)
        assert otp.second_factor_verify(user=county_reviewer, code=_code(device, now - 90)) is None  # 3 steps back
        AuthenticatorDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0,
                                                            throttling_failure_timestamp=None)
        assert otp.second_factor_verify(user=county_reviewer, code=_code(device, now + 30)) is not None


def test_a_recovery_code_works_once_and_is_stored_as_a_digest(client, county_reviewer):
    """Ten recovery codes, shown once, kept hashed; each logs in once (item 17)."""
    codes = otp.recovery_codes_regenerate(user=county_reviewer, code=totp_now(county_reviewer))
    assert len(codes) == 10 and len(set(codes)) == 10
    stored = set(StaticToken.objects.filter(device__user=county_reviewer).values_list("token", flat=True))
    assert not stored & set(codes) and stored == {otp.recovery_digest(code) for code in codes}
    password_step(client, county_reviewer)
    response = client.post(VERIFY, {"code": codes[0].upper()}, follow=True)
    assert response.status_code == 200 and "还剩9个" in response.content.decode()
    assert client.session[SESSION_KEY] == str(county_reviewer.pk)
    client.post(reverse("accounts:logout"))
    password_step(client, county_reviewer)
    assert "动态口令不正确" in client.post(VERIFY, {"code": codes[0]}).content.decode()
    assert otp.recovery_codes_left(county_reviewer) == 9


def test_staff_without_a_device_bind_one_by_qr_code_at_login(client):
    """A new or reset staff account binds an app at its first login: QR code, secret, first code."""
    user = User.objects.create_user(username="xinren", password=PASSWORD, role=Role.COUNTY_REVIEWER,
                                    region_id="140502", name="新人")
    assert password_step(client, user)["Location"] == SETUP
    page = client.get(SETUP).content.decode()
    assert 'src="data:image/svg+xml' in page
    device = AuthenticatorDevice.objects.get(user=user, confirmed=False)
    assert otp.totp_secret(device) in page
    assert "动态口令不正确" in client.post(SETUP, {"code": "123456" if totp_now_for(device) != "123456"
                                                 else "654321"}).content.decode()
    AuthenticatorDevice.objects.filter(pk=device.pk).update(throttling_failure_count=0,
                                                        throttling_failure_timestamp=None)
    response = client.post(SETUP, {"code": totp_now_for(device)})
    codes = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", response.content.decode())
    assert response.status_code == 200 and len(codes) == 10
    assert client.session[SESSION_KEY] == str(user.pk) and otp.otp_enrolled(user)
    assert events("account.otp_enrolled", user).count() == 1


def totp_now_for(device: AuthenticatorDevice) -> str:
    return _code(device, time.time())


def test_a_bound_device_cannot_be_replaced_with_the_password_alone(client, county_reviewer):
    password_step(client, county_reviewer)
    assert client.get(SETUP)["Location"] == VERIFY
    assert AuthenticatorDevice.objects.filter(user=county_reviewer).count() == 1


def test_the_password_step_expires_after_five_minutes(client, county_reviewer):
    with time_machine.travel("2026-03-02 09:00:00 +0800", tick=False) as clock:
        password_step(client, county_reviewer)
        clock.shift(5 * 60 + 1)
        assert client.post(VERIFY, {"code": totp_now(county_reviewer)})["Location"] == LOGIN
        assert SESSION_KEY not in client.session


# --- no staff route on a password alone -----------------------------------------------------------

def staff_personas():
    roles = sorted(STAFF_ROLES)
    regions = {Role.COUNTY_REVIEWER: "140502", Role.CITY_REVIEWER: "140500"}
    return [make_staff(f"p_{role}", role, regions.get(role, "140000")) for role in roles]


def test_a_password_only_staff_session_reaches_no_route(client):
    """R8: every route × every staff role with an unverified session → 0 reached (item 16).

    Such a session can only come from outside the login (here force_login), or survive a device reset:
    pages send it to the code step (the session ends), /api/ answers 401 otp_required. The public
    routes (login, registration, notices, health, certificate checks) are open to anyone anyway.
    """
    routes = [(name, pattern) for name, pattern in named_routes() if name not in PUBLIC]
    reached, checked = [], 0
    for user in staff_personas():
        for name, pattern in routes:
            url = reverse(name, kwargs={key: 1 for key in pattern.pattern.regex.groupindex})
            client.force_login(user)
            response = client.get(url)
            checked += 1
            if url.startswith("/api/"):
                ok = response.status_code == 401 and response.json()["code"] == "otp_required"
            else:
                ok = response.status_code == 302 and response["Location"] == VERIFY
            if not ok:
                reached.append((user.role, name, response.status_code))
    assert reached == [] and checked == len(routes) * len(STAFF_ROLES) and checked > 100


def test_the_admin_site_needs_the_code_too(client):
    admin = make_staff("xitong_t", Role.SYSTEM_ADMIN, "140000")
    client.force_login(admin)
    assert client.get("/manage/")["Location"] == VERIFY
    login_staff(client, admin)
    assert client.get("/manage/").status_code == 200


def test_a_device_reset_while_logged_in_ends_the_session_at_the_next_request(client, county_reviewer):
    login_staff(client, county_reviewer)
    assert client.get(reverse("accounts:workbench")).status_code == 200
    AuthenticatorDevice.objects.filter(user=county_reviewer).delete()
    assert client.get(reverse("accounts:workbench"))["Location"] in (SETUP, LOGIN)
    assert SESSION_KEY not in client.session


def test_a_session_api_call_needs_the_code_but_a_token_decides_for_itself(api_client, county_reviewer):
    api_client.force_login(county_reviewer)
    response = api_client.get("/api/v1/me/")
    assert response.status_code == 401 and response.json()["code"] == "otp_required"
    token = api_client.post("/api/v1/auth/token/", {"username": county_reviewer.username, "password": PASSWORD,
                                                    "otp": totp_now(county_reviewer)}).json()["token"]
    api_client.force_login(county_reviewer)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    assert api_client.get("/api/v1/me/").json()["username"] == county_reviewer.username


# --- the token API (API.md §1) --------------------------------------------------------------------

def test_token_for_staff_needs_the_code_exactly_as_api_md_says(api_client, county_reviewer):
    """Missing → 401 otp_required; wrong → 401 otp_invalid and one failure counted; right → a token."""
    from axes.models import AccessAttempt

    url, creds = "/api/v1/auth/token/", {"username": county_reviewer.username, "password": PASSWORD}
    missing = api_client.post(url, creds)
    assert missing.status_code == 401 and missing.json()["code"] == "otp_required" and missing.json()["detail"]
    assert not AccessAttempt.objects.exists()
    wrong = api_client.post(url, {**creds, "otp": "000000" if totp_now(county_reviewer) != "000000" else "111111"})
    assert wrong.status_code == 401 and wrong.json()["code"] == "otp_invalid" and wrong.json()["detail"]
    assert AccessAttempt.objects.get().failures_since_start == 1
    AuthenticatorDevice.objects.filter(user=county_reviewer).update(throttling_failure_count=0,
                                                           throttling_failure_timestamp=None)
    right = api_client.post(url, {**creds, "otp": totp_now(county_reviewer)})
    assert right.status_code == 200 and AuthToken.objects.filter(user=county_reviewer).count() == 1
    assert not AuthToken.objects.filter(user=county_reviewer).exclude(pk=AuthToken.objects.get().pk).exists()


def test_five_wrong_codes_lock_the_token_door(api_client, county_reviewer):
    url, creds = "/api/v1/auth/token/", {"username": county_reviewer.username, "password": PASSWORD}
    with time_machine.travel("2026-03-02 09:00:00 +0800", tick=False) as clock:
        for _ in range(5):
            assert api_client.post(url, {**creds, "otp": "999999"}).status_code in (401, 429)
            clock.shift(70)
        assert api_client.post(url, {**creds, "otp": totp_now(county_reviewer)}).status_code == 429


def test_accountants_need_no_code_until_they_bind_one(client, api_client, accountant):
    """Optional for accountants; once bound, their login and token need it too."""
    url, creds = "/api/v1/auth/token/", {"username": accountant.login_name, "password": PASSWORD}
    assert api_client.post(url, creds).status_code == 200
    client.post(LOGIN, creds)
    assert client.session[SESSION_KEY] == str(accountant.pk)
    page = client.get(reverse("accounts:security_enrol")).content.decode()
    assert 'src="data:image/svg+xml' in page
    device = AuthenticatorDevice.objects.get(user=accountant, confirmed=False)
    response = client.post(reverse("accounts:security_enrol"), {"code": totp_now_for(device)})
    assert response.status_code == 200 and "恢复码" in response.content.decode()
    assert client.get(reverse("accounts:home")).status_code == 200  # this session passed the code
    client.post(reverse("accounts:logout"))
    assert client.post(LOGIN, creds)["Location"] == VERIFY
    assert api_client.post(url, creds).json()["code"] == "otp_required"
    assert api_client.post(url, {**creds, "otp": totp_now(accountant)}).status_code == 200


def test_staff_cannot_switch_the_second_factor_off(client, county_reviewer):
    login_staff(client, county_reviewer)
    assert client.post(reverse("accounts:security_remove"), {"code": totp_now(county_reviewer)}).status_code == 403
    assert otp.otp_enrolled(county_reviewer)


# --- the commands (API.md §3) ----------------------------------------------------------------------

def test_create_staff_prints_the_secret_once_in_the_contract_format():
    from io import StringIO

    from django.core.management import call_command

    out = StringIO()
    call_command("create_staff", "--role", "county_reviewer", "--region", "140521", "--username", "qs02",
                 "--password", "Strong@pass1", stdout=out)
    lines = out.getvalue().splitlines()
    secret_lines = [line for line in lines if line.startswith("TOTP: ")]
    assert len(secret_lines) == 1 and re.fullmatch(r"TOTP: [A-Z2-7]{32}", secret_lines[0])
    assert any(line.startswith("otpauth://totp/") and "secret=" + secret_lines[0][6:] in line for line in lines)
    user = User.objects.get(username="qs02")
    device = otp.totp_device(user)
    assert otp.totp_secret(device) == secret_lines[0][6:]
    assert otp.second_factor_verify(user=user, code=_code(device, time.time())) is not None


@pytest.mark.parametrize("role", ["system_admin", "security_admin", "audit_admin"])
def test_create_staff_makes_each_administrator_at_the_province(role):
    from io import StringIO

    from django.core.management import CommandError, call_command

    call_command("create_staff", "--role", role, "--region", "140000", "--username", f"a_{role}",
                 "--password", "Strong@pass1", stdout=StringIO())
    user = User.objects.get(username=f"a_{role}")
    assert user.role == role and user.is_staff and not user.is_superuser and otp.otp_enrolled(user)
    with pytest.raises(CommandError, match="的属地应为省级"):
        call_command("create_staff", "--role", role, "--region", "140502", "--username", f"b_{role}",
                     "--password", "Strong@pass1", stdout=StringIO())


def test_otp_code_prints_the_current_code_only_in_development(county_reviewer, settings):
    from io import StringIO

    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError, match="仅用于开发环境"):
        call_command("otp_code", county_reviewer.username, stdout=StringIO())
    settings.DEBUG = True
    out = StringIO()
    call_command("otp_code", county_reviewer.username, stdout=out)
    code = out.getvalue().strip()
    assert re.fullmatch(r"\d{6}", code)
    assert otp.second_factor_verify(user=county_reviewer, code=code) is not None


def test_load_demo_prints_each_staff_secret_last_in_the_contract_format(demo):
    """API.md §3: ``TOTP <username> <base32 secret>`` for each demo staff account, aligned, at the end."""
    from accounts.demo import STAFF

    for printout in (demo["first"], demo["second"]):
        lines = printout.rstrip().splitlines()
        secrets = [line for line in lines if line.startswith("TOTP ")]
        assert lines[-len(STAFF):] == secrets
        parsed = [line.split() for line in secrets]
        assert [row[1] for row in parsed] == [row[0] for row in STAFF]
        assert all(len(row) == 3 and re.fullmatch(r"[A-Z2-7]{32}", row[2]) for row in parsed)
        assert len({line.index(row[2]) for line, row in zip(secrets, parsed, strict=True)}) == 1  # aligned
        for _totp, username, secret in parsed:
            assert otp.totp_secret(otp.totp_device(User.objects.get(username=username))) == secret
    sheng = User.objects.get(username="sheng")
    assert (sheng.role, sheng.is_superuser) == (Role.PROVINCE_STAFF, False)
    assert {User.objects.get(username=name).role for name in ("xitong", "anquan", "shenji")} == {
        Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN}


# --- the secret at rest ---------------------------------------------------------------------------------

def _stored_key(device) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT key FROM accounts_authenticatordevice WHERE id = %s", [device.pk])
        return cursor.fetchone()[0]


def test_the_authenticator_secret_is_stored_sealed_and_still_checks_codes(county_reviewer):
    """A copy of the database does not carry the second factor: the row holds SM4 ciphertext, never
    the hex secret, and a code from the person's app still verifies once."""
    device = otp.totp_device(county_reviewer)
    stored = _stored_key(device)
    assert crypto.SEALED.match(stored) and device.key not in stored and device.key.upper() not in stored
    assert otp.totp_secret(device) not in stored
    code = totp_now(county_reviewer)
    assert otp.second_factor_verify(user=county_reviewer, code=code) is not None
    assert otp.second_factor_verify(user=county_reviewer, code=code) is None  # once


def test_a_clear_secret_written_around_the_model_is_refused_by_the_database(county_reviewer):
    device = otp.totp_device(county_reviewer)
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_authenticatordevice SET key = %s WHERE id = %s", ["ab" * 20, device.pk])


def test_the_migration_moves_clear_devices_into_sealed_ones_and_back(county_reviewer):
    """accounts 0008: a device django-otp kept in clear becomes a sealed one with the same secret, step
    and last verified step (the app keeps working); the clear row is gone. In reverse, back in clear."""
    moving = import_module("accounts.migrations.0008_authenticator_device")
    AuthenticatorDevice.objects.filter(user=county_reviewer).delete()
    clear = TOTPDevice.objects.create(user=county_reviewer, name=otp.DEVICE_NAME, confirmed=True, last_t=7)
    moving.seal_devices(django_apps, None)
    assert not TOTPDevice.objects.exists()
    sealed = AuthenticatorDevice.objects.get(user=county_reviewer)
    assert (sealed.key, sealed.last_t, sealed.confirmed, sealed.created_at) == (clear.key, 7, True, clear.created_at)
    assert clear.key not in _stored_key(sealed)
    assert otp.second_factor_verify(user=county_reviewer, code=_code(sealed, time.time())) is not None
    moving.open_devices(django_apps, None)
    assert not AuthenticatorDevice.objects.exists()
    assert TOTPDevice.objects.get(user=county_reviewer).key == clear.key


def test_rotating_the_data_keys_reseals_the_secrets(county_reviewer):
    """``rotate_data_keys`` finds the devices' column with every other sealed one."""
    assert ("accounts_authenticatordevice", {"key": "text"}) in [(t.table, t.sealed) for t in sealed_tables()]
