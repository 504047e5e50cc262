"""Login lockout (django-axes) without ID numbers in its tables (security items 15, 47).

An accountant logs in with their ID number, so axes' tables would hold every typed and mistyped
number. Axes keys its records by :func:`axes_username` instead: a keyed hash (HMAC-SHA256 under
SECRET_KEY) of the normalised login name. The same person from the same address still meets the same
row, so the lockout works per user as before; a dump of the tables shows no number, and the admin
shows only the hash. ``AXES_DISABLE_ACCESS_LOG`` keeps axes from logging successful logins by plain
name (the audit history has them, by user id). :func:`login_unlock` lifts a lockout by name;
:func:`axes_rows_rehash` rewrites rows stored before this (migration ``accounts.0005``).

A wrong second-factor code counts as a failed login (:func:`login_failure_count`, API.md §1).
"""

from __future__ import annotations

import re

from django.contrib.auth.signals import user_login_failed
from django.db import transaction
from django.utils.crypto import salted_hmac

from accounts.validators import normalise_login_name

DIGEST_PREFIX = "h:"  # a stored name that starts so is already a digest
_DIGEST = re.compile(r"^h:[0-9a-f]{64}$")


def login_name_digest(name: str) -> str:
    """``h:`` + HMAC-SHA256 of the normalised login name, keyed by SECRET_KEY (64 hex digits)."""
    return DIGEST_PREFIX + salted_hmac("kjzx.axes.username", normalise_login_name(name),
                                       algorithm="sha256").hexdigest()


def axes_username(request, credentials: dict | None = None) -> str | None:
    """``AXES_USERNAME_CALLABLE``: the digest of the name being logged in, never the name itself."""
    name = None
    if credentials:
        name = credentials.get("username")
    if name is None and request is not None:
        data = getattr(request, "data", None)
        if data is None or not hasattr(data, "get"):
            data = getattr(request, "POST", {})
        name = data.get("username")
    if not isinstance(name, str) or not name.strip():
        return None
    return login_name_digest(name)


def login_failure_count(request, username: str) -> bool:
    """Count a failed second factor as a failed login for (user, address); True if now locked out."""
    user_login_failed.send(sender=__name__, credentials={"username": username, "second_factor": True},
                           request=request)
    return bool(getattr(request, "axes_locked_out", False))


def login_is_locked(request, username: str) -> bool:
    """Whether (user, this address) is locked out now (checked again at the second step)."""
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_locked(request, {"username": username})


@transaction.atomic
def login_unlock(*, username: str, by=None) -> int:
    """Lift every lockout of ``username`` (from any address), with an audit row; the count lifted."""
    from axes.models import AccessAttempt

    from accounts.models import User, login_names
    from kjzx.audit import record_event

    count, _ = AccessAttempt.objects.filter(username=login_name_digest(username)).delete()
    user = User.objects.filter(username__in=login_names(username)).first()
    if count and user is not None:
        record_event(user, "account.unlocked", by=by, extra={"attempts": count})
    return count


def axes_rows_rehash(models=None) -> int:
    """Replace each plain user name in axes' tables with its digest; the rows changed.

    Also blanks ``post_data``/``get_data`` of the attempts (older rows may hold the typed name there).
    Safe to run twice: digests are left as they are. ``models`` are a migration's historical models
    (AccessAttempt, AccessFailureLog, AccessLog); by default axes' own.
    """
    if models is None:
        from axes.models import AccessAttempt, AccessFailureLog, AccessLog

        models = (AccessAttempt, AccessFailureLog, AccessLog)
    attempt_model = models[0]
    changed = 0
    for model in models:
        for row in model.objects.exclude(username__isnull=True).iterator():
            if _DIGEST.match(row.username):
                continue
            digest = login_name_digest(row.username)
            if model is attempt_model and model.objects.filter(
                    username=digest, ip_address=row.ip_address, user_agent=row.user_agent).exists():
                row.delete()  # two spellings of one name from one address meet on the unique key: keep one
                changed += 1
                continue
            fields = {"username": digest}
            if model is attempt_model:
                fields.update(get_data="", post_data="")
            changed += model.objects.filter(pk=row.pk).update(**fields)
    return changed
