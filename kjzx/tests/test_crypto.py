"""ID and mobile numbers encrypted at rest (docs/security.md item 44): SM4-GCM sealing, HMAC-SM3 blind
indexes, key rotation, uniqueness and login through the hashes (R-COL-3: one person, one archive)."""

from __future__ import annotations

import base64
import io
from datetime import date

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.test import override_settings
from django.test.utils import CaptureQueriesContext

from accounts.models import User, accountant_username
from kjzx import crypto
from kjzx.models import AuditEvent
from kjzx.sealing import SealedTable, reseal_table
from records.models import Archive
from tests.factories import PASSWORD, make_accountant, make_id_number

pytestmark = pytest.mark.django_db

K1 = "k1:" + base64.b64encode(b"1" * 16).decode()
K2 = "k2:" + base64.b64encode(b"2" * 16).decode()
HASH_KEY = base64.b64encode(b"h" * 32).decode()


def raw(table: str, column: str, pk: int) -> str:
    with connection.cursor() as cursor:
        cursor.execute(f'SELECT "{column}" FROM "{table}" WHERE id = %s', [pk])  # noqa: S608 (test's own names)
        return cursor.fetchone()[0]


# --- the primitives in the pinned cryptography -------------------------------------------------------

def test_sm4_gcm_and_sm3_give_the_published_test_vectors():
    """SM4-GCM as RFC 8998 A.1 and SM3 as GB/T 32905 ("abc"): the national algorithms really work here."""
    key, nonce = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210"), bytes.fromhex("00001234567800000000ABCD")
    plain = bytes.fromhex("AAAAAAAAAAAAAAAABBBBBBBBBBBBBBBBCCCCCCCCCCCCCCCCDDDDDDDDDDDDDDDD"
                          "EEEEEEEEEEEEEEEEFFFFFFFFFFFFFFFFEEEEEEEEEEEEEEEEAAAAAAAAAAAAAAAA")
    encryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(bytes.fromhex("FEEDFACEDEADBEEFFEEDFACEDEADBEEFABADDAD2"))
    sealed = encryptor.update(plain) + encryptor.finalize()
    assert sealed.hex().upper().startswith("17F399F08C67D5EE19D0DC9969C4BB7D")
    assert encryptor.tag.hex().upper() == "83DE3541E4C2B58177E065A9BF7B62EC"
    digest = hashes.Hash(hashes.SM3())
    digest.update(b"abc")
    assert digest.finalize().hex() == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_a_sealed_value_opens_to_the_same_text_and_never_looks_alike_twice():
    """Round trip; a fresh nonce each time, so two sealings of one number differ (no equality leak)."""
    number = make_id_number()
    first, second = (crypto.seal(number, context="t.c") for _ in range(2))
    assert first != second and number not in first and crypto.SEALED.match(first)
    assert crypto.unseal(first, context="t.c") == crypto.unseal(second, context="t.c") == number
    assert crypto.seal("", context="t.c") == "" and crypto.unseal("", context="t.c") == ""


@pytest.mark.parametrize("spoil", [
    lambda token: token[:-6] + ("A" if token[-6] != "A" else "B") + token[-5:],  # one flipped character
    lambda token: token.replace(token.split(":")[0], "k9", 1),  # a key id that is not configured
    lambda token: token.split(":")[0] + ":" + "QUFBQQ==",  # too short to hold a tag
    lambda token: "plain-140502199001011011",
])
def test_a_tampered_or_foreign_value_is_refused_never_opened_wrong(spoil):
    """A flipped byte, an unknown key id or a malformed value raises SealError: nothing returns a wrong text."""
    token = crypto.seal(make_id_number(), context="records_archive.id_number")
    with pytest.raises(crypto.SealError):
        crypto.unseal(spoil(token), context="records_archive.id_number")


def test_a_value_moved_to_another_column_does_not_open():
    """The associated data names the table and column: a mobile pasted into the ID column is refused."""
    token = crypto.seal("13800000000", context="records_archive.mobile")
    with pytest.raises(crypto.SealError):
        crypto.unseal(token, context="records_archive.id_number")


