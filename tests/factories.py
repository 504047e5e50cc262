"""Test data builders shared by every app's tests (personas are fixtures in the root conftest)."""

from __future__ import annotations

from datetime import date

from accounts.models import Role, User, accountant_username
from accounts.validators import gb11643_check_char

PASSWORD = "Test@Pass123"


def make_id_number(address: str = "140502", born: date = date(1990, 1, 1), sequence: int = 101) -> str:
    """A valid resident ID number (GB 11643 check digit) for tests."""
    first17 = f"{address}{born:%Y%m%d}{sequence:03d}"
    return first17 + gb11643_check_char(first17)


def make_accountant(*, address="140502", born=date(1990, 1, 1), sequence=101, name="张三",
                    mobile="13800000000"):
    number = make_id_number(address, born, sequence)
    return User.objects.create_user(
        username=accountant_username(number), password=PASSWORD, role=Role.ACCOUNTANT, name=name, id_type="resident_id",
        id_number=number, sex="M" if sequence % 2 else "F", birth_date=born, mobile=mobile)


def make_staff(username: str, role: str, region: str) -> User:
    """A staff account with its TOTP device, as create_staff makes them (the second factor is mandatory)."""
    from accounts.models import ADMIN_ROLES
    from accounts.otp import totp_create

    user = User.objects.create_user(username=username, password=PASSWORD, role=role, region_id=region,
                                    name=username, is_staff=role in ADMIN_ROLES)
    totp_create(user, confirmed=True)
    return user


def make_admin(role: str, username: str | None = None) -> User:
    """One of the three administrators (三权分立): system_admin, security_admin or audit_admin."""
    return make_staff(username or role.replace("_admin", "_a"), role, "140000")


def as_admin(user, role: str = "system_admin"):
    """Make a provincial test persona one of the three administrators (三权分立), e.g. for admin tests."""
    User.objects.filter(pk=user.pk).update(role=role, is_staff=True)
    user.role, user.is_staff = role, True
    return user


# --- the second factor: log staff in as a person would after the code step ---------------------------

def totp_now(user) -> str:
    """The code ``user``'s authenticator app shows now (for the token API and the browser's code step).

    A code verifies once per 30-second step; a test that logs the same person in twice within one step
    gets a usable code because this helper forgets the step last used (test-only).
    """
    import time

    from accounts.models import AuthenticatorDevice
    from accounts.otp import totp_code_now

    device = AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
    step = int(time.time() - device.t0) // device.step
    if device.last_t >= step or device.throttling_failure_count:
        AuthenticatorDevice.objects.filter(pk=device.pk).update(last_t=step - 2, throttling_failure_count=0,
                                                       throttling_failure_timestamp=None)
    return totp_code_now(device)


def login_staff(client, user):
    """``client.force_login(user)`` with the second factor passed, as the real login leaves a session.

    Works for any user (an accountant is simply logged in); staff get their TOTP device marked as
    verified in the session, which is what accounts.views_otp does after a right code.
    """
    from django_otp import DEVICE_ID_SESSION_KEY

    from accounts.models import AuthenticatorDevice
    from accounts.otp import otp_required, totp_create

    client.force_login(user)
    if otp_required(user):
        device = (AuthenticatorDevice.objects.filter(user=user, confirmed=True).order_by("-pk").first()
                  or totp_create(user, confirmed=True))
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = device.persistent_id
        session.save()
    return client


# --- records: files, archives and applications in each state, walked through the real services ----

def png_bytes(size=(8, 8)) -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", size, (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


PDF_BYTES = (b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Count 0/Kids[]>>endobj\n"
             b"trailer<</Root 1 0 R>>\n%%EOF\n")


def upload(name="scan.png", content: bytes | None = None, content_type="image/png"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, png_bytes() if content is None else content, content_type=content_type)


def make_attachment(owner, kind="photo"):
    from records.uploads import attachment_create

    return attachment_create(owner=owner, kind=kind, upload=upload(f"{kind}.png"))


def complete_archive_data(jurisdiction="140502") -> dict:
    """Everything a collection needs (R-COL-2), in the API's shape."""
    return {
        "basic": {"name": None, "ethnicity": "汉族"},
        "contact": {"mobile": "13800000000", "email": "", "address": "山西省晋城市城区凤台东街1号"},
        "education": [{"level": "bachelor", "degree": "bachelor", "major": "会计学", "school": "山西财经大学",
                       "mode": "full_time", "graduated_on": "2012-07-01"}],
        "qualifications": [{"level": "intermediate", "certificate_no": "Z2019140500123", "obtained_on": "2019-09-01"}],
        "employer": {"name": "晋城市凤台会计服务有限公司", "credit_code": valid_credit_code(),
                     "unit_type": "enterprise"},
        "career": {"began_accounting_on": "2012-07-01"},
        "jurisdiction": jurisdiction,
        "pledge_accepted": True,
    }


def valid_credit_code(first17="91140500MA0GR1234") -> str:
    from accounts.validators import uscc_check_char

    return first17 + uscc_check_char(first17)


def fill_archive(person, jurisdiction="140502"):
    """Fill the person's archive completely, with the scans it needs; returns the archive."""
    from records.services import archive_for_person, archive_update

    data = complete_archive_data(jurisdiction)
    data["basic"]["name"] = person.name
    data["employer"]["credit_code"] = valid_credit_code()
    data["attachments"] = [make_attachment(person, kind).pk for kind in ("photo", "id_card", "diploma",
                                                                         "qualification")]
    return archive_update(archive=archive_for_person(person), by=person, data=data)


