"""The national-platform exchange, /api/exchange/v1/ (API.md §2; R-TRF-3, R-TRF-4).

Every call is safe to repeat: the same call twice leaves the same state and gives the same answer,
calls may arrive out of order, and two at once do the work once.
"""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from accounts.services import exchange_token_create
from kjzx.models import AuditEvent
from kjzx.workflow import workflow_transition
from records.models import Archive
from tests.factories import inbound_body, login_staff, make_accountant, make_id_number, make_transfer
from transfers.models import TIMEOUT_REASON, Transfer
from transfers.services import outbound_timeouts_return

pytestmark = pytest.mark.django_db

X = "/api/exchange/v1"


@pytest.fixture
def platform(db) -> APIClient:
    """The national platform, with its own token (API.md §3 create_exchange_token)."""
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {exchange_token_create(name='national-platform')}")
    return client


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {AuthToken.objects.create(user=user)[1]}")
    return client


def twice(call):
    """Make the same call twice; both answers must be the same (API.md §2)."""
    first, second = call(), call()
    assert (first.status_code, first.json()) == (second.status_code, second.json())
    return first


def another_person(sequence=107):
    return make_accountant(sequence=sequence, name=f"王{sequence}", mobile="13700000000")


def ack(platform, number):
    return platform.post(f"{X}/outbound/{number}/ack/", format="json")


def result(platform, number, outcome, reason=None):
    body = {"result": outcome} if reason is None else {"result": outcome, "reason": reason}
    return platform.post(f"{X}/outbound/{number}/result/", body, format="json")


def push(platform, body):
    return platform.post(f"{X}/inbound/", body, format="json")


# --- who may call -------------------------------------------------------------------------------

CALLS = [("get", "/outbound/"), ("post", "/outbound/DZ2026-000001/ack/"), ("post", "/outbound/DZ2026-000001/result/"),
         ("post", "/inbound/"), ("get", "/inbound/11202600001/")]


@pytest.mark.parametrize("method, path", CALLS)
def test_only_the_exchange_clients_token_opens_the_exchange(method, path, accountant, county_reviewer,
                                                            province_staff):
    """No credentials → 401; an accountant's or a bureau's token → 403, even the province's (API.md §1, §2)."""
    assert getattr(APIClient(), method)(X + path, {}, format="json").status_code == 401
    for user in (accountant, county_reviewer, province_staff):
        assert getattr(token_client(user), method)(X + path, {}, format="json").status_code == 403
    session = APIClient()
    login_staff(session, province_staff)  # a browser session is not the platform's door either
    assert getattr(session, method)(X + path, {}, format="json").status_code == 401
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert getattr(wrong, method)(X + path, {}, format="json").status_code == 401


# --- outbound -----------------------------------------------------------------------------------

def test_outbound_lists_accepted_records_oldest_first_with_the_full_person(platform, accountant):
    """Accepted, not yet acknowledged, oldest acceptance first; the person record as API.md §2 (R-TRF-3)."""
    first = make_transfer(accountant, "accepted", type="outbound")
    second = make_transfer(another_person(), "accepted", type="outbound", to_province="31")
    make_transfer(another_person(109), "submitted", type="outbound")  # not accepted yet: not sent
    page = twice(lambda: platform.get(f"{X}/outbound/")).json()
    assert [row["transfer_no"] for row in page["results"]] == [first.transfer_no, second.transfer_no]
    assert page["next_cursor"] is None
    row = page["results"][0]
    assert set(row) == {"transfer_no", "person", "from_region", "to_province", "to_unit", "accepted_at"}
    assert row["from_region"] == "140502" and row["to_province"] == "11" and row["to_unit"] == first.to_unit
    assert row["person"]["id_number"] == accountant.id_number  # the platform gets the whole number
    assert {"id_type", "name", "sex", "birth_date", "mobile", "education", "qualifications", "employer",
            "began_accounting_on", "cpe"} <= set(row["person"])
    assert row["accepted_at"].endswith("+08:00")


