"""The transfers sweep as Celery runs it (R-TRF-3, R-DL-3; STYLE §4)."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from celery.schedules import crontab
from django.conf import settings
from django.db import OperationalError

from kjzx.audit import history_for
from tests.factories import make_accountant, make_transfer
from transfers.models import TIMEOUT_REASON, ExchangePolicy
from transfers.services import transfer_open
from transfers.tasks import return_unanswered_outbound

pytestmark = pytest.mark.django_db


def test_an_unanswered_upload_comes_back_after_the_period(accountant):
    """No answer within 30 calendar days → returned with the reason, once; the person may apply again (R-TRF-3)."""
    transfer = make_transfer(accountant, "uploaded", type="outbound")
    with time_machine.travel(transfer.uploaded_at + dt.timedelta(days=29, hours=23), tick=False):
        assert return_unanswered_outbound() == 0
    with time_machine.travel(transfer.uploaded_at + dt.timedelta(days=30, minutes=1), tick=False):
        assert return_unanswered_outbound() == 1
        assert return_unanswered_outbound() == 0  # safe to run twice
    transfer.refresh_from_db()
    assert transfer.status == "returned" and transfer.reason == TIMEOUT_REASON
    event = [e for e in history_for(transfer) if e.event_type == "transfer.time_out"]
    assert len(event) == 1 and event[0].actor is None  # the system did it
    assert transfer_open(person=accountant, type="outbound", to_province="12", to_unit="天津某单位").status == "draft"


def test_the_period_is_the_provinces_policy(accountant):
    """Provincial staff set the period (R-TRF-3; policy, not code)."""
    ExchangePolicy.objects.update_or_create(pk=1, defaults={"outbound_timeout_days": 10})
    transfer = make_transfer(accountant, "uploaded", type="outbound")
    with time_machine.travel(transfer.uploaded_at + dt.timedelta(days=10, minutes=1), tick=False):
        assert return_unanswered_outbound() == 1


def test_a_sweep_missed_for_weeks_catches_up_and_leaves_the_rest(accountant):
    """The machine was down: the next run returns everything overdue, and nothing that is not (R-DL-3)."""
    old = make_transfer(accountant, "uploaded", type="outbound")
    answered = make_transfer(make_accountant(sequence=107, name="王五"), "completed", type="outbound")
    accepted = make_transfer(make_accountant(sequence=109, name="赵六"), "accepted", type="outbound")
    with time_machine.travel(old.uploaded_at + dt.timedelta(days=60), tick=False):
        assert return_unanswered_outbound() == 1
    for transfer, status in ((old, "returned"), (answered, "completed"), (accepted, "accepted")):
        transfer.refresh_from_db()
        assert transfer.status == status


def test_the_task_retries_on_database_trouble_and_runs_hourly():
    """Retried with backoff like the other sweeps; beat runs it every hour (STYLE §4)."""
    assert OperationalError in return_unanswered_outbound.autoretry_for
    assert return_unanswered_outbound.max_retries == 5 and return_unanswered_outbound.retry_backoff
    entry = settings.CELERY_BEAT_SCHEDULE["return-unanswered-outbound"]
    assert entry["task"] == return_unanswered_outbound.name
    assert isinstance(entry["schedule"], crontab) and entry["schedule"].hour == set(range(24))
    assert len(entry["schedule"].minute) == 1
