"""Transfer services: intra, outbound and inbound (R-TRF-1…4, R-CHG-4, API.md §2)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.utils import timezone

from kjzx.api import Conflict, DomainError
from kjzx.workflow import workflow_transition
from records.models import Archive
from records.services import change_open
from tests.factories import inbound_body, make_attachment, make_change, make_transfer
from transfers.models import Province, Transfer
from transfers.services import (
    NOT_CONNECTED,
    inbound_receive,
    outbound_ack,
    outbound_result,
    outbound_timeouts_return,
    transfer_open,
)

pytestmark = pytest.mark.django_db


def test_intra_transfer_moves_the_archive_atomically(accountant, county_reviewer, other_county_reviewer):
    """Origin accepts, destination approves: the jurisdiction moves and only the destination sees it (R-TRF-1)."""
    transfer = make_transfer(accountant, "submitted")
    assert transfer.transition_names_for(county_reviewer) == ["accept", "return"]
    assert transfer.transition_names_for(other_county_reviewer) == []
    transfer = workflow_transition(transfer, "accept", by=county_reviewer)
    assert transfer.jurisdiction_id == "140521" and transfer.status_display == "调出地已受理，待调入地审核"
    assert transfer.transition_names_for(other_county_reviewer) == ["approve", "reject"]
    transfer = workflow_transition(transfer, "approve", by=other_county_reviewer)
    assert transfer.status == "completed"
    assert Archive.objects.get(pk=transfer.archive_id).jurisdiction_id == "140521"


@time_machine.travel(dt.datetime(2025, 1, 24, 10, tzinfo=dt.timezone(dt.timedelta(hours=8))), tick=False)
def test_each_bureau_has_ten_working_days(accountant, county_reviewer):
    """R-TRF-2: the origin's 10 working days from submission, then the destination's from acceptance."""
    transfer = make_transfer(accountant, "submitted")
    assert transfer.due_date == dt.date(2025, 2, 13)
    transfer = workflow_transition(transfer, "accept", by=county_reviewer)
    assert transfer.due_date == dt.date(2025, 2, 13)


def test_destination_rejection_keeps_the_archive_and_tells_the_person(accountant):
    transfer = make_transfer(accountant, "rejected")
    assert transfer.status == "rejected" and transfer.reason == "调入单位信息不符"
    assert Archive.objects.get(pk=transfer.archive_id).jurisdiction_id == "140502"


def test_a_transfer_blocks_a_change_and_the_other_way_round(accountant):
    """R-CHG-4: one open change or transfer per archive."""
    make_transfer(accountant, "submitted")
    with pytest.raises(Conflict):
        change_open(person=accountant, items=["basic"], values={"basic": {"name": "张三丰", "ethnicity": "汉族"}})


def test_an_open_change_blocks_a_transfer(accountant):
    make_change(accountant, "submitted")
    with pytest.raises(Conflict):
        transfer_open(person=accountant, type="intra", to_region="140521", to_unit="某单位")


def test_outbound_to_an_unconnected_province_is_refused(accountant):
    """R-TRF-3: only connected provinces; others get "暂缓办理"."""
    make_transfer(accountant, "draft", type="outbound")  # makes the archive active
    Transfer.objects.all().delete()
    Province.objects.filter(pk="54").update(connected=False)
    with pytest.raises(DomainError) as caught:
        transfer_open(person=accountant, type="outbound", to_province="54", to_unit="拉萨某单位")
    assert caught.value.errors["to_province"] == [NOT_CONNECTED] and "暂缓办理" in NOT_CONNECTED


def test_student_needs_a_student_proof(accountant):
    transfer = make_transfer(accountant, "draft")
    transfer.attachments.set([make_attachment(accountant, "photo")])
    with pytest.raises(DomainError) as caught:
        workflow_transition(transfer, "submit", by=accountant)
    assert "attachments" in caught.value.errors


def test_outbound_exchange_ack_and_result_are_idempotent(accountant):
    """API.md §2: ack twice, result twice → the same; a different result → 409; the archive leaves Shanxi."""
    transfer = make_transfer(accountant, "accepted", type="outbound")
    assert transfer.transfer_no == transfer.number and transfer.person_record["id_number"] == accountant.id_number
    assert outbound_ack(transfer_no=transfer.transfer_no).status == "uploaded"
    assert outbound_ack(transfer_no=transfer.transfer_no).status == "uploaded"
    assert outbound_result(transfer_no=transfer.transfer_no, result="received").status == "completed"
    assert outbound_result(transfer_no=transfer.transfer_no, result="received").status == "completed"
    with pytest.raises(Conflict):
        outbound_result(transfer_no=transfer.transfer_no, result="rejected", reason="x")
    assert Archive.objects.get(pk=transfer.archive_id).status == Archive.Status.TRANSFERRED_OUT


def test_result_before_ack_counts_as_both(accountant):
    transfer = make_transfer(accountant, "accepted", type="outbound")
    done = outbound_result(transfer_no=transfer.transfer_no, result="rejected", reason="不予接收")
    assert done.status == "returned" and done.uploaded_at and done.reason == "不予接收"
    assert outbound_ack(transfer_no=transfer.transfer_no).status == "returned"


def test_unanswered_upload_returns_by_itself(accountant):
    """R-TRF-3: no answer within the period (30 days) → returned with the reason; the person may apply again."""
    transfer = make_transfer(accountant, "uploaded", type="outbound")
    assert outbound_timeouts_return() == 0
    later = timezone.now() + dt.timedelta(days=31)
    assert outbound_timeouts_return(now=later) == 1
    assert outbound_timeouts_return(now=later) == 0
    transfer.refresh_from_db()
    assert transfer.status == "returned" and transfer.reason == "调入地未在规定期限内接收"
    again = transfer_open(person=accountant, type="outbound", to_province="12", to_unit="天津某单位")
    assert again.status == "draft"


def test_inbound_is_idempotent_and_conflicts_on_another_body(county_reviewer):
    body = inbound_body()
    first, created = inbound_receive(body=body)
    again, created_again = inbound_receive(body=body)
    assert created and not created_again and first.pk == again.pk and first.status == "received"
    changed = inbound_body(name="赵七")
    with pytest.raises(Conflict):
        inbound_receive(body=changed)


def test_inbound_bad_data_names_the_fields():
    body = inbound_body(to_region="110101")
    number = body["person"]["id_number"]
    body["person"]["id_number"] = number[:-1] + ("0" if number[-1] != "0" else "1")  # a wrong check digit
    del body["to_unit"]
    with pytest.raises(DomainError) as caught:
        inbound_receive(body=body)
    assert {"to_region", "to_unit", "person.id_number"} <= set(caught.value.errors)
    assert not Transfer.objects.exists()


def test_inbound_approved_then_claimed_by_the_person(county_reviewer, accountant):
    """R-TRF-4: the bureau approves, the person logs in with the same ID and claims the archive."""
    body = inbound_body(id_number=accountant.id_number, name=accountant.name)
    body["person"]["sex"], body["person"]["birth_date"] = accountant.sex, accountant.birth_date.isoformat()
    transfer, _ = inbound_receive(body=body)
    assert transfer.transition_names_for(county_reviewer) == ["approve", "reject"]
    transfer = workflow_transition(transfer, "approve", by=county_reviewer)
    archive = Archive.objects.get(pk=transfer.archive_id)
    assert archive.status == Archive.Status.ACTIVE and archive.jurisdiction_id == "140502" and archive.person is None
    assert transfer.transition_names_for(accountant) == ["claim"]
    transfer = workflow_transition(transfer, "claim", by=accountant)
    archive.refresh_from_db()
    assert transfer.status == "claimed" and archive.person == accountant


def test_inbound_rejection_keeps_the_reason_for_the_platform(county_reviewer):
    transfer, _ = inbound_receive(body=inbound_body())
    transfer = workflow_transition(transfer, "reject", by=county_reviewer, reason="不属于会计人员信息采集范围")
    assert transfer.status == "rejected" and transfer.reason == "不属于会计人员信息采集范围"
    assert not Archive.objects.exists()


def test_a_rejected_intra_transfer_goes_back_to_the_origin(accountant):
    """R-TRF-1: rejected by the destination, the transfer is the origin bureau's again."""
    transfer = make_transfer(accountant, "rejected")
    assert transfer.jurisdiction_id == "140502"


