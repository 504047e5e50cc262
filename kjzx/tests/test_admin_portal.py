"""The admin is the portal's: /manage/ branded, every section in Chinese with the libraries' after the
portal's own, the policy provincial staff edit grouped in one 政策参数 section, and help texts that say what
changing each number changes. Each role still sees only its own lists (三权分立, accounts.backends).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse
from django.utils import translation

from kjzx.admin_site import ADMIN_SECTIONS
from tests.factories import login_staff, make_admin

pytestmark = pytest.mark.django_db

ROLES = ("system_admin", "security_admin", "audit_admin")
# What Django, django-axes and knox would show in English if the portal did not name them.
ENGLISH = ("Django", "Axes", "Knox", "Access attempts", "Access failures", "Auth tokens", "Model name", "Add link",
           "Change or view list link", "Administration")


def index(client, role: str) -> str:
    login_staff(client, make_admin(role))
    response = client.get("/manage/")
    assert response.status_code == 200
    return response.content.decode()


def section_names(page: str) -> list[str]:
    """The index's section headings, in order (the <caption> of each module)."""
    main = page.split('id="content-main"', 1)[1]
    return [re.sub(r"<[^>]+>", "", caption).strip() for caption in re.findall(r"<caption>(.*?)</caption>", main, re.S)]


def row_names(page: str) -> list[str]:
    main = page.split('id="content-main"', 1)[1]
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in re.findall(r'<th scope="row"[^>]*>(.*?)</th>', main, re.S)]


@pytest.mark.parametrize("role", ROLES)
def test_the_index_is_in_chinese_with_no_english_section(client, role):
    """Every heading and list name on the index is Chinese; no "Django", "AXES / Access attempts"."""
    page = index(client, role)
    assert "会计之星 管理后台" in page and "Django 管理" not in page
    for word in ENGLISH:
        assert word not in page, (role, word)
    names = section_names(page) + row_names(page)
    assert names and all(not re.search(r"[A-Za-z]{2,}", name) for name in names), names


def test_policy_is_one_section_first_and_the_libraries_come_last(client):
    """The system administrator finds the calendar, the review periods, CE years, credit standards and the
    exchange settings together, first; the security and audit administrators find django-axes' lists under
    Chinese names after the portal's own sections."""
    page = index(client, "system_admin")
    sections = section_names(page)
    assert sections[0] == "政策参数"
    policy = page.split('class="app-policy module', 1)[1].split("</table>", 1)[0]
    for name in ("工作日历年度", "工作日历", "办理时限", "考试报名期间", "继续教育年度", "学分计量标准",
                 "省份（跨省调转）", "跨省调转设置"):
        assert f">{name}</a>" in policy, name
    assert "修改后按各项说明生效" in policy
    assert "会计人员档案" in sections and "通知公告" in page

    client.logout()
    sections = section_names(index(client, "security_admin"))
    assert sections == ["账号与属地", "登录与接口安全"]
    client.logout()
    page = index(client, "audit_admin")
    assert section_names(page) == ["登录与接口安全", "审计"]  # it reads the lockouts, changes nothing
    assert ">审计记录</a>" in page and ">登录失败日志</a>" in page and ">登录失败计数与锁定</a>" in page


def test_each_section_of_the_table_lists_models_the_site_knows():
    """The section table names real models (a typo would silently drop a list from the index)."""
    from django.apps import apps

    for _key, _name, _description, labels in ADMIN_SECTIONS:
        for label in labels:
            app_label, model = label.split(".")
            assert apps.get_model(app_label, model), label


def test_help_texts_say_what_a_change_changes(client):
    """Each policy number says what editing it changes: the review period applies to new steps only, the
    calendar recomputes the open ones, the CE year's credits re-judge everyone."""
    login_staff(client, make_admin("system_admin"))
    step = client.get(reverse("admin:kjzx_stepdeadline_change", args=["collection.review"])).content.decode()
    assert ("修改后，此后提交（开始）的“信息采集审核（初审、复审）”按此工作日数计算办理期限；"
            "已在办理中的申请不变") in step
    day = client.get(reverse("admin:kjzx_calendarday_add")).content.decode()
    assert "办理期限经过该日的在办申请将自动重新计算" in day
    year = client.get(reverse("admin:kjzx_calendaryear_add")).content.decode()
    assert "2027-02-15至2027-02-21 放假 春节" in year and "暂按周一至周五计算" in year
    ce_year = client.get(reverse("admin:cpe_ceyear_add")).content.decode()
    assert "都按新数重新判断" in ce_year
    standard = client.get(reverse("admin:cpe_creditstandard_add")).content.decode()
    assert "已登记的学分不变" in standard


def test_the_libraries_pages_are_chinese_too(client):
    """django-axes' and knox's own pages: titles, breadcrumbs and columns in Chinese."""
    from knox.models import AuthToken

    from tests.factories import make_accountant

    AuthToken.objects.create(make_accountant())
    login_staff(client, make_admin("security_admin"))
    for url in ("/manage/axes/accessattempt/", "/manage/knox/authtoken/"):
        page = client.get(url).content.decode()
        for word in ("Axes", "Knox", "access attempt", "auth token", "User Agent", "IP Address", "Attempt Time",
                     "Digest", "Expiry"):
            assert word not in page, (url, word)
    assert "登录失败与锁定" in client.get("/manage/axes/accessattempt/").content.decode()
    tokens = client.get("/manage/knox/authtoken/").content.decode()
    assert "持有人" in tokens and "到期时间" in tokens and "张三（" in tokens


def test_the_compiled_catalog_matches_its_source():
    """locale/zh_Hans's .mo says what the .po says: every msgid translates to its msgstr (compilemessages)."""
    source = Path(settings.BASE_DIR, "locale", "zh_Hans", "LC_MESSAGES", "django.po").read_text(encoding="utf-8")
    pairs = re.findall(r'^msgid "(.+)"\nmsgstr "(.*)"$', source, re.M)
    assert len(pairs) > 20
    with translation.override("zh-hans"):
        for msgid, msgstr in pairs:
            assert translation.gettext(msgid) == msgstr, msgid
