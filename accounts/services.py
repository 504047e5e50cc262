"""Every write on accounts: registration, staff accounts, password reset, exchange tokens.

Registration (R-COL-2, R-COL-3): real name, ID type and number, sex, birth date, mobile and a
password. The ID number becomes the username; a resident ID must pass GB 11643, and its number gives
the birth date and sex when they are not entered (those entered must agree with it); one ID
registers once.
"""

from __future__ import annotations

import secrets
from datetime import date, datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from knox.models import AuthToken

from accounts.models import (
    ADMIN_ROLES,
    ROLE_REGION_LEVEL,
    IdType,
    Region,
    Role,
    Sex,
    SmsCode,
    User,
    accountant_username,
)
from accounts.validators import (
    id_disagreements,
    normalise_id_number,
    normalise_login_name,
    parse_resident_id,
    validate_mobile,
)
from kjzx.api import DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.sms import send_sms

register_event_labels({
    "account.register_duplicate": "重复注册被拒绝",
    "account.token_issued": "登录（获取接口令牌）",
    "account.token_revoked": "退出登录（注销接口令牌）",
    "account.session_ended": "会话结束",
})

DUPLICATE_ID_MESSAGE = gettext_lazy("该证件号码已注册，请直接登录；如忘记密码，请使用“找回密码”。")


def _add(errors: dict, field: str, message: str) -> None:
    errors.setdefault(field, []).append(message)


def registration_check(*, id_type: str, id_number: str, name: str, sex: str, birth_date: date | None,
                       mobile: str, password: str) -> tuple[dict[str, list[str]], str]:
    """All the registration rules at once: (errors by field, the canonical ID number)."""
    errors: dict[str, list[str]] = {}
    number = ""
    if id_type not in IdType.values:
        _add(errors, "id_type", _("请选择证件类型。"))
    else:
        try:
            number = normalise_id_number(id_type, id_number)
        except ValidationError as exc:
            _add(errors, "id_number", exc.messages[0])
    if number:
        for field, message in id_disagreements(id_type, number, birth_date=birth_date, sex=sex).items():
            _add(errors, field, message)
    if number and User.objects.filter(id_type=id_type, id_number=number).exists():
        _add(errors, "id_number", str(DUPLICATE_ID_MESSAGE))
    name = (name or "").strip()
    if not name or len(name) > 50:
        _add(errors, "name", _("请输入与证件一致的真实姓名（不超过50个字）。"))
    resident = id_type == IdType.RESIDENT_ID  # its number carries both (a wrong number is said above)
    if sex not in Sex.values and not resident:
        _add(errors, "sex", _("请选择性别。"))
    if birth_date is None and not resident:
        _add(errors, "birth_date", _("请输入出生日期。"))
    elif birth_date is not None and birth_date > timezone.localdate():
        _add(errors, "birth_date", _("出生日期不能晚于今天。"))
    try:
        validate_mobile(mobile)
    except ValidationError as exc:
        _add(errors, "mobile", exc.messages[0])
    try:
        validate_password(password or "", User(username=number, name=name, mobile=mobile, id_type=id_type,
                                                id_number=number, birth_date=birth_date))
    except ValidationError as exc:
        for message in exc.messages:
            _add(errors, "password", message)
    return errors, number


def from_resident_id(id_type: str, id_number: str, *, sex: str, birth_date: date | None) -> tuple[str, date | None]:
    """(sex, birth date) of a registration: what a resident ID number carries fills what was not given
    (R-COL-3). Given ones stay, and registration_check compares them with the number."""
    if id_type != IdType.RESIDENT_ID or (sex and birth_date):
        return sex, birth_date
    try:
        parsed = parse_resident_id(normalise_id_number(id_type, id_number))
    except ValidationError:
        return sex, birth_date  # registration_check says what is wrong with the number
    return sex or parsed.sex, birth_date or parsed.birth_date


