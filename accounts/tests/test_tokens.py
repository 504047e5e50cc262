"""API tokens that expire, are stored hashed, and that logout and a password change revoke.

Security issue, "API tokens never expire, survive logout and password changes, and are stored in
clear": before this, DRF's ``Token`` kept the key itself in the database, forever, one per user.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts import services
from kjzx.models import AuditEvent
from kjzx.sms import MemoryBackend
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def token_for(user, password=PASSWORD) -> str:
    response = APIClient().post("/api/v1/auth/token/", {"username": user.login_name, "password": password})
    assert response.status_code == 200, response.content
    return response.json()["token"]


def bearer(token: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client


def test_token_is_stored_only_as_a_digest_and_each_call_issues_a_new_one(accountant):
    """The database holds a SHA-512 digest, never the token (ASVS 11.4.2 spirit for bearer secrets)."""
    first, second = token_for(accountant), token_for(accountant)
    assert first != second and len(first) == 64
    rows = list(AuthToken.objects.filter(user=accountant).values_list("digest", "token_key"))
    assert len(rows) == 2
    assert all(first not in row and second not in row for row in rows)
    assert AuditEvent.objects.filter(event_type="account.token_issued", target_id=str(accountant.pk)).count() == 2


def test_token_answer_keeps_token_and_adds_its_expiry(api_client, accountant):
    """API.md §1: {"token"}; "expiry" is ten hours after issue."""
    with time_machine.travel(timezone.now(), tick=False):
        body = api_client.post("/api/v1/auth/token/", {"username": accountant.login_name, "password": PASSWORD}).json()
        expected = timezone.localtime(timezone.now() + timedelta(hours=10))
    assert set(body) == {"token", "expiry"}
    assert body["expiry"].startswith(expected.strftime("%Y-%m-%dT%H:%M")) and body["expiry"].endswith("+08:00")


def test_token_expires_after_ten_hours(accountant):
    """REST_KNOX TOKEN_TTL: valid at 9h59m, refused (and deleted) at 10h01m."""
    start = timezone.now()
    with time_machine.travel(start, tick=False):
        token = token_for(accountant)
    with time_machine.travel(start + timedelta(hours=9, minutes=59)):
        assert bearer(token).get("/api/v1/me/").status_code == 200
    with time_machine.travel(start + timedelta(hours=10, minutes=1)):
        response = bearer(token).get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌无效或已过期，请重新获取。"
    assert not AuthToken.objects.filter(user=accountant).exists()


def test_only_the_bearer_prefix_is_accepted(accountant):
    """API.md §1 names `Authorization: Bearer <token>`; knox's default "Token" prefix is not ours."""
    token = token_for(accountant)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert client.get("/api/v1/me/").status_code == 401
    assert bearer(token).get("/api/v1/me/").json()["username"] == accountant.login_name


@pytest.mark.parametrize("header", ["Bearer", "Bearer a b", "Bearer " + "z" * 64, "Bearer \u00e9\u00e9"])
def test_malformed_bearer_tokens_are_a_401_in_chinese(accountant, header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["detail"] == "令牌无效或已过期，请重新获取。"


def test_logout_revokes_this_token_only(accountant):
    """POST /api/v1/auth/logout/ → 204; that token is dead at once, another of the user's still works."""
    kept, ended = token_for(accountant), token_for(accountant)
    response = bearer(ended).post("/api/v1/auth/logout/")
    assert response.status_code == 204
    assert bearer(ended).get("/api/v1/me/").status_code == 401
    assert bearer(kept).get("/api/v1/me/").status_code == 200
    assert AuditEvent.objects.filter(event_type="account.token_revoked", target_id=str(accountant.pk)).count() == 1


def test_logout_needs_a_token(api_client, accountant):
    assert api_client.post("/api/v1/auth/logout/").status_code == 401
    api_client.force_login(accountant)  # a browser session logs out through the page
    assert api_client.post("/api/v1/auth/logout/").status_code == 401


def test_password_change_revokes_every_token(client, accountant):
    """A new password ends everything the old one opened (page 修改密码)."""
    tokens = [token_for(accountant), token_for(accountant)]
    client.force_login(accountant)
    response = client.post(reverse("accounts:password_change"), {
        "old_password": PASSWORD, "new_password": "Kq8$wNv3xR", "new_password2": "Kq8$wNv3xR"})
    assert response.status_code == 302
    assert [bearer(token).get("/api/v1/me/").status_code for token in tokens] == [401, 401]
    assert not AuthToken.objects.filter(user=accountant).exists()


def test_password_reset_revokes_every_token(client, accountant, django_capture_on_commit_callbacks):
    """找回密码 by SMS code: the tokens a thief may hold die with the old password."""
    token = token_for(accountant)
    MemoryBackend.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("accounts:password_reset"), {"id_number": accountant.login_name,
                                                         "mobile": accountant.mobile})
    code = re.search(r"验证码为(\d{6})", MemoryBackend.outbox[0][1]).group(1)
    response = client.post(reverse("accounts:password_reset_confirm"), {
        "id_number": accountant.login_name, "mobile": accountant.mobile, "code": code,
        "new_password": "Kq8$wNv3xR", "new_password2": "Kq8$wNv3xR"})
    assert response.status_code == 302
    assert bearer(token).get("/api/v1/me/").status_code == 401


def test_an_inactive_account_loses_its_tokens_at_once(accountant):
    token = token_for(accountant)
    accountant.is_active = False
    accountant.save(update_fields=["is_active"])
    assert bearer(token).get("/api/v1/me/").status_code == 401


def test_the_exchange_token_does_not_expire_and_is_hashed(db):
    """The national platform is a machine client: a long-lived credential, stored as a digest."""
    token = services.exchange_token_create(name="national-platform")
    stored = AuthToken.objects.get(user__username="national-platform")
    assert stored.expiry is None and token not in (stored.digest, stored.token_key)
    with time_machine.travel(timezone.now() + timedelta(days=400)):
        assert bearer(token).get("/api/exchange/v1/outbound/").status_code == 200


def test_drf_authtoken_is_gone():
    """Nothing keeps tokens in clear any more: rest_framework.authtoken is not installed."""
    assert "rest_framework.authtoken" not in settings.INSTALLED_APPS
    assert "knox" in settings.INSTALLED_APPS
    assert settings.REST_KNOX["AUTH_HEADER_PREFIX"] == "Bearer"
    assert settings.REST_KNOX["TOKEN_TTL"] == timedelta(hours=10)


def test_schema_documents_the_bearer_scheme_and_logout(api_client):
    schema = api_client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["bearerAuth"] == {"type": "http", "scheme": "bearer"}
    assert "/api/v1/auth/logout/" in schema["paths"]
    token = schema["paths"]["/api/v1/auth/token/"]["post"]["responses"]["200"]
    assert set(token["content"]["application/json"]["schema"]["$ref"].split("/")[-1:]) == {"TokenOutput"}


def test_a_person_keeps_at_most_ten_live_tokens(accountant):
    """Every call walks the user's tokens, so a script asking in a loop cannot pile them up."""
    tokens = [token_for(accountant) for _ in range(services.API_TOKENS_KEPT + 2)]
    assert AuthToken.objects.filter(user=accountant).count() == services.API_TOKENS_KEPT
    assert bearer(tokens[0]).get("/api/v1/me/").status_code == 401  # the oldest went first
    assert bearer(tokens[-1]).get("/api/v1/me/").status_code == 200
