"""Transfer services: every write of a transfer and of the archive it moves (R-TRF-1…4, API.md §2).

Intra (省内调转)::

    draft ─submit─▶ submitted ─accept (origin)─▶ accepted ─approve (destination)─▶ completed
                       │  └─return (origin; reason)─▶ returned        └─reject (destination; reason)─▶ rejected
                       └─withdraw (person)─▶ withdrawn

  Each bureau has 10 working days for its step (R-TRF-2); approval moves the archive's
  jurisdiction, atomically (R-TRF-1).

Outbound (跨省调出): ``submit`` only to a connected province (else "暂缓办理") and once this CE year's
registration is confirmed (R-TRF-3, :func:`cpe.learning.selectors.outbound_refusal`); after ``accept``
the record waits in the exchange's outbox; the platform acknowledges (``uploaded``) and later answers
``received`` (``completed``: the archive leaves Shanxi, readable as history) or ``rejected`` (``returned``
with the reason). An ``uploaded`` record with no answer in ``ExchangePolicy.outbound_timeout_days`` returns by
itself (:func:`outbound_timeouts_return`, a beat task).

Inbound (跨省调入): the exchange creates it ``received`` for the bureau of ``to_region``
(:func:`inbound_receive`, idempotent); ``approve`` makes the archive, ``reject`` ends it with a reason
the platform reads back; the person ``claim``s it by logging in with the same ID (R-TRF-4).

Moving any of them is :func:`kjzx.workflow.workflow_transition`; this module adds the checks and effects.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import IdType, Region, Sex, User
from accounts.validators import id_disagreements, normalise_id_number, validate_mobile
from cpe.learning.selectors import outbound_refusal
from cpe.ledger.selectors import cpe_history
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.workflow import STEP_FIELDS, workflow_create, workflow_effect, workflow_transition
from records import rules
from records.models import STUDENT_EMPLOYER, Archive, AttachmentKind, Education, Qualification
from records.selectors import archive_open_refusal
from records.services import archive_data, archive_for_person, attachments_owned_by
from transfers.models import (
    SHANXI,
    TIMEOUT_REASON,
    TRANSFER_NO_RE,
    Province,
    Transfer,
    TransferType,
)
from transfers.selectors import outbound_timeout

register_event_labels({
    "transfer.created": "创建调转申请",
    "transfer.submit": "提交调转申请",
    "transfer.accept": "调出地受理",
    "transfer.return": "调出地退回",
    "transfer.withdraw": "撤回",
    "transfer.approve": "调入地审核通过",
    "transfer.reject": "调入地不予通过",
    "transfer.claim": "本人认领档案",
    "transfer.mark_uploaded": "已上传全国平台",
    "transfer.mark_received": "调入地已接收",
    "transfer.mark_rejected": "调入地退回",
    "transfer.time_out": "超期未接收，自动退回",
    "transfer.received": "收到跨省调入记录",
    "archive.transferred": "档案属地变更（调转）",
    "archive.transferred_out": "档案调出本省",
    "archive.transferred_in": "档案调入本省",
})

NOT_CONNECTED = "调入省份尚未与全国会计人员管理服务平台对接，暂缓办理跨省调转。"


# --- opening ----------------------------------------------------------------------------------

def _destination(type_: str, archive: Archive, to_region, to_province) -> tuple[Region | None, str]:
    errors: dict[str, list[str]] = {}
    region, province = None, ""
    if type_ == TransferType.INTRA:
        region = Region.objects.filter(pk=str(to_region or "")).select_related("parent").first()
        if region is None:
            errors["to_region"] = ["请选择山西省内的调入地（区划代码，如 140521）。"]
        elif region.pk == archive.jurisdiction_id:
            errors["to_region"] = ["调入地与档案现管理属地相同，无需调转。"]
    elif type_ == TransferType.OUTBOUND:
        province = str(to_province or "")
        found = Province.objects.filter(pk=province).first()
        if province == SHANXI:
            errors["to_province"] = ["调往省内其他地区请选择“省内调转”。"]
        elif found is None:
            errors["to_province"] = ["请选择调入省份（两位代码，如 11 北京市）。"]
        elif not found.connected:
            errors["to_province"] = [NOT_CONNECTED]
    else:
        errors["type"] = ["调转类型应为 intra（省内调转）或 outbound（跨省调出）。"]
    if errors:
        raise DomainError(errors)
    return region, province


def _outbound_refusals(archive: Archive) -> list[str]:
    """What holds an outbound transfer: this CE year's learning not registered yet (R-TRF-3)."""
    refusal = outbound_refusal(archive)
    return [refusal] if refusal else []


