"""Records services: every write of the archive, its collection and its changes.

Collection (信息采集), R-COL-2…5::

    draft ──submit──▶ submitted ──approve_first──▶ first_reviewed ──approve_second──▶ approved
      ▲                   │                              │
      └──submit── returned ◀────────── return (reason) ──┘

  The person submits (every missing or wrong field named at once, the pledge accepted: R-COL-4a);
  a reviewer of the jurisdiction does the first review, a *different* one the second (R-COL-4);
  either may return with a reason (R-ACL-3). 5 working days from each submission (R-COL-5).
  Approval makes the archive active.

Change (档案变更登记), R-CHG-1…4::

    draft ──submit──▶ submitted ──approve──▶ approved        (the archive takes the new values)
      ▲                   │
      └──submit── returned ◀── return (reason)      withdraw: the person, before a decision

  10 working days (R-CHG-3). One open change or transfer per archive (R-CHG-4).

Moving either is :func:`kjzx.workflow.workflow_transition`; this module adds the checks and effects.

Drafts never lose work (R-COL-2, R-CHG-1)::func:`archive_draft_save` and
:func:`change_draft_save` store every well-formed value and answer with what they did not save (a
malformed field keeps what it had; a field of a list entry is left empty), while
:func:`archive_update`, :func:`change_open` and :func:`change_update` keep their all-or-nothing
contract (the API's default). A submission still needs everything.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from accounts.models import Region, User
from kjzx.api import Conflict, DomainError
from kjzx.audit import record_event, register_event_labels
from kjzx.workflow import workflow_create, workflow_effect
from records import rules
from records.models import (
    STUDENT_EMPLOYER,
    Archive,
    Attachment,
    ChangeItem,
    ChangeRequest,
    CollectionApplication,
    Education,
    Qualification,
)
from records.selectors import archive_open_refusal
from records.signals import archive_collected

register_event_labels({
    "attachment.uploaded": "上传附件",
    "attachment.reused": "重复上传（沿用已上传的同一文件）",
    "archive.created": "建立档案",
    "archive.updated": "保存采集信息",
    "archive.changed": "档案变更生效",
    "collection.created": "创建信息采集申请",
    "collection.submit": "提交信息采集",
    "collection.approve_first": "初审通过",
    "collection.approve_second": "复审通过",
    "collection.return": "退回",
    "change.created": "创建档案变更申请",
    "change.updated": "修改档案变更申请",
    "change.submit": "提交档案变更",
    "change.approve": "审核通过",
    "change.return": "退回",
    "change.withdraw": "撤回",
})


# --- the archive as data ----------------------------------------------------------------------

def _iso(day: dt.date | None) -> str | None:
    return day.isoformat() if day else None


def archive_data(archive: Archive) -> dict[str, Any]:
    """The archive's sections as JSON-ready data (rules.SECTIONS), in the person-record shape."""
    return {
        "basic": {"name": archive.name, "ethnicity": archive.ethnicity},
        "contact": {"mobile": archive.mobile, "email": archive.email, "address": archive.address},
        "education": [
            {"level": e.level, "degree": e.degree, "major": e.major, "school": e.school, "mode": e.mode,
             "graduated_on": _iso(e.graduated_on)} for e in archive.education.all()],
        "qualifications": [
            {"level": q.level, "certificate_no": q.certificate_no, "obtained_on": _iso(q.obtained_on)}
            for q in archive.qualifications.all()],
        "employer": {"name": archive.employer_name, "credit_code": archive.employer_credit_code,
                     "unit_type": archive.employer_unit_type},
        "career": {"began_accounting_on": _iso(archive.began_accounting_on)},
    }


def _jsonable(value):
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    return _iso(value) if isinstance(value, dt.date) else value


def _clean_sections(data: dict) -> tuple[dict, dict]:
    """Format-check every section present in ``data``; returns (clean values, errors)."""
    clean, errors = {}, {}
    for section in rules.SECTIONS:
        if section in data:
            clean[section], section_errors = rules.clean_section(section, data[section])
            errors.update(section_errors)
    return clean, errors


Errors = dict[str, list[str]]


