"""Model fields for personal numbers stored encrypted, with their blind indexes (docs/security.md item 44).

- :class:`EncryptedTextField` — a text read and written in clear by the code, stored sealed with SM4-GCM
  (:mod:`kjzx.crypto`), bound to its table and column. SQL cannot compare sealed values, so the field
  answers ``exact`` and ``in`` through its blind index (``hash_field``, a :class:`KeyedHashField` of the
  same row): ``Archive.objects.filter(id_number=n)`` becomes ``WHERE id_number_hash = HMAC(n)``, an
  indexed equality. Every other lookup (``startswith``, ``regex``, ``icontains``…) is refused, so a query
  that would silently match nothing fails in the tests instead. Without a ``hash_field`` only ``= ''``
  and ``IS NULL`` are answered.
- :class:`EncryptedJSONField` — a JSON snapshot (a transfer's person record), sealed whole.
- :class:`KeyedHashField` — the HMAC-SM3 of another field of the same row (``source``) for a purpose
  (``id_number``, ``id_last4``, ``mobile``), computed whenever the row is saved or bulk-created.
  ``save(update_fields=[…])`` naming an encrypted field must name its hash fields too (checked: a
  ``ValueError`` otherwise), and ``QuerySet.update()`` of an encrypted field must set them as well.

Each encrypted column also has a CHECK constraint on PostgreSQL (:func:`sealed_check_sql`, added by the
migration that sealed it, in raw SQL so that Django's model validation never evaluates it) that refuses
anything not shaped like a sealed value: a plain number written by raw SQL or COPY fails loudly.
"""

from __future__ import annotations

import json

from django.core.exceptions import FieldError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Lookup
from django.db.models.expressions import Col
from django.db.models.lookups import IsNull
from django.db.models.signals import pre_save

from kjzx import crypto

# model → {encrypted field name: [its hash field names]}: for the update_fields check below.
_HASHED_BY: dict[type, dict[str, list[str]]] = {}


class _BlindLookup(Lookup):
    """``exact``/``in`` on a sealed column, answered by its blind index column of the same row alias."""

    prepare_rhs = False
    can_use_none_as_rhs = False

    def _hash_column(self, compiler):
        target = self.lhs.target if isinstance(self.lhs, Col) else None
        name = getattr(target, "hash_field", None)
        if name is None:
            raise FieldError(f"{getattr(target, 'name', self.lhs)} 以密文存储，不能按值查询。")
        field = target.model._meta.get_field(name)
        return compiler.compile(Col(self.lhs.alias, field)), crypto.HASHERS[field.purpose]

    def _hashed(self, hasher, value) -> str:
        if hasattr(value, "resolve_expression"):
            raise FieldError("密文字段只能与具体值比较（按其 *_hash 字段查询）。")
        return hasher("" if value is None else str(value))


class BlindExact(_BlindLookup):
    lookup_name = "exact"

    def as_sql(self, compiler, connection):
        if getattr(self.lhs.target, "hash_field", None) is None and self.rhs == "":
            sql, params = compiler.compile(self.lhs)
            return f"{sql} = %s", [*params, ""]
        (sql, params), hasher = self._hash_column(compiler)
        return f"{sql} = %s", [*params, self._hashed(hasher, self.rhs)]


class BlindIn(_BlindLookup):
    lookup_name = "in"

    def as_sql(self, compiler, connection):
        (sql, params), hasher = self._hash_column(compiler)
        if hasattr(self.rhs, "resolve_expression"):
            raise FieldError("密文字段的 in 查询只接受具体值的列表。")
        hashes = sorted({self._hashed(hasher, value) for value in self.rhs if value is not None})
        if not hashes:
            return "1 = 0", []
        return f"{sql} IN ({', '.join(['%s'] * len(hashes))})", [*params, *hashes]


class _SealedMixin:
    def sealing_context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def get_lookup(self, lookup_name):
        if lookup_name in ("exact", "iexact"):  # the admin's "=field" search asks iexact
            return BlindExact
        if lookup_name == "in":
            return BlindIn
        if lookup_name == "isnull":
            return IsNull
        return None  # Django answers "Unsupported lookup … for EncryptedTextField"

    def get_transform(self, lookup_name):
        return None