def make_collection(person, state="submitted", *, first=None, second=None, jurisdiction="140502"):
    """A collection walked through the real services into ``state``; reviewers made when needed."""
    from kjzx.workflow import workflow_transition
    from records.services import collection_open

    fill_archive(person, jurisdiction)
    collection = collection_open(person=person)
    if state == "draft":
        return collection
    collection = workflow_transition(collection, "submit", by=person)
    if state == "submitted":
        return collection
    first = first or _reviewer_for(jurisdiction, "a")
    if state == "returned":
        return workflow_transition(collection, "return", by=first, reason="照片不清晰")
    collection = workflow_transition(collection, "approve_first", by=first)
    if state == "first_reviewed":
        return collection
    second = second or _reviewer_for(jurisdiction, "b")
    return workflow_transition(collection, "approve_second", by=second)


def _reviewer_for(region: str, suffix: str):
    from accounts.models import Region

    level = Region.objects.get(pk=region).level
    role = {"county": Role.COUNTY_REVIEWER, "city": Role.CITY_REVIEWER}.get(level, Role.PROVINCE_STAFF)
    user = User.objects.filter(username=f"r{region}{suffix}").first()
    return user or make_staff(f"r{region}{suffix}", role, region)


def make_active_archive(person, jurisdiction="140502"):
    return make_collection(person, "approved", jurisdiction=jurisdiction).archive


def make_change(person, state="submitted", *, reviewer=None, jurisdiction="140502", values=None):
    """A change (mobile and address) walked through the real services into ``state``."""
    from kjzx.workflow import workflow_transition
    from records.models import Archive
    from records.services import change_open

    if not Archive.objects.filter(person=person, status="active").exists():
        make_active_archive(person, jurisdiction)
    values = values or {"contact": {"mobile": "13911112222", "email": "", "address": "山西省晋城市城区新市街9号"}}
    change = change_open(person=person, items=list(values), values=values,
                         attachments=[make_attachment(person, "evidence").pk])
    if state == "draft":
        return change
    change = workflow_transition(change, "submit", by=person)
    reviewer = reviewer or _reviewer_for(jurisdiction, "a")
    if state == "returned":
        return workflow_transition(change, "return", by=reviewer, reason="证明材料不全")
    if state == "approved":
        return workflow_transition(change, "approve", by=reviewer)
    if state == "withdrawn":
        return workflow_transition(change, "withdraw", by=person)
    return change


# --- transfers ----------------------------------------------------------------------------------

def make_transfer(person, state="submitted", *, type="intra", to_region="140521", to_province="11",
                  to_unit="沁水县某会计师事务所", origin=None, destination=None, jurisdiction="140502"):
    """A transfer walked through the real services into ``state`` (intra or outbound)."""
    from kjzx.workflow import workflow_transition
    from records.models import Archive
    from transfers.services import outbound_ack, outbound_result, transfer_open

    if not Archive.objects.filter(person=person, status="active").exists():
        make_active_archive(person, jurisdiction)
    proof = make_attachment(person, "student_proof" if to_unit == "无" else "employment_proof")
    transfer = transfer_open(person=person, type=type, to_region=to_region if type == "intra" else None,
                             to_province=to_province if type == "outbound" else None, to_unit=to_unit,
                             attachments=[proof.pk])
    if state == "draft":
        return transfer
    transfer = workflow_transition(transfer, "submit", by=person)
    if state == "submitted":
        return transfer
    if state == "withdrawn":
        return workflow_transition(transfer, "withdraw", by=person)
    origin = origin or _reviewer_for(jurisdiction, "a")
    if state == "returned":
        return workflow_transition(transfer, "return", by=origin, reason="工作证明未加盖公章")
    transfer = workflow_transition(transfer, "accept", by=origin)
    if state == "accepted":
        return transfer
    if type == "intra":
        destination = destination or _reviewer_for(to_region, "a")
        if state == "rejected":
            return workflow_transition(transfer, "reject", by=destination, reason="调入单位信息不符")
        return workflow_transition(transfer, "approve", by=destination)  # completed
    transfer = outbound_ack(transfer_no=transfer.transfer_no)
    if state == "uploaded":
        return transfer
    if state == "exchange_returned":
        return outbound_result(transfer_no=transfer.transfer_no, result="rejected", reason="调入地不予接收")
    return outbound_result(transfer_no=transfer.transfer_no, result="received")  # completed


def inbound_body(transfer_no="11202600001", *, id_number=None, to_region="140502", name="赵六"):
    """An inbound record as the national platform sends it (API.md §2)."""
    number = id_number or make_id_number("110101", date(1988, 5, 6), 215)
    return {
        "transfer_no": transfer_no, "from_province": "11", "to_region": to_region, "to_unit": "晋城市某公司",
        "person": {
            "id_type": "resident_id", "id_number": number, "name": name, "sex": "M" if int(number[16]) % 2 else "F",
            "birth_date": f"{number[6:10]}-{number[10:12]}-{number[12:14]}", "mobile": "13700000000",
            "education": [{"level": "bachelor", "degree": "bachelor", "major": "会计学", "school": "中央财经大学",
                           "mode": "full_time", "graduated_on": "2010-07-01"}],
            "qualifications": [{"level": "junior", "certificate_no": "C2012110100456", "obtained_on": "2012-09-01"}],
            "employer": {"name": "北京某公司", "credit_code": valid_credit_code("91110105MA01ABCD1"),
                         "unit_type": "enterprise"},
            "began_accounting_on": "2010-07-01",
            "cpe": [{"year": 2025, "total": "96.0", "professional": "64.0", "completed": True}],
        },
    }