@transaction.atomic
def transfer_open(*, person: User, type: str, to_unit: str, to_region=None, to_province=None,
                  attachments=None) -> Transfer:
    """Open a transfer of the person's archive as a draft (R-TRF-1, R-TRF-3); R-CHG-4 applies."""
    archive = Archive.objects.select_for_update().get(pk=archive_for_person(person).pk)  # lock: R-CHG-4
    if archive.status != Archive.Status.ACTIVE:
        raise Conflict("信息采集审核通过后才能申请档案调转。")
    if refusal := archive_open_refusal(archive):
        raise Conflict(refusal)
    errors: dict[str, list[str]] = {}
    try:
        region, province = _destination(type, archive, to_region, to_province)
    except DomainError as exc:
        errors.update(exc.errors)
    unit = (to_unit or "").strip()
    if not unit or len(unit) > 200:
        errors["to_unit"] = ["请填写调入单位（不超过200字；在校学生填写“无”）。"]
    if errors:  # every problem at once
        raise DomainError(errors)
    if type == TransferType.OUTBOUND and (refusals := _outbound_refusals(archive)):
        raise DomainError({"type": refusals})
    transfer = workflow_create(Transfer, applicant=person, archive=archive, type=type, to_region=region,
                               to_province=province, to_unit=unit, from_region=archive.jurisdiction,
                               person_id_type=archive.id_type, person_id_number=archive.id_number)
    transfer.attachments.set(attachments_owned_by(person, attachments))
    return transfer


@workflow_effect(Transfer, "submit", phase="before")
def _transfer_check_submit(transfer: Transfer, **_) -> None:
    """A stamped 工作证明, or a 学籍证明 for a student (unit "无"); the destination still open (R-TRF-1, R-TRF-3)."""
    archive = Archive.objects.select_for_update().get(pk=transfer.archive_id)
    _destination(transfer.type, archive, transfer.to_region_id, transfer.to_province)
    kinds = set(transfer.attachments.values_list("kind", flat=True))
    errors: dict[str, list[str]] = {}
    if transfer.to_unit == STUDENT_EMPLOYER and AttachmentKind.STUDENT_PROOF not in kinds:
        errors["attachments"] = ["在校学生请上传学籍证明扫描件。"]
    elif transfer.to_unit != STUDENT_EMPLOYER and AttachmentKind.EMPLOYMENT_PROOF not in kinds:
        errors["attachments"] = ["请上传加盖公章的工作证明扫描件。"]
    if transfer.type == TransferType.OUTBOUND and (refusals := _outbound_refusals(archive)):
        errors["type"] = refusals
    if errors:
        raise DomainError(errors)
    transfer.from_region = archive.jurisdiction
    transfer.jurisdiction = archive.jurisdiction


@workflow_effect(Transfer, "accept", phase="before")
def _transfer_deadline_after_accept(transfer: Transfer, **_) -> None:
    """Intra: the destination's 10 working days start (R-TRF-2). Outbound: the platform's turn."""
    if transfer.type == TransferType.OUTBOUND:
        archive = Archive.objects.get(pk=transfer.archive_id)
        transfer.person_record = person_record(archive)


@workflow_effect(Transfer, "accept")
def _transfer_after_accept(transfer: Transfer, **_) -> None:
    if transfer.type == TransferType.INTRA:
        transfer.step_begin("transfer.destination")
    else:
        transfer.step_end()
        transfer.transfer_no = transfer.number  # the number the platform quotes back
    transfer.save(update_fields=[*STEP_FIELDS, "transfer_no", "updated_at"])


@workflow_effect(Transfer, "approve")
def _transfer_apply(transfer: Transfer, *, by, **_) -> None:
    """Intra: the archive's jurisdiction moves, atomically (R-TRF-1). Inbound: the archive is made (R-TRF-4)."""
    if transfer.type == TransferType.INTRA:
        archive = Archive.objects.select_for_update().get(pk=transfer.archive_id)
        before = archive.jurisdiction_id
        archive.jurisdiction = transfer.to_region
        archive.save(update_fields=["jurisdiction", "updated_at"])
        record_event(archive, "archive.transferred", by=by, before=before, after=archive.jurisdiction_id,
                     extra={"transfer": transfer.number})
    else:
        _inbound_archive(transfer, by=by)