def test_opening_names_every_problem_at_once(accountant):
    make_transfer(accountant, "withdrawn")
    with pytest.raises(DomainError) as caught:
        transfer_open(person=accountant, type="intra", to_region="999999", to_unit="")
    assert {"to_region", "to_unit"} <= set(caught.value.errors)


def test_an_unclaimed_inbound_archive_is_claimed_not_shadowed(client, county_reviewer, accountant):
    """R-TRF-4: a person whose inbound archive waits for them is sent to claim it, never given a second one."""
    from records.services import ArchiveAwaitingClaim, archive_for_person

    body = inbound_body(id_number=accountant.id_number, name=accountant.name)
    body["person"]["sex"], body["person"]["birth_date"] = accountant.sex, accountant.birth_date.isoformat()
    transfer, _ = inbound_receive(body=body)
    workflow_transition(transfer, "approve", by=county_reviewer)
    with pytest.raises(ArchiveAwaitingClaim):
        archive_for_person(accountant)
    client.force_login(accountant)
    response = client.get("/me/collection/")
    assert response.status_code == 302 and response["Location"] == "/me/transfers/"
    assert Archive.objects.count() == 1


def test_the_origin_bureau_is_told_of_a_rejection(accountant, county_reviewer):
    """R-TRF-1: a destination's rejection goes back to the origin bureau, with the reason."""
    from kjzx.models import Notification

    transfer = make_transfer(accountant, "rejected", origin=county_reviewer)
    note = Notification.objects.get(user=county_reviewer, title__startswith="调入地未通过")
    assert transfer.number in note.title and "调入单位信息不符" in note.body
