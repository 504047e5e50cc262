"""Employer administrators are made by provincial staff and bound to units by unified social credit code
(API.md §3 ``create_staff … --credit-code CODE``, repeatable; GB 32100 check character)."""

from __future__ import annotations

import re
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from accounts.models import Role, User
from employers.conftest import STAFF_PASSWORD, UNIT_A, UNIT_B
from employers.models import EmployerUnit
from kjzx.models import AuditEvent
from tests.factories import login_staff

pytestmark = pytest.mark.django_db

WRONG_CHECK = UNIT_A[:17] + ("0" if UNIT_A[17] != "0" else "1")


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def codes_of(username: str) -> list[str]:
    return sorted(EmployerUnit.objects.filter(user__username=username).values_list("credit_code", flat=True))


def test_create_staff_makes_an_employer_bound_to_several_units_and_prints_its_totp():
    """``--credit-code`` repeatable (API.md §3); the TOTP secret printed once on its own line."""
    out = run("create_staff", "--role", "employer", "--region", "140502", "--username", "hr01", "--password",
              STAFF_PASSWORD, "--credit-code", UNIT_A, "--credit-code", UNIT_B.lower())
    user = User.objects.get(username="hr01")
    assert (user.role, user.region_id) == (Role.EMPLOYER, "140502")
    assert codes_of("hr01") == sorted([UNIT_A, UNIT_B])  # lower case typed, stored as the standard writes it
    assert re.search(r"^TOTP: [A-Z2-7]{16,}$", out, re.MULTILINE)
    assert UNIT_A in out and UNIT_B in out


@pytest.mark.parametrize(("codes", "message"), [
    ([], "请至少填写一个统一社会信用代码"),
    (["--credit-code", WRONG_CHECK], "校验位正确"),
    (["--credit-code", UNIT_A, "--credit-code", "91140502MA0GR123"], "校验位正确"),  # 16 characters
    (["--credit-code", UNIT_A[:12] + "O" + UNIT_A[13:]], "校验位正确"),  # O is not in GB 32100's alphabet
])
def test_create_staff_refuses_a_wrong_code_and_makes_nothing(codes, message):
    """Each code checked (18 characters, GB 32100 check character); a wrong one makes no account at all."""
    with pytest.raises(CommandError, match=message):
        run("create_staff", "--role", "employer", "--region", "140502", "--username", "hr02", "--password",
            STAFF_PASSWORD, *codes)
    assert not User.objects.filter(username="hr02").exists()
    assert not EmployerUnit.objects.exists()


def test_create_staff_says_every_problem_at_once_and_refuses_codes_for_other_roles():
    """A weak password and a wrong code are both named; a reviewer takes no --credit-code (API.md §3)."""
    with pytest.raises(CommandError) as refused:
        run("create_staff", "--role", "employer", "--region", "140502", "--username", "hr03", "--password",
            "weakpassword", "--credit-code", WRONG_CHECK)
    assert "至少3类" in str(refused.value) and "校验位正确" in str(refused.value)
    with pytest.raises(CommandError, match="只有用人单位管理员"):
        run("create_staff", "--role", "county_reviewer", "--region", "140502", "--username", "hr04", "--password",
            STAFF_PASSWORD, "--credit-code", UNIT_A)
    assert not User.objects.filter(username__in=["hr03", "hr04"]).exists()


def test_provincial_staff_create_an_employer_in_the_portal_and_see_its_secret_once(client, province_staff):
    """用人单位管理员 page (provincial staff): the account, its units, its TOTP secret shown on that answer only."""
    login_staff(client, province_staff)
    assert client.get("/employers/manage/new/").status_code == 200
    response = client.post("/employers/manage/new/", {
        "username": "hr05", "name": "甲公司 财务部", "region": "140502", "password": STAFF_PASSWORD,
        "credit_codes": f"{UNIT_A}\n{UNIT_B}，{UNIT_A}"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "已创建用人单位管理员" in html and "仅显示这一次" in html
    employer = User.objects.get(username="hr05")
    assert employer.role == Role.EMPLOYER and codes_of("hr05") == sorted([UNIT_A, UNIT_B])
    from accounts.otp import totp_device, totp_secret

    assert totp_secret(totp_device(employer)) in html
    listing = client.get("/employers/manage/").content.decode()
    assert "hr05" in listing and UNIT_B in listing and totp_secret(totp_device(employer)) not in listing
    created = AuditEvent.objects.filter(target_id=str(employer.pk), event_type__in=[
        "account.staff_created", "employer.units_changed"])
    assert {event.actor for event in created} == {province_staff}


def test_the_portal_form_names_each_wrong_field_and_keeps_nothing(client, province_staff):
    """Bad input is a clear message beside the field, never a half-made account (house rule)."""
    login_staff(client, province_staff)
    response = client.post("/employers/manage/new/", {
        "username": "hr06", "name": "", "region": "140502", "password": "short", "credit_codes": WRONG_CHECK})
    html = response.content.decode()
    assert response.status_code == 200 and "校验位正确" in html and "密码" in html
    assert not User.objects.filter(username="hr06").exists()


def test_provincial_staff_change_the_units_with_an_audit_row(client, province_staff, employer_a):
    """变更所辖单位: the units become exactly those entered, with before and after in the audit history."""
    login_staff(client, province_staff)
    assert UNIT_A in client.get(f"/employers/manage/{employer_a.pk}/").content.decode()
    response = client.post(f"/employers/manage/{employer_a.pk}/", {"credit_codes": UNIT_B})
    assert response.status_code == 302
    assert codes_of(employer_a.username) == [UNIT_B]
    event = AuditEvent.objects.filter(event_type="employer.units_changed", target_id=str(employer_a.pk)).last()
    assert (event.actor, event.extra) == (province_staff, {"before": [UNIT_A], "after": [UNIT_B]})
    wrong = client.post(f"/employers/manage/{employer_a.pk}/", {"credit_codes": WRONG_CHECK})
    assert wrong.status_code == 200 and "校验位正确" in wrong.content.decode()
    assert codes_of(employer_a.username) == [UNIT_B]


def test_only_provincial_staff_manage_employers(client, county_reviewer, employer_a, province_staff):
    """A county reviewer and an employer get 403 (function-level separation); a non-employer account is a 404."""
    for user in (county_reviewer, employer_a):
        login_staff(client, user)
        assert client.get("/employers/manage/").status_code == 403
        assert client.post("/employers/manage/new/", {}).status_code == 403
        assert client.get(f"/employers/manage/{employer_a.pk}/").status_code == 403
    login_staff(client, province_staff)
    assert client.get(f"/employers/manage/{county_reviewer.pk}/").status_code == 404


def test_the_staff_home_links_employers_and_provincial_staff_to_their_pages(client, employer_a, province_staff):
    """Each lands on a workbench with a link to their employer pages."""
    login_staff(client, employer_a)
    assert "/employer/" in client.get("/me/").content.decode()
    login_staff(client, province_staff)
    assert "/employers/manage/" in client.get("/me/").content.decode()