@workflow_effect(Transfer, "reject")
def _transfer_rejection_back_to_origin(transfer: Transfer, *, reason, **_) -> None:
    """An intra rejection goes back to the origin bureau (R-TRF-1): its reviewers are told, with the reason."""
    if transfer.type != TransferType.INTRA or not transfer.from_region_id:
        return
    from accounts.models import REVIEWER_ROLES
    from kjzx.notifications import notification_send

    for reviewer in User.objects.filter(is_active=True, role__in=REVIEWER_ROLES, region_id=transfer.from_region_id):
        notification_send(user=reviewer, title=f"调入地未通过：档案调转 {transfer.number}",
                          body=f"调入地（{transfer.to_region.jurisdiction_label}）未通过原因：{reason}",
                          link=transfer.reviewer_url())


@workflow_effect(Transfer, "mark_received")
def _transfer_left_shanxi(transfer: Transfer, **_) -> None:
    """The destination province took the record: the archive leaves Shanxi, kept as history (API.md §2)."""
    archive = Archive.objects.select_for_update().get(pk=transfer.archive_id)
    archive.status = Archive.Status.TRANSFERRED_OUT
    archive.save(update_fields=["status", "updated_at"])
    record_event(archive, "archive.transferred_out", by=None, extra={"transfer": transfer.number,
                                                                      "to_province": transfer.to_province})


@workflow_effect(Transfer, "claim")
def _transfer_claimed(transfer: Transfer, *, by, **_) -> None:
    """The person takes the archive that came in (R-TRF-4); they then complete what Shanxi asks."""
    archive = Archive.objects.select_for_update().get(pk=transfer.archive_id)
    if archive.person_id not in (None, by.pk):
        raise Conflict("该档案已由其他账号认领，请联系属地财政部门。")
    archive.person = by
    archive.save(update_fields=["person", "updated_at"])


# --- the person record (API.md §2) -----------------------------------------------------------

def person_record(archive: Archive) -> dict:
    """The archive in the exchange's person-record shape (API.md §2)."""
    data = archive_data(archive)
    return {
        "id_type": archive.id_type, "id_number": archive.id_number, "name": archive.name, "sex": archive.sex,
        "birth_date": archive.birth_date.isoformat(), "mobile": archive.mobile,
        "education": data["education"], "qualifications": data["qualifications"], "employer": data["employer"],
        "began_accounting_on": data["career"]["began_accounting_on"],
        "cpe": cpe_history(archive),  # every obliged year's CE result, read-only for the platform
    }


def clean_person_record(record) -> tuple[dict, dict[str, list[str]]]:
    """Check an incoming person record (R-COL-3 for the ID; records.rules for the rest); all errors at once."""
    errors: dict[str, list[str]] = {}
    if not isinstance(record, dict):
        return {}, {"person": ["人员信息应为对象。"]}
    clean: dict = {}
    id_type = record.get("id_type")
    if id_type not in IdType.values:
        errors["person.id_type"] = ["证件类型应为 resident_id、hk_mo_permit、tw_permit 或 passport。"]
    else:
        try:
            clean["id_number"] = normalise_id_number(id_type, str(record.get("id_number") or ""))
        except ValidationError as exc:
            errors["person.id_number"] = exc.messages
    clean["id_type"] = id_type
    name = record.get("name")
    if not isinstance(name, str) or not name.strip() or len(name.strip()) > 50:
        errors["person.name"] = ["请提供姓名（不超过50个字）。"]
    else:
        clean["name"] = name.strip()
    clean["sex"] = record.get("sex")
    if clean["sex"] not in Sex.values:
        errors["person.sex"] = ["性别应为 M 或 F。"]
    try:
        clean["birth_date"] = dt.date.fromisoformat(str(record.get("birth_date")))
    except ValueError:
        errors["person.birth_date"] = ["出生日期格式应为 YYYY-MM-DD。"]
    if "id_number" in clean:
        found = id_disagreements(id_type, clean["id_number"], birth_date=clean.get("birth_date"), sex=clean["sex"])
        errors.update({f"person.{field}": [message] for field, message in found.items()})
    mobile = record.get("mobile") or ""
    if mobile:
        try:
            validate_mobile(str(mobile))
        except ValidationError as exc:
            errors["person.mobile"] = exc.messages
    clean["mobile"] = str(mobile)
    sections = {"education": record.get("education"), "qualifications": record.get("qualifications"),
                "employer": record.get("employer"),
                "career": {"began_accounting_on": record.get("began_accounting_on")}}
    for section, value in sections.items():
        clean[section], section_errors = rules.clean_section(section, value)
        errors.update({f"person.{key}": messages for key, messages in section_errors.items()})
    return clean, errors


# --- the exchange (API.md §2) -----------------------------------------------------------------

