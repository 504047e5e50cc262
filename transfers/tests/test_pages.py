"""The transfer pages: the person's 档案调出申请, the bureau's transfer page, the exchange monitor.

R-TRF-1, R-TRF-3, R-TRF-4, R-CHG-4, R-ACL-1, R-ACL-2, R-ACL-3, R-DL-2. HTTP round trips with the
Django client; the states are walked through the real services (tests.factories).
"""

from __future__ import annotations

import re
from datetime import date
from itertools import count

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import mask_id_number
from kjzx.workflow import workflow_transition
from records.models import Archive, ChangeRequest
from tests.factories import (
    inbound_body,
    login_staff,
    make_accountant,
    make_active_archive,
    make_change,
    make_id_number,
    make_transfer,
    upload,
)
from transfers.models import Province, Transfer
from transfers.services import NOT_CONNECTED, inbound_receive, outbound_ack

pytestmark = pytest.mark.django_db

LIST = "/me/transfers/"
NEW = "/me/transfers/new/"
QUEUE = "/workbench/"
EXCHANGE = "/workbench/exchange/"
HOME = "/me/"
UNIT = "沁水县某会计师事务所"


def person_url(transfer, name: str | None = None) -> str:
    if name:
        return reverse("person_transfer_transition", kwargs={"pk": transfer.pk, "name": name})
    return reverse("person_transfer_detail", kwargs={"pk": transfer.pk})


def workbench_url(transfer, name: str | None = None) -> str:
    if name:
        return reverse("workbench_transfer_transition", kwargs={"pk": transfer.pk, "name": name})
    return reverse("workbench_transfer", kwargs={"pk": transfer.pk})


def page(client, user, url: str, status: int = 200) -> str:
    login_staff(client, user)
    response = client.get(url)
    assert response.status_code == status
    return response.content.decode()


def act(client, user, url: str, **data):
    login_staff(client, user)
    return client.post(url, data)


def intra_form(button="submit", **extra) -> dict:
    """The new-transfer form as a browser sends it, with the button pressed (submit or save)."""
    return {"type": "intra", "to_region": "140521", "to_unit": UNIT, button: "1", **extra}


def mine_for(person, *, to_region="140502", name=None):
    """An inbound record of ``person`` (same ID, birth date and sex) as the platform sends it."""
    body = inbound_body(id_number=person.id_number, to_region=to_region, name=name or person.name)
    body["person"]["sex"], body["person"]["birth_date"] = person.sex, person.birth_date.isoformat()
    return inbound_receive(body=body)[0]


# --- the person: apply, follow, see the result (R-TRF-1) ---------------------------------------------

def test_intra_transfer_from_the_page_to_completion(client, accountant, county_reviewer, other_county_reviewer):
    """Apply with a stamped proof; the status shows at every step; approval moves the archive (R-TRF-1, R-DL-2)."""
    make_active_archive(accountant)
    form = page(client, accountant, NEW)
    assert 'value="140521"' in form and 'value="140502"' not in form  # the current jurisdiction is not offered
    response = act(client, accountant, NEW, **intra_form(employment_proof=upload("工作证明.png")))
    transfer = Transfer.objects.get()
    assert response.status_code == 302 and response["Location"] == person_url(transfer)
    shown = page(client, accountant, person_url(transfer))
    assert "待调出地受理" in shown and transfer.due_date.isoformat() in shown and "工作证明.png" in shown

    origin = page(client, county_reviewer, workbench_url(transfer))
    assert "受理" in origin and accountant.id_number not in origin  # the ID is masked
    assert act(client, county_reviewer, workbench_url(transfer, "accept"))["Location"] == QUEUE
    assert "调出地已受理，待调入地审核" in page(client, accountant, person_url(transfer))

    assert act(client, other_county_reviewer, workbench_url(transfer, "approve")).status_code == 302
    shown = page(client, accountant, person_url(transfer))
    assert "调转完成" in shown and "审核通过" in shown  # the status and the history
    assert "沁水县" in page(client, accountant, "/me/archive/")
    assert "调转完成" in page(client, accountant, LIST)


def test_origin_keeps_the_decided_transfer_but_not_the_moved_archive(client, accountant, county_reviewer,
                                                                     other_county_reviewer):
    """After the move the origin still reads its transfer and history, not the archive nor its new changes (R-ACL-1)."""
    transfer = make_transfer(accountant, "completed", origin=county_reviewer, destination=other_county_reviewer)
    kept = page(client, county_reviewer, workbench_url(transfer))
    assert transfer.number in kept and "调出地受理" in kept and "档案详情仅向档案现管理属地" in kept
    assert "山西省晋城市城区凤台东街1号" not in kept  # the archive's address: no longer theirs to read
    change = make_change(accountant, "submitted", jurisdiction="140521")
    assert change.jurisdiction_id == "140521"
    page(client, county_reviewer, reverse("workbench_change", kwargs={"pk": change.pk}), status=404)
    page(client, other_county_reviewer, reverse("workbench_change", kwargs={"pk": change.pk}))