def _keep_well_formed(clean: dict, errors: Errors, current: dict) -> dict:
    """What a draft saves of ``clean`` given the ``errors`` found in it (R-COL-2).

    A malformed field of a section keeps its value in ``current`` (clean values too); a malformed
    field of a list entry is left empty (entries are replaced whole, so there is no old value to
    keep); a malformed entry is left out; a malformed section is not saved at all.
    """
    dropped_sections, dropped_entries = set(), set()
    for key in errors:
        match = rules.ERROR_KEY_RE.match(key)
        if not match or match["section"] not in clean:
            continue
        section, index, field = match["section"], match["index"], match["field"]
        value = clean[section]
        if index is None and field is None:
            dropped_sections.add(section)
        elif index is None and isinstance(value, dict):
            value[field] = (current.get(section) or {}).get(field)
        elif field is None:
            dropped_entries.add((section, int(index)))
        elif isinstance(value, list) and int(index) < len(value):
            value[int(index)][field] = rules.empty_entry(section)[field]
    for section, index in sorted(dropped_entries, reverse=True):
        if index < len(clean[section]):
            del clean[section][index]
    return {section: value for section, value in clean.items() if section not in dropped_sections}


def _write_sections(archive: Archive, clean: dict) -> None:
    """Put clean section values into the archive (lists are replaced whole)."""
    fields = {
        "basic": {"name": "name", "ethnicity": "ethnicity"},
        "contact": {"mobile": "mobile", "email": "email", "address": "address"},
        "employer": {"name": "employer_name", "credit_code": "employer_credit_code", "unit_type": "employer_unit_type"},
        "career": {"began_accounting_on": "began_accounting_on"},
    }
    for section, mapping in fields.items():
        for key, attr in mapping.items():
            if section in clean:
                value = clean[section].get(key)
                setattr(archive, attr, value if value is not None or attr == "began_accounting_on" else "")
    archive.save()
    if "education" in clean:
        archive.education.all().delete()
        Education.objects.bulk_create(
            Education(archive=archive, **{k: _date(v) if k == "graduated_on" else v for k, v in e.items()})
            for e in clean["education"])
    if "qualifications" in clean:
        archive.qualifications.all().delete()
        Qualification.objects.bulk_create(
            Qualification(archive=archive, **{k: _date(v) if k == "obtained_on" else v for k, v in q.items()})
            for q in clean["qualifications"])


def _date(value):
    return dt.date.fromisoformat(value) if isinstance(value, str) else value


def attachments_owned_by(person: User, ids) -> list[Attachment]:
    """The caller's own attachments with these ids; anyone else's is as unknown as a missing one."""
    if ids is None:
        return []
    if not isinstance(ids, list) or not all(isinstance(i, int) and not isinstance(i, bool) for i in ids):
        raise DomainError({"attachments": ["附件应为附件编号的列表。"]})
    found = list(Attachment.objects.filter(owner=person, pk__in=ids))
    missing = sorted(set(ids) - {a.pk for a in found})
    if missing:
        raise DomainError({"attachments": [f"附件不存在：{', '.join(map(str, missing))}。"]})
    return found


def _region(code) -> Region | None:
    if code in (None, ""):
        return None
    region = Region.objects.filter(pk=str(code)).first()
    if region is None:
        raise DomainError({"jurisdiction": ["请选择山西省内的属地（区划代码，如 140502）。"]})
    return region


# --- the archive ------------------------------------------------------------------------------

class ArchiveAwaitingClaim(Conflict):
    """An archive with this person's ID came in from another province and waits for them to claim it."""

    def __init__(self):
        super().__init__("您有从外省调入、已审核通过的档案，请先在“我的档案—档案调出申请”中认领。")


def archive_for_person(person: User) -> Archive:
    """The person's archive, opened from their registration on first use (R-COL-2).

    An archive with the same ID and nobody's name on it came in from another province (R-TRF-4): it
    is the person's to claim, never to shadow with a second one (:class:`ArchiveAwaitingClaim`).
    """
    archive = Archive.objects.filter(person=person).first()
    if archive is not None:
        return archive
    if Archive.objects.filter(person__isnull=True, id_type=person.id_type, id_number=person.id_number).exists():
        raise ArchiveAwaitingClaim
    try:
        with transaction.atomic():
            archive = Archive.objects.create(
                person=person, name=person.name, id_type=person.id_type, id_number=person.id_number,
                sex=person.sex, birth_date=person.birth_date, mobile=person.mobile, email=person.email)
            record_event(archive, "archive.created", by=person)
    except IntegrityError:  # two first visits at once: the other one made it
        archive = Archive.objects.get(person=person)
    return archive