def account_register(*, id_type: str, id_number: str, name: str, sex: str = "", birth_date: date | None = None,
                     mobile: str, password: str, ip: str | None = None) -> User:
    """Register an accountant (注册); raises DomainError with every wrong field.

    "Already registered" is said plainly (the accountant must learn to log in or reset instead), so
    the doors throttle registration per address (kjzx.http.RegistrationThrottle) and each such
    refusal is an audit row on the registered account, with the address it came from.
    """
    sex, birth_date = from_resident_id(id_type, id_number, sex=sex or "", birth_date=birth_date)
    errors, number = registration_check(id_type=id_type, id_number=id_number, name=name, sex=sex,
                                        birth_date=birth_date, mobile=mobile, password=password)
    if str(DUPLICATE_ID_MESSAGE) in errors.get("id_number", []):
        _register_duplicate_audit(id_type, number, ip)
    if errors:
        raise DomainError(errors)
    try:
        with transaction.atomic():
            user = User.objects.create_user(
                username=accountant_username(number), password=password, role=Role.ACCOUNTANT, name=name.strip(),
                id_type=id_type, id_number=number, sex=sex, birth_date=birth_date, mobile=mobile,
            )
            record_event(user, "account.registered", by=user, ip=ip)
    except IntegrityError:  # two registrations of one ID at the same moment
        _register_duplicate_audit(id_type, number, ip)
        raise DomainError({"id_number": [str(DUPLICATE_ID_MESSAGE)]}) from None
    return user


def _register_duplicate_audit(id_type: str, number: str, ip: str | None) -> None:
    existing = User.objects.filter(id_type=id_type, id_number=number).first()
    if existing is not None:
        record_event(existing, "account.register_duplicate", ip=ip)


@transaction.atomic
def staff_create(*, role: str, region_code: str, username: str, password: str, name: str = "",
                 organisation: str = "", by: User | None = None) -> User:
    """Create a staff account scoped to a region, with its TOTP device (API.md §3, create_staff).

    The three administrators (三权分立) are created the same way, at the province (140000).
    """
    errors: dict[str, list[str]] = {}
    if role not in ROLE_REGION_LEVEL:
        _add(errors, "role", _("角色应为：%(roles)s。") % {"roles": ", ".join(sorted(ROLE_REGION_LEVEL))})
    region = Region.objects.filter(code=region_code).first()
    if region is None:
        _add(errors, "region",
             _("属地代码 %(code)s 不存在（应为山西省内的GB/T 2260六位代码）。") % {"code": region_code})
    elif role in ROLE_REGION_LEVEL and region.level not in ROLE_REGION_LEVEL[role]:
        levels = _("、").join(str(Region.Level(level).label) for level in sorted(ROLE_REGION_LEVEL[role]))
        _add(errors, "region", _("%(role)s的属地应为%(levels)s级。") % {"role": Role(role).label, "levels": levels})
    if not username or User.objects.filter(username=username).exists():
        _add(errors, "username", _("用户名 %(username)r 为空或已被使用。") % {"username": username})
    try:
        validate_password(password or "", User(username=username, name=name))
    except ValidationError as exc:
        errors.setdefault("password", []).extend(exc.messages)
    if errors:
        raise DomainError(errors)
    user = User.objects.create_user(username=username, password=password, role=role, region=region,
                                    name=name or username, organisation=organisation,
                                    is_staff=role in ADMIN_ROLES)
    # Staff log in with a second factor from the first day: the command prints this device's secret once.
    from accounts.otp import totp_create

    totp_create(user, confirmed=True)
    record_event(user, "account.staff_created", by=by, extra={"role": role, "region": region_code})
    return user


@transaction.atomic
def exchange_token_create(*, name: str, by: User | None = None) -> str:
    """A national-platform client account and its API token (API.md §3, create_exchange_token)."""
    if not name or User.objects.filter(username=name).exists():
        raise DomainError({"name": [_("客户端名称 %(name)r 为空或已被使用。") % {"name": name}]})
    client = User.objects.create_user(username=name, password=None, role=Role.EXCHANGE_CLIENT, name=name)
    # A machine credential: stored as a digest like every token, without an expiry; rotated by issuing
    # a new client and deactivating the old one (docs/security.md, "API tokens").
    token = AuthToken.objects.create(user=client, expiry=None)[1]
    record_event(client, "account.token_created", by=by)
    return token


API_TOKENS_KEPT = 10  # live tokens per person: ten devices or scripts at once


@transaction.atomic
def api_token_issue(*, user: User, ip: str | None = None) -> tuple[str, AuthToken]:
    """A person's API token after a correct password (API.md §1): hashed, valid REST_KNOX["TOKEN_TTL"].

    The second factor (API.md "Staff second factor") is checked by the caller before this is called.
    """
    AuthToken.objects.filter(user=user, expiry__lte=timezone.now()).delete()  # the dead ones go
    instance, token = AuthToken.objects.create(user=user)
    # Each authentication walks the user's tokens (knox): the oldest beyond a handful are dropped.
    surplus = AuthToken.objects.filter(user=user).order_by("-created").values_list("pk", flat=True)[API_TOKENS_KEPT:]
    AuthToken.objects.filter(pk__in=list(surplus)).delete()
    record_event(user, "account.token_issued", by=user, ip=ip)
    return token, instance


