"""Notifications that reach people: e-mail and SMS once per event, after commit, by preference; the
reviewers' daily digest; "去办理" links; at most once when things go wrong (e-mail and SMS are sent
once per event, after commit)."""

import datetime as dt
import re
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
from django.core import mail
from django.db import transaction
from django.urls import resolve, reverse

from kjzx import deliveries
from kjzx.audit import history_for
from kjzx.deadlines import overdue_steps_escalate
from kjzx.deliveries import deliveries_send, deliveries_sweep, digests_build, digests_send, redact
from kjzx.models import Delivery, Digest, Notification, NotificationPreference, SendState
from kjzx.notifications import notification_preferences_save, notification_send
from kjzx.sms import MemoryBackend, SmsRejected, SmsTransientError
from kjzx.tasks import send_reviewer_digests
from kjzx.workflow import workflow_transition
from tests.factories import login_staff, make_accountant, make_collection

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
SITE = "https://kjzx.example.gov.cn"
EMAIL_MARK = "zhangsan@example.cn"


@pytest.fixture
def eager():
    """Tasks run in-process when queued (the broker is tested by test_notifications_worker.py)."""
    from kjzx.celery import app

    saved = app.conf.task_always_eager, app.conf.task_eager_propagates
    app.conf.task_always_eager = app.conf.task_eager_propagates = True
    yield app
    app.conf.task_always_eager, app.conf.task_eager_propagates = saved


@pytest.fixture(autouse=True)
def outboxes(settings):
    settings.SITE_URL = SITE
    MemoryBackend.outbox.clear()
    mail.outbox = []
    yield
    MemoryBackend.outbox.clear()


@pytest.fixture
def person(accountant):
    accountant.email = EMAIL_MARK
    accountant.save(update_fields=["email"])
    return accountant


def sms_to(user) -> list[str]:
    return [text for mobile, text in MemoryBackend.outbox if mobile == user.mobile]


def mails_to(address) -> list:
    return [m for m in mail.outbox if m.to == [address]]


def return_collection(collection, reviewer, callbacks_fixture):
    with callbacks_fixture(execute=True) as callbacks:
        workflow_transition(collection, "return", by=reviewer, reason="照片不清晰，请重新上传")
    return callbacks


# --- once per event, after commit -----------------------------------------------------------------

def test_a_returned_collection_is_emailed_and_texted_once_and_only_after_the_commit(
        eager, person, county_reviewer, django_capture_on_commit_callbacks):
    """an action event (returned) goes by e-mail and SMS, queued on commit, each exactly once."""
    collection = make_collection(person, "submitted")
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        workflow_transition(collection, "return", by=county_reviewer, reason="照片不清晰，请重新上传")
        assert Delivery.objects.filter(notification__user=person).count() == 2  # rows in the same transaction
    assert mails_to(EMAIL_MARK) == [] and sms_to(person) == []  # nothing left before the commit
    for callback in callbacks:
        callback()
    [email] = mails_to(EMAIL_MARK)
    [text] = sms_to(person)
    assert "退回" in email.subject and "照片不清晰" in email.body
    assert text.startswith("【会计之星】您的信息采集申请") and "去办理：" in text
    assert set(Delivery.objects.values_list("channel", "status")) == {("email", "sent"), ("sms", "sent")}
    # The same task delivered again, and the sweep an hour later: nothing is sent twice.
    for callback in callbacks:
        callback()
    deliveries_sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
    assert len(mails_to(EMAIL_MARK)) == 1 and len(sms_to(person)) == 1


def test_nothing_is_sent_when_the_transaction_rolls_back(eager, person, county_reviewer,
                                                         django_capture_on_commit_callbacks):
    """no e-mail or SMS for a change that did not happen; no rows either."""
    collection = make_collection(person, "submitted")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with pytest.raises(RuntimeError), transaction.atomic():
            workflow_transition(collection, "return", by=county_reviewer, reason="照片不清晰")
            raise RuntimeError("a later step of the same request failed")
    assert callbacks == []
    assert not Notification.objects.filter(user=person).exists() and not Delivery.objects.exists()
    assert mail.outbox == [] and MemoryBackend.outbox == []


