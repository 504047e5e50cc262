"""Encryption at rest (SM4-GCM) and keyed hashes (HMAC-SM3) of personal numbers (docs/security.md item 44).

ID numbers and mobile numbers are stored only sealed: ``"<key id>:<base64(nonce | ciphertext | tag)>"``,
SM4 (GB/T 32907) in GCM mode from ``cryptography``, a random 96-bit nonce per value, and associated
data naming the table and column (``records_archive.id_number``) and the key id, so a value copied into
another column or relabelled with another key id does not open. A wrong key, a flipped byte or a moved
value raises :class:`SealError`; nothing ever returns a wrong plain text.

Keys come from the environment (settings): ``KJZX_DATA_KEYS="k2:<base64 of 16 bytes>,k1:<…>"`` — the
first one seals, every one listed opens (rotation: put a new key first, run ``manage.py
rotate_data_keys``, then drop the old one). ``KJZX_HASH_KEY`` (base64, 32 bytes or more) keys the
HMAC-SM3 hashes, apart from the encryption keys. Without them, and only with
``KJZX_DERIVED_DATA_KEYS`` (DEBUG: development), both are derived from ``SECRET_KEY``; with DEBUG off
the settings refuse to load without them, as without ``SECRET_KEY``.

Hashes (:func:`id_number_hash`, :func:`id_last4_hash`, :func:`mobile_hash`) are 64 hex digits,
separated by purpose, for uniqueness and exact search in SQL (docs/security.md, "Encryption at rest").
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed
from django.dispatch import receiver

KEY_BYTES = 16  # SM4 has 128-bit keys
HASH_KEY_MIN_BYTES = 32
NONCE_BYTES = 12
TAG_BYTES = 16
DERIVED_KEY_ID = "dev"
_KEY_ID = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
SEALED = re.compile(r"^[A-Za-z0-9_-]{1,16}:[A-Za-z0-9+/]+={0,2}$")  # what a sealed value looks like


class SealError(ValueError):
    """A sealed value that does not open: unknown key id, tampered, moved to another column, malformed."""


@dataclass(frozen=True)
class KeyRing:
    current: str  # the key id that seals
    keys: dict[str, bytes]  # every key that opens, by id
    hash_key: bytes
    derived: bool  # development keys from SECRET_KEY


def parse_data_keys(text: str) -> tuple[str, dict[str, bytes]]:
    """``"k2:<base64>,k1:<base64>"`` → (first id, {id: key}); ImproperlyConfigured naming what is wrong."""
    keys: dict[str, bytes] = {}
    order: list[str] = []
    for item in (part.strip() for part in (text or "").split(",")):
        if not item:
            continue
        key_id, sep, encoded = item.partition(":")
        if not sep or not _KEY_ID.match(key_id):
            raise ImproperlyConfigured("KJZX_DATA_KEYS: each entry is <key id>:<base64 key>, "
                                       "the id 1-16 of A-Z a-z 0-9 _ -.")
        if key_id in keys:
            raise ImproperlyConfigured(f"KJZX_DATA_KEYS: key id {key_id!r} is listed twice.")
        try:
            key = base64.b64decode(encoded.strip(), validate=True)
        except (binascii.Error, ValueError):
            raise ImproperlyConfigured(f"KJZX_DATA_KEYS: the key of {key_id!r} is not base64.") from None
        if len(key) != KEY_BYTES:
            raise ImproperlyConfigured(f"KJZX_DATA_KEYS: the key of {key_id!r} must be {KEY_BYTES} bytes (SM4), "
                                       f"not {len(key)}.")
        keys[key_id] = key
        order.append(key_id)
    if not keys:
        raise ImproperlyConfigured("KJZX_DATA_KEYS is empty.")
    return order[0], keys


def parse_hash_key(text: str) -> bytes:
    try:
        key = base64.b64decode((text or "").strip(), validate=True)
    except (binascii.Error, ValueError):
        raise ImproperlyConfigured("KJZX_HASH_KEY is not base64.") from None
    if len(key) < HASH_KEY_MIN_BYTES:
        raise ImproperlyConfigured(f"KJZX_HASH_KEY must hold at least {HASH_KEY_MIN_BYTES} bytes.")
    return key


def _derive(label: str, size: int) -> bytes:
    mac = hmac.HMAC(settings.SECRET_KEY.encode(), hashes.SM3())
    mac.update(b"kjzx.development." + label.encode())
    return mac.finalize()[:size]


_RING: list[KeyRing] = []  # the keys in force, parsed once (a list lookup: every value sealed asks)
_KEY_SETTINGS = {"KJZX_DATA_KEYS", "KJZX_HASH_KEY", "KJZX_DERIVED_DATA_KEYS", "SECRET_KEY"}


def keyring() -> KeyRing:
    """The keys in force, parsed at first use; ``override_settings`` of a key setting parses them again."""
    if not _RING:
        _RING.append(_keyring(settings.KJZX_DATA_KEYS, settings.KJZX_HASH_KEY,
                              bool(getattr(settings, "KJZX_DERIVED_DATA_KEYS", False))))
    return _RING[0]


@receiver(setting_changed)
def _keys_changed(*, setting: str, **kwargs) -> None:
    if setting in _KEY_SETTINGS:
        _RING.clear()


def _keyring(data: str, hashed: str, derived_ok: bool) -> KeyRing:
    if bool(data) != bool(hashed):
        raise ImproperlyConfigured("Set KJZX_DATA_KEYS and KJZX_HASH_KEY together (see .env.example).")
    if data:
        current, keys = parse_data_keys(data)
        return KeyRing(current, keys, parse_hash_key(hashed), derived=False)
    if not derived_ok:
        raise ImproperlyConfigured("KJZX_DATA_KEYS and KJZX_HASH_KEY must be set when DEBUG is off "
                                   "(ID and mobile numbers are stored encrypted; see .env.example).")
    return KeyRing(DERIVED_KEY_ID, {DERIVED_KEY_ID: _derive("data-key", KEY_BYTES)},
                   _derive("hash-key", 32), derived=True)


def _aad(context: str, key_id: str) -> bytes:
    return f"kjzx|{context}|{key_id}".encode()


def seal(plain: str, *, context: str, key_id: str | None = None) -> str:
    """Encrypt ``plain`` for the column ``context`` (``table.column``) under the current key; "" stays ""."""
    if plain == "":
        return ""
    ring = keyring()
    key_id = key_id or ring.current
    nonce = os.urandom(NONCE_BYTES)
    encryptor = Cipher(algorithms.SM4(ring.keys[key_id]), modes.GCM(nonce)).encryptor()
    encryptor.authenticate_additional_data(_aad(context, key_id))
    body = encryptor.update(plain.encode()) + encryptor.finalize()
    return f"{key_id}:{base64.b64encode(nonce + body + encryptor.tag).decode()}"


def unseal(token: str, *, context: str) -> str:
    """The plain text of a value :func:`seal` made for ``context``; :class:`SealError` if it does not open."""
    if token == "":
        return ""
    key_id, sep, body = token.partition(":")
    key = keyring().keys.get(key_id) if sep else None
    if key is None:
        raise SealError(f"{context}: 密钥编号 {key_id[:16]!r} 未配置，或不是加密值")
    try:
        raw = base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise SealError(f"{context}: 加密值格式错误") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise SealError(f"{context}: 加密值格式错误")
    nonce, ciphertext, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    decryptor = Cipher(algorithms.SM4(key), modes.GCM(nonce, tag)).decryptor()
    decryptor.authenticate_additional_data(_aad(context, key_id))
    try:
        plain = decryptor.update(ciphertext) + decryptor.finalize()
    except InvalidTag:
        raise SealError(f"{context}: 解密校验失败（密钥不符或数据被篡改）") from None
    return plain.decode()


def key_id_of(token: str) -> str:
    """The key id a sealed value names ("" for an empty value)."""
    return token.partition(":")[0] if token else ""


# --- keyed hashes (blind indexes) --------------------------------------------------------------------

def keyed_hash(value: str, *, purpose: str) -> str:
    """HMAC-SM3 under ``KJZX_HASH_KEY`` of ``purpose`` and ``value``: 64 hex digits ("" for "")."""
    if value == "":
        return ""
    mac = hmac.HMAC(keyring().hash_key, hashes.SM3())
    mac.update(purpose.encode() + b"\x00" + value.encode())
    return mac.finalize().hex()


def normalise_number(value: str) -> str:
    """An ID number as stored and hashed: no spaces, upper case (a resident ID's final x → X)."""
    return re.sub(r"\s+", "", value or "").upper()


def id_number_hash(number: str) -> str:
    """The blind index of a whole ID number (any document type): uniqueness, login, exact search."""
    return keyed_hash(normalise_number(number), purpose="id_number")


def id_last4_hash(number: str) -> str:
    """The blind index of an ID number's last four characters: the workbench's search by the last digits."""
    number = normalise_number(number)
    return keyed_hash(number[-4:], purpose="id_last4") if len(number) >= 4 else ""


def mobile_hash(mobile: str) -> str:
    return keyed_hash(re.sub(r"\s+", "", mobile or ""), purpose="mobile")


HASHERS = {"id_number": id_number_hash, "id_last4": id_last4_hash, "mobile": mobile_hash}


# --- numbers kept in a session between two requests ---------------------------------------------------

def session_seal(value: str, *, purpose: str) -> str:
    """``value`` sealed for a session (sessions live in Redis and the database): never a number in clear."""
    return seal(value, context=f"session.{purpose}")


def session_open(token, *, purpose: str) -> str | None:
    """What :func:`session_seal` kept; None when there is nothing, or it no longer opens (a rotated key)."""
    if not isinstance(token, str) or not token:
        return None
    try:
        return unseal(token, context=f"session.{purpose}")
    except SealError:
        return None