def archive_is_editable(archive: Archive) -> bool:
    """A person edits the archive directly only until it is collected: in draft or when returned."""
    if archive.status == Archive.Status.DRAFT:
        return True
    if archive.status == Archive.Status.COLLECTING:
        return archive.collections.filter(status__in=["draft", "returned"]).exists()
    return False


@transaction.atomic
def archive_update(*, archive: Archive, by: User, data: dict) -> Archive:
    """Save the collection form (a draft may be half-filled), R-COL-2; format errors are named, all at once.

    ``data`` holds any of the sections, ``jurisdiction`` (a region code), ``attachments`` (ids)
    and ``pledge_accepted``. Nothing is written unless everything given is well-formed.
    """
    return _archive_save(archive, by, data, partial=False)[0]


@transaction.atomic
def archive_draft_save(*, archive: Archive, by: User, data: dict) -> tuple[Archive, Errors]:
    """保存草稿 that never loses work (R-COL-2): every well-formed value of ``data`` is saved.

    Same ``data`` as :func:`archive_update`; answers (the archive, what was not saved and why, keyed
    as the rules name it). A malformed value leaves the archive's value as it was (see
    :func:`_keep_well_formed`); an unknown attachment id is left out, a wrong region code leaves the
    jurisdiction as it was.
    """
    return _archive_save(archive, by, data, partial=True)


def _archive_save(archive: Archive, by: User, data: dict, *, partial: bool) -> tuple[Archive, Errors]:
    archive = Archive.objects.select_for_update().get(pk=archive.pk)
    if not archive_is_editable(archive):
        raise Conflict("档案正在审核或已采集完成，不能直接修改；采集完成后请通过“档案变更登记”办理。")
    current = archive_data(archive)
    data = {key: ({**current[key], **value} if key in current and isinstance(value, dict) else value)
            for key, value in data.items()}  # a section given in part keeps its other fields
    clean, errors = _clean_sections(data)
    region, attachments = archive.jurisdiction, None
    try:
        region = _region(data.get("jurisdiction")) if "jurisdiction" in data else archive.jurisdiction
    except DomainError as exc:
        errors.update(exc.errors)
    if "attachments" in data:
        attachments, found = _attachments_kept(by, data["attachments"])
        errors.update(found)
    pledge = data.get("pledge_accepted")
    if "pledge_accepted" in data and not isinstance(pledge, bool):
        errors["pledge_accepted"] = ["请填写 true（确认承诺书）或 false。"]
    if errors and not partial:
        raise DomainError(errors)
    if errors:
        clean = _keep_well_formed(clean, errors, _clean_sections(current)[0])
    archive.jurisdiction = region
    if isinstance(pledge, bool):
        archive.pledge_accepted_at = timezone.now() if pledge else None
    _write_sections(archive, clean)
    if attachments is not None:
        archive.attachments.set(attachments)
    extra = {"sections": sorted(clean), **({"unsaved": sorted(errors)} if errors else {})}
    record_event(archive, "archive.updated", by=by, extra=extra)
    return archive, errors


def _attachments_kept(person: User, ids) -> tuple[list[Attachment] | None, Errors]:
    """(the person's own attachments among ``ids``, errors); None keeps what is attached (not a list)."""
    try:
        return attachments_owned_by(person, ids), {}
    except DomainError as exc:
        if not isinstance(ids, list):
            return None, exc.errors
        valid = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
        return list(Attachment.objects.filter(owner=person, pk__in=valid)), exc.errors


# --- collection -------------------------------------------------------------------------------

@transaction.atomic
def collection_open(*, person: User) -> CollectionApplication:
    """Open the person's collection application from their archive, as a draft (API.md §1)."""
    archive = Archive.objects.select_for_update().get(pk=archive_for_person(person).pk)
    if archive.status in (Archive.Status.ACTIVE, Archive.Status.TRANSFERRED_OUT):
        raise Conflict("您已完成信息采集；信息有变化请办理档案变更登记。")
    current = archive.collections.filter(status__in=CollectionApplication.OPEN_STATES).first()
    if current is not None:
        return current  # one open application per archive: opening again gives the same one
    return workflow_create(CollectionApplication, applicant=person, archive=archive)


def collection_current(person: User) -> CollectionApplication | None:
    """The person's latest collection, or None (no archive yet): one query, the archive is not loaded."""
    return (CollectionApplication.objects.filter(archive__person=person)
            .order_by("-created_at", "-id").first())