def test_outbound_pages_with_an_opaque_cursor(platform, accountant):
    """limit and next_cursor walk the outbox; acknowledging meanwhile skips nothing (API.md §2)."""
    numbers = [make_transfer(person, "accepted", type="outbound").transfer_no
               for person in (accountant, another_person(107), another_person(109))]
    page = platform.get(f"{X}/outbound/?limit=2").json()
    assert [row["transfer_no"] for row in page["results"]] == numbers[:2] and page["next_cursor"]
    assert ack(platform, numbers[0]).status_code == 200
    rest = twice(lambda: platform.get(f"{X}/outbound/?limit=2&cursor={page['next_cursor']}")).json()
    assert [row["transfer_no"] for row in rest["results"]] == numbers[2:] and rest["next_cursor"] is None
    assert [row["transfer_no"] for row in platform.get(f"{X}/outbound/").json()["results"]] == numbers[1:]


@pytest.mark.parametrize("query, field", [("cursor=not-a-cursor", "cursor"), ("cursor=%%%", "cursor"),
                                          ("cursor=MjAyNnwx", "cursor"), ("limit=abc", "limit"),
                                          ("limit=0", "limit"), ("limit=-3", "limit")])
def test_a_bad_cursor_or_limit_is_a_400(platform, query, field):
    answer = platform.get(f"{X}/outbound/?{query}")
    assert answer.status_code == 400 and field in answer.json()


def test_a_limit_above_the_maximum_is_the_maximum(platform, accountant):
    make_transfer(accountant, "accepted", type="outbound")
    assert len(platform.get(f"{X}/outbound/?limit=100000").json()["results"]) == 1


def test_ack_then_result_received_completes_and_the_archive_leaves(platform, accountant):
    """ack → uploaded; received → completed, the archive transferred out and kept (API.md §2, R-TRF-3)."""
    number = make_transfer(accountant, "accepted", type="outbound").transfer_no
    assert twice(lambda: ack(platform, number)).json() == {"transfer_no": number, "status": "uploaded"}
    assert platform.get(f"{X}/outbound/").json()["results"] == []
    done = twice(lambda: result(platform, number, "received"))
    assert done.status_code == 200 and done.json() == {"transfer_no": number, "status": "completed"}
    assert ack(platform, number).json() == {"transfer_no": number, "status": "completed"}  # a late ack: same state
    assert Archive.objects.get(person=accountant).status == Archive.Status.TRANSFERRED_OUT
    assert AuditEvent.objects.filter(event_type="transfer.mark_uploaded").count() == 1
    assert AuditEvent.objects.filter(event_type="transfer.mark_received").count() == 1


def test_result_rejected_returns_it_to_the_origin_with_the_reason(platform, accountant):
    """rejected → returned with the reason the person reads; the same again → 200, another → 409 (API.md §2)."""
    transfer = make_transfer(accountant, "uploaded", type="outbound")
    number = transfer.transfer_no
    returned = twice(lambda: result(platform, number, "rejected", "调入单位不存在"))
    assert returned.json() == {"transfer_no": number, "status": "returned"}
    transfer.refresh_from_db()
    assert transfer.reason == "调入单位不存在"
    assert result(platform, number, "received").status_code == 409
    assert result(platform, number, "rejected", "另一个原因").status_code == 409
    transfer.refresh_from_db()
    assert transfer.status == "returned" and transfer.reason == "调入单位不存在"


def test_a_result_before_the_ack_counts_as_both(platform, accountant):
    """Out of order: the result first, then the ack answers the state the result left (API.md §2)."""
    number = make_transfer(accountant, "accepted", type="outbound").transfer_no
    assert result(platform, number, "rejected", "不予接收").json()["status"] == "returned"
    assert twice(lambda: ack(platform, number)).json() == {"transfer_no": number, "status": "returned"}
    assert platform.get(f"{X}/outbound/").json()["results"] == []


