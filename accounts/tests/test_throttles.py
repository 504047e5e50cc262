"""Throttles that a made-up X-Forwarded-For cannot skip (security issue, "Rate limits are skipped").

On main before this, DRF read the client's own X-Forwarded-For: 360 requests, each claiming another
address, were throttled 0 times on the token, registration and certificate-verification doors.
"""

import random

import pytest
import time_machine
from django.core.cache.backends.locmem import LocMemCache
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient
from rest_framework.throttling import SimpleRateThrottle

from accounts.services import DUPLICATE_ID_MESSAGE
from kjzx.models import AuditEvent

pytestmark = pytest.mark.django_db

GOOD_ID = "140581198512310022"  # female, born 1985-12-31
REQUESTS = 360


@pytest.fixture(autouse=True)
def private_throttle_cache(monkeypatch):
    """Throttle counters in a cache of this test alone: other runs on the machine clear the shared Redis."""
    monkeypatch.setattr(SimpleRateThrottle, "cache", LocMemCache(f"throttle-{random.random()}", {}))


def forged() -> str:
    return ".".join(str(random.randint(1, 254)) for _ in range(4))


def spray(call) -> list[int]:
    """``REQUESTS`` calls in one pinned minute, each with another made-up X-Forwarded-For."""
    with time_machine.travel(timezone.now(), tick=False):
        return [call(forged()).status_code for _ in range(REQUESTS)]


def registration(n: int) -> dict:
    return {"id_type": "resident_id", "id_number": "1405811985123100X", "name": "刘敏", "sex": "F",
            "birth_date": "1985-12-31", "mobile": "13812345678", "password": f"Hq7#vTz2mK{n}"}


def test_token_requests_with_forged_addresses_are_throttled_as_one_address():
    """120 a minute per address (settings "auth"): 240 of 360 forged-address token requests are refused."""
    client = APIClient()
    codes = spray(lambda xff: client.post("/api/v1/auth/token/", {"username": f"nobody{random.random()}",
                                                                  "password": "x"}, HTTP_X_FORWARDED_FOR=xff))
    assert codes.count(429) == REQUESTS - 120
    assert set(codes[:120]) == {400}


def test_registration_with_forged_addresses_is_throttled_as_one_address():
    """20 an hour per address (settings "register"): 340 of 360 forged-address registrations are refused."""
    client = APIClient()
    counter = iter(range(REQUESTS))
    codes = spray(lambda xff: client.post("/api/v1/auth/register/", registration(next(counter)), format="json",
                                          HTTP_X_FORWARDED_FOR=xff))
    assert codes.count(429) == REQUESTS - 20
    assert "请求" in client.post("/api/v1/auth/register/", registration(0), format="json").json()["detail"]


def test_certificate_verification_with_forged_addresses_is_throttled_as_one_address():
    """The public certificate check (R-CE-15) too: DRF's NUM_PROXIES follows TRUSTED_PROXY_COUNT (0)."""
    client = APIClient()
    codes = spray(lambda xff: client.get("/api/v1/verify/ABCDEFGHJKLMNPQR/", HTTP_X_FORWARDED_FOR=xff))
    assert codes.count(429) == REQUESTS - 60


def test_registration_page_shares_the_api_throttle(client):
    """The page and the API count together per address; the page answers 429 and keeps what was typed."""
    api = APIClient()
    with time_machine.travel(timezone.now(), tick=False):
        for n in range(20):
            api.post("/api/v1/auth/register/", registration(n), format="json", HTTP_X_FORWARDED_FOR=forged())
        response = client.post(reverse("accounts:register"), {"name": "刘敏", "id_number": GOOD_ID},
                               HTTP_X_FORWARDED_FOR=forged())
    assert response.status_code == 429
    page = response.content.decode()
    assert "注册请求过于频繁" in page and "刘敏" in page


def test_behind_a_trusted_proxy_each_real_client_has_its_own_allowance(settings):
    """With TRUSTED_PROXY_COUNT=1 the proxy's entry is the client: two real clients are counted apart."""
    settings.TRUSTED_PROXY_COUNT = 1
    client = APIClient()
    with time_machine.travel(timezone.now(), tick=False):
        first = [client.post("/api/v1/auth/register/", registration(n), format="json",
                             HTTP_X_FORWARDED_FOR=f"{forged()}, 203.0.113.7").status_code for n in range(21)]
        other = client.post("/api/v1/auth/register/", registration(99), format="json",
                            HTTP_X_FORWARDED_FOR="203.0.113.7, 198.51.100.8").status_code
    assert first.count(429) == 1 and first[-1] == 429
    assert other == 400  # the second client is not throttled (its data is simply invalid)


def test_an_already_registered_id_is_said_plainly_and_audited_with_the_address(api_client, accountant):
    """Registration says "already registered" (the accountant must log in or reset) and audits each time."""
    data = registration(1) | {"id_number": accountant.id_number, "name": accountant.name,
                              "sex": accountant.sex, "birth_date": accountant.birth_date.isoformat()}
    response = api_client.post("/api/v1/auth/register/", data, format="json", REMOTE_ADDR="192.0.2.44")
    assert response.status_code == 400
    assert response.json()["id_number"] == [str(DUPLICATE_ID_MESSAGE)]
    assert "找回密码" in str(DUPLICATE_ID_MESSAGE)
    event = AuditEvent.objects.get(event_type="account.register_duplicate")
    assert (event.target_id, event.ip_address, event.actor_id) == (str(accountant.pk), "192.0.2.44", None)
    assert accountant.id_number not in str(event.extra)
