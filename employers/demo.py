"""Demo data of employers (演示数据：用人单位), loaded by ``load_demo`` after the CE demo. Safe to load twice.

The demo login ``yiyuan`` (accounts.demo) is the administrator of 晋城市城区人民医院 (``records.demo``'s
"hospital" unit): it oversees that unit's accountants — some collected and behind on this year's CE,
one collection returned and one waiting for review — and can remind those behind, export the list, and
see that 董立新, whose approved change of employer moved him from another unit, is now among them.
"""

from __future__ import annotations

from accounts.models import User
from accounts.validators import uscc_check_char
from employers.selectors import ce_year_for, people_list, person_rows
from employers.services import employer_units_set
from records.demo import EMPLOYERS

DEMO_EMPLOYER = "yiyuan"
DEMO_UNIT = "hospital"


def demo_unit() -> tuple[str, str]:
    """(name, unified social credit code) of the demo employer's unit."""
    name, first17, _unit_type = EMPLOYERS[DEMO_UNIT]
    return name, first17 + uscc_check_char(first17)


def load(out) -> None:
    employer = User.objects.filter(username=DEMO_EMPLOYER).first()
    if employer is None:
        return
    name, code = demo_unit()
    employer_units_set(employer=employer, credit_codes=[code], by=None)  # unchanged on a reload: no audit row
    policy = ce_year_for(None)
    if policy is None:
        return
    rows = person_rows(people_list(employer, policy), policy)
    behind = [row.archive.name for row in rows if row.behind]
    out.write("用人单位（演示）：")
    out.write(f"  {DEMO_EMPLOYER}（{name}，统一社会信用代码 {code}）可查看本单位 {len(rows)} 名会计人员，其中 "
              f"{len(behind)} 名{policy.year}年度继续教育未完成（{'、'.join(behind) or '无'}）："
              "可逐个或一键提醒、导出Excel。")