def _fingerprint(body: dict) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _has_nul(value) -> bool:
    """PostgreSQL stores no NUL character, in text or in JSON: such a value is refused, not a crash."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list):
        return any(_has_nul(item) for item in value)
    return False


def _clean_inbound(body) -> tuple[dict, Region | None]:
    """Every error of an inbound body at once; a value of the wrong JSON type is an error, never a crash."""
    errors: dict[str, list[str]] = {}
    if not isinstance(body, dict):
        raise DomainError({"detail": ["请求体应为 JSON 对象。"]})
    nul = {str(key).replace("\x00", ""): ["不能包含空字符（\\u0000）。"] for key, value in body.items()
           if _has_nul(key) or _has_nul(value)}
    if nul:
        raise DomainError(nul)
    for field in ("transfer_no", "from_province", "person", "to_region", "to_unit"):
        if body.get(field) in (None, ""):
            errors[field] = ["缺少此字段。"]
    number, province, code, unit = (body.get(f) for f in ("transfer_no", "from_province", "to_region", "to_unit"))
    if "transfer_no" not in errors and not (isinstance(number, str) and TRANSFER_NO_RE.match(number)):
        errors["transfer_no"] = ["调转编号应为1至40位的字母、数字、“-”或“_”。"]
    if "from_province" not in errors and (not isinstance(province, str) or province == SHANXI
                                          or not Province.objects.filter(pk=province).exists()):
        errors["from_province"] = ["调出省份应为山西以外的两位省级代码（GB/T 2260）。"]
    region = Region.objects.filter(pk=code).first() if isinstance(code, str) else None
    if "to_region" not in errors and region is None:
        errors["to_region"] = ["调入地应为山西省内的区划代码（如 140502）。"]
    if "to_unit" not in errors and (not isinstance(unit, str) or not unit.strip() or len(unit.strip()) > 200):
        errors["to_unit"] = ["调入单位应为不超过200个字的文本（在校学生填写“无”）。"]
    clean: dict = {}
    if "person" not in errors:
        clean, person_errors = clean_person_record(body["person"])
        errors.update(person_errors)
    if errors:
        raise DomainError(errors)
    return clean, region


def inbound_receive(*, body: dict) -> tuple[Transfer, bool]:
    """A record coming into Shanxi (API.md §2): (the transfer, created?). The same body again → the same
    transfer; the same number with another body → Conflict (409); bad data → DomainError (400)."""
    person, region = _clean_inbound(body)
    fingerprint = _fingerprint(body)
    existing = Transfer.objects.filter(transfer_no=str(body["transfer_no"])).first()
    if existing is not None:
        return _same_inbound(existing, fingerprint), False
    try:
        with transaction.atomic():
            return _inbound_create(body, person, region, fingerprint), True
    except IntegrityError:  # the same call at the same moment: the other one made it
        existing = Transfer.objects.get(transfer_no=str(body["transfer_no"]))
        return _same_inbound(existing, fingerprint), False


def _same_inbound(existing: Transfer, fingerprint: str) -> Transfer:
    if existing.type != TransferType.INBOUND or existing.inbound_fingerprint != fingerprint:
        raise Conflict("该调转编号已收到过内容不同的记录。")
    return existing


def _inbound_create(body, person, region, fingerprint) -> Transfer:
    now = timezone.now()
    user = User.objects.filter(id_type=person["id_type"], id_number=person["id_number"]).first()
    transfer = Transfer(
        status="received", type=TransferType.INBOUND, applicant=user, jurisdiction=region, to_region=region,
        from_province=str(body["from_province"]), to_unit=body["to_unit"].strip(),
        transfer_no=str(body["transfer_no"]), person_id_type=person["id_type"], person_id_number=person["id_number"],
        person_record=body["person"], inbound_fingerprint=fingerprint, submitted_at=now)
    transfer.step_begin("transfer.destination", timezone.localdate(now))
    transfer.save()
    record_event(transfer, "transfer.received", by=None, after="received",
                 extra={"number": transfer.number, "transfer_no": transfer.transfer_no,
                        "from_province": transfer.from_province})
    return transfer


def _inbound_archive(transfer: Transfer, *, by) -> Archive:
    """Make (or take back) the Shanxi archive of an approved inbound person (R-TRF-4, R-COL-1)."""
    person, _ = clean_person_record(transfer.person_record)
    archive = (Archive.objects.select_for_update()
               .filter(id_type=person["id_type"], id_number=person["id_number"]).first())
    if archive is not None and archive.status == Archive.Status.ACTIVE:
        raise Conflict("该人员在本省已有有效档案，请核实后处理。")
    if archive is not None and archive.collections.filter(status__in=("submitted", "first_reviewed")).exists():
        raise Conflict("该人员的本省信息采集正在审核，请先办结该采集申请。")
    user = transfer.applicant or User.objects.filter(id_type=person["id_type"],
                                                     id_number=person["id_number"]).first()
    if archive is None:
        archive = Archive(id_type=person["id_type"], id_number=person["id_number"], person=None)
    archive.name, archive.sex, archive.birth_date = person["name"], person["sex"], person["birth_date"]
    archive.mobile = person["mobile"] or archive.mobile
    employer = person["employer"]
    archive.employer_name, archive.employer_credit_code = employer["name"], employer["credit_code"]
    archive.employer_unit_type = employer["unit_type"]
    archive.began_accounting_on = person["career"]["began_accounting_on"]
    archive.jurisdiction = transfer.to_region
    archive.status = Archive.Status.ACTIVE
    archive.collected_at = timezone.now()
    archive.save()
    archive.education.all().delete()
    Education.objects.bulk_create(Education(archive=archive, **entry) for entry in person["education"])
    archive.qualifications.all().delete()
    Qualification.objects.bulk_create(Qualification(archive=archive, **entry) for entry in person["qualifications"])
    transfer.archive = archive
    transfer.applicant = transfer.applicant or user
    transfer.save(update_fields=["archive", "applicant", "updated_at"])
    record_event(archive, "archive.transferred_in", by=by, extra={"transfer": transfer.number,
                                                                   "from_province": transfer.from_province})
    return archive


def outbound_ack(*, transfer_no: str) -> Transfer:
    """The platform has taken the record: ``uploaded``. Safe to repeat (API.md §2)."""
    transfer = _outbound(transfer_no)
    if transfer.status == "accepted":
        try:
            return workflow_transition(transfer, "mark_uploaded", by=None)
        except Conflict:  # two acks (or an ack and a result) at once: judge by what is stored now
            transfer = _outbound(transfer_no)
    if transfer.status in ("uploaded", "completed", "returned") and transfer.uploaded_at:
        return transfer  # acknowledged before: the same answer
    raise Conflict("该记录当前状态不能确认上传。")


def outbound_result(*, transfer_no: str, result: str, reason: str = "") -> Transfer:
    """The destination province's answer: ``received`` → completed, ``rejected`` → returned (API.md §2).

    The same result again answers the same; a different one is a Conflict (409). A result that
    comes before the acknowledgement counts as both.
    """
    if result not in ("received", "rejected"):
        raise DomainError({"result": ["result 应为 received 或 rejected。"]})
    reason = (reason or "").strip()
    if result == "rejected" and not reason:
        raise DomainError({"reason": ["调入地退回时请提供原因。"]})
    transfer = _outbound(transfer_no)
    name = "mark_received" if result == "received" else "mark_rejected"
    for _attempt in range(2):  # an ack that lands first moves accepted → uploaded: the result still applies
        if transfer.status not in ("accepted", "uploaded"):
            break
        try:
            return workflow_transition(transfer, name, by=None, reason=reason if result == "rejected" else "")
        except Conflict:  # another call moved it meanwhile: judge by what is stored now
            transfer = _outbound(transfer_no)
    stored = {"completed": "received", "returned": "rejected"}.get(transfer.status)
    if stored == result and _last_result_reason(transfer) == (reason if result == "rejected" else ""):
        return transfer
    raise Conflict("该记录已有不同的调入结果，或当前状态不能登记结果。")


def _last_result_reason(transfer: Transfer) -> str:
    return transfer.reason if transfer.status == "returned" else ""


def _outbound(transfer_no: str) -> Transfer:
    from django.http import Http404

    transfer = None
    if TRANSFER_NO_RE.match(transfer_no):
        transfer = Transfer.objects.filter(transfer_no=transfer_no, type=TransferType.OUTBOUND).first()
    if transfer is None:
        raise Http404
    return transfer


def outbound_timeouts_return(now: dt.datetime | None = None) -> int:
    """Return to the origin every uploaded record with no answer in the province's period (R-TRF-3, R-DL-3).

    Safe to run twice and by two workers: each row is claimed with ``skip_locked`` and moved by
    the one transition service, which refuses a row that moved meanwhile.
    """
    now = now or timezone.now()
    limit = outbound_timeout().uploaded_before(now)
    count = 0
    while True:
        with transaction.atomic():
            batch = list(Transfer.objects.select_for_update(skip_locked=True)
                         .filter(type=TransferType.OUTBOUND, status="uploaded", uploaded_at__lt=limit)
                         .order_by("uploaded_at", "pk")[:200])
            for transfer in batch:
                workflow_transition(transfer, "time_out", by=None, reason=TIMEOUT_REASON)
            count += len(batch)
        if len(batch) < 200:
            return count
