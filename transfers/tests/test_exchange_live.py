"""The national platform's side of the exchange, over real HTTP against a running portal (API.md §2).

The test plays the platform with nothing but ``urllib`` and its token, as a remote client would:
what it sends is encoded by hand and what it reads is the bytes the server wrote. The bureaus' steps
are taken through the services, as the workbench would.
"""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from accounts.services import exchange_token_create
from kjzx.workflow import workflow_transition
from records.models import Archive
from tests.factories import inbound_body, make_accountant, make_transfer
from transfers.models import Transfer

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

# No proxy from the environment between the test and the server on this machine.
OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Platform:
    """The national platform as an HTTP client of /api/exchange/v1/."""

    def __init__(self, base_url: str, token: str):
        self.base = f"{base_url}/api/exchange/v1"
        self.token = token

    def call(self, method: str, path: str, body=None) -> tuple[int, object]:
        data = None if body is None else json.dumps(body, ensure_ascii=False).encode()
        request = urllib.request.Request(  # noqa: S310  (our own live server, http on localhost)
            self.base + path, data=data, method=method,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json",
                     "Accept": "application/json"})
        try:
            with OPENER.open(request, timeout=10) as response:
                assert response.headers["Content-Type"].startswith("application/json")
                return response.status, json.loads(response.read())
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"null")


@pytest.fixture
def platform(live_server) -> Platform:
    return Platform(live_server.url, exchange_token_create(name="national-platform"))


def test_a_whole_outbound_exchange_over_http(platform, accountant):
    """Accepted by 城区 → the platform pulls it, acknowledges, reports "received": the archive has left
    Shanxi and stays as history (R-TRF-3)."""
    transfer = make_transfer(accountant, "accepted", type="outbound", to_province="31", to_unit="上海某公司")

    code, page = platform.call("GET", "/outbound/?limit=10")
    assert code == 200 and page["next_cursor"] is None
    [row] = page["results"]
    number = row["transfer_no"]
    assert number == transfer.number and row["to_province"] == "31" and row["from_region"] == "140502"
    assert row["person"]["id_number"] == accountant.id_number and row["person"]["name"] == accountant.name

    assert platform.call("POST", f"/outbound/{number}/ack/") == (200, {"transfer_no": number, "status": "uploaded"})
    assert platform.call("POST", f"/outbound/{number}/ack/") == (200, {"transfer_no": number, "status": "uploaded"})
    assert platform.call("GET", "/outbound/") == (200, {"results": [], "next_cursor": None})

    received = {"result": "received", "reason": ""}
    assert platform.call("POST", f"/outbound/{number}/result/", received) == (
        200, {"transfer_no": number, "status": "completed"})
    assert platform.call("POST", f"/outbound/{number}/result/", received)[0] == 200
    assert platform.call("POST", f"/outbound/{number}/result/", {"result": "rejected", "reason": "x"})[0] == 409

    archive = Archive.objects.get(person=accountant)
    assert archive.status == Archive.Status.TRANSFERRED_OUT and archive.name == accountant.name
    assert Transfer.objects.get(pk=transfer.pk).status == "completed"


def test_a_whole_inbound_exchange_over_http(platform, county_reviewer, other_county_reviewer):
    """Pushed in → 城区 approves, 沁水 rejects with a reason; the platform reads both decisions back (R-TRF-4)."""
    someone = make_accountant(sequence=111, name="孙八", mobile="13600000000")
    welcome = inbound_body("11202609001", id_number=someone.id_number, name=someone.name)
    welcome["person"]["sex"], welcome["person"]["birth_date"] = someone.sex, someone.birth_date.isoformat()
    refused = inbound_body("11202609002", to_region="140521")

    code, answer = platform.call("POST", "/inbound/", welcome)
    assert code == 201 and (answer["transfer_no"], answer["status"], answer["reason"]) == (
        "11202609001", "received", "")
    assert platform.call("POST", "/inbound/", welcome) == (200, answer)
    assert platform.call("POST", "/inbound/", refused)[0] == 201
    changed = dict(welcome, to_unit="另一个单位")
    assert platform.call("POST", "/inbound/", changed)[0] == 409

    workflow_transition(Transfer.objects.get(transfer_no="11202609001"), "approve", by=county_reviewer)
    workflow_transition(Transfer.objects.get(transfer_no="11202609002"), "reject", by=other_county_reviewer,
                        reason="不属于本省会计人员信息采集范围")

    code, approved = platform.call("GET", "/inbound/11202609001/")
    assert code == 200 and (approved["status"], approved["reason"]) == ("approved", "")
    code, rejected = platform.call("GET", "/inbound/11202609002/")
    assert code == 200 and (rejected["status"], rejected["reason"]) == ("rejected", "不属于本省会计人员信息采集范围")
    assert platform.call("GET", "/inbound/11202609003/")[0] == 404
    assert Archive.objects.get(id_number=someone.id_number).jurisdiction_id == "140502"


def test_the_platforms_token_is_the_only_way_in(live_server, accountant):
    """No token → 401, a person's token → 403, over the wire too (API.md §2)."""
    from knox.models import AuthToken

    assert Platform(live_server.url, "").call("GET", "/outbound/")[0] == 401
    person = Platform(live_server.url, AuthToken.objects.create(user=accountant)[1])
    assert person.call("GET", "/outbound/")[0] == 403
    assert person.call("POST", "/inbound/", inbound_body("11202609004"))[0] == 403