def test_an_event_nobody_must_act_on_is_emailed_but_not_texted(eager, person, county_reviewer,
                                                               django_capture_on_commit_callbacks):
    """SMS only for action events; 初审通过 is news, the person has nothing to do yet."""
    collection = make_collection(person, "submitted")
    with django_capture_on_commit_callbacks(execute=True):
        workflow_transition(collection, "approve_first", by=county_reviewer)
    assert len(mails_to(EMAIL_MARK)) == 1 and sms_to(person) == []
    assert Notification.objects.get(user=person).event == "collection.first_reviewed"


def test_approval_is_an_action_event_texted_once(eager, person, county_reviewer, second_reviewer,
                                                 django_capture_on_commit_callbacks):
    """审核通过 (approved) goes by SMS as well."""
    collection = make_collection(person, "first_reviewed", first=county_reviewer)
    with django_capture_on_commit_callbacks(execute=True):
        workflow_transition(collection, "approve_second", by=second_reviewer)
    assert len(sms_to(person)) == 1 and "已通过" in sms_to(person)[0]


# --- preferences (消息设置) --------------------------------------------------------------------

def test_preferences_turn_channels_off_and_the_portal_message_stays(eager, person, county_reviewer,
                                                                    django_capture_on_commit_callbacks):
    """e-mail off → no e-mail; SMS off → no SMS; 站内消息 always."""
    notification_preferences_save(user=person, email=False, sms=True)
    collection = make_collection(person, "submitted")
    return_collection(collection, county_reviewer, django_capture_on_commit_callbacks)
    assert mails_to(EMAIL_MARK) == [] and len(sms_to(person)) == 1
    notification_preferences_save(user=person, email=True, sms=False)
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(user=person, title="您的档案变更申请（BG2026-000001）：已退回", event="change.returned")
    assert len(mails_to(EMAIL_MARK)) == 1 and len(sms_to(person)) == 1
    assert Notification.objects.filter(user=person).count() == 2


def test_a_channel_turned_off_after_the_event_but_before_sending_is_skipped(person):
    """the preference at sending time wins; the row says why nothing went out."""
    with transaction.atomic():
        note = notification_send(user=person, title="您的信息采集申请（CJ2026-000001）：已退回",
                                 event="collection.returned")
    notification_preferences_save(user=person, email=False, sms=False)
    deliveries_send(list(note.deliveries.values_list("pk", flat=True)))
    assert mail.outbox == [] and MemoryBackend.outbox == []
    assert set(note.deliveries.values_list("status", flat=True)) == {SendState.SKIPPED}


def test_no_address_no_delivery(eager, accountant, django_capture_on_commit_callbacks):
    """no e-mail address → no e-mail row; no mobile → no SMS row."""
    accountant.mobile = ""
    accountant.save(update_fields=["mobile", "mobile_hash"])
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(user=accountant, title="已退回", event="collection.returned")
    assert not Delivery.objects.exists() and Notification.objects.filter(user=accountant).count() == 1


def test_the_settings_page_saves_ones_own_channels_with_an_audit_row(client, person, other_accountant):
    """个人中心 → 消息设置; the change is audited; nobody else's preference moves."""
    client.force_login(person)
    page = client.get(reverse("notification_settings")).content.decode()
    assert "站内消息（始终开启）" in page and EMAIL_MARK in page and "138****0000" in page
    assert person.mobile not in page
    response = client.post(reverse("notification_settings"), {"email": "on"})
    assert response.status_code == 302
    pref = NotificationPreference.objects.get(user=person)
    assert (pref.email, pref.sms) == (True, False)
    assert not NotificationPreference.objects.filter(user=other_accountant).exists()
    [event] = [e for e in history_for(person) if e.event_type == "notification.preferences_changed"]
    assert event.extra == {"before": {"email": True, "sms": True}, "after": {"email": True, "sms": False}}
    assert reverse("notification_settings") in client.get(reverse("notifications")).content.decode()


def test_staff_reach_their_settings_page_too(client, county_reviewer):
    """reviewers choose whether the daily digest comes by e-mail."""
    login_staff(client, county_reviewer)
    assert client.get(reverse("notification_settings")).status_code == 200
    client.post(reverse("notification_settings"), {})
    assert NotificationPreference.objects.get(user=county_reviewer).email is False


# --- the reviewers' daily digest ---------------------------------------------------------------