def test_production_keys_are_required_and_checked():
    """Without KJZX_DATA_KEYS/KJZX_HASH_KEY and outside development nothing is sealed; bad keys are named."""
    with pytest.raises(ImproperlyConfigured):
        crypto._keyring("", "", derived_ok=False)
    with pytest.raises(ImproperlyConfigured, match="16 bytes"):
        crypto.parse_data_keys("k1:" + base64.b64encode(b"short").decode())
    with pytest.raises(ImproperlyConfigured, match="twice"):
        crypto.parse_data_keys(f"{K1},{K1}")
    with pytest.raises(ImproperlyConfigured, match="32"):
        crypto.parse_hash_key(base64.b64encode(b"x" * 8).decode())
    assert crypto.parse_data_keys(f"{K2},{K1}")[0] == "k2"
    assert crypto._keyring("", "", derived_ok=True).derived


# --- the model fields ---------------------------------------------------------------------------------

def test_numbers_are_stored_sealed_and_read_in_clear(accountant):
    """The row holds ciphertext and hashes; the model reads the numbers back in clear (item 44)."""
    stored_id, stored_mobile = raw("accounts_user", "id_number", accountant.pk), raw("accounts_user", "mobile",
                                                                                       accountant.pk)
    assert accountant.id_number not in stored_id and crypto.SEALED.match(stored_id)
    assert accountant.mobile not in stored_mobile and crypto.SEALED.match(stored_mobile)
    fresh = User.objects.get(pk=accountant.pk)
    assert (fresh.id_number, fresh.mobile) == (accountant.id_number, accountant.mobile)
    assert fresh.id_number_hash == crypto.id_number_hash(accountant.id_number)
    assert fresh.username == accountant_username(accountant.id_number) != accountant.id_number


def test_a_filter_by_number_asks_the_keyed_hash_and_a_pattern_is_refused(accountant):
    """``id_number=…`` and ``mobile=…`` compare the indexed hash in SQL; a prefix search cannot exist."""
    with CaptureQueriesContext(connection) as queries:
        found = User.objects.filter(id_number=accountant.id_number.lower(), mobile=accountant.mobile).get()
    assert found == accountant
    sql = queries.captured_queries[0]["sql"]
    assert "id_number_hash" in sql and "mobile_hash" in sql and accountant.id_number not in sql
    assert list(User.objects.filter(id_number__in=[accountant.id_number, "X"])) == [accountant]
    with pytest.raises(FieldError):
        list(User.objects.filter(id_number__startswith=accountant.id_number[:6]))


def test_a_plain_number_written_around_the_model_is_refused_by_the_database(accountant):
    """The CHECK of each sealed column refuses what raw SQL or COPY would write in clear."""
    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("UPDATE accounts_user SET mobile = '13800000000' WHERE id = %s", [accountant.pk])


def test_saving_a_number_without_its_hash_is_refused(accountant):
    """``save(update_fields=["mobile"])`` would leave a stale index: refused, naming the hash field."""
    accountant.mobile = "13911112222"
    with pytest.raises(ValueError, match="mobile_hash"):
        accountant.save(update_fields=["mobile"])
    accountant.save(update_fields=["mobile", "mobile_hash"])
    assert User.objects.filter(mobile="13911112222").get() == accountant


def test_one_id_document_registers_once_through_the_hash(accountant):
    """R-COL-3: the unique constraints hold on the hashes (users and archives)."""
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create_user(username="someone", name="重复", id_type="resident_id",
                                 id_number=accountant.id_number.lower())
    archive = Archive.objects.create(person=accountant, name="张三", id_type="resident_id",
                                     id_number=accountant.id_number, sex="M", birth_date=date(1990, 1, 1))
    with pytest.raises(IntegrityError), transaction.atomic():
        Archive.objects.create(name="张三", id_type="resident_id", id_number=archive.id_number, sex="M",
                               birth_date=date(1990, 1, 1))