def test_the_destination_reads_the_archive_once_it_is_its_step(client, accountant, county_reviewer,
                                                               other_county_reviewer):
    """The destination sees what is coming; once accepted, the archive it must judge and the proof (R-TRF-1)."""
    transfer = make_transfer(accountant, "submitted")
    coming = page(client, other_county_reviewer, workbench_url(transfer))
    assert "山西省晋城市城区凤台东街1号" not in coming and "档案详情仅向档案现管理属地" in coming
    transfer = workflow_transition(transfer, "accept", by=county_reviewer)
    shown = page(client, other_county_reviewer, workbench_url(transfer))
    assert "山西省晋城市城区凤台东街1号" in shown and "审核通过" in shown and "不予通过" in shown
    assert "显示完整号码" not in shown and accountant.id_number not in shown  # no reveal for transfers: masked
    proof = transfer.attachments.get()
    assert client.get(reverse("attachment_file", kwargs={"pk": proof.pk})).status_code == 200  # the proof inline


def test_rejection_needs_a_reason_which_the_person_reads(client, accountant, other_county_reviewer):
    """不予通过 without a reason is refused beside the field; with one, the person sees it (R-ACL-3, R-TRF-1)."""
    transfer = make_transfer(accountant, "accepted")
    response = act(client, other_county_reviewer, workbench_url(transfer, "reject"))
    assert response.status_code == 400 and "请填写原因" in response.content.decode()
    act(client, other_county_reviewer, workbench_url(transfer, "reject"), reason="调入单位与工作证明不符")
    shown = page(client, accountant, person_url(transfer))
    assert "调入地未通过" in shown and "调入单位与工作证明不符" in shown
    assert Archive.objects.get(pk=transfer.archive_id).jurisdiction_id == "140502"


def test_a_decision_taken_twice_is_a_message_not_an_error(client, accountant, county_reviewer, second_reviewer):
    """Two reviewers of the origin accept at once: the second gets a message and the current state."""
    transfer = make_transfer(accountant, "submitted")
    act(client, county_reviewer, workbench_url(transfer, "accept"))
    response = act(client, second_reviewer, workbench_url(transfer, "accept"))
    assert response.status_code == 302 and response["Location"] == workbench_url(transfer)
    assert "已被他人处理" in page(client, second_reviewer, workbench_url(transfer))


def test_a_refused_submission_keeps_what_was_typed_and_leaves_no_draft(client, accountant):
    """No proof: the reason beside the uploads, the unit kept, nothing saved — the corrected form goes through."""
    make_active_archive(accountant)
    response = act(client, accountant, NEW, **intra_form())
    shown = response.content.decode()
    assert response.status_code == 200 and "请上传加盖公章的工作证明扫描件" in shown and UNIT in shown
    assert not Transfer.objects.exists()
    act(client, accountant, NEW, **intra_form(employment_proof=upload()))
    assert Transfer.objects.get().status == "submitted"


def test_a_student_writes_none_and_uploads_a_student_proof(client, accountant):
    """A student's unit is "无" with a 学籍证明 (R-TRF-1)."""
    make_active_archive(accountant)
    act(client, accountant, NEW, **intra_form(to_unit="无", student_proof=upload("学籍证明.png")))
    transfer = Transfer.objects.get()
    assert transfer.status == "submitted" and transfer.attachments.get().kind == "student_proof"


def test_a_draft_is_saved_then_submitted_or_withdrawn(client, accountant):
    """保存草稿 keeps it as a draft; the person submits it from its page, and may withdraw before acceptance."""
    make_active_archive(accountant)
    act(client, accountant, NEW, **intra_form("save", employment_proof=upload()))
    transfer = Transfer.objects.get()
    assert transfer.status == "draft" and "草稿" in page(client, accountant, person_url(transfer))
    act(client, accountant, person_url(transfer, "submit"))
    assert "待调出地受理" in page(client, accountant, person_url(transfer))
    act(client, accountant, person_url(transfer, "withdraw"))
    transfer.refresh_from_db()
    assert transfer.status == "withdrawn"
    assert 'href="/me/transfers/new/"' in page(client, accountant, LIST)  # free to apply again


def test_the_person_may_not_take_a_bureau_decision(client, accountant):
    """Only submit, withdraw and claim have a person's URL; anything else is not found."""
    transfer = make_transfer(accountant, "submitted")
    assert act(client, accountant, person_url(transfer, "accept")).status_code == 404
    assert Transfer.objects.get().status == "submitted"


