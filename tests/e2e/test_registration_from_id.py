"""Registration on a phone reads sex and birth date from a resident ID; the agreement is a page."""

import pytest

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_resident_id_fills_sex_and_birth_date_and_the_agreement_opens(page, live_server):
    page.goto(f"{live_server.url}/accounts/register/")
    assert page.get_by_label("出生日期").is_hidden() and page.get_by_label("男").is_hidden()
    page.get_by_label("证件号码").fill("140581198512310022")
    page.get_by_text("性别、出生日期按身份证号码自动填写：女，1985-12-31。").wait_for()

    page.get_by_label("证件类型").select_option("passport")  # a passport carries neither: both are asked
    assert page.get_by_label("出生日期").is_visible() and page.get_by_label("男").is_visible()
    page.get_by_label("证件类型").select_option("resident_id")
    assert page.get_by_label("出生日期").is_hidden()

    with page.expect_popup() as opened:
        page.get_by_role("link", name="《用户服务协议》").click()
    agreement = opened.value
    agreement.get_by_role("heading", name="会计之星（山西省会计管理信息系统）用户服务协议").wait_for()
    assert agreement.get_by_text("敏感个人信息").first.is_visible()
    assert agreement.evaluate("document.documentElement.scrollWidth") <= 390
