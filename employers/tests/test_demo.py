"""The demo employer: ``yiyuan`` oversees 晋城市城区人民医院, whose accountants include several
behind on this year's CE; its login and TOTP secret are printed with the others. Uses the session's demo."""

from __future__ import annotations

import re

from django.utils import timezone

from accounts.models import Role, User
from employers.demo import DEMO_EMPLOYER, demo_unit
from employers.selectors import ce_year_for, people_list, person_rows


def test_the_demo_employer_sees_its_unit_with_people_behind_and_is_printed(demo):
    """Several demo accountants behind on CE, a returned collection among them; the login and TOTP printed."""
    employer = User.objects.get(username=DEMO_EMPLOYER)
    assert employer.role == Role.EMPLOYER
    name, code = demo_unit()
    assert list(employer.employer_units.values_list("credit_code", flat=True)) == [code]
    policy = ce_year_for(None)
    assert policy.year == timezone.localdate().year
    rows = person_rows(people_list(employer, policy), policy)
    assert {row.archive.employer_credit_code for row in rows} == {code}
    behind = [row for row in rows if row.behind and row.can_remind]
    assert len(behind) >= 3, [row.archive.name for row in rows]
    assert any(row.collection_status == "returned" for row in rows)
    assert re.search(rf"^\s+用人单位管理员\s+{DEMO_EMPLOYER}\s", demo["first"], re.MULTILINE)
    assert re.search(rf"^TOTP {DEMO_EMPLOYER}\s+[A-Z2-7]{{16,}}$", demo["first"], re.MULTILINE)
    assert f"{DEMO_EMPLOYER}（{name}" in demo["first"]