def test_a_result_after_the_timeout_return_is_a_conflict(platform, accountant):
    """The record came back by itself (R-TRF-3): a late "received" is refused, the state stays returned."""
    transfer = make_transfer(accountant, "uploaded", type="outbound")
    later = timezone.now() + dt.timedelta(days=31)
    assert outbound_timeouts_return(now=later) == 1
    number = transfer.transfer_no
    assert result(platform, number, "received").status_code == 409
    assert result(platform, number, "rejected", "不予接收").status_code == 409
    assert twice(lambda: ack(platform, number)).json() == {"transfer_no": number, "status": "returned"}
    transfer.refresh_from_db()
    assert transfer.status == "returned" and transfer.reason == TIMEOUT_REASON
    assert Archive.objects.get(person=accountant).status == Archive.Status.ACTIVE


@pytest.mark.parametrize("body, field", [({"result": "maybe"}, "result"), ({}, "result"),
                                         ({"result": "rejected"}, "reason"), ({"result": "rejected", "reason": " "},
                                                                             "reason"),
                                         ({"result": ["received"]}, "result"), ({"result": "rejected", "reason": {}},
                                                                                "reason")])
def test_a_bad_result_is_a_400(platform, accountant, body, field):
    transfer = make_transfer(accountant, "uploaded", type="outbound")
    answer = platform.post(f"{X}/outbound/{transfer.transfer_no}/result/", body, format="json")
    assert answer.status_code == 400 and field in answer.json(), answer.json()
    transfer.refresh_from_db()
    assert transfer.status == "uploaded"


def test_unknown_numbers_are_404_and_unready_records_409(platform, accountant):
    """Not an outbound number the portal sent → 404; a record not accepted yet → 409 (API.md §2)."""
    assert ack(platform, "DZ2026-999999").status_code == 404
    assert result(platform, "DZ2026-999999", "received").status_code == 404
    inbound_number = push(platform, inbound_body("11202600501")).json()["transfer_no"]
    assert ack(platform, inbound_number).status_code == 404  # an inbound number is not an outbound one
    submitted = make_transfer(accountant, "submitted", type="outbound")
    assert ack(platform, submitted.number).status_code == 404  # no transfer_no before acceptance


def test_requests_that_are_not_json_objects_are_never_a_500(platform, accountant):
    """Non-JSON, a JSON list, a form, JSON nested past Python's limits: 400 or 415, never a 500 (API.md §1)."""
    number = make_transfer(accountant, "uploaded", type="outbound").transfer_no
    for path in (f"/outbound/{number}/result/", "/inbound/"):
        assert platform.post(X + path, "{oops", content_type="application/json").status_code == 400
        assert platform.post(X + path, ["received"], format="json").status_code == 400
        assert platform.post(X + path, "null", content_type="application/json").status_code == 400
        assert platform.post(X + path, {"result": "received"}, format="multipart").status_code == 415
        assert platform.post(X + path, "[" * 50000 + "]" * 50000, content_type="application/json").status_code == 400
    assert ack(platform, number).status_code == 200  # the ack has no body to get wrong



def test_numbers_and_bodies_with_nul_characters_are_refused_not_a_500(platform, accountant):
    """PostgreSQL stores no NUL: such a number names nothing (404), such a body is a 400 (API.md §1)."""
    assert platform.get(f"{X}/inbound/11202600001%00/").status_code == 404
    assert platform.post(f"{X}/outbound/DZ2026-000001%00/ack/").status_code == 404
    number = make_transfer(accountant, "uploaded", type="outbound").transfer_no
    assert result(platform, number, "rejected", "原因\u0000").status_code == 400
    for change in (lambda b: b.update(to_unit="某\u0000单位"), lambda b: b["person"].update(name="赵\u0000六"),
                   lambda b: b["person"]["education"][0].update(school="\u0000"), lambda b: b.update(note="\u0000")):
        body = inbound_body("11202600401")
        change(body)
        assert push(platform, body).status_code == 400
    assert not Transfer.objects.filter(type="inbound").exists()

# --- inbound ------------------------------------------------------------------------------------

