"""Shared fixtures: the real PostgreSQL and Redis, and the personas of docs/style.md §9.

Personas: ``accountant`` (城区, 140502), ``county_reviewer`` and ``second_reviewer`` (城区),
``city_reviewer`` (晋城, 1405), ``other_county_reviewer`` (沁水, 140521),
``other_city_reviewer`` (太原, 1401), ``province_staff`` (140000).

The clock (``KJZX_TODAY``), the ``date_sensitive`` marker and the shared ``demo`` fixture live in
``tests/conftest_dates.py``.
"""

from __future__ import annotations

import psycopg
import pytest
import redis
from django.conf import settings

from accounts.models import Role
from tests.factories import make_accountant, make_staff

pytest_plugins = ["tests.conftest_dates"]


def pytest_sessionstart(session):
    """Fail loudly, at once, if the services production uses are not there (no silent fallback)."""
    db = settings.DATABASES["default"]
    if "postgresql" not in db["ENGINE"]:
        pytest.exit("测试必须在 PostgreSQL 上运行：请设置 DATABASE_URL。", returncode=3)
    try:
        psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                        dbname="postgres", connect_timeout=5).close()
    except psycopg.OperationalError as exc:
        pytest.exit(f"PostgreSQL 不可用（{db['HOST']}:{db['PORT']}）：{exc}", returncode=3)
    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=5).ping()
    except redis.RedisError as exc:
        pytest.exit(f"Redis 不可用（{settings.REDIS_URL}）：{exc}", returncode=3)


@pytest.fixture(autouse=True)
def _clean_cache():
    """Lockout counters and throttles live in Redis: each test starts from a clean slate."""
    from django.core.cache import cache

    cache.clear()
    yield


@pytest.fixture
def accountant(db):
    return make_accountant()


@pytest.fixture
def other_accountant(db):
    return make_accountant(address="140521", sequence=303, name="李四", mobile="13900000000")


@pytest.fixture
def county_reviewer(db):
    return make_staff("chengqu_a", Role.COUNTY_REVIEWER, "140502")


@pytest.fixture
def second_reviewer(db):
    return make_staff("chengqu_b", Role.COUNTY_REVIEWER, "140502")


@pytest.fixture
def other_county_reviewer(db):
    return make_staff("qinshui_a", Role.COUNTY_REVIEWER, "140521")


@pytest.fixture
def city_reviewer(db):
    return make_staff("jincheng_a", Role.CITY_REVIEWER, "140500")


@pytest.fixture
def other_city_reviewer(db):
    return make_staff("taiyuan_a", Role.CITY_REVIEWER, "140100")


@pytest.fixture
def province_staff(db):
    return make_staff("sheng_a", Role.PROVINCE_STAFF, "140000")


@pytest.fixture
def api_client():
    from rest_framework.test import APIClient

    return APIClient()