class EncryptedTextField(_SealedMixin, models.TextField):
    """Text stored as ``"<key id>:<base64(nonce|ciphertext|tag)>"`` (SM4-GCM), read back in clear.

    ``hash_field`` names the row's :class:`KeyedHashField` of this value that answers ``exact``/``in``.
    """

    description = "Text encrypted at rest (SM4-GCM)"

    def __init__(self, *args, hash_field: str | None = None, **kwargs):
        self.hash_field = hash_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return crypto.unseal(value, context=self.sealing_context())

    def get_prep_value(self, value):
        value = super().get_prep_value(value)
        if value in (None, ""):
            return value
        return crypto.seal(str(value), context=self.sealing_context())


class EncryptedJSONField(_SealedMixin, models.TextField):
    """A JSON value stored sealed as a whole (its keys cannot be queried)."""

    description = "JSON encrypted at rest (SM4-GCM)"

    def from_db_value(self, value, expression, connection):
        if value is None:
            return value
        if value == "":
            return self.get_default()
        return json.loads(crypto.unseal(value, context=self.sealing_context()))

    def to_python(self, value):
        if isinstance(value, str) and value:
            try:
                return json.loads(value)
            except ValueError:
                return value
        return value

    def get_prep_value(self, value):
        if value is None:
            return value
        text = json.dumps(value, cls=DjangoJSONEncoder, ensure_ascii=False, sort_keys=True)
        return crypto.seal(text, context=self.sealing_context())

    def value_to_string(self, obj):
        return json.dumps(self.value_from_object(obj), cls=DjangoJSONEncoder, ensure_ascii=False)


class KeyedHashField(models.CharField):
    """The blind index of ``source`` (HMAC-SM3 hex, "" when the source is empty), kept by ``pre_save``."""

    description = "Keyed hash (HMAC-SM3) of another field"

    def __init__(self, *args, source: str, purpose: str, **kwargs):
        if purpose not in crypto.HASHERS:
            raise ValueError(f"unknown purpose {purpose!r}")
        self.source, self.purpose = source, purpose
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs.update(source=self.source, purpose=self.purpose)
        for key, value in (("max_length", 64), ("blank", True), ("default", ""), ("editable", False)):
            if kwargs.get(key) == value:
                kwargs.pop(key)
        return name, path, args, kwargs

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only)
        _HASHED_BY.setdefault(cls, {}).setdefault(self.source, []).append(self.attname)

    def pre_save(self, model_instance, add):
        value = crypto.HASHERS[self.purpose](getattr(model_instance, self.source) or "")
        setattr(model_instance, self.attname, value)
        return value


def _check_update_fields(sender, instance, update_fields=None, **kwargs):
    """``save(update_fields=["id_number"])`` without ``id_number_hash`` would leave a stale index."""
    if not update_fields:
        return
    for source, hashed in _HASHED_BY.get(sender._meta.concrete_model, {}).items():
        if source in update_fields and not set(hashed) <= set(update_fields):
            raise ValueError(f"{sender.__name__}.save(update_fields=…) names {source} but not {', '.join(hashed)}")


pre_save.connect(_check_update_fields, dispatch_uid="kjzx.fields.update_fields")


def hashed_update_fields(model, *names: str) -> list[str]:
    """``names`` and the hash fields kept from any of them: what ``save(update_fields=…)`` must name."""
    hashed = _HASHED_BY.get(model._meta.concrete_model, {})
    return [*names, *(h for name in names for h in hashed.get(name, []))]


def sealed_check_sql(table: str, column: str) -> tuple[str, str]:
    """(forward, reverse) SQL of the CHECK that refuses a plain value in a sealed column (PostgreSQL)."""
    name = f"{table}_{column}_sealed"[:63]
    forward = (f'ALTER TABLE "{table}" ADD CONSTRAINT "{name}" CHECK ("{column}" = \'\' OR "{column}" ~ '
               f"'{crypto.SEALED.pattern}')")
    return forward, f'ALTER TABLE "{table}" DROP CONSTRAINT IF EXISTS "{name}"'
