"""One refusal for "another application is open" (R-CHG-4).

A change or a transfer cannot start while another change or transfer of the archive is open. The
words come from one function, :func:`records.selectors.archive_open_refusal`; the change and transfer
services raise them (409 through the API), and both pages say them before a form is filled.
"""

from __future__ import annotations

import pytest
from django.utils.html import escape
from rest_framework.test import APIClient

from records.models import Archive, ChangeRequest
from records.selectors import archive_open_refusal
from tests.factories import make_active_archive, make_change, make_transfer
from transfers.models import Transfer

pytestmark = pytest.mark.django_db

CHANGE_BODY = {"items": ["contact"], "values": {"contact": {"mobile": "13711112222", "email": "",
                                                            "address": "山西省晋城市城区新市街9号"}}}
TRANSFER_BODY = {"type": "intra", "to_region": "140521", "to_unit": "沁水县某会计师事务所"}


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def refused_everywhere(client, person, busy) -> str:
    """The refusal each door gives while ``busy`` is open: the same words, or the test fails."""
    words = archive_open_refusal(Archive.objects.get(person=person))
    assert busy.number in words and busy.KIND_LABEL in words
    for path, body in (("/api/v1/changes/", CHANGE_BODY), ("/api/v1/transfers/", TRANSFER_BODY)):
        response = api(person).post(path, body, format="json")
        assert response.status_code == 409 and response.json() == {"detail": [words]}
    client.force_login(person)
    for page in ("/me/changes/", "/me/transfers/"):
        assert escape(words) in client.get(page).content.decode()
    for page in ("/me/changes/new/", "/me/transfers/new/"):
        assert escape(words) in client.get(page, follow=True).content.decode()
    return words


def test_an_open_change_blocks_a_change_and_a_transfer_in_the_same_words(client, accountant):
    """R-CHG-4: a submitted change → both services (via the API) and both pages refuse with one message."""
    change = make_change(accountant, "submitted")
    words = refused_everywhere(client, accountant, change)
    assert words == f"您有尚未办结的档案变更申请（{change.number}），办结或撤回后才能再次申请。"
    assert ChangeRequest.objects.count() == 1 and not Transfer.objects.exists()


def test_an_open_transfer_blocks_a_change_and_a_transfer_in_the_same_words(client, accountant):
    """R-CHG-4: a draft transfer counts as open too; the change app learns of it through its one plug-in point."""
    transfer = make_transfer(accountant, "draft")
    refused_everywhere(client, accountant, transfer)
    assert Transfer.objects.count() == 1 and not ChangeRequest.objects.exists()


def test_nothing_open_nothing_refused(accountant):
    """Once the change is decided, the archive is free again: no words at all (R-CHG-4)."""
    make_active_archive(accountant)
    assert archive_open_refusal(Archive.objects.get(person=accountant)) == ""
    make_change(accountant, "approved")
    assert archive_open_refusal(Archive.objects.get(person=accountant)) == ""
    assert api(accountant).post("/api/v1/transfers/", TRANSFER_BODY, format="json").status_code == 201
