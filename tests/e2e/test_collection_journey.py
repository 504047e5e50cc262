"""The collection journey through the real pages, in Debian's Chromium (issue 3).

An accountant fills 我的信息—信息采集 on a phone, is told what is missing, completes it with scans,
submits; a county reviewer returns it with a reason; the accountant corrects and resubmits; one
reviewer passes the first review and a second reviewer the second (R-COL-2, R-COL-4, R-COL-4a,
R-ACL-3). Every step is what a person sees and clicks.
"""

from __future__ import annotations

import pytest

from accounts.models import Role
from records.models import Archive, CollectionApplication
from tests.factories import PASSWORD, PDF_BYTES, make_accountant, make_staff, png_bytes, valid_credit_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def log_in(page, live_server, username):
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("证件号码/用户名").fill(username)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: "/accounts/login/" not in url)


def log_out(page):
    page.get_by_label("展开菜单").check()
    page.get_by_role("button", name="退出").click()
    page.get_by_role("heading", name="用户登录").wait_for()


def scan(name, content, mime):
    return {"name": name, "mimeType": mime, "buffer": content}


def fill_collection(page):
    page.get_by_label("民族").select_option("汉族")
    page.get_by_label("通讯地址").fill("山西省晋城市城区凤台东街1号")
    page.get_by_label("学历", exact=True).select_option("bachelor")
    page.get_by_label("学位", exact=True).select_option("bachelor")
    page.get_by_label("所学专业").fill("会计学")
    page.get_by_label("毕业院校").fill("山西财经大学")
    page.get_by_label("毕业时间").fill("2012-07-01")
    page.get_by_label("资格级别").select_option("intermediate")
    page.get_by_label("证书编号").fill("Z2019140500123")
    page.get_by_label("取得时间").fill("2019-09-01")
    page.get_by_label("工作单位", exact=True).fill("晋城市凤台会计服务有限公司")
    page.get_by_label("统一社会信用代码").fill(valid_credit_code())
    page.get_by_label("单位性质").select_option("enterprise")
    page.get_by_label("参加会计工作时间").fill("2012-07-01")
    page.get_by_label("管理属地").select_option("140502")
    page.get_by_label("个人照片").set_input_files(scan("照片.png", png_bytes(), "image/png"))
    page.get_by_label("身份证件").set_input_files(scan("身份证.png", png_bytes(), "image/png"))
    page.get_by_label("学历（学位）证书").set_input_files(scan("毕业证.pdf", PDF_BYTES, "application/pdf"))
    page.get_by_label("专业技术资格证书").set_input_files(scan("中级证书.pdf", PDF_BYTES, "application/pdf"))


def review(page, live_server, reviewer, button, reason=""):
    """A reviewer opens the oldest item of the queue and decides it."""
    log_in(page, live_server, reviewer.username)
    page.goto(f"{live_server.url}/workbench/")
    page.get_by_role("heading", name="审核工作台").wait_for()
    page.locator("a[href^='/workbench/collections/']").first.click()  # the oldest submission first
    page.get_by_role("heading", name="办理记录").wait_for()
    if reason:
        page.get_by_label("未通过原因").fill(reason)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text("已办理").first.wait_for()
    log_out(page)


def test_accountant_submits_is_returned_resubmits_and_two_reviewers_approve(page, live_server):
    person = make_accountant(name="刘敏", sequence=102)
    first = make_staff("chengqu_first", Role.COUNTY_REVIEWER, "140502")
    second = make_staff("chengqu_second", Role.COUNTY_REVIEWER, "140502")

    # The accountant saves a half-filled draft, then tries to submit it: every gap is named (R-COL-2).
    log_in(page, live_server, person.username)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_label("民族").select_option("汉族")
    page.get_by_role("button", name="提交审核").click()
    summary = page.get_by_role("alert").first
    summary.wait_for()
    for missing in ("通讯地址", "个人照片", "承诺书"):
        assert missing in page.content()
    assert page.get_by_label("民族").input_value() == "汉族"  # nothing typed is lost

    # Completed, with the scans and the pledge (R-COL-4a), it goes to 待初审 with a due date.
    fill_collection(page)
    page.get_by_label("我已阅读上述承诺书").check()
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("待初审").first.wait_for()
    assert page.get_by_text("办理期限").first.is_visible()
    log_out(page)

    # The county reviewer returns it with a reason (R-ACL-3); the person sees the reason.
    review(page, live_server, first, "退回", reason="学历证书扫描件不清晰，请重新上传。")
    log_in(page, live_server, person.username)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_text("学历证书扫描件不清晰，请重新上传。").first.wait_for()

    # Corrected and resubmitted (R-COL-4).
    page.get_by_label("学历（学位）证书").set_input_files(scan("毕业证-清晰.pdf", PDF_BYTES, "application/pdf"))
    page.get_by_label("我已阅读上述承诺书").check()
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("待初审").first.wait_for()
    log_out(page)

    # Two different reviewers: first review, then second review (R-COL-4).
    review(page, live_server, first, "初审通过")
    review(page, live_server, second, "复审通过")

    collection = CollectionApplication.objects.get(applicant=person)
    assert collection.status == "approved"
    assert collection.first_reviewed_by == first and collection.approved_by == second
    assert Archive.objects.get(person=person).status == Archive.Status.ACTIVE

    log_in(page, live_server, person.username)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_text("已通过").first.wait_for()
    assert page.get_by_text("您已完成信息采集").is_visible()
