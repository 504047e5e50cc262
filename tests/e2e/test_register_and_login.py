"""An accountant registers and logs in through the real pages, in Debian's Chromium."""

import pytest

from accounts.models import User

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

ID_NUMBER = "140581198512310022"


def fill_registration(page, **values):
    page.get_by_label("真实姓名").fill(values.get("name", "刘敏"))
    page.get_by_label("证件号码").fill(values["id_number"])
    # A resident ID carries sex and birth date: the page hides both and reads them from the number.
    assert page.get_by_label("出生日期").is_hidden() and page.get_by_label("女").is_hidden()
    page.get_by_label("手机号码").fill("13812345678")
    page.get_by_label("登录密码").fill("Hq7#vTz2mK")
    page.get_by_label("确认密码").fill("Hq7#vTz2mK")
    page.get_by_label("我已阅读并同意").check()
    page.get_by_role("button", name="注册").click()


def test_accountant_registers_logs_out_and_logs_in_again(page, live_server):
    page.goto(live_server.url)
    page.get_by_role("link", name="新用户注册").click()

    fill_registration(page, id_number="140581198512310023")  # one wrong check digit
    assert page.get_by_text("身份证号码校验位不正确，请核对后重新输入。").is_visible()
    assert page.get_by_label("真实姓名").input_value() == "刘敏"  # what was typed is kept
    assert not User.objects.exists()

    fill_registration(page, id_number=ID_NUMBER)
    page.get_by_text("注册成功").wait_for()
    assert page.get_by_role("heading", name="我的信息", exact=True).is_visible()
    assert page.get_by_text("140***********0022").is_visible()

    page.get_by_label("展开菜单").check()  # phone layout: the menu folds behind a toggle
    page.get_by_role("button", name="退出").click()
    page.get_by_role("heading", name="用户登录").wait_for()

    page.get_by_label("证件号码/用户名").fill(ID_NUMBER)
    page.get_by_label("密码").fill("Hq7#vTz2mK")
    page.get_by_role("main").get_by_role("button", name="登录").click()
    page.get_by_role("heading", name="个人中心").wait_for()
    assert User.objects.get(id_number=ID_NUMBER).last_login is not None
    heading = page.get_by_role("heading", name="个人中心").bounding_box()  # on the phone (conftest: 390 px)
    assert heading["y"] < page.locator(".side-menu").bounding_box()["y"]  # the page first, its menu after it