@transaction.atomic
def api_token_revoke(*, token: AuthToken, ip: str | None = None) -> None:
    """退出登录 through the API: this token stops working at once."""
    user = token.user
    AuthToken.objects.filter(pk=token.pk).delete()
    record_event(user, "account.token_revoked", by=user, ip=ip)


def sessions_end_all(user: User, *, at=None) -> datetime:
    """Every session of ``user`` begun before ``at`` (now) ends at its next request (logout, password).

    Returns the moment, so that the session that asked can stay valid from it (a password change).
    """
    at = at or timezone.now()
    User.objects.filter(pk=user.pk).update(sessions_valid_after=at)
    user.sessions_valid_after = at
    return at


def _reset_user(id_number: str, mobile: str) -> User | None:
    # by the blind indexes of both numbers (kjzx.fields): neither is stored in clear
    return User.objects.filter(username=accountant_username(normalise_login_name(id_number)), mobile=mobile,
                               is_active=True,
                               role=Role.ACCOUNTANT).first()


@transaction.atomic
def password_reset_request(*, id_number: str, mobile: str, ip: str | None = None) -> None:
    """Send a 6-digit code to the registered mobile. The answer is the same whether or not it matched."""
    user = _reset_user(id_number, mobile)
    if user is None:
        return
    now = timezone.now()
    recent = SmsCode.objects.filter(user=user, created_at__gte=now - timedelta(minutes=1)).exists()
    if recent:  # one message a minute per account
        return
    code = f"{secrets.randbelow(10**6):06d}"
    SmsCode.objects.filter(user=user, used_at__isnull=True).update(used_at=now)  # older codes die
    SmsCode.objects.create(user=user, code_hash=make_password(code), created_at=now,
                           expires_at=now + timedelta(minutes=settings.SMS_CODE_TTL_MINUTES))
    record_event(user, "account.password_reset_requested", ip=ip)
    text = _("【会计之星】您的密码重置验证码为%(code)s，%(minutes)s分钟内有效。如非本人操作，请忽略。") % {
        "code": code, "minutes": settings.SMS_CODE_TTL_MINUTES}
    transaction.on_commit(lambda: send_sms(user.mobile, text))


RESET_FAILED = gettext_lazy("验证码错误或已过期，请重新获取。")


def password_reset_confirm(*, id_number: str, mobile: str, code: str, new_password: str,
                           ip: str | None = None) -> User:
    """Check the code and set the new password; a code works once, within its time, 5 tries."""
    with transaction.atomic():
        user = _reset_user(id_number, mobile)
        sms = None
        if user is not None:
            sms = (SmsCode.objects.select_for_update()
                   .filter(user=user, used_at__isnull=True, expires_at__gt=timezone.now())
                   .order_by("-created_at").first())
        if sms is None or sms.attempts >= settings.SMS_CODE_MAX_ATTEMPTS:
            raise DomainError({"code": [str(RESET_FAILED)]})
        if not check_password((code or "").strip(), sms.code_hash):
            sms.attempts += 1
            sms.save(update_fields=["attempts"])
            failed = True
        else:
            failed = False
    if failed:  # the attempt counter is committed before the refusal
        raise DomainError({"code": [str(RESET_FAILED)]})
    with transaction.atomic():
        _set_password(user, new_password)
        SmsCode.objects.filter(pk=sms.pk).update(used_at=timezone.now())
        record_event(user, "account.password_reset", by=user, ip=ip)
    return user


def _set_password(user: User, new_password: str) -> None:
    try:
        validate_password(new_password or "", user)
    except ValidationError as exc:
        raise DomainError({"new_password": exc.messages}) from None
    user.set_password(new_password)
    user.save(update_fields=["password"])
    # A new password ends everything the old one opened: the other sessions and every API token.
    sessions_end_all(user)
    AuthToken.objects.filter(user=user).delete()


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str, ip: str | None = None) -> User:
    """Change one's own password (修改密码) after re-entering the old one."""
    if not user.check_password(old_password or ""):
        raise DomainError({"old_password": [_("原密码不正确。")]})
    _set_password(user, new_password)
    record_event(user, "account.password_changed", by=user, ip=ip)
    return user
