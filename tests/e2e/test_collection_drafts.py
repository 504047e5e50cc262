"""Drafts that never lose work, in Debian's Chromium on a phone (R-COL-2).

A draft with one bad e-mail keeps every other value and every accepted file; what is typed survives a
reload before it is saved (static/js/collection.js keeps it in the browser, per user and step, and
says so, with "放弃恢复"); once saved, the browser forgets its copy.
"""

from __future__ import annotations

import json

import pytest

from records.models import Archive
from tests.e2e.test_collection_journey import fits_the_phone, log_in, scan
from tests.factories import make_accountant, png_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_a_draft_with_one_bad_email_keeps_every_other_value_and_file(page, live_server):
    person = make_accountant(name="刘敏", sequence=102)
    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_label("民族").select_option("回族")
    page.get_by_label("手机号码").fill("13911112222")
    page.get_by_label("电子邮箱").fill("liumin@")
    page.get_by_label("通讯地址").fill("山西省晋城市城区凤台东街1号")
    page.get_by_role("button", name="保存并继续").click()

    # The same step again, the e-mail named beside its field, everything typed still there.
    page.get_by_text("邮箱格式不正确（应如 name@example.com），未保存此项。").first.wait_for()
    assert page.get_by_text("第 1 步，共 6 步").is_visible() and fits_the_phone(page)
    assert page.get_by_label("电子邮箱").input_value() == "liumin@"
    assert page.get_by_label("通讯地址").input_value() == "山西省晋城市城区凤台东街1号"
    archive = Archive.objects.get(person=person)
    assert (archive.ethnicity, archive.mobile, archive.address, archive.email) == (
        "回族", "13911112222", "山西省晋城市城区凤台东街1号", "")

    # Scans: a good photo and a file that is no image at all, in one save: the photo is kept.
    page.get_by_role("link", name="扫描件").click()
    page.get_by_label("个人照片").set_input_files(scan("照片.png", png_bytes((30, 40)), "image/png"))
    page.get_by_label("拍照上传身份证件").set_input_files(scan("身份证.jpg", b"not an image", "image/jpeg"))
    page.get_by_role("button", name="保存草稿").click()
    page.get_by_text("身份证.jpg：只接受 PDF、JPG 或 PNG 文件").first.wait_for()
    assert [a.name for a in archive.attachments.all()] == ["照片.png"]
    assert page.get_by_role("link", name="照片.png").is_visible()


def test_a_reload_before_saving_restores_what_was_typed(page, live_server):
    person = make_accountant(name="刘敏", sequence=102)
    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/collection/")
    page.get_by_label("通讯地址").fill("山西省晋城市城区凤台东街1号")
    page.get_by_label("民族").select_option("汉族")
    page.wait_for_timeout(600)  # the script keeps what is typed a moment after the last key
    page.reload()  # a tab killed on a phone, or a reload, before anything was saved

    page.get_by_text("已恢复您在本设备上于").wait_for()
    assert page.get_by_label("通讯地址").input_value() == "山西省晋城市城区凤台东街1号"
    assert page.get_by_label("民族").input_value() == "汉族"
    kept = page.evaluate("Object.keys(localStorage)")
    assert kept == [f"kjzx-draft:collection:{person.pk}:identity"]  # per user and form
    stored = page.evaluate(f"localStorage.getItem('{kept[0]}')")
    assert "csrfmiddlewaretoken" not in stored and person.id_number not in stored
    assert {name for name, *_ in json.loads(stored)["fields"]} == {
        "basic-ethnicity", "contact-mobile", "contact-email", "contact-address"}

    # 放弃恢复: back to what the server has, and the browser forgets it.
    page.get_by_role("button", name="放弃恢复").click()
    assert page.get_by_label("通讯地址").input_value() == ""
    assert page.evaluate("localStorage.length") == 0

    # Typed again, added rows too, then saved: the copy is forgotten, nothing is offered on return.
    page.get_by_label("通讯地址").fill("山西省晋城市城区新市街9号")
    page.get_by_role("link", name="学历").click()
    page.get_by_role("button", name="添加一条").click()
    page.locator("fieldset.entry-row").nth(1).get_by_label("毕业院校").fill("山西财经大学")
    page.wait_for_timeout(600)
    page.reload()
    page.get_by_text("已恢复您在本设备上于").wait_for()
    assert page.locator("fieldset.entry-row").count() == 2  # the added row comes back with its value
    assert page.locator("fieldset.entry-row").nth(1).get_by_label("毕业院校").input_value() == "山西财经大学"
    page.get_by_role("button", name="保存并继续").click()
    page.get_by_text("“学历”已保存").wait_for()  # the server's words: the page's script may not have run yet
    # The script forgets the saved step's copy, then drops saved= from the address (a reload of this
    # page must not forget later typing), in one go: once the address has changed, both are done.
    page.wait_for_function("() => !/[?&]saved=/.test(window.location.search)")
    assert page.evaluate("Object.keys(localStorage)") == [f"kjzx-draft:collection:{person.pk}:identity"]
    page.get_by_role("link", name="学历").click()
    assert page.get_by_text("已恢复您在本设备上于").count() == 0
    archive = Archive.objects.get(person=person)
    assert list(archive.education.values_list("school", flat=True)) == ["山西财经大学"]