def collection_missing(archive: Archive) -> Errors:
    """Every missing or wrong item a submission of ``archive`` would name now (R-COL-2, R-COL-4a)."""
    clean, errors = _clean_sections(archive_data(archive))
    kinds = set(archive.attachments.values_list("kind", flat=True))
    errors.update(rules.archive_missing(clean, birth_date=archive.birth_date, attachment_kinds=kinds,
                                        jurisdiction=archive.jurisdiction,
                                        pledge=archive.pledge_accepted_at is not None))
    return errors


@workflow_effect(CollectionApplication, "submit", phase="before")
def _collection_check_complete(collection: CollectionApplication, **_) -> None:
    """A submission names every missing or wrong field (R-COL-2) and needs the pledge (R-COL-4a)."""
    archive = Archive.objects.select_for_update().get(pk=collection.archive_id)
    errors = collection_missing(archive)
    if errors:
        raise DomainError(errors)
    collection.jurisdiction = archive.jurisdiction
    if archive.status == Archive.Status.DRAFT:
        archive.status = Archive.Status.COLLECTING
        archive.save(update_fields=["status", "updated_at"])


@workflow_effect(CollectionApplication, "approve_second")
def _collection_approved(collection: CollectionApplication, *, by, **_) -> None:
    """Both reviews passed: the collection is complete and the archive active (R-COL-4)."""
    archive = Archive.objects.select_for_update().get(pk=collection.archive_id)
    archive.status = Archive.Status.ACTIVE
    archive.collected_at = timezone.now()
    archive.save(update_fields=["status", "collected_at", "updated_at"])
    transaction.on_commit(lambda: archive_collected.send(sender=Archive, archive=archive))


# --- change -----------------------------------------------------------------------------------

def _change_input(person: User, items, values, attachment_ids, *, fallback: dict | None = None):
    """(items, new values, attachments, what was not saved) of a change's input (R-CHG-1).

    All or nothing when ``fallback`` is None. A draft passes ``fallback``, the values a malformed
    field keeps (the change's earlier new values, else the archive's): then only unusable items
    raise; a malformed value is kept out (:func:`_keep_well_formed`), an unknown attachment left out.
    """
    errors: Errors = {}
    if not isinstance(items, list) or not items or not set(items) <= set(ChangeItem.values):
        bad_items = {"items": ["请选择要变更的事项：" + "、".join(str(label) for label in ChangeItem.labels)]}
        if fallback is not None:
            raise DomainError(bad_items)
        errors.update(bad_items)
        items = []
    items = [item for item in ChangeItem.values if item in items]  # a stable order, no duplicates
    if not isinstance(values, dict):
        values, errors["values"] = {}, ["格式不正确。"]
    clean, value_errors = _clean_sections({item: values.get(item) for item in items})
    errors.update({f"values.{key}": messages for key, messages in value_errors.items()})
    attachments, found = _attachments_kept(person, attachment_ids)
    errors.update(found)
    if errors and fallback is None:
        raise DomainError(errors)
    if value_errors or "values" in errors:
        kept, _ = _clean_sections({item: fallback.get(item) for item in items})
        clean = kept if "values" in errors else _keep_well_formed(clean, value_errors, kept)
        clean.update({item: kept[item] for item in items if item not in clean})
    return items, _jsonable(clean), attachments, errors


def _archive_for_change(person: User) -> Archive:
    """The person's archive, locked, if a change may start now (R-CHG-1, R-CHG-4)."""
    archive = Archive.objects.select_for_update().get(pk=archive_for_person(person).pk)  # lock: R-CHG-4
    if archive.status != Archive.Status.ACTIVE:
        raise Conflict("信息采集审核通过后才能办理档案变更；采集期间请直接修改采集信息。")
    if refusal := archive_open_refusal(archive):
        raise Conflict(refusal)
    return archive


def _change_create(person: User, archive: Archive, items, values, files) -> ChangeRequest:
    change = workflow_create(ChangeRequest, applicant=person, archive=archive, jurisdiction=archive.jurisdiction,
                             items=items, new_values=values)
    change.attachments.set(files or [])
    return change


def _change_locked(change: ChangeRequest, by: User) -> ChangeRequest:
    change = ChangeRequest.objects.select_for_update().get(pk=change.pk)
    if by.pk != change.applicant_id or change.status not in ("draft", "returned"):
        raise Conflict("只有草稿或已退回的变更申请可以修改。")
    return change