@pytest.fixture
def overdue_pair(time_machine, person, other_accountant, county_reviewer, city_reviewer):
    """Two collections of 城区 due 2025-03-10, escalated on 2025-03-11 (R-DL-2) to 城区 and 晋城市."""
    time_machine.move_to(dt.datetime(2025, 3, 3, 10, tzinfo=SHANGHAI), tick=False)
    first = make_collection(person, "submitted")
    second = make_collection(other_accountant, "submitted")
    for user, address in ((county_reviewer, "chengqu@czj.example.cn"), (city_reviewer, "jincheng@czj.example.cn")):
        user.email = address
        user.save(update_fields=["email"])
    time_machine.move_to(dt.datetime(2025, 3, 11, 8, tzinfo=SHANGHAI), tick=False)
    return first, second


def test_a_reviewers_reminders_of_the_day_arrive_as_one_email(eager, overdue_pair, county_reviewer, city_reviewer,
                                                              django_capture_on_commit_callbacks):
    """escalations accumulate into one e-mail per reviewer per day, with each item's link."""
    with django_capture_on_commit_callbacks(execute=True):
        assert overdue_steps_escalate() == 2
    assert mail.outbox == []  # no e-mail per item
    assert Notification.objects.filter(user=county_reviewer).count() == 2  # both in 我的消息 at once
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reviewer_digests() == 2
    [chengqu] = mails_to("chengqu@czj.example.cn")
    [jincheng] = mails_to("jincheng@czj.example.cn")
    for message in (chengqu, jincheng):
        assert "待办提醒汇总（2条）" in message.subject
        for obj in overdue_pair:
            assert obj.number in message.body and f"{SITE}/workbench/collections/{obj.pk}/" in message.body
    # Run again the same day: still one each.
    with django_capture_on_commit_callbacks(execute=True):
        assert send_reviewer_digests() == 0
    assert len(mail.outbox) == 2
    assert set(Delivery.objects.values_list("channel", "status")) == {("digest", "sent")}


def test_what_arrives_after_the_days_digest_waits_for_the_next_one(overdue_pair, county_reviewer, time_machine):
    """one digest per reviewer per day (a constraint), even if more items come in later."""
    overdue_steps_escalate()
    digests_send(digests_build())
    with transaction.atomic():
        notification_send(user=county_reviewer, title="逾期提醒：信息采集 CJ2025-999999", event="review.overdue")
    assert digests_build() == []  # today's went out: the new item waits
    time_machine.move_to(dt.datetime(2025, 3, 12, 8, 30, tzinfo=SHANGHAI), tick=False)
    digests_send(digests_build())
    latest = mails_to("chengqu@czj.example.cn")[-1]
    assert "（1条）" in latest.subject and "CJ2025-999999" in latest.body
    assert Digest.objects.filter(user=county_reviewer).count() == 2


def test_a_reviewer_with_email_off_gets_no_digest(overdue_pair, county_reviewer):
    """the digest follows the e-mail preference."""
    notification_preferences_save(user=county_reviewer, email=False, sms=True)
    overdue_steps_escalate()
    digests_send(digests_build())
    assert mails_to("chengqu@czj.example.cn") == [] and len(mails_to("jincheng@czj.example.cn")) == 1


# --- the link, and what a message never contains -----------------------------------------------

def test_the_action_link_is_absolute_and_points_into_the_portal(eager, person, county_reviewer,
                                                                django_capture_on_commit_callbacks):
    """"去办理" in every message, absolute from SITE_URL, resolving to a portal page."""
    collection = make_collection(person, "submitted")
    return_collection(collection, county_reviewer, django_capture_on_commit_callbacks)
    [email] = mails_to(EMAIL_MARK)
    html = email.alternatives[0][0]
    links = (re.findall(r'<a [^>]*href="([^"]+)"[^>]*>去办理', html) + re.findall(r"去办理：(\S+)", email.body)
             + re.findall(r"去办理：(\S+)", sms_to(person)[0]))
    assert len(links) == 3 and len(set(links)) == 1
    url = urlsplit(links[0])
    assert f"{url.scheme}://{url.netloc}" == SITE
    assert resolve(url.path).url_name == "person_collection"


def test_an_outside_link_becomes_the_inbox(person):
    """a message never sends people outside the portal."""
    assert deliveries.action_url("https://evil.example/") == f"{SITE}{reverse('notifications')}"
    assert deliveries.action_url("//evil.example/x") == f"{SITE}{reverse('notifications')}"


