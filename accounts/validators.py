"""Validation of identity documents (R-COL-3), mobiles, credit codes and passwords."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

# GB/T 2260 province-level codes, plus 81/82/83 of the 港澳台居民居住证. Only the province part of
# the address code is checked: people keep their numbers after a county code is retired or
# renumbered, and numbers issued under newer codes are valid too (R-COL-3).
PROVINCE_PREFIXES = frozenset(
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 "
    "71 81 82 83".split()
)
GB11643_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
GB11643_CHECK = "10X98765432"


@dataclass(frozen=True)
class ResidentId:
    number: str
    birth_date: date
    sex: str  # "M" or "F"


def gb11643_check_char(first17: str) -> str:
    """The check character of GB 11643 (ISO 7064 MOD 11-2) for the first 17 digits."""
    total = sum(int(digit) * weight for digit, weight in zip(first17, GB11643_WEIGHTS, strict=True))
    return GB11643_CHECK[total % 11]


def parse_resident_id(raw: str, *, today: date | None = None) -> ResidentId:
    """Check an 18-character resident ID number and read its birth date and sex (R-COL-3)."""
    number = (raw or "").strip().upper()
    if not re.fullmatch(r"\d{17}[\dX]", number):
        raise ValidationError(_("身份证号码应为18位，前17位为数字，最后一位为数字或X。"), code="format")
    if number[:2] not in PROVINCE_PREFIXES:
        raise ValidationError(_("身份证号码的地址码（前6位）不正确。"), code="address")
    try:
        born = date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise ValidationError(_("身份证号码中的出生日期（第7至14位）不是有效日期。"), code="birth_date") from None
    if born > (today or date.today()) or born.year < 1900:
        raise ValidationError(_("身份证号码中的出生日期（第7至14位）不合理。"), code="birth_date")
    if gb11643_check_char(number[:17]) != number[17]:
        raise ValidationError(_("身份证号码校验位不正确，请核对后重新输入。"), code="check_digit")
    sex = "M" if int(number[16]) % 2 == 1 else "F"
    return ResidentId(number=number, birth_date=born, sex=sex)


def id_disagreements(id_type: str, number: str, *, birth_date: date | None, sex: str | None) -> dict[str, str]:
    """What the birth date and sex given say against a resident ID number (R-COL-3): field → message.

    The one check behind every door that takes both (registration, the exchange's person records).
    Only a resident ID carries them; a value not given (or not a sex code) is not compared.
    ``number`` must already be valid (:func:`normalise_id_number`).
    """
    if id_type != "resident_id":
        return {}
    parsed = parse_resident_id(number)
    found = {}
    if birth_date and parsed.birth_date != birth_date:
        found["birth_date"] = _("出生日期与身份证号码中的出生日期不一致。")
    if sex in ("M", "F") and parsed.sex != sex:
        found["sex"] = _("性别与身份证号码（第17位）不一致。")
    return found


# Other documents: format checks only (the issuing authorities publish no check digit).
OTHER_ID_FORMATS = {
    "hk_mo_permit": (r"[HM]\d{8}", "港澳居民来往内地通行证号码应为H或M开头加8位数字。"),
    "tw_permit": (r"\d{8}", "台湾居民来往大陆通行证号码应为8位数字。"),
    "passport": (r"[A-Z0-9]{5,17}", "护照号码应为5至17位字母或数字。"),
}


def normalise_id_number(id_type: str, raw: str) -> str:
    """Validate an ID number of the given type and return it in canonical form (upper case)."""
    number = re.sub(r"\s+", "", raw or "").upper()
    if id_type == "resident_id":
        return parse_resident_id(number).number
    if id_type not in OTHER_ID_FORMATS:
        raise ValidationError(_("请选择证件类型。"), code="id_type")
    pattern, message = OTHER_ID_FORMATS[id_type]
    if not re.fullmatch(pattern, number):
        raise ValidationError(_(message), code="format")
    return number


def normalise_login_name(value: str) -> str:
    """A login name as typed: an ID number's final x in upper case; staff user names as they are."""
    value = (value or "").strip()
    return value.upper() if re.fullmatch(r"[0-9]{17}[0-9xX]", value) else value


def validate_mobile(value: str) -> None:
    if not re.fullmatch(r"1[3-9]\d{9}", value or ""):
        raise ValidationError(_("请输入11位中国大陆手机号码。"), code="mobile")


# GB 32100-2015 unified social credit code (统一社会信用代码): 18 characters, the last a check character.
_USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def uscc_check_char(first17: str) -> str:
    total = sum(_USCC_CHARS.index(ch) * w for ch, w in zip(first17, _USCC_WEIGHTS, strict=True))
    return _USCC_CHARS[(31 - total % 31) % 31]


def validate_credit_code(value: str) -> None:
    code = (value or "").upper()
    if not re.fullmatch(f"[{_USCC_CHARS}]{{18}}", code) or uscc_check_char(code[:17]) != code[17]:
        raise ValidationError(_("统一社会信用代码应为18位，且校验位正确。"), code="credit_code")


class CharacterClassesValidator:
    """A password mixes at least ``min_classes`` of: upper case, lower case, digits, symbols."""

    CLASSES = (r"[A-Z]", r"[a-z]", r"[0-9]", r"[^A-Za-z0-9]")

    def __init__(self, min_classes: int = 3):
        self.min_classes = min_classes

    def validate(self, password, user=None):
        found = sum(1 for pattern in self.CLASSES if re.search(pattern, password))
        if found < self.min_classes:
            raise ValidationError(
                ngettext(
                    "密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。",
                    "密码须包含大写字母、小写字母、数字、符号中的至少%(n)d类。",
                    self.min_classes,
                ) % {"n": self.min_classes},
                code="password_classes",
            )

    def get_help_text(self):
        return _("至少包含大写字母、小写字母、数字、符号中的%(n)d类。") % {"n": self.min_classes}


class MaximumLengthValidator:
    """Passwords up to 128 characters, never truncated."""

    def validate(self, password, user=None):
        if len(password) > 128:
            raise ValidationError(_("密码不能超过128个字符。"), code="password_too_long")

    def get_help_text(self):
        return _("不超过128个字符。")


class MinimumLengthValidator(password_validation.MinimumLengthValidator):
    """Django 5.2's Chinese catalogue misses this message (its msgid changed), so it is ours."""

    def get_error_message(self):
        return _("密码长度太短，至少需要%(n)d个字符。") % {"n": self.min_length}

    def get_help_text(self):
        return _("至少%(n)d个字符。") % {"n": self.min_length}
