"""load_demo (API.md §3): transfers in every state, in several bureaus, safe to load twice (R-TRF-1…4).

``demo`` (tests/conftest_dates.py) is the demo loaded twice for the session (records/tests/test_demo.py
checks that the second load adds nothing anywhere); every test here is ``date_sensitive``.
"""

import re

import pytest
from django.utils import timezone

from accounts.models import User
from kjzx.api import DomainError
from kjzx.workdays import working_day_set
from kjzx.workflow import workflow_transition
from records.models import Archive
from transfers.demo import EXCHANGE_CLIENT
from transfers.models import TIMEOUT_REASON, Province, Transfer
from transfers.selectors import claimable_inbound, outbox
from transfers.services import NOT_CONNECTED, transfer_open

pytestmark = pytest.mark.django_db

STATES = {
    "intra": {"draft", "submitted", "accepted", "completed", "rejected", "returned", "withdrawn"},
    "outbound": {"draft", "submitted", "accepted", "uploaded", "completed", "returned", "withdrawn"},
    "inbound": {"received", "approved", "rejected", "claimed"},
}


def test_every_state_of_each_transfer_type_exists(demo):
    """Intra, outbound and inbound transfers stand in every state of API.md §1 (R-TRF-1, R-TRF-3, R-TRF-4)."""
    for type_, states in STATES.items():
        found = set(Transfer.objects.filter(type=type_).values_list("status", flat=True))
        assert found == states, type_


def test_transfers_spread_over_at_least_three_bureaus(demo):
    """Origins and destinations of the demo lie in 城区, 沁水, 小店 and 晋城市直 (R-ACL-1)."""
    origins = set(Transfer.objects.exclude(type="inbound").values_list("from_region_id", flat=True))
    arrivals = set(Transfer.objects.filter(type="inbound").values_list("to_region_id", flat=True))
    assert len(origins) >= 3 and len(arrivals) >= 3
    assert {"140502", "140521", "140105", "140500"} <= origins


def test_every_return_and_rejection_carries_its_reason(demo):
    """R-ACL-3: returned and rejected transfers say why; one outbound came back by itself (R-TRF-3)."""
    for transfer in Transfer.objects.filter(status__in=["returned", "rejected"]):
        assert transfer.reason, transfer.number
    returned = Transfer.objects.filter(type="outbound", status="returned")
    assert returned.filter(reason=TIMEOUT_REASON).count() == 1
    assert returned.exclude(reason=TIMEOUT_REASON).count() == 1


def test_decisions_did_what_they_say(demo):
    """Intra completed: the archive moved (R-TRF-1); outbound completed: it left Shanxi (API.md §2)."""
    intra = Transfer.objects.get(type="intra", status="completed")
    assert intra.archive.jurisdiction_id == intra.to_region_id != intra.from_region_id
    outbound = Transfer.objects.get(type="outbound", status="completed")
    assert outbound.archive.status == Archive.Status.TRANSFERRED_OUT
    claimed = Transfer.objects.get(type="inbound", status="claimed")
    assert claimed.archive.person_id == claimed.applicant_id and claimed.archive.status == Archive.Status.ACTIVE


def test_queues_show_due_and_overdue_transfers_and_the_outbox_has_one(demo):
    """The bureaus' queues hold transfers with due dates, some overdue and reported (R-TRF-2, R-DL-2)."""
    waiting = Transfer.objects.filter(Transfer.review_q())
    assert waiting.exists() and not waiting.filter(due_date__isnull=True).exists()
    assert waiting.filter(due_date__lt=timezone.localdate(), escalated_for__isnull=False).exists()
    assert [t.status for t in outbox(limit=10)] == ["accepted"]


def test_every_transfer_was_submitted_on_a_working_day_in_the_past(demo):
    """Whatever today is, people and bureaus of the demo acted on working days (R-DL-1); the platform's
    time-out return may fall on any day, as the beat runs daily (R-TRF-3)."""
    moments = list(Transfer.objects.exclude(submitted_at=None).values_list("submitted_at", flat=True))
    days = {timezone.localdate(moment) for moment in moments}
    assert moments and max(moments) < timezone.now()
    assert days <= working_day_set(min(days), max(days)), sorted(days - working_day_set(min(days), max(days)))


def test_the_approved_inbound_person_can_log_in_and_claim(demo):
    """R-TRF-4: the approved record's ID belongs to a printed demo login, who claims the archive."""
    transfer = Transfer.objects.get(type="inbound", status="approved")
    person = User.objects.get(id_type=transfer.person_id_type, id_number=transfer.person_id_number)
    assert f"{person.login_name}  {person.name}：" in demo["first"]
    assert list(claimable_inbound(person)) == [transfer]
    assert transfer.transition_names_for(person) == ["claim"]
    claimed = workflow_transition(transfer, "claim", by=person)
    assert claimed.status == "claimed" and Archive.objects.get(pk=claimed.archive_id).person == person


def test_an_unconnected_province_is_refused_for_a_demo_person(demo):
    """R-TRF-3: 西藏 is marked not connected; the timed-out person applying there gets "暂缓办理"."""
    assert not Province.objects.get(pk="54").connected
    person = Transfer.objects.get(type="outbound", reason=TIMEOUT_REASON).applicant
    with pytest.raises(DomainError) as caught:
        transfer_open(person=person, type="outbound", to_province="54", to_unit="拉萨某单位")
    assert caught.value.errors["to_province"] == [NOT_CONNECTED]


def test_the_exchange_token_is_printed_only_when_made(demo, api_client):
    """The demo platform client (API.md §3) is made once; the token shown the first time only is its own."""
    token = re.search(r"令牌（仅此一次显示，请保存）：(\S+)", demo["first"]).group(1)
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    me = api_client.get("/api/v1/me/").json()
    assert (me["username"], me["role"]) == (EXCHANGE_CLIENT, "exchange_client")
    assert token not in demo["second"] and "已在先前载入时创建" in demo["second"]