def test_inbound_is_created_once_and_the_same_body_answers_the_same(platform, county_reviewer):
    """201 new; the same body again → 200 with the same object; queued for the bureau of to_region (R-TRF-4)."""
    body = inbound_body("11202600101")
    created = push(platform, body)
    assert created.status_code == 201
    answer = created.json()
    assert answer["transfer_no"] == "11202600101" and answer["status"] == "received" and answer["reason"] == ""
    again = push(platform, body)
    assert again.status_code == 200 and again.json() == answer
    assert Transfer.objects.filter(type="inbound").count() == 1
    assert twice(lambda: platform.get(f"{X}/inbound/11202600101/")).json() == answer
    queue = token_client(county_reviewer).get("/api/v1/transfers/?type=inbound").json()["results"]
    assert [row["id"] for row in queue] == [answer["id"]]


def test_the_same_number_with_another_body_is_a_conflict(platform):
    assert push(platform, inbound_body("11202600102")).status_code == 201
    assert push(platform, inbound_body("11202600102", name="赵七")).status_code == 409
    assert push(platform, inbound_body("11202600102", to_region="140521")).status_code == 409
    assert Transfer.objects.get().person_record["name"] == "赵六"


def test_an_inbound_status_read_before_the_push_is_a_404(platform):
    """Out of order: the platform asks before it pushed → 404; after → the record (API.md §2)."""
    assert platform.get(f"{X}/inbound/11202600103/").status_code == 404
    assert push(platform, inbound_body("11202600103")).status_code == 201
    assert platform.get(f"{X}/inbound/11202600103/").json()["status"] == "received"


def test_the_bureaus_decision_is_read_back(platform, county_reviewer):
    """Approved, or rejected with the reason that goes back to the origin province (R-TRF-4)."""
    push(platform, inbound_body("11202600104"))
    push(platform, inbound_body("11202600105", id_number=make_id_number("310101", dt.date(1991, 2, 3), 122)))
    workflow_transition(Transfer.objects.get(transfer_no="11202600104"), "approve", by=county_reviewer)
    workflow_transition(Transfer.objects.get(transfer_no="11202600105"), "reject", by=county_reviewer,
                        reason="不属于会计人员信息采集范围")
    approved = twice(lambda: platform.get(f"{X}/inbound/11202600104/")).json()
    assert (approved["status"], approved["reason"]) == ("approved", "")
    rejected = twice(lambda: platform.get(f"{X}/inbound/11202600105/")).json()
    assert (rejected["status"], rejected["reason"]) == ("rejected", "不属于会计人员信息采集范围")
    replay = push(platform, inbound_body("11202600105", id_number=make_id_number("310101", dt.date(1991, 2, 3), 122)))
    assert replay.status_code == 200 and replay.json()["status"] == "rejected"  # a replay changes nothing


def _wrong_check_digit(number: str) -> str:
    return number[:-1] + ("0" if number[-1] != "0" else "1")


def _bad(change):
    body = inbound_body("11202600200")
    change(body)
    return body


BAD_BODIES = [
    ("person.id_number", lambda b: b["person"].update(id_number=_wrong_check_digit(b["person"]["id_number"]))),
    ("to_region", lambda b: b.update(to_region="110101")),
    ("to_region", lambda b: b.update(to_region=140502)),
    ("to_unit", lambda b: b.pop("to_unit")),
    ("transfer_no", lambda b: b.pop("transfer_no")),
    ("transfer_no", lambda b: b.update(transfer_no={"no": 1})),
    ("transfer_no", lambda b: b.update(transfer_no="a/b")),
    ("transfer_no", lambda b: b.update(transfer_no="x" * 41)),
    ("from_province", lambda b: b.update(from_province="14")),
    ("from_province", lambda b: b.update(from_province=11)),
    ("person", lambda b: b.pop("person")),
    ("person", lambda b: b.update(person="张三")),
    ("person.id_type", lambda b: b.update(person={})),
    ("person", lambda b: b.update(person=[1])),
    ("person.name", lambda b: b["person"].update(name=["赵六"])),
    ("person.birth_date", lambda b: b["person"].update(birth_date="1988-05-07")),
    ("person.sex", lambda b: b["person"].update(sex="X")),
    ("person.education", lambda b: b["person"].update(education="本科")),
    ("person.employer.credit_code",
     lambda b: b["person"]["employer"].update(credit_code=_wrong_check_digit(b["person"]["employer"]["credit_code"]))),
    ("to_unit", lambda b: b.update(to_unit=["某单位"])),
    ("to_unit", lambda b: b.update(to_unit="   ")),
]


