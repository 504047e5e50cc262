"""本单位会计人员 on a phone, in Debian's Chromium ("phone-friendly, one card per person
below 600 px"): an employer administrator logs in with the second factor, reads one card per person with
each value labelled, nothing wider than the phone, and reminds the one behind on CE."""

from __future__ import annotations

import os

import pytest
from django.utils import timezone

from accounts.models import Role
from cpe.ledger.policy import ce_year_ensure
from cpe.ledger.services import credit_register
from employers.services import employer_units_set
from kjzx.models import Notification
from tests.e2e.test_collection_journey import PHONE_WIDTH, fits_the_phone, log_in
from tests.factories import make_accountant, make_active_archive, make_staff, valid_credit_code

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def test_an_employer_reads_one_card_per_person_and_reminds_from_a_phone(page, live_server):
    year = timezone.localdate().year
    ce_year_ensure(year)
    employer = make_staff("danwei_phone", Role.EMPLOYER, "140502")
    employer_units_set(employer=employer, credit_codes=[valid_credit_code()], by=None)  # the factories' unit
    behind = make_active_archive(make_accountant(name="落后者", sequence=801, mobile="13900000801"))
    done = make_active_archive(make_accountant(name="完成者", sequence=803, mobile="13900000803"))
    credit_register(archive=done, year=year, subject_kind="professional", form="online", credits=90,
                    source_type="province", source_id="e2e", source_label="省厅登记")

    log_in(page, live_server, employer)
    page.goto(f"{live_server.url}/employer/")
    cards = page.locator(".people-table tbody tr")
    assert cards.count() == 2
    shapes = page.evaluate("""() => Array.from(document.querySelectorAll('.people-table tbody tr')).map(tr => ({
        display: getComputedStyle(tr).display, width: tr.getBoundingClientRect().width,
        unlabelled: Array.from(tr.cells).filter(td => !td.dataset.label ||
                                                 getComputedStyle(td, '::before').content === 'none').length}))""")
    assert all(s["display"] == "block" and s["width"] <= PHONE_WIDTH and s["unlabelled"] == 0 for s in shapes), shapes
    assert fits_the_phone(page)
    if os.environ.get("KJZX_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KJZX_SCREENSHOTS"], "employer_phone.png"), full_page=True)

    page.get_by_role("button", name="提醒落后者完成继续教育").click()
    page.get_by_text("已发送提醒").wait_for()
    page.get_by_text("今日已提醒").wait_for()
    reminder = Notification.objects.get(user=behind.person, event="employer.reminder")
    assert reminder.title.startswith("单位提醒：") and reminder.link == f"/me/cpe/{year}/"
    assert not Notification.objects.filter(user=done.person, event="employer.reminder").exists()

    page.set_viewport_size({"width": 1200, "height": 900})  # a desk: a table again
    assert page.evaluate("getComputedStyle(document.querySelector('.people-table tbody tr')).display") == "table-row"
    if os.environ.get("KJZX_SCREENSHOTS"):
        page.screenshot(path=os.path.join(os.environ["KJZX_SCREENSHOTS"], "employer_desk.png"), full_page=True)
