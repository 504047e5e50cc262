"""The intra-province transfer journey through the real pages, in Debian's Chromium.

A collected accountant of 城区 applies under 我的档案—档案调出申请 to move to 沁水县 with a stamped
工作证明; 城区's bureau accepts it (受理); 沁水's bureau approves; the archive's jurisdiction moves
and the person sees each step as it happens (R-TRF-1, R-TRF-2).
"""

from __future__ import annotations

import pytest

from accounts.models import Role
from records.models import Archive
from tests.e2e.test_collection_journey import log_in, log_out, scan
from tests.factories import PDF_BYTES, make_accountant, make_active_archive, make_staff
from transfers.models import Transfer

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True, serialized_rollback=True)]


def decide(page, live_server, reviewer, button):
    """A reviewer opens the transfer from the queue and decides it."""
    log_in(page, live_server, reviewer)
    page.goto(f"{live_server.url}/workbench/")
    page.locator("a[href^='/workbench/transfers/']").first.click()
    page.get_by_role("heading", name="办理记录").wait_for()
    page.get_by_role("button", name=button, exact=True).click()
    page.get_by_text("已办理").first.wait_for()
    log_out(page)


def test_accountant_transfers_from_chengqu_to_qinshui(page, live_server):
    person = make_accountant(name="刘敏", sequence=102)
    make_active_archive(person, "140502")
    origin = make_staff("chengqu_origin", Role.COUNTY_REVIEWER, "140502")
    destination = make_staff("qinshui_dest", Role.COUNTY_REVIEWER, "140521")

    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/transfers/")
    page.get_by_role("link", name="申请调转").first.click()
    page.get_by_role("radio", name="省内调转").check()
    page.get_by_label("调入地（省内调转）").select_option("140521")
    page.get_by_label("调入单位").fill("沁水县某会计师事务所")
    page.get_by_label("工作证明（加盖公章）").set_input_files(scan("工作证明.pdf", PDF_BYTES, "application/pdf"))
    page.get_by_role("button", name="提交申请").click()
    page.get_by_text("待调出地受理").first.wait_for()
    assert page.get_by_text("办理期限").first.is_visible()
    log_out(page)

    decide(page, live_server, origin, "受理")

    # The person sees the new step at once (R-TRF-1: status visible at every step).
    log_in(page, live_server, person)
    transfer = Transfer.objects.get(applicant=person)
    page.goto(f"{live_server.url}/me/transfers/{transfer.pk}/")
    page.get_by_text("待调入地审核").first.wait_for()
    log_out(page)

    decide(page, live_server, destination, "审核通过")

    assert Archive.objects.get(person=person).jurisdiction_id == "140521"
    log_in(page, live_server, person)
    page.goto(f"{live_server.url}/me/transfers/{transfer.pk}/")
    page.get_by_text("调转完成").first.wait_for()
    page.goto(f"{live_server.url}/me/archive/")
    page.get_by_text("沁水县").first.wait_for()