@pytest.mark.parametrize("field, change", BAD_BODIES, ids=[f"{f}-{i}" for i, (f, _) in enumerate(BAD_BODIES)])
def test_bad_inbound_data_is_a_400_with_the_fields(platform, field, change):
    """A wrong ID check digit, a to_region outside Shanxi, a missing field, a wrong type → 400 naming it."""
    answer = push(platform, _bad(change))
    assert answer.status_code == 400, answer.content
    assert any(key == field or key.startswith(field) for key in answer.json()), answer.json()
    assert not Transfer.objects.exists()


def test_every_error_of_a_body_comes_at_once(platform):
    body = inbound_body("11202600201", to_region="110101")
    body["person"]["id_number"] = _wrong_check_digit(body["person"]["id_number"])
    del body["to_unit"]
    assert {"to_region", "to_unit", "person.id_number"} <= set(push(platform, body).json())


# --- at the same moment, on two real database connections -------------------------------------

def at_once(*calls) -> list:
    """Run each call in its own thread and database connection, released together by a barrier."""
    barrier = threading.Barrier(len(calls), timeout=10)
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = call()
        except Exception as exc:  # reported by the assertions, never lost in the thread
            results[index] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a call hung"
    assert not [r for r in results if isinstance(r, Exception)], results
    return results


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_inbound_pushed_twice_at_once_makes_one_transfer():
    """Two identical pushes at the same moment: one 201, one 200, one transfer, one event (API.md §2)."""
    token = exchange_token_create(name="national-platform")
    body = inbound_body("11202600300")

    def call():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        answer = client.post(f"{X}/inbound/", body, format="json")
        return answer.status_code, answer.json()

    (code_a, answer_a), (code_b, answer_b) = at_once(call, call)
    assert sorted([code_a, code_b]) == [200, 201]
    assert answer_a == answer_b
    assert Transfer.objects.filter(transfer_no="11202600300").count() == 1
    assert AuditEvent.objects.filter(event_type="transfer.received").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_two_acks_at_once_upload_once_and_both_answer_200(accountant):
    """The platform retries its ack while the first is still running: one upload, two identical 200s."""
    number = make_transfer(accountant, "accepted", type="outbound").transfer_no
    token = exchange_token_create(name="national-platform")

    def call():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        answer = client.post(f"{X}/outbound/{number}/ack/", format="json")
        return answer.status_code, answer.json()

    results = at_once(call, call)
    assert results == [(200, {"transfer_no": number, "status": "uploaded"})] * 2
    assert AuditEvent.objects.filter(event_type="transfer.mark_uploaded").count() == 1


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_the_same_result_twice_at_once_is_applied_once(accountant):
    """Two identical results at once: both 200, the archive leaves once (API.md §2)."""
    number = make_transfer(accountant, "uploaded", type="outbound").transfer_no
    token = exchange_token_create(name="national-platform")

    def call():
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
        answer = client.post(f"{X}/outbound/{number}/result/", {"result": "received"}, format="json")
        return answer.status_code, answer.json()

    assert at_once(call, call) == [(200, {"transfer_no": number, "status": "completed"})] * 2
    assert AuditEvent.objects.filter(event_type="transfer.mark_received").count() == 1
    assert AuditEvent.objects.filter(event_type="archive.transferred_out").count() == 1



@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_an_ack_and_a_result_at_once_both_succeed(accountant):
    """Out of order and at once: whichever takes the lock first, the result applies and the ack answers 200."""
    number = make_transfer(accountant, "accepted", type="outbound").transfer_no
    token = exchange_token_create(name="national-platform")

    def call(path, body):
        def run():
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
            answer = client.post(f"{X}/outbound/{number}/{path}/", body, format="json")
            return answer.status_code, answer.json()
        return run

    acked, answered = at_once(call("ack", {}), call("result", {"result": "received"}))
    assert acked[0] == 200 and acked[1]["status"] in ("uploaded", "completed")
    assert answered == (200, {"transfer_no": number, "status": "completed"})
    assert Transfer.objects.get(transfer_no=number).status == "completed"
