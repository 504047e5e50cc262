"""The second factor (动态口令, security items 16–17): every write and check on OTP devices.

Who: every staff account (``accounts.models.STAFF_ROLES``: reviewers, provincial staff, institutions,
employers, the three administrators) must pass it; an accountant may enrol one in 个人中心 and from
then on must pass it too. A password alone opens nothing for them (kjzx.middleware.SecondFactorMiddleware
for the pages and session API calls, accounts.api.TokenView for tokens).

What: TOTP (RFC 6238: SHA-1, 30-second steps, 6 digits, one step of drift either way) with
django-otp's TOTP checking on ``accounts.models.AuthenticatorDevice``, whose secret is sealed at
rest (SM4) — a code verifies once (its step is remembered), and each failure delays
the next try (django-otp's throttle, doubling); and 10 single-use recovery codes in ``StaticDevice``,
stored as keyed digests (HMAC-SHA256 under SECRET_KEY, :func:`recovery_digest`): django-otp keeps
static tokens in clear, so the clear code is only ever shown once, at issue.

Lifecycle: ``create_staff`` and ``load_demo`` create a confirmed device and print its secret; a person
without one (a new account made in the admin, or after a reset) enrols by QR code at the next login;
the security administrator resets a lost device (:func:`otp_reset`, audited), which also ends the
person's sessions and API tokens.
"""

from __future__ import annotations

import secrets
from base64 import b32encode

import segno
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.utils.crypto import salted_hmac
from django_otp.models import Device
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from knox.models import AuthToken

from accounts.models import STAFF_ROLES, AuthenticatorDevice, Role, User
from kjzx.audit import record_event, register_event_labels

register_event_labels({
    "account.otp_verified": "动态口令验证通过",
    "account.otp_failed": "动态口令错误",
    "account.otp_enrolled": "绑定动态口令",
    "account.otp_removed": "解除动态口令",
    "account.otp_reset": "重置动态口令（设备丢失）",
    "account.recovery_codes_issued": "重新生成恢复码",
    "account.unlocked": "解除登录锁定",
})

RECOVERY_CODE_COUNT = 10
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i: read off paper
DEVICE_NAME = "动态口令"


def otp_mandatory(user) -> bool:
    """Staff must pass the second factor whatever they chose."""
    return getattr(user, "role", None) in STAFF_ROLES


def otp_enrolled(user) -> bool:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).exists()


def otp_required(user) -> bool:
    """Whether a password is not enough for ``user``: staff always, an accountant once enrolled."""
    return otp_mandatory(user) or otp_enrolled(user)


def totp_device(user) -> AuthenticatorDevice | None:
    return AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()


def totp_secret(device: AuthenticatorDevice) -> str:
    """The base32 secret an authenticator app takes (32 characters for django-otp's 20-byte keys)."""
    return b32encode(device.bin_key).decode("ascii").rstrip("=")


def totp_uri(device: AuthenticatorDevice) -> str:
    """``otpauth://totp/会计之星:<user>?secret=…&algorithm=SHA1&digits=6&period=30&issuer=会计之星``."""
    return device.config_url


def totp_qr_data_uri(device: AuthenticatorDevice) -> str:
    """The otpauth:// URI as an SVG QR code in a ``data:`` URI (the page's CSP allows img-src data:)."""
    return segno.make(totp_uri(device), error="m").svg_data_uri(scale=5, border=2)


def totp_code_now(device: AuthenticatorDevice) -> str:
    """The code an authenticator app shows now (the development-only ``otp_code`` command)."""
    return f"{totp(device.bin_key, device.step, device.t0, device.digits, device.drift):0{device.digits}d}"


@transaction.atomic
def totp_create(user: User, *, confirmed: bool) -> AuthenticatorDevice:
    """A new TOTP device (the unconfirmed ones left from an earlier try go)."""
    AuthenticatorDevice.objects.filter(user=user, confirmed=False).delete()
    return AuthenticatorDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=confirmed)


def enrolment_device(user: User) -> AuthenticatorDevice:
    """The device being enrolled: the pending one if the person reloads the page, else a new one."""
    device = AuthenticatorDevice.objects.filter(user=user, confirmed=False).order_by("-pk").first()
    return device or totp_create(user, confirmed=False)