# --- R-TRF-3 and R-CHG-4 --------------------------------------------------------------------------

def test_outbound_to_an_unconnected_province_says_zanhuan_banli_and_creates_nothing(client, accountant):
    """An unconnected province is shown as 暂缓办理 and refused with that answer (R-TRF-3)."""
    make_active_archive(accountant)
    Province.objects.filter(pk="54").update(connected=False)
    form = page(client, accountant, NEW)
    assert re.search(r'<option value="54"[^>]*disabled[^>]*>西藏自治区（暂缓办理）</option>', form)
    response = act(client, accountant, NEW, type="outbound", to_province="54", to_unit="拉萨某单位",
                   employment_proof=upload(), submit="1")
    assert response.status_code == 200 and NOT_CONNECTED in response.content.decode()
    assert not Transfer.objects.exists()


def test_outbound_transfer_shows_its_place_in_the_exchange(client, accountant):
    """After acceptance the person reads that the record goes to the national platform, then the return-by day."""
    transfer = make_transfer(accountant, "accepted", type="outbound")
    assert "调出地已受理，待上传全国平台" in page(client, accountant, person_url(transfer))
    outbound_ack(transfer_no=transfer.transfer_no)
    shown = page(client, accountant, person_url(transfer))
    assert "已上传全国平台，待调入地接收" in shown and "自动退回调出地" in shown


def test_apply_is_disabled_with_the_reason_while_a_change_is_open(client, accountant):
    """R-CHG-4: an open change disables 申请调转 and names it; the form itself sends the person back."""
    change = make_change(accountant, "submitted")
    shown = page(client, accountant, LIST)
    assert re.search(r"<button[^>]*disabled[^>]*>申请调转</button>", shown) and change.number in shown
    response = act(client, accountant, NEW, **intra_form(employment_proof=upload()))
    assert response.status_code == 302 and response["Location"] == LIST and not Transfer.objects.exists()
    assert ChangeRequest.objects.get().status == "submitted"


def test_apply_is_disabled_before_the_collection_is_approved(client, accountant):
    shown = page(client, accountant, LIST)
    assert "信息采集审核通过后才能申请档案调转" in shown
    assert page(client, accountant, NEW, status=302) == ""


# --- inbound: review and claim (R-TRF-4) -------------------------------------------------------------

def test_inbound_record_is_reviewed_then_claimed_by_the_person(client, accountant, county_reviewer):
    """The bureau reads the incoming record and approves; the person is told, claims it and has an archive."""
    transfer = mine_for(accountant)
    shown = page(client, county_reviewer, workbench_url(transfer))
    assert "调入人员信息" in shown and "中央财经大学" in shown and "北京市" in shown and "2025" in shown
    assert accountant.id_number not in shown
    queue = page(client, county_reviewer, QUEUE + "?kind=transfer")
    assert accountant.name in queue and mask_id_number(accountant.id_number) in queue  # no archive yet: the record
    assert workbench_url(transfer) in queue
    act(client, county_reviewer, workbench_url(transfer, "approve"))

    assert "去认领档案" in page(client, accountant, HOME)
    listed = page(client, accountant, LIST)
    assert "待认领的调入档案" in listed and person_url(transfer, "claim") in listed
    response = act(client, accountant, person_url(transfer, "claim"))
    assert response.status_code == 302 and response["Location"] == "/me/archive/"
    assert "中央财经大学" in page(client, accountant, "/me/archive/")
    archive = Archive.objects.get(pk=Transfer.objects.get().archive_id)
    assert archive.person == accountant and archive.status == Archive.Status.ACTIVE
    assert "已认领，调转完成" in page(client, accountant, person_url(transfer))
    home = page(client, accountant, HOME)
    assert "去认领档案" not in home
    claimed = Transfer.objects.get()  # now the person's own: 个人中心 shows it as their latest transfer (R-TRF-1)
    assert "档案调转：" in home and person_url(claimed) in home and claimed.number in home


def test_someone_elses_inbound_record_cannot_be_claimed(client, accountant, other_accountant, county_reviewer):
    transfer = mine_for(accountant)
    workflow_transition(transfer, "approve", by=county_reviewer)
    assert act(client, other_accountant, person_url(transfer, "claim")).status_code == 404
    assert Transfer.objects.get().status == "approved"


# --- jurisdiction and roles (R-ACL-1, R-ACL-2) ------------------------------------------------------

def test_a_reviewer_of_another_city_finds_nothing(client, accountant, other_city_reviewer):
    """Outside the reviewer's region the transfer does not exist: 404 on the page and on a decision (R-ACL-1)."""
    transfer = make_transfer(accountant, "submitted")
    page(client, other_city_reviewer, workbench_url(transfer), status=404)
    assert act(client, other_city_reviewer, workbench_url(transfer, "accept")).status_code == 404
    assert Transfer.objects.get().status == "submitted"


