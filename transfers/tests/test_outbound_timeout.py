"""One outbound time-out date (R-TRF-3, R-DL-3).

The day an uploaded outbound record returns by itself if the destination province does not answer was
computed in the sweep, the bureau's pages and the demo. It is :class:`transfers.selectors.OutboundTimeout`
now: the date every page shows is the day the sweep starts returning it, whatever period the province sets.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.urls import reverse

from tests.factories import login_staff, make_transfer
from transfers.models import ExchangePolicy
from transfers.selectors import outbound_timeout, transfer_return_by
from transfers.services import outbound_timeouts_return

pytestmark = pytest.mark.django_db

BEIJING = dt.timezone(dt.timedelta(hours=8))
UPLOADED = dt.datetime(2026, 3, 2, 10, 0, tzinfo=BEIJING)  # a Monday morning


@pytest.fixture
def uploaded(accountant):
    ExchangePolicy.objects.update_or_create(pk=1, defaults={"outbound_timeout_days": 12})
    with time_machine.travel(UPLOADED, tick=False):
        return make_transfer(accountant, "uploaded", type="outbound")


def shown(client, user, url) -> str:
    login_staff(client, user)
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_every_page_shows_the_day_the_sweep_keeps(client, uploaded, accountant, county_reviewer, province_staff):
    """12 days after the upload, on every page; the sweep returns it just after that moment, not before (R-TRF-3)."""
    timeout = outbound_timeout()
    assert timeout.days == 12 and transfer_return_by(uploaded) == dt.date(2026, 3, 14)
    with time_machine.travel(UPLOADED + dt.timedelta(days=1), tick=False):
        for user, url in ((accountant, reverse("person_transfer_detail", kwargs={"pk": uploaded.pk})),
                          (county_reviewer, reverse("workbench_transfer", kwargs={"pk": uploaded.pk})),
                          (province_staff, reverse("workbench_exchange"))):
            assert "2026-03-14" in shown(client, user, url), url
    with time_machine.travel(timeout.returns_at(uploaded.uploaded_at) - dt.timedelta(minutes=1), tick=False):
        assert outbound_timeouts_return() == 0
    with time_machine.travel(timeout.returns_at(uploaded.uploaded_at) + dt.timedelta(minutes=1), tick=False):
        assert outbound_timeouts_return() == 1
    uploaded.refresh_from_db()
    assert uploaded.status == "returned" and transfer_return_by(uploaded) is None  # nothing left to wait for


def test_the_province_changes_the_period_for_every_door(uploaded):
    """The admin edits the period: the date shown and the sweep's limit move together (policy, not code)."""
    ExchangePolicy.objects.filter(pk=1).update(outbound_timeout_days=5)
    assert transfer_return_by(uploaded) == dt.date(2026, 3, 7)
    with time_machine.travel(UPLOADED + dt.timedelta(days=5, minutes=1), tick=False):
        assert outbound_timeout().uploaded_before(dt.datetime.now(tz=BEIJING)) > uploaded.uploaded_at
        assert outbound_timeouts_return() == 1