def test_no_id_number_or_full_mobile_leaves_in_a_message_or_a_task_argument(
        person, county_reviewer, monkeypatch, django_capture_on_commit_callbacks):
    """ID numbers and mobiles are masked in every subject, body and text; tasks carry ids only."""
    queued = []
    monkeypatch.setattr("kjzx.tasks.send_deliveries.apply_async", lambda args, **kw: queued.append(args))
    with django_capture_on_commit_callbacks(execute=True):
        note = notification_send(
            user=person, event="collection.returned", title=f"退回：{person.id_number}",
            body=f"请核对证件号码{person.id_number}和手机{person.mobile}，联系电话13912345678。")
    assert queued == [([d.pk for d in note.deliveries.order_by("pk")],)]
    assert all(isinstance(pk, int) for args in queued for pk in args[0])
    deliveries_send(queued[0][0])
    [email] = mail.outbox
    [(_mobile, text)] = MemoryBackend.outbox
    for content in (email.subject, email.body, email.alternatives[0][0], text):
        assert person.id_number not in content and person.mobile not in content and "13912345678" not in content
    assert f"{person.id_number[:3]}***********{person.id_number[-4:]}" in email.body
    assert "139****5678" in email.body
    assert redact("CJ2026-000017 于 2026-03-10 到期") == "CJ2026-000017 于 2026-03-10 到期"


# --- when the provider or the worker fails -----------------------------------------------------

class FlakyGateway:
    """An SMS gateway that says "try later" to the first ``failures`` messages, then accepts."""

    failures = 1
    calls = 0

    def send(self, mobile, text):
        FlakyGateway.calls += 1
        if FlakyGateway.calls <= FlakyGateway.failures:
            raise SmsTransientError("gateway busy")
        MemoryBackend.outbox.append((mobile, text))


class RefusingGateway:
    def send(self, mobile, text):
        raise SmsRejected("号码无效")


class HangingUpGateway:
    """The request went out and the connection dropped before the answer: did it send? Unknown."""

    calls = 0

    def send(self, mobile, text):
        HangingUpGateway.calls += 1
        raise ConnectionResetError("connection reset by peer")


def sms_delivery(person) -> Delivery:
    person.email = ""
    person.save(update_fields=["email"])
    with transaction.atomic():
        note = notification_send(user=person, title="您的档案调转申请（DZ2026-000001）：调转完成",
                                 event="transfer.completed")
    return note.deliveries.get()


def test_a_transient_refusal_is_retried_with_backoff_and_sent_once(person, settings):
    """"try later" → pending with a later due time; the retry sends it, once."""
    settings.SMS_BACKEND = f"{__name__}.FlakyGateway"
    FlakyGateway.calls, FlakyGateway.failures = 0, 1
    delivery = sms_delivery(person)
    now = dt.datetime.now(dt.UTC)
    result = deliveries_send([delivery.pk], now=now)
    delivery.refresh_from_db()
    assert result.retries == [(delivery.pk, 60)] and delivery.status == SendState.PENDING
    assert delivery.attempts == 1 and delivery.due_at == now + dt.timedelta(seconds=60)
    assert deliveries_send([delivery.pk], now=now + dt.timedelta(seconds=30)).counts == {}  # not due yet
    deliveries_send([delivery.pk], now=now + dt.timedelta(seconds=61))
    delivery.refresh_from_db()
    assert delivery.status == SendState.SENT and delivery.attempts == 2 and len(MemoryBackend.outbox) == 1


def test_after_the_last_attempt_a_transient_failure_is_final(person, settings):
    settings.SMS_BACKEND = f"{__name__}.FlakyGateway"
    FlakyGateway.calls, FlakyGateway.failures = 0, 99
    delivery = sms_delivery(person)
    now = dt.datetime.now(dt.UTC)
    for attempt in range(deliveries.MAX_ATTEMPTS):
        deliveries_send([delivery.pk], now=now + dt.timedelta(hours=attempt))
    delivery.refresh_from_db()
    assert delivery.status == SendState.FAILED and delivery.attempts == deliveries.MAX_ATTEMPTS
    assert FlakyGateway.calls == deliveries.MAX_ATTEMPTS


