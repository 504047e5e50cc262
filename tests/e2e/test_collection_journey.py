"""The collection journey on a phone, through the real pages, in Debian's Chromium.

An accountant completes 我的信息—信息采集 step by step at 390×844 (身份信息, 学历, 资格, 工作单位与属地, 扫描件,
承诺与提交), adds a second education entry without saving first, photographs the ID card with the
camera input, and is told what is missing before submitting; a county reviewer returns it with a
reason; the accountant corrects and resubmits; one reviewer passes the first review and another the
second (R-COL-2, R-COL-4, R-COL-4a, R-ACL-3). Every step is what a person sees and clicks, and no step
is wider than the phone.
"""

from __future__ import annotations

import pytest

from accounts.models import Role
from records.models import Archive, CollectionApplication
from tests.factories import (
    PASSWORD,
    PDF_BYTES,
    make_accountant,
    make_staff,
    png_bytes,
    totp_now,
    valid_credit_code,
)

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

PHONE_WIDTH = 390


def log_in(page, live_server, user):
    """The login page; staff then give the code of their authenticator (the second factor)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("证件号码/用户名").fill(user.login_name)
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.wait_for_url(lambda url: not url.endswith("/accounts/login/"))
    if "/accounts/login/otp/" in page.url:
        page.get_by_label("动态口令").fill(totp_now(user))
        page.get_by_role("button", name="验证并登录").click()
        page.wait_for_url(lambda url: "/accounts/login/" not in url)


def log_out(page):
    page.get_by_label("展开菜单").check()
    page.get_by_role("button", name="退出").click()
    page.get_by_role("heading", name="用户登录").wait_for()


def scan(name, content, mime):
    return {"name": name, "mimeType": mime, "buffer": content}


def fits_the_phone(page) -> bool:
    """Nothing on the page makes it scroll sideways at 390 px."""
    return page.evaluate("document.documentElement.scrollWidth") <= PHONE_WIDTH


def at_step(page, n: int, title: str) -> None:
    page.get_by_text(f"第 {n} 步，共 6 步：{title}").wait_for()
    assert fits_the_phone(page), f"step {n} is wider than the phone"


def next_step(page):
    page.get_by_role("button", name="保存并继续").click()


def review(page, live_server, reviewer, button, reason=""):
    """A reviewer opens the oldest item of the queue and decides it."""
    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/workbench/")
    page.get_by_role("heading", name="审核工作台").wait_for()
    page.locator("a[href^='/workbench/collections/']").first.click()  # the oldest submission first
    page.get_by_role("heading", name="办理记录").wait_for()
    if reason:
        page.get_by_label("未通过原因").fill(reason)
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text("已办理").first.wait_for()
    log_out(page)


def complete_the_steps(page):
    """Steps 1 to 5 as a person on a phone fills them."""
    at_step(page, 1, "身份信息")
    assert page.get_by_text("带 * 为必填").is_visible()
    page.get_by_label("民族").select_option("汉族")
    page.get_by_label("通讯地址").fill("山西省晋城市城区凤台东街1号")
    next_step(page)

    at_step(page, 2, "学历")
    assert page.get_by_text("（选填）").count() == 0  # the required entry is not called optional
    rows = page.locator("fieldset.entry-row")
    first = rows.nth(0)
    first.get_by_role("combobox", name="学历", exact=True).select_option("junior_college")
    first.get_by_label("所学专业").fill("会计")
    first.get_by_label("毕业院校").fill("山西省财政税务专科学校")
    first.get_by_label("毕业时间").fill("2009-07-01")
    page.get_by_role("button", name="添加一条").click()  # a second entry at once, nothing saved yet
    second = rows.nth(1)
    assert second.locator("legend").inner_text() == "学历 第2条"
    assert second.get_by_role("combobox", name="学历", exact=True).evaluate("el => el === document.activeElement")
    second.get_by_role("combobox", name="学历", exact=True).select_option("bachelor")
    second.get_by_label("学位", exact=True).select_option("bachelor")
    second.get_by_label("所学专业").fill("会计学")
    second.get_by_label("毕业院校").fill("山西财经大学")
    second.get_by_label("学习形式").select_option("part_time")
    second.get_by_label("毕业时间").fill("2012-07-01")
    next_step(page)

    at_step(page, 3, "资格")
    page.get_by_label("资格级别").select_option("intermediate")
    page.get_by_label("证书编号").fill("Z2019140500123")
    page.get_by_label("取得时间").fill("2019-09-01")
    next_step(page)

    at_step(page, 4, "工作单位与属地")
    page.get_by_role("textbox", name="工作单位", exact=True).fill("晋城市凤台会计服务有限公司")
    page.get_by_label("统一社会信用代码").fill(valid_credit_code())
    page.get_by_label("单位性质").select_option("enterprise")
    page.get_by_label("参加会计工作时间").fill("2012-07-01")
    page.get_by_label("管理属地").select_option("140502")
    next_step(page)

    at_step(page, 5, "扫描件")
    page.get_by_label("个人照片").set_input_files(scan("照片.png", png_bytes((30, 40)), "image/png"))
    camera = page.get_by_label("拍照上传身份证件")
    assert camera.get_attribute("capture") == "environment"
    camera.set_input_files(scan("IMG_0001.jpg", _jpeg(), "image/jpeg"))  # what a phone's camera gives
    diploma = page.get_by_label("学历（学位）证书*", exact=True)  # a label's text has its * (the name does not)
    diploma.set_input_files(scan("毕业证.pdf", PDF_BYTES, "application/pdf"))
    page.get_by_label("专业技术资格证书", exact=True).set_input_files(
        scan("中级证书.pdf", PDF_BYTES.replace(b"1.4", b"1.5"), "application/pdf"))
    next_step(page)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (64, 40), (230, 230, 220)).save(buffer, format="JPEG")
    return buffer.getvalue()


def test_accountant_completes_the_steps_on_a_phone_is_returned_resubmits_and_two_reviewers_approve(
        page, live_server):
    person = make_accountant(name="刘敏", sequence=102)
    first = make_staff("chengqu_first", Role.COUNTY_REVIEWER, "140502")
    second = make_staff("chengqu_second", Role.COUNTY_REVIEWER, "140502")

    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/collection/")
    complete_the_steps(page)

    # The last step: without the pledge, submitting says so and nothing moves (R-COL-4a).
    at_step(page, 6, "承诺与提交")
    assert page.get_by_text("提交审核前，还需补充以下1项：").is_visible()  # said before it is tried
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("草稿已保存，但信息尚不完整，暂不能提交审核。").wait_for()
    assert page.get_by_role("link", name="承诺书：请阅读并确认承诺书。").is_visible()
    page.get_by_label("我已阅读上述承诺书").check()
    page.get_by_role("button", name="提交审核").click()
    page.get_by_text("待初审").first.wait_for()
    assert page.get_by_text("办理期限").first.is_visible() and fits_the_phone(page)
    archive = Archive.objects.get(person=person)
    assert list(archive.education.values_list("school", flat=True)) == ["山西省财政税务专科学校", "山西财经大学"]
    assert archive.attachments.get(kind="id_card").content_type == "image/jpeg"
    log_out(page)

    # The county reviewer returns it with a reason (R-ACL-3); the person sees the reason.
    review(page, live_server, first, "退回", reason="学历证书扫描件不清晰，请重新上传。")
    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_text("学历证书扫描件不清晰，请重新上传。").first.wait_for()

    # Corrected on the scans step and resubmitted from the last one (R-COL-4).
    page.get_by_role("link", name="扫描件").click()
    at_step(page, 5, "扫描件")
    page.get_by_label("拍照上传学历（学位）证书").set_input_files(scan("毕业证-清晰.jpg", _jpeg(), "image/jpeg"))
    next_step(page)
    at_step(page, 6, "承诺与提交")
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

    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_text("已通过").first.wait_for()
    assert page.get_by_text("您已完成信息采集").is_visible()
