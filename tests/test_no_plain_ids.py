"""No full ID number, mobile number or authenticator secret at rest (docs/security.md item 44): the demo
province loaded, every table of the database read as text (what ``pg_dump`` would write), the log
output of a run of the demo's doors and every Redis key and value searched for each of the demo's
numbers: 0 hits.

The demo lives in the session's open transaction (tests/conftest_dates.py), which ``pg_dump`` in another
connection cannot see: the tables are read here, in the same connection, row by row as text.
"""

from __future__ import annotations

import io
import logging

import pytest
import redis
from django.conf import settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from accounts import otp
from accounts.models import AuthenticatorDevice, User
from records.models import Archive
from tests.factories import login_staff
from transfers.models import Transfer

pytestmark = pytest.mark.django_db


def demo_numbers() -> set[str]:
    """Every ID and mobile number the demo holds, read in clear through the models."""
    numbers: set[str] = set()
    for model, fields in ((User, ("id_number", "mobile")), (Archive, ("id_number", "mobile")),
                          (Transfer, ("person_id_number",))):
        for row in model.objects.values_list(*fields):
            numbers.update(value for value in row if value)
    for transfer in Transfer.objects.only("person_record"):
        numbers.update(str(transfer.person_record.get(key) or "") for key in ("id_number", "mobile"))
    numbers.discard("")
    return numbers


def database_hits(numbers: set[str]) -> dict[str, int]:
    """Rows per table whose text holds any of ``numbers`` (each table of the schema, every column)."""
    hits: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1")
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT t::text FROM "{table}" t')  # noqa: S608 (a table name from the catalogue)
            found = sum(1 for (text,) in cursor.fetchall() if any(number in text for number in numbers))
            if found:
                hits[table] = found
    return hits


def redis_texts() -> list[str]:
    """Every key of the test Redis and its value, as text (strings, lists, hashes, sets)."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    texts = []
    readers = {"string": client.get, "list": lambda key: client.lrange(key, 0, -1), "hash": client.hgetall,
               "set": client.smembers, "zset": lambda key: client.zrange(key, 0, -1)}
    for key in client.scan_iter(count=1000):
        value = readers.get(client.type(key).decode(), lambda key: b"")(key)
        texts.append(f"{key!r} {value!r}")
    return texts


def test_the_demo_database_holds_no_id_or_mobile_number_in_clear(demo):
    """Every table of the populated database, read as pg_dump would: none of the demo's numbers."""
    numbers = demo_numbers()
    assert len(numbers) > 100  # the demo's people, their archives, transfers, mobiles
    assert database_hits(numbers) == {}


def test_the_demo_database_holds_no_authenticator_secret_in_clear(demo):
    """The demo staff's second-factor secrets (printed by load_demo for their apps): in no table, neither
    as django-otp's hex nor as the app's base32."""
    secrets = set()
    for device in AuthenticatorDevice.objects.all():
        secrets.update((device.key, device.key.upper(), otp.totp_secret(device)))
    assert len(secrets) >= 3 * 10  # every demo staff account has its device
    assert database_hits(secrets) == {}


def test_the_doors_log_and_cache_no_number(demo, client, caplog):
    """A login by ID number, a password reset by ID and mobile, a reviewer's search by the last digits
    and the demo loaded once more: no number in the log output or in Redis."""
    numbers = demo_numbers()
    person = Archive.objects.filter(person__isnull=False, person__mobile__isnull=False,
                                    jurisdiction_id="140502").select_related("person").first().person
    with caplog.at_level(logging.DEBUG):
        call_command("load_demo", stdout=io.StringIO())
        client.post(reverse("accounts:login"), {"username": person.id_number, "password": "Wrong@pass1"})
        client.post(reverse("accounts:password_reset"), {"id_number": person.id_number, "mobile": person.mobile})
        login_staff(client, User.objects.get(username="chengqu1"))
        client.post("/workbench/", {"q": person.id_number[-6:]})
        client.post("/workbench/", {"q": person.id_number})
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert [number for number in numbers if number in logged] == []
    stored = "\n".join(redis_texts())
    assert [number for number in numbers if number in stored] == []