def test_a_refusal_for_good_is_failed_at_once(person, settings):
    settings.SMS_BACKEND = f"{__name__}.RefusingGateway"
    delivery = sms_delivery(person)
    deliveries_send([delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == SendState.FAILED and delivery.error == "号码无效"


def test_an_unknown_outcome_is_never_sent_again(person, settings):
    """at most once: a send that may have gone out is recorded "unknown" and not retried."""
    settings.SMS_BACKEND = f"{__name__}.HangingUpGateway"
    HangingUpGateway.calls = 0
    delivery = sms_delivery(person)
    deliveries_send([delivery.pk])
    deliveries_sweep(now=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    deliveries_send([delivery.pk])
    delivery.refresh_from_db()
    assert delivery.status == SendState.UNKNOWN and HangingUpGateway.calls == 1


def test_the_sweep_marks_a_dead_workers_send_unknown_and_requeues_lost_tasks(person, settings, monkeypatch):
    """A lease that ran out means the worker died holding it → unknown, never resent;
    a pending row whose task was lost is queued again, and sent once."""
    with transaction.atomic():
        lost = notification_send(user=person, title="已退回", event="collection.returned")
    held, waiting = lost.deliveries.order_by("channel")  # email, sms
    now = dt.datetime.now(dt.UTC)
    assert deliveries._claim(Delivery, held.pk, now)  # a worker took it … and was killed
    queued = []
    monkeypatch.setattr("kjzx.tasks.send_deliveries.apply_async", lambda args, **kw: queued.append(args[0]))
    assert deliveries_sweep(now=now + dt.timedelta(seconds=60)) == {"unknown": 0, "requeued": 0}  # too early
    later = now + dt.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS + 1)
    assert deliveries_sweep(now=later) == {"unknown": 1, "requeued": 1}
    assert queued == [[waiting.pk]]
    deliveries_send(queued[0])
    deliveries_send([held.pk, waiting.pk])
    held.refresh_from_db()
    waiting.refresh_from_db()
    assert (held.status, waiting.status) == (SendState.UNKNOWN, SendState.SENT)
    assert mail.outbox == [] and len(MemoryBackend.outbox) == 1
    assert deliveries_sweep(now=later + dt.timedelta(hours=1)) == {"unknown": 0, "requeued": 0}


def test_two_workers_with_the_same_batch_send_each_message_once(person, other_accountant):
    """the claim is a compare-and-swap; the loser of each row sends nothing."""
    other_accountant.email = "lisi@example.cn"
    other_accountant.save(update_fields=["email"])
    with transaction.atomic():
        for user in (person, other_accountant):
            notification_send(user=user, title="已退回", event="collection.returned")
    ids = list(Delivery.objects.values_list("pk", flat=True))
    first, second = deliveries_send(ids), deliveries_send(ids)
    assert dict(first.counts) == {"sent": 4} and dict(second.counts) == {}
    assert len(mail.outbox) == 2 and len(MemoryBackend.outbox) == 2


def test_sending_without_a_gateway_fails_the_sms_and_keeps_the_email(person, settings):
    """Production before the gateway is wired: the SMS is failed with the reason, the e-mail still goes."""
    settings.SMS_BACKEND = "kjzx.sms.UnconfiguredBackend"
    with transaction.atomic():
        note = notification_send(user=person, title="已退回", event="collection.returned")
    deliveries_send(list(note.deliveries.values_list("pk", flat=True)))
    assert dict(note.deliveries.values_list("channel", "status")) == {"email": "sent", "sms": "failed"}
    assert note.deliveries.get(channel="sms").error == "短信网关未配置"


def test_the_logging_backend_masks_the_mobile(caplog, settings):
    """the default SMS backend logs the text with the mobile masked, never the full number."""
    from kjzx.sms import LoggingBackend

    with caplog.at_level("INFO", logger="kjzx.sms"):
        LoggingBackend().send("13812345678", "【会计之星】您的申请已退回。")
    assert caplog.messages == ["[短信] 138****5678: 【会计之星】您的申请已退回。"]


def test_many_notifications_cost_a_fixed_number_of_queries(person, django_assert_max_num_queries):
    """The sweeps' bulk path: one insert of notifications, one read of preferences, one insert of deliveries."""
    from kjzx.notifications import notifications_send_bulk

    users = [person, *(make_accountant(sequence=200 + i, name=f"用户{i}") for i in range(5))]
    with django_assert_max_num_queries(3):
        notifications_send_bulk([Notification(user=u, title="提醒", event="review.reminder") for u in users])