@transaction.atomic
def change_open(*, person: User, items, values, attachments=None) -> ChangeRequest:
    """Start a change of the archive as a draft (R-CHG-1); not while another change or transfer is open (R-CHG-4)."""
    archive = _archive_for_change(person)
    items, values, files, _ = _change_input(person, items, values, attachments)
    return _change_create(person, archive, items, values, files)


@transaction.atomic
def change_update(*, change: ChangeRequest, by: User, items, values, attachments=None) -> ChangeRequest:
    """Edit a draft or returned change before (re)submitting it (R-CHG-2)."""
    change = _change_locked(change, by)
    change.items, change.new_values, files, _ = _change_input(by, items, values, attachments)
    change.save(update_fields=["items", "new_values", "updated_at"])
    change.attachments.set(files)
    record_event(change, "change.updated", by=by, extra={"items": change.items})
    return change


@transaction.atomic
def change_draft_save(*, person: User, change: ChangeRequest | None, items, values,
                      attachments=None) -> tuple[ChangeRequest, Errors]:
    """保存草稿 of a change that never loses work (R-CHG-1): opens it (``change`` None) or edits it.

    Every well-formed value is saved; answers (the change, what was not saved and why, keyed
    ``values.contact.email``). Items that name nothing a change may alter are refused (DomainError).
    """
    if change is None:
        archive = _archive_for_change(person)
        items, values, files, unsaved = _change_input(person, items, values, attachments,
                                                      fallback=archive_data(archive))
        change = _change_create(person, archive, items, values, files)
        if unsaved:
            record_event(change, "change.updated", by=person, extra={"items": items, "unsaved": sorted(unsaved)})
        return change, unsaved
    change = _change_locked(change, person)
    fallback = {**archive_data(change.archive), **change.new_values}
    change.items, change.new_values, files, unsaved = _change_input(person, items, values, attachments,
                                                                    fallback=fallback)
    change.save(update_fields=["items", "new_values", "updated_at"])
    if files is not None:
        change.attachments.set(files)
    extra = {"items": change.items, **({"unsaved": sorted(unsaved)} if unsaved else {})}
    record_event(change, "change.updated", by=person, extra=extra)
    return change, unsaved


@workflow_effect(ChangeRequest, "submit", phase="before")
def _change_check_complete(change: ChangeRequest, **_) -> None:
    """A change names its items, gives complete new values that differ, and has evidence (R-CHG-1)."""
    archive = Archive.objects.select_for_update().get(pk=change.archive_id)
    current = archive_data(archive)
    errors: dict[str, list[str]] = {}
    clean, _errors = _clean_sections({item: change.new_values.get(item) for item in change.items})
    for item in change.items:
        missing = rules.section_missing(item, clean[item], birth_date=archive.birth_date)
        errors.update({f"values.{key}": messages for key, messages in missing.items()})
        if _jsonable(clean[item]) == current[item]:
            errors.setdefault(f"values.{item}", []).append(
                f"{ChangeItem(item).label}与档案现有信息相同，无需变更。")
    if "employer" in change.items and clean["employer"].get("name") not in ("", STUDENT_EMPLOYER) \
            and "career" not in change.items and not archive.began_accounting_on:
        errors["values.career.began_accounting_on"] = ["在职人员请同时填写参加会计工作时间。"]
    if not change.attachments.exists():
        errors["attachments"] = ["请上传证明材料。"]
    if errors:
        raise DomainError(errors)
    change.jurisdiction = archive.jurisdiction
    change.old_values = {item: current[item] for item in change.items}


@workflow_effect(ChangeRequest, "approve")
def _change_apply(change: ChangeRequest, *, by, **_) -> None:
    """The archive takes the new values, atomically; the old ones stay in the change (R-CHG-2)."""
    archive = Archive.objects.select_for_update().get(pk=change.archive_id)
    current = archive_data(archive)
    change.old_values = {item: current[item] for item in change.items}
    change.save(update_fields=["old_values"])
    _write_sections(archive, {item: change.new_values[item] for item in change.items})
    person = archive.person
    if person is not None:  # the login keeps the name and mobile the archive now has
        person.name, person.mobile, person.email = archive.name, archive.mobile, archive.email
        person.save(update_fields=["name", "mobile", "mobile_hash", "email"])
    record_event(archive, "archive.changed", by=by, before="", after="",
                 extra={"change": change.number, "items": change.items})

