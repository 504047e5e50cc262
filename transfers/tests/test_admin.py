"""Admin of transfers (/manage/transfers/): provinces and the exchange period are policy; transfers read only."""

import pytest

from kjzx.api import DomainError
from kjzx.models import AuditEvent
from tests.factories import as_admin, inbound_body, login_staff, make_active_archive, make_transfer
from transfers.models import ExchangePolicy, Province, Transfer
from transfers.services import NOT_CONNECTED, inbound_receive, transfer_open

pytestmark = pytest.mark.django_db

PROVINCES = "/manage/transfers/province/"


@pytest.fixture
def staff_client(client, province_staff):
    """The system administrator (like the demo's 'xitong'): the policy is theirs (三权分立)."""
    as_admin(province_staff, "system_admin")  # the policy is the system administrator's (三权分立)
    login_staff(client, province_staff)
    return client


def list_edit(client, code, *, connected, note=""):
    """Post the province list's inline edit for the one row the search finds."""
    data = {"form-TOTAL_FORMS": "1", "form-INITIAL_FORMS": "1", "form-MIN_NUM_FORMS": "0",
            "form-MAX_NUM_FORMS": "1000", "form-0-code": code, "form-0-note": note, "_save": "保存"}
    if connected:
        data["form-0-connected"] = "on"
    return client.post(f"{PROVINCES}?q={code}", data)


def test_staff_disconnect_a_province_in_the_list_and_outbound_is_refused(staff_client, province_staff, accountant):
    """R-TRF-3: provincial staff mark 西藏 not connected in the admin list; an outbound request there gets 暂缓办理."""
    make_active_archive(accountant)
    response = list_edit(staff_client, "54", connected=False, note="尚未对接全国平台")
    assert response.status_code == 302
    province = Province.objects.get(pk="54")
    assert not province.connected and province.note == "尚未对接全国平台"
    event = AuditEvent.objects.get(event_type="province.updated", target_id="54")
    assert event.actor == province_staff and event.extra == {"connected": False, "note": "尚未对接全国平台"}
    with pytest.raises(DomainError) as caught:
        transfer_open(person=accountant, type="outbound", to_province="54", to_unit="拉萨某单位")
    assert caught.value.errors["to_province"] == [NOT_CONNECTED] and "暂缓办理" in NOT_CONNECTED


def test_reconnecting_a_province_on_its_page_lets_people_apply(staff_client, accountant):
    """R-TRF-3: once connected again, the same request opens a draft."""
    make_active_archive(accountant)
    Province.objects.filter(pk="54").update(connected=False)
    response = staff_client.post(f"{PROVINCES}54/change/", {"connected": "on", "note": ""})
    assert response.status_code == 302 and Province.objects.get(pk="54").connected
    transfer = transfer_open(person=accountant, type="outbound", to_province="54", to_unit="拉萨某单位")
    assert transfer.status == "draft"


def test_provinces_cannot_be_added_or_deleted(staff_client):
    """The GB/T 2260 codes are shipped data: the list shows them with their state, no add or delete."""
    response = staff_client.get(PROVINCES)
    assert response.status_code == 200 and "西藏自治区" in response.text
    assert staff_client.get(f"{PROVINCES}add/").status_code == 403
    assert staff_client.post(f"{PROVINCES}54/delete/", {"post": "yes"}).status_code == 403
    assert Province.objects.filter(pk="54").exists()


def test_staff_change_the_outbound_answer_period(staff_client):
    """R-TRF-3: the province sets how long an uploaded record waits (default 30 days); 0 is refused."""
    policy = ExchangePolicy.current()
    url = f"/manage/transfers/exchangepolicy/{policy.pk}/change/"
    assert staff_client.get("/manage/transfers/exchangepolicy/").status_code == 200
    response = staff_client.post(url, {"outbound_timeout_days": "0"})
    assert response.status_code == 200 and "1 至 365" in response.text
    assert staff_client.post(url, {"outbound_timeout_days": "45"}).status_code == 302
    assert ExchangePolicy.current().outbound_timeout_days == 45
    assert AuditEvent.objects.filter(event_type="exchange_policy.updated", extra={"outbound_timeout_days": 45}).exists()
    assert staff_client.get("/manage/transfers/exchangepolicy/add/").status_code == 403
    assert staff_client.post(f"/manage/transfers/exchangepolicy/{policy.pk}/delete/", {"post": "yes"}).status_code \
        == 403


def test_transfers_are_read_only_and_show_no_raw_id_number(staff_client, accountant):
    """Transfers move only through their workflow: the admin lists and shows them, masked, with no change or delete."""
    transfer = make_transfer(accountant, "submitted")
    inbound, _created = inbound_receive(body=inbound_body())
    listing = staff_client.get("/manage/transfers/transfer/")
    assert listing.status_code == 200
    for shown in (transfer.number, inbound.number, accountant.name, accountant.masked_id_number, "北京市",
                  "待调出地受理", "晋城市城区"):
        assert shown in listing.text, shown
    assert accountant.id_number not in listing.text and inbound.person_id_number not in listing.text
    page = staff_client.get(f"/manage/transfers/transfer/{transfer.pk}/change/")
    assert page.status_code == 200 and transfer.number in page.text and accountant.id_number not in page.text
    assert staff_client.post(f"/manage/transfers/transfer/{transfer.pk}/change/", {"to_unit": "x"}).status_code \
        == 403
    assert staff_client.post(f"/manage/transfers/transfer/{transfer.pk}/delete/", {"post": "yes"}).status_code \
        == 403
    assert staff_client.get("/manage/transfers/transfer/add/").status_code == 403
    assert Transfer.objects.get(pk=transfer.pk).to_unit != "x"


def test_transfers_are_found_by_their_number(staff_client, accountant):
    transfer = make_transfer(accountant, "draft")
    response = staff_client.get("/manage/transfers/transfer/", {"q": transfer.number})
    assert list(response.context["cl"].queryset) == [transfer]
