"""What a valid archive is (R-COL-2): the one place that checks collection data, for every door.

The archive travels as plain data in the person-record shape of API.md §2, split into the
sections a change request picks (R-CHG-1)::

    basic           {"name", "ethnicity"}
    contact         {"mobile", "email", "address"}
    education       [{"level", "degree", "major", "school", "mode", "graduated_on"}, …]
    qualifications  [{"level", "certificate_no", "obtained_on"}, …]
    employer        {"name", "credit_code", "unit_type"}
    career          {"began_accounting_on"}

:func:`clean_section` turns one section into clean values and Chinese messages keyed by field
(``education[0].school``); :func:`archive_missing` lists everything a submission still lacks.
Both answer with every problem at once, so a person fixes the form in one go.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from accounts.validators import validate_credit_code, validate_mobile
from records.models import (
    STUDENT_EMPLOYER,
    AttachmentKind,
    Degree,
    EducationLevel,
    QualificationLevel,
    StudyMode,
    UnitType,
)

SECTIONS = ("basic", "contact", "education", "qualifications", "employer", "career")
LIST_SECTIONS = ("education", "qualifications")
REQUIRED = "请填写此项。"
# What a submission needs in every case, per section (an entry of a list section: each entry given).
# The pages mark these fields with * (records.forms); conditional ones (the credit code, the date one
# began accounting work) are said in their help texts and checked in :func:`archive_missing`.
REQUIRED_FIELDS = {
    "basic": ("name", "ethnicity"),
    "contact": ("mobile", "address"),
    "education": ("level", "major", "school", "graduated_on"),
    "qualifications": ("level", "certificate_no", "obtained_on"),
    "employer": ("name", "unit_type"),
    "career": (),
}
# How an error names its place: ``contact``, ``contact.mobile``, ``education[0]``, ``education[0].school``.
ERROR_KEY_RE = re.compile(r"^(?P<section>[a-z_]+)(?:\[(?P<index>\d+)\])?(?:\.(?P<field>[a-z_]+))?$")
EMAIL_INVALID = "邮箱格式不正确（应如 name@example.com）。"

Errors = dict[str, list[str]]


def _text(value: Any, max_length: int) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValidationError("请填写文字。")
    value = value.strip()
    if len(value) > max_length:
        raise ValidationError(f"不能超过{max_length}个字。")
    return value


def _choice(value: Any, choices) -> str:
    value = "" if value is None else str(value).strip()
    if value and value not in choices.values:
        raise ValidationError("请从列表中选择：" + "、".join(str(label) for label in choices.labels))
    return value


def _date(value: Any) -> dt.date | None:
    if value in (None, ""):
        return None
    if isinstance(value, dt.date):
        return value
    try:
        day = dt.date.fromisoformat(str(value).strip())
    except ValueError:
        raise ValidationError("日期格式应为 YYYY-MM-DD，例如 2012-07-01。") from None
    if day > timezone.localdate():
        raise ValidationError("日期不能晚于今天。")
    if day.year < 1930:
        raise ValidationError("请检查日期。")
    return day


def _check(errors: Errors, key: str, func, *args):
    try:
        return func(*args)
    except ValidationError as exc:
        errors.setdefault(key, []).extend(exc.messages)
        return None


def _mapping(value: Any, section: str, errors: Errors) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.setdefault(section, []).append("格式不正确。")
        return {}
    return value


def _clean_basic(raw: dict, errors: Errors, prefix: str) -> dict:
    return {"name": _check(errors, f"{prefix}name", _text, raw.get("name"), 50) or "",
            "ethnicity": _check(errors, f"{prefix}ethnicity", _text, raw.get("ethnicity"), 20) or ""}


def _clean_contact(raw: dict, errors: Errors, prefix: str) -> dict:
    mobile = _check(errors, f"{prefix}mobile", _text, raw.get("mobile"), 11) or ""
    if mobile:
        _check(errors, f"{prefix}mobile", validate_mobile, mobile)
    email = _check(errors, f"{prefix}email", _text, raw.get("email"), 254) or ""
    if email:
        try:
            validate_email(email)
        except ValidationError:
            errors[f"{prefix}email"] = [EMAIL_INVALID]
    address = _check(errors, f"{prefix}address", _text, raw.get("address"), 200) or ""
    return {"mobile": mobile, "email": email, "address": address}


def _clean_employer(raw: dict, errors: Errors, prefix: str) -> dict:
    name = _check(errors, f"{prefix}name", _text, raw.get("name"), 200) or ""
    code = (_check(errors, f"{prefix}credit_code", _text, raw.get("credit_code"), 18) or "").upper()
    if code:
        _check(errors, f"{prefix}credit_code", validate_credit_code, code)
    unit_type = _check(errors, f"{prefix}unit_type", _choice, raw.get("unit_type"), UnitType) or ""
    return {"name": name, "credit_code": code, "unit_type": unit_type}


def _clean_career(raw: dict, errors: Errors, prefix: str) -> dict:
    return {"began_accounting_on": _check(errors, f"{prefix}began_accounting_on", _date,
                                          raw.get("began_accounting_on"))}


def _clean_education(raw: dict, errors: Errors, prefix: str) -> dict:
    return {
        "level": _check(errors, f"{prefix}level", _choice, raw.get("level"), EducationLevel) or "",
        "degree": _check(errors, f"{prefix}degree", _choice, raw.get("degree") or "none", Degree) or "none",
        "major": _check(errors, f"{prefix}major", _text, raw.get("major"), 100) or "",
        "school": _check(errors, f"{prefix}school", _text, raw.get("school"), 100) or "",
        "mode": _check(errors, f"{prefix}mode", _choice, raw.get("mode") or "full_time", StudyMode) or "full_time",
        "graduated_on": _check(errors, f"{prefix}graduated_on", _date, raw.get("graduated_on")),
    }


def _clean_qualification(raw: dict, errors: Errors, prefix: str) -> dict:
    return {
        "level": _check(errors, f"{prefix}level", _choice, raw.get("level"), QualificationLevel) or "",
        "certificate_no": _check(errors, f"{prefix}certificate_no", _text, raw.get("certificate_no"), 50) or "",
        "obtained_on": _check(errors, f"{prefix}obtained_on", _date, raw.get("obtained_on")),
    }


_MAPPING_CLEANERS = {"basic": _clean_basic, "contact": _clean_contact, "employer": _clean_employer,
                     "career": _clean_career}
_ENTRY_CLEANERS = {"education": _clean_education, "qualifications": _clean_qualification}


def clean_section(section: str, value: Any) -> tuple[Any, Errors]:
    """Format checks of one section (a draft may be half-filled; :func:`section_missing` says what's left)."""
    errors: Errors = {}
    if section in _MAPPING_CLEANERS:
        return _MAPPING_CLEANERS[section](_mapping(value, section, errors), errors, f"{section}."), errors
    if section not in _ENTRY_CLEANERS:
        raise KeyError(section)
    if value is None:
        return [], errors
    if not isinstance(value, list):
        return [], {section: ["格式不正确，应为列表。"]}
    if len(value) > 10:
        return [], {section: ["最多填写10条。"]}
    entries = [_ENTRY_CLEANERS[section](_mapping(entry, f"{section}[{i}]", errors), errors, f"{section}[{i}].")
               for i, entry in enumerate(value)]
    return entries, errors


def empty_entry(section: str) -> dict:
    """A clean entry of a list section with nothing filled in (its defaults)."""
    return _ENTRY_CLEANERS[section]({}, {}, "")


def section_missing(section: str, value: Any, *, birth_date: dt.date | None = None) -> Errors:
    """What a complete section still lacks (R-COL-2); ``value`` is already clean."""
    errors: Errors = {}
    if section in ("basic", "contact"):
        _require(errors, value, f"{section}.", REQUIRED_FIELDS[section])
    elif section == "employer":
        if value.get("name") == STUDENT_EMPLOYER:
            return errors  # a student: no unit, no code, no type
        _require(errors, value, "employer.", REQUIRED_FIELDS["employer"])
        if value.get("unit_type") in ("government", "institution", "enterprise", "social_org") and \
                not value.get("credit_code"):
            errors["employer.credit_code"] = ["请填写单位的统一社会信用代码。"]
    elif section == "education":
        if not value:
            errors["education"] = ["请至少填写一条学历信息。"]
        for i, entry in enumerate(value):
            _require(errors, entry, f"education[{i}].", REQUIRED_FIELDS["education"])
            _after_birth(errors, f"education[{i}].graduated_on", entry.get("graduated_on"), birth_date)
    elif section == "qualifications":
        for i, entry in enumerate(value):
            _require(errors, entry, f"qualifications[{i}].", REQUIRED_FIELDS["qualifications"])
    elif section == "career":
        _after_birth(errors, "career.began_accounting_on", value.get("began_accounting_on"), birth_date)
    return errors


def _require(errors: Errors, value: dict, prefix: str, fields) -> None:
    for field in fields:
        if value.get(field) in (None, ""):
            errors.setdefault(f"{prefix}{field}", []).append(REQUIRED)


def _after_birth(errors: Errors, key: str, day, birth_date) -> None:
    if day and birth_date and day <= birth_date:
        errors.setdefault(key, []).append("日期不能早于出生日期。")


def archive_missing(data: dict, *, birth_date, attachment_kinds: set[str], jurisdiction, pledge: bool) -> Errors:
    """Every missing or wrong item of a collection submission (R-COL-2, R-COL-4a), all at once."""
    errors: Errors = {}
    for section in SECTIONS:
        errors.update(section_missing(section, data[section], birth_date=birth_date))
    employer, career = data["employer"], data["career"]
    if employer.get("name") and employer["name"] != STUDENT_EMPLOYER and not career.get("began_accounting_on"):
        errors["career.began_accounting_on"] = ["在职人员请填写参加会计工作时间。"]
    if jurisdiction is None:
        errors["jurisdiction"] = ["请选择管理属地（档案由该地财政部门管理）。"]
    needed = {AttachmentKind.PHOTO: "请上传个人照片。", AttachmentKind.ID_CARD: "请上传身份证件扫描件。"}
    if data["education"]:
        needed[AttachmentKind.DIPLOMA] = "请上传学历（学位）证书扫描件。"
    if data["qualifications"]:
        needed[AttachmentKind.QUALIFICATION] = "请上传专业技术资格证书扫描件。"
    for kind, message in needed.items():
        if kind not in attachment_kinds:
            errors.setdefault("attachments", []).append(message)
    if not pledge:
        errors["pledge_accepted"] = ["请阅读并确认承诺书。"]
    return errors
