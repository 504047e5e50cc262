"""Seeing a transfer is not seeing the archive it moves: one rule for the page and the API (R-ACL-1, R-TRF-1).

Before this, the transfer API handed the destination bureau the whole archive before it had any business
seeing it: ``GET /api/v1/transfers/{id}/`` returned ``archive`` (address, mobile, e-mail, education,
qualifications, employer) to the destination county while the transfer was only submitted, and to the
origin after the archive had moved; the page hid it. Both now ask
:func:`transfers.selectors.transfer_archive_for`.
"""

from __future__ import annotations

import json

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from kjzx.workflow import workflow_transition
from records.models import Archive
from tests.factories import login_staff, make_transfer

pytestmark = pytest.mark.django_db

ADDRESS = "山西省晋城市城区凤台东街1号"
MOBILE = "13800000000"
EMAIL = "zhangsan@example.cn"
SCHOOL = "山西财经大学"
CERTIFICATE = "Z2019140500123"
EMPLOYER = "晋城市凤台会计服务有限公司"
PRIVATE = (ADDRESS, MOBILE, EMAIL, SCHOOL, CERTIFICATE, EMPLOYER)


def api_detail(user, transfer) -> dict:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get(f"/api/v1/transfers/{transfer.pk}/")
    assert response.status_code == 200
    return response.json()


def api_list(user) -> str:
    client = APIClient()
    client.force_authenticate(user)
    response = client.get("/api/v1/transfers/")
    assert response.status_code == 200
    return response.content.decode()


def page(client, user, transfer) -> str:
    login_staff(client, user)
    response = client.get(reverse("workbench_transfer", kwargs={"pk": transfer.pk}))
    assert response.status_code == 200
    return response.content.decode()


def leaks(text: str) -> list[str]:
    return [value for value in PRIVATE if value in text]


def submitted_with_email(accountant):
    transfer = make_transfer(accountant, "submitted")
    Archive.objects.filter(pk=transfer.archive_id).update(email=EMAIL)
    return transfer


def test_destination_gets_no_archive_while_the_transfer_is_only_submitted(client, accountant, county_reviewer,
                                                                          other_county_reviewer):
    """before the origin accepts, the destination county reads the transfer, not the archive (R-ACL-1)."""
    transfer = submitted_with_email(accountant)
    seen = api_detail(other_county_reviewer, transfer)
    assert seen["number"] == transfer.number and seen["person_name"] == accountant.name  # the transfer itself
    assert seen["archive"] is None and leaks(json.dumps(seen, ensure_ascii=False)) == []
    assert leaks(api_list(other_county_reviewer)) == []
    assert leaks(page(client, other_county_reviewer, transfer)) == []
    # the origin holds the archive: it reads it through both doors
    assert api_detail(county_reviewer, transfer)["archive"]["address"] == ADDRESS
    assert EMAIL in page(client, county_reviewer, transfer)


def test_destination_reads_the_archive_once_it_is_its_step(accountant, county_reviewer, other_county_reviewer):
    """Once the origin accepted, the destination must judge the archive: it gets it (R-TRF-1)."""
    transfer = workflow_transition(submitted_with_email(accountant), "accept", by=county_reviewer)
    archive = api_detail(other_county_reviewer, transfer)["archive"]
    assert archive["address"] == ADDRESS and archive["email"] == EMAIL
    assert archive["employer"]["name"] == EMPLOYER and archive["education"][0]["school"] == SCHOOL
    assert archive["id_number"] == accountant.masked_id_number  # masked even then


def test_origin_gets_no_archive_after_it_moved(client, accountant, county_reviewer, other_county_reviewer):
    """after an intra transfer completes, the origin keeps the transfer and its history, not the archive."""
    transfer = submitted_with_email(accountant)
    transfer = workflow_transition(transfer, "accept", by=county_reviewer)
    transfer = workflow_transition(transfer, "approve", by=other_county_reviewer)
    seen = api_detail(county_reviewer, transfer)
    assert seen["status"] == "completed" and [row["transition"] for row in seen["history"]][-1] == "approve"
    assert seen["archive"] is None and leaks(json.dumps(seen, ensure_ascii=False)) == []
    assert leaks(page(client, county_reviewer, transfer)) == []
    assert api_detail(other_county_reviewer, transfer)["archive"]["mobile"] == MOBILE  # now the destination's


def test_a_rejected_transfer_hides_the_archive_from_the_destination_again(accountant, county_reviewer,
                                                                         other_county_reviewer):
    """After 不予通过 the step is over: the destination no longer reads what stayed with the origin (R-ACL-1)."""
    transfer = make_transfer(accountant, "rejected", origin=county_reviewer, destination=other_county_reviewer)
    assert api_detail(other_county_reviewer, transfer)["archive"] is None
    assert api_detail(county_reviewer, transfer)["archive"]["address"] == ADDRESS


def test_the_person_and_the_province_read_the_archive(accountant, province_staff):
    """The applicant reads their own archive in their transfer; provincial staff hold every region."""
    transfer = make_transfer(accountant, "submitted")
    assert api_detail(accountant, transfer)["archive"]["address"] == ADDRESS
    assert api_detail(province_staff, transfer)["archive"]["address"] == ADDRESS
