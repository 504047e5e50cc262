"""A face-to-face list from upload to registered credits, in Debian's Chromium.

A filed face-to-face institution uploads the list of a finished training with its sign-in sheet;
the messy row is reported in words; the county bureau opens the preview and registers the valid
rows in one step: 3 credits per 学时 in the training's year (R-CE-9, R-CE-14, the credit table).
"""

from __future__ import annotations

import pytest

from accounts.models import Role
from cpe.lists.services import face_to_face
from cpe.lists.tests.test_face_to_face import make_training, wrong_check_digit, xlsx_bytes
from cpe.models import AttendanceList, CreditEntry
from tests.e2e.test_collection_journey import log_in, log_out, scan
from tests.factories import make_accountant, make_active_archive, make_staff, png_bytes

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_institution_uploads_and_the_bureau_registers(page, live_server):
    institution_user = make_staff("jigou_e2e", Role.INSTITUTION, "140502")
    reviewer = make_staff("chengqu_e2e", Role.COUNTY_REVIEWER, "140502")
    training = make_training(institution_user)
    zhang = make_active_archive(make_accountant(name="张三", sequence=101, mobile="13800000101"))
    wang = make_active_archive(make_accountant(name="王五", sequence=103, mobile="13800000103"))
    rows = [["姓名", "身份证号", "学时"], ["张三", zhang.id_number, 6], ["王五", wang.id_number, 16],
            ["王五", wrong_check_digit(wang.id_number), 6]]

    log_in(page, live_server, institution_user)
    page.goto(f"{live_server.url}/institution/trainings/{training.pk}/attendance/")
    page.get_by_label("学员名单（.xlsx 或 .csv）").set_input_files(scan("学员名单.xlsx", xlsx_bytes(rows), XLSX))
    page.get_by_label("签到表等培训实证材料").set_input_files(scan("签到表.png", png_bytes(), "image/png"))
    page.get_by_role("button", name="上传并校验").click()
    page.get_by_text("正在逐行校验").first.wait_for()  # checked in the background  …
    face_to_face.attendance_check(AttendanceList.objects.get(training=training).pk)  # … as the worker does
    page.get_by_text("身份证号码校验位不正确").first.wait_for()  # the page refreshes itself
    log_out(page)

    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/workbench/attendance/")
    page.locator("a[href^='/workbench/attendance/']").first.click()
    page.get_by_role("button", name="登记有效学员学分").click()
    page.get_by_text("已登记").first.wait_for()

    credits = dict(CreditEntry.objects.filter(form="face_to_face").values_list("archive_id", "credits"))
    assert credits == {zhang.pk: 18, wang.pk: 48}
    assert set(CreditEntry.objects.values_list("year_id", flat=True)) == {training.year_id}