def test_an_accountant_logs_in_with_the_typed_id_number_on_the_page_and_the_api(client, accountant):
    """The stored user name is a hash; typing the number (a lower-case x too) logs in, page and token API."""
    person = make_accountant(sequence=102, mobile="13800000001")
    response = client.post("/accounts/login/", {"username": person.id_number.lower(), "password": PASSWORD})
    assert response.status_code == 302 and client.session.get("_auth_user_id") == str(person.pk)
    token = client.post("/api/v1/auth/token/", {"username": accountant.id_number, "password": PASSWORD},
                        content_type="application/json")
    assert token.status_code == 200 and "token" in token.json()


# --- rotation -----------------------------------------------------------------------------------------

def test_rotation_reseals_every_value_and_old_key_ids_still_open(accountant):
    """``rotate_data_keys``: under k1 first, then k2 listed first: old values open, the command reseals
    them all under k2 (with an audit row), and afterwards k2 alone opens everything."""
    with override_settings(KJZX_DATA_KEYS=f"{K1},{settings.KJZX_DATA_KEYS}", KJZX_HASH_KEY=HASH_KEY):
        call_command("rotate_data_keys", "--rehash", stdout=io.StringIO())
        person = make_accountant(sequence=205, mobile="13900000205")
        assert crypto.key_id_of(raw("accounts_user", "id_number", person.pk)) == "k1"
    with override_settings(KJZX_DATA_KEYS=f"{K2},{K1}", KJZX_HASH_KEY=HASH_KEY):
        assert User.objects.get(pk=person.pk).id_number == person.id_number  # k1 still opens
        out = io.StringIO()
        call_command("rotate_data_keys", stdout=out)
        assert "accounts_user" in out.getvalue()
        assert {crypto.key_id_of(raw("accounts_user", "id_number", pk)) for pk in (person.pk, accountant.pk)} == {"k2"}
        call_command("rotate_data_keys", stdout=out)  # again: nothing left to change
        assert "共重新加密 0 行" in out.getvalue()
        assert AuditEvent.objects.filter(event_type="security.data_keys_rotated").count() == 3
    with override_settings(KJZX_DATA_KEYS=K2, KJZX_HASH_KEY=HASH_KEY):
        assert User.objects.get(id_number=person.id_number).mobile == "13900000205"
        assert User.objects.get_by_natural_key(accountant.id_number) == accountant  # user names rehashed


def test_the_migration_routine_seals_plain_rows_and_opens_them_again():
    """The data migrations' routine (kjzx.sealing.reseal_table): plain rows sealed with their hashes, and
    in reverse opened again — on a scratch table, as the migrations find a table before its CHECK."""
    number = make_id_number(sequence=321)
    spec = SealedTable("scratch_people", {"id_number": "text"},
                       {"id_number_hash": ("id_number", "id_number"), "id_last4_hash": ("id_number", "id_last4")})
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMPORARY TABLE scratch_people (id serial PRIMARY KEY, id_number text, "
                       "id_number_hash varchar(64) DEFAULT '', id_last4_hash varchar(64) DEFAULT '')")
        cursor.execute("INSERT INTO scratch_people (id_number) VALUES (%s), ('')", [number])
        assert reseal_table(connection, spec, adopt=True, rehash=True).changed == 1
        cursor.execute("SELECT id_number, id_number_hash, id_last4_hash FROM scratch_people ORDER BY id")
        (sealed, full, last4), empty = cursor.fetchall()
        assert number not in sealed and crypto.unseal(sealed, context="scratch_people.id_number") == number
        assert (full, last4) == (crypto.id_number_hash(number), crypto.id_last4_hash(number[-4:]))
        assert empty == ("", "", "")
        assert reseal_table(connection, spec, adopt=True).changed == 0  # sealed already: left alone
        reseal_table(connection, spec, open_all=True)
        cursor.execute("SELECT id_number FROM scratch_people ORDER BY id")
        assert [row[0] for row in cursor.fetchall()] == [number, ""]
        cursor.execute("DROP TABLE scratch_people")