def test_the_city_above_sees_but_the_destination_cannot_act_before_acceptance(client, accountant, city_reviewer,
                                                                            other_county_reviewer):
    """The city sees its counties' transfers; the destination sees what is coming, without buttons (R-ACL-1)."""
    transfer = make_transfer(accountant, "submitted")
    assert "受理" in page(client, city_reviewer, workbench_url(transfer))
    coming = page(client, other_county_reviewer, workbench_url(transfer))
    assert "当前状态下您没有可办理的操作" in coming
    response = act(client, other_county_reviewer, workbench_url(transfer, "accept"))
    assert response.status_code == 302 and Transfer.objects.get().status == "submitted"


def test_another_person_transfer_is_not_found(client, accountant, other_accountant):
    """R-ACL-2: another person's transfer is a 404, and so is acting on it."""
    transfer = make_transfer(accountant, "submitted")
    page(client, other_accountant, person_url(transfer), status=404)
    assert act(client, other_accountant, person_url(transfer, "withdraw")).status_code == 404
    assert transfer.number not in page(client, other_accountant, LIST)


def test_an_accountant_may_not_open_workbench_pages(client, accountant):
    transfer = make_transfer(accountant, "submitted")
    page(client, accountant, workbench_url(transfer), status=403)
    assert act(client, accountant, workbench_url(transfer, "accept")).status_code == 403
    page(client, accountant, EXCHANGE, status=403)


# --- the queue and the exchange monitor ----------------------------------------------------------------

def test_queue_lists_transfers_with_their_own_page(client, accountant, county_reviewer):
    """The queue offers 档案调转 as a kind and links each row to the transfer page (R-TRF-1, R-DL-2)."""
    transfer = make_transfer(accountant, "submitted")
    queue = page(client, county_reviewer, QUEUE)
    assert '<option value="transfer">档案调转</option>' in queue
    assert f'<a href="{workbench_url(transfer)}">{transfer.number}</a>' in queue


def test_exchange_monitor_is_for_provincial_staff(client, county_reviewer, city_reviewer):
    page(client, county_reviewer, EXCHANGE, status=403)
    page(client, city_reviewer, EXCHANGE, status=403)


_people = count(601, 2)  # distinct valid ID sequences, clear of the personas' (101, 303)


def _exchange_state(n: int):
    """n outbound transfers waiting for the platform, n uploaded, n returned; n inbound records received."""
    for state in ("accepted", "uploaded", "exchange_returned") * n:
        i = next(_people)
        make_transfer(make_accountant(sequence=i, name=f"调出{i}"), state, type="outbound")
    for _ in range(n):
        i = next(_people)
        number = make_id_number("110101", date(1985, 3, 1), i)
        inbound_receive(body=inbound_body(f"11202601{i:04d}", id_number=number, name=f"调入{i}"))


def test_exchange_monitor_groups_and_counts_in_a_fixed_number_of_queries(client, province_staff):
    """Each group with its count and return-by dates, the same number of queries for 1 or 3 of each (API.md §2)."""
    _exchange_state(1)
    login_staff(client, province_staff)
    with CaptureQueriesContext(connection) as few:
        shown = client.get(EXCHANGE).content.decode()
    assert "待上传全国平台" in shown and "调入地不予接收" in shown and "调入" in shown
    uploaded = Transfer.objects.get(status="uploaded")
    assert workbench_url(uploaded) in shown and "→" in shown
    _exchange_state(3)
    with CaptureQueriesContext(connection) as many:
        shown = client.get(EXCHANGE).content.decode()
    assert shown.count('href="/workbench/transfers/') == Transfer.objects.count()
    assert len(many) == len(few), [q["sql"] for q in many.captured_queries]


def test_the_home_page_reads_the_same_where_a_union_cannot_hold_limits(client, accountant, county_reviewer,
                                                                        monkeypatch):
    """SQLite (the embedded default of scripts/run.sh) refuses LIMIT inside a UNION's branches: 个人中心
    then reads the latest request and the records to claim in two queries, and shows the same."""
    transfer = mine_for(accountant)
    act(client, county_reviewer, workbench_url(transfer, "approve"))
    page(client, accountant, HOME)  # the reviewer's flash message goes with the first page
    with_union = page(client, accountant, HOME)
    monkeypatch.setattr(connection.features, "supports_slicing_ordering_in_compound", False)
    without = page(client, accountant, HOME)
    assert "去认领档案" in without
    assert re.sub(r'value="[^"]*"', "", with_union) == re.sub(r'value="[^"]*"', "", without)  # csrf tokens aside