def enrolment_confirm(*, user: User, code: str, ip: str | None = None) -> list[str] | None:
    """The first code from the app confirms the device; returns the new recovery codes, or None.

    The person's earlier device (if any) and recovery codes are replaced: one device each.
    """
    with transaction.atomic():
        device = (AuthenticatorDevice.objects.select_for_update().filter(user=user, confirmed=False)
                  .order_by("-pk").first())
        ok = device is not None and _is_totp_code(code) and device.verify_token(_clean(code))
    if not ok:
        record_event(user, "account.otp_failed", ip=ip, extra={"step": "enrolment"})
        return None
    with transaction.atomic():
        AuthenticatorDevice.objects.filter(user=user, confirmed=True).delete()
        AuthenticatorDevice.objects.filter(pk=device.pk).update(confirmed=True)
        codes = _recovery_codes_replace(user)
        record_event(user, "account.otp_enrolled", by=user, ip=ip)
    return codes


def second_factor_verify(*, user: User, code: str, ip: str | None = None, allow_recovery: bool = True,
                         door: str = "page") -> Device | None:
    """The device that accepts ``code`` now (a TOTP code, or a recovery code, which then is used up).

    One audit row either way (``account.otp_verified`` / ``account.otp_failed``). A code that verified
    once does not verify again (django-otp remembers its step); failures delay the next try.
    """
    text = _clean(code)
    device = None
    with transaction.atomic():
        if _is_totp_code(text):
            for candidate in AuthenticatorDevice.objects.select_for_update().filter(user=user, confirmed=True):
                if candidate.verify_token(text):
                    device = candidate
                    break
        elif allow_recovery and text:
            static = StaticDevice.objects.select_for_update().filter(user=user, confirmed=True).first()
            if static is not None and static.verify_token(recovery_digest(text)):
                device = static
    kind = "recovery" if isinstance(device, StaticDevice) else "totp"
    if device is None:
        record_event(user, "account.otp_failed", ip=ip, extra={"door": door})
    else:
        record_event(user, "account.otp_verified", by=user, ip=ip, extra={"door": door, "device": kind})
    return device


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def recovery_digest(code: str) -> str:
    """How a recovery code is stored: 16 hex digits of HMAC-SHA256 under SECRET_KEY (fits otp_static)."""
    text = _clean(code).lower().replace("-", "")
    return salted_hmac("kjzx.otp.recovery", text, algorithm="sha256").hexdigest()[:16]


def recovery_codes_regenerate(*, user: User, code: str, ip: str | None = None) -> list[str] | None:
    """New recovery codes (the old ones die) against a current TOTP code; None if the code is wrong."""
    if second_factor_verify(user=user, code=code, ip=ip, allow_recovery=False, door="recovery_codes") is None:
        return None
    with transaction.atomic():
        codes = _recovery_codes_replace(user)
        record_event(user, "account.recovery_codes_issued", by=user, ip=ip)
    return codes


def otp_remove(*, user: User, code: str, ip: str | None = None) -> bool:
    """An accountant switches the optional second factor off, with a current code. Staff cannot."""
    if otp_mandatory(user):
        raise PermissionDenied
    if second_factor_verify(user=user, code=code, ip=ip, door="remove") is None:
        return False
    with transaction.atomic():
        _devices_delete(user)
        record_event(user, "account.otp_removed", by=user, ip=ip)
    return True


@transaction.atomic
def otp_reset(*, user: User, by: User | None, ip: str | None = None) -> None:
    """设备丢失: the security administrator removes the person's devices and recovery codes.

    The person enrols a new device at the next login (password, then the QR code). Whoever holds the
    lost phone may also have a live session or token: all of them end now.
    """
    from accounts.services import sessions_end_all

    if by is not None and by.role != Role.SECURITY_ADMIN:
        raise PermissionDenied
    _devices_delete(user)
    sessions_end_all(user)
    AuthToken.objects.filter(user=user).delete()
    record_event(user, "account.otp_reset", by=by, ip=ip)


def _devices_delete(user: User) -> None:
    AuthenticatorDevice.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()


def _recovery_codes_replace(user: User) -> list[str]:
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name="恢复码", confirmed=True)
    codes = [_recovery_code() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=recovery_digest(code)) for code in codes])
    return codes


def _recovery_code() -> str:
    """Ten characters (about 49 bits) in two groups of five: ``k7m2q-x9w4e``."""
    chars = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
    return f"{chars[:5]}-{chars[5:]}"


def _clean(code) -> str:
    return "".join(str(code or "").split())


def _is_totp_code(code: str) -> bool:
    text = _clean(code)
    return len(text) == 6 and text.isascii() and text.isdigit()
