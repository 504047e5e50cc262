"""A real Celery worker killed mid-work, restarted, and counted ("a test kills a
real Celery worker in the middle of a deadline sweep and of a notification batch, restarts it, and counts:
every due item handled exactly once"; notifications sent at most once per event and channel).

Each test starts ``celery -A kjzx worker`` as a subprocess with the production settings module, on the
test's PostgreSQL database and the test Redis, consuming a private queue. E-mail goes through Django's real
SMTP backend to a small SMTP server in this process, which counts what it accepted; SMS goes through the
default logging backend into the worker's log, which is counted too. The kill lands at a point the test
controls, not at a guessed moment: the SMTP server holds one message unanswered; a row lock held by the
test stops the sweep's second batch on its insert.
"""

from __future__ import annotations

import email
import json
import os
import re
import signal
import socketserver
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from email.header import decode_header, make_header
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from accounts.models import Role
from kjzx.audit import history_for
from kjzx.deliveries import deliveries_sweep
from kjzx.models import Delivery, Notification
from kjzx.notifications import notifications_send_bulk
from kjzx.tasks import escalate_overdue_steps
from records.models import ChangeRequest, CollectionApplication
from tests.factories import make_accountant, make_change, make_collection, make_staff

ROOT = Path(__file__).resolve().parents[2]
SITE = "https://kjzx.example.gov.cn"
pytestmark = [
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
    # A real worker is another process, on the machine's real clock: a session moved in time
    # (KJZX_TODAY, tests/conftest_dates.py) cannot move it too, so these run on the real date only.
    pytest.mark.skipif(bool(os.environ.get("KJZX_TODAY")), reason="a real worker runs on the real clock"),
]


# --- an SMTP server that counts, and can hold one message --------------------------------------

class SmtpSink:
    """Accepts mail like a relay would and records each message it answered 250 to. With ``hold_at=n``
    the n-th message's DATA is read and left unanswered until :attr:`release` is set; then the
    connection is dropped, so that message was never accepted."""

    def __init__(self, hold_at: int | None = None):
        self.accepted: list[bytes] = []
        self.hold_at = hold_at
        self.holding = threading.Event()
        self.release = threading.Event()
        self._count = 0
        self._lock = threading.Lock()
        sink = self

        class Handler(socketserver.StreamRequestHandler):
            def handle(self):
                sink.converse(self.rfile, self.wfile)

        self.server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def converse(self, rfile, wfile):
        wfile.write(b"220 sink ESMTP\r\n")
        while line := rfile.readline():
            verb = line.strip().split(b" ", 1)[0].upper()
            if verb == b"EHLO":
                wfile.write(b"250-sink\r\n250 8BITMIME\r\n")
            elif verb == b"DATA":
                wfile.write(b"354 go ahead\r\n")
                data = b"".join(iter(rfile.readline, b".\r\n"))
                with self._lock:
                    self._count += 1
                    held = self._count == self.hold_at
                if held:
                    self.holding.set()
                    self.release.wait(120)
                    return  # hang up without an answer: the message was not accepted
                with self._lock:
                    self.accepted.append(data)
                wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                wfile.write(b"221 bye\r\n")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                wfile.write(b"250 ok\r\n")

    def recipients(self) -> Counter:
        with self._lock:
            return Counter(email.message_from_bytes(data)["To"] for data in self.accepted)

    def texts(self) -> list[str]:
        """Subject and plain-text body of each accepted message."""
        with self._lock:
            messages = [email.message_from_bytes(data) for data in self.accepted]
        return [str(make_header(decode_header(m["Subject"]))) + "\n" + next(
            part.get_payload(decode=True).decode() for part in m.walk() if part.get_content_type() == "text/plain")
            for m in messages]

    def close(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


# --- the worker as a process ------------------------------------------------------------------

def broker_url() -> str:
    """Redis database 14 of the test Redis: every test flushes database 15, the cache (root conftest's
    ``_clean_cache``, in every test session on this machine), and a flush would take the queue with it."""
    parts = urlsplit(settings.REDIS_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/14", "", ""))


@pytest.fixture
def private_queue():
    """Tasks this process queues go to a queue of this test's own, on a Redis database of its own."""
    from kjzx.celery import app

    queue = f"kjzx-test-{uuid.uuid4().hex}"
    saved = {key: app.conf[key] for key in ("broker_url", "task_default_queue")}
    app.conf.update(broker_url=broker_url(), task_default_queue=queue)
    app.__dict__.pop("amqp", None)  # rebuild queues and router around the private queue
    saved_pool, app._pool = app._pool, None  # connections to the new broker
    yield queue
    app._pool = saved_pool  # left open: kombu's producer pools may still refer to it (closing broke later sends)
    app.conf.update(saved)
    app.__dict__.pop("amqp", None)
    client = redis.Redis.from_url(broker_url())
    client.delete(queue, f"_kombu.binding.{queue}", f"_kombu.binding_permanent.{queue}")
    for tag, payload in client.hgetall("unacked").items():  # the killed worker's unacknowledged message
        try:
            routing_key = json.loads(payload)[2]
        except (ValueError, IndexError, TypeError):
            continue
        if routing_key == queue:
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


class Worker:
    """``celery -A kjzx worker`` on the test database, the test Redis and one queue; its log in a file."""

    def __init__(self, queue: str, log: Path, smtp_port: int = 25):
        db = connection.settings_dict
        self.log = log
        self.env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "kjzx.settings",  # production settings, not the test module
            "DEBUG": "",
            "DATABASE_URL": (f"postgres://{db['USER']}:{db['PASSWORD'] or ''}@{db['HOST'] or '127.0.0.1'}:"
                             f"{db['PORT'] or 5432}/{db['NAME']}"),
            "REDIS_URL": settings.REDIS_URL,
            "CELERY_BROKER_URL": broker_url(),
            "EMAIL_BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "EMAIL_HOST": "127.0.0.1",
            "EMAIL_PORT": str(smtp_port),
            "EMAIL_USE_TLS": "0",
            "EMAIL_USE_SSL": "0",
            "SMS_BACKEND": "kjzx.sms.LoggingBackend",
            "SITE_URL": SITE,
            "LOG_LEVEL": "INFO",
        }
        self.command = [sys.executable, "-m", "celery", "-A", "kjzx", "worker", "--pool=solo", "-Q", queue,
                        "-n", f"{queue}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat",
                        "-l", "INFO"]
        self.process = None

    def start(self) -> Worker:
        with self.log.open("ab") as out:
            self.process = subprocess.Popen(self.command, cwd=ROOT, env=self.env, stdout=out,  # noqa: S603
                                            stderr=subprocess.STDOUT, start_new_session=True)
        wait_for(lambda: " ready." in self.text(), 90, "the worker to start", self)
        return self

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()

    def text(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace") if self.log.exists() else ""


def wait_for(condition, seconds: float, what: str, worker: Worker | None = None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if value := condition():
            return value
        if worker and worker.process and worker.process.poll() is not None:
            pytest.fail(f"the worker exited while waiting for {what}:\n{worker.text()[-3000:]}")
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}" + (f":\n{worker.text()[-3000:]}" if worker else ""))


@pytest.fixture
def workers():
    started: list[Worker] = []
    yield started
    for worker in started:
        worker.stop()


def statuses() -> Counter:
    return Counter(Delivery.objects.values_list("status", flat=True))


# --- a notification batch ---------------------------------------------------------------------

def test_a_worker_killed_in_the_middle_of_a_batch_sends_each_message_at_most_once(
        private_queue, workers, tmp_path):
    """100 notifications × (e-mail + SMS) = 200 deliveries in one task; the worker is
    SIGKILLed while the SMTP server holds the 40th e-mail. After a restart and the sweep: 199 sent exactly
    once (SMTP server and SMS log agree with the rows), the one in flight "unknown" and never resent."""
    people = [make_accountant(sequence=100 + i, name=f"测试{i:03d}", mobile=f"139{i:08d}") for i in range(100)]
    for i, person in enumerate(people):
        person.email = f"p{i:03d}@example.cn"
    type(people[0]).objects.bulk_update(people, ["email"])
    sink = SmtpSink(hold_at=40)
    log = tmp_path / "worker.log"
    workers.append(Worker(private_queue, log, sink.port).start())
    try:
        with transaction.atomic():  # one batch queued on commit (kjzx.deliveries.BATCH = 200)
            notifications_send_bulk([Notification(
                user=person, title=f"您的信息采集申请（CJ2026-{i:06d}）：已退回", body="照片不清晰，请重新上传。",
                link="/me/collection/", event="collection.returned") for i, person in enumerate(people)])
        assert Delivery.objects.count() == 200
        assert sink.holding.wait(60), workers[0].text()[-3000:]
        workers[0].kill()  # mid-DATA of the 40th e-mail, after 39 e-mails and 39 texts
        sink.release.set()
        assert statuses() == {"sent": 78, "sending": 1, "pending": 121}

        workers.append(Worker(private_queue, log, sink.port).start())
        # Ten minutes on, the sweep finds the dead worker's lease run out and the batch's rest still pending.
        later = timezone.now() + timezone.timedelta(seconds=settings.NOTIFICATION_LEASE_SECONDS + 1)
        assert deliveries_sweep(now=later) == {"unknown": 1, "requeued": 121}
        wait_for(lambda: not Delivery.objects.filter(status__in=["pending", "sending"]).exists(), 120,
                 "the rest to be sent", workers[1])
    finally:
        sink.close()
    assert statuses() == {"sent": 199, "unknown": 1}
    lost = Delivery.objects.get(status="unknown")
    assert (lost.channel, lost.notification.user.email) == ("email", "p039@example.cn")

    # E-mail: what the server accepted is exactly the e-mail rows marked sent, each once.
    sent_to = set(Delivery.objects.filter(channel="email", status="sent")
                  .values_list("notification__user__email", flat=True))
    assert sink.recipients() == Counter({address: 1 for address in sent_to}) and len(sent_to) == 99
    # SMS: one log line per notification, all 100, each once, the mobile masked.
    texts = re.findall(r"\[短信\] (139\*{4}\d{4}): 【会计之星】您的信息采集申请（(CJ2026-\d{6})）", log.read_text())
    assert Counter(number for _mobile, number in texts) == Counter({f"CJ2026-{i:06d}": 1 for i in range(100)})
    assert {mobile for mobile, _number in texts} == {f"139****{i:04d}" for i in range(100)}
    for text in sink.texts():
        assert "已退回" in text and f"去办理：{SITE}/me/collection/" in text
    # Nothing personal in the worker's log: no full mobile, no ID number.
    text = log.read_text()
    assert not [p for p in people if p.mobile in text or p.id_number in text]


# --- a deadline sweep -------------------------------------------------------------------------

def backends_waiting(event: str) -> int:
    """Client backends of the test database (not this one) waiting on a lock of this kind:
    ``transactionid`` (a row another transaction locked) or ``relation`` (a table)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND wait_event_type = 'Lock' AND wait_event = %s", [event])
        return cursor.fetchone()[0]


def backends_in_a_transaction() -> int:
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                       "AND pid <> pg_backend_pid() AND backend_type = 'client backend' AND xact_start IS NOT NULL")
        return cursor.fetchone()[0]


def connect(**options) -> psycopg.Connection:
    db = connection.settings_dict
    return psycopg.connect(host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"],
                           password=db["PASSWORD"] or None, dbname=db["NAME"], **options)


def test_a_worker_killed_in_the_middle_of_a_deadline_sweep_escalates_each_item_exactly_once(
        private_queue, workers, tmp_path):
    """Background work, R-DL-2, R-DL-3: overdue collections of 城区 and changes of 沁水. The
    sweep commits the collections' batch, has claimed and stamped the changes' batch, and is SIGKILLed
    there; that batch rolls back. After a restart: every item escalated exactly once — one audit event,
    one notification per recipient, one digest entry each — and a third run finds nothing.

    The test steers the worker with locks instead of guessing a moment: a reviewer's row locked FOR
    UPDATE holds the first batch at its COMMIT (the notification's foreign key is checked there); the
    test queues for an exclusive lock on the preferences table behind it, and holding that lock stops
    the second batch after it has claimed and stamped its rows and written their audit events, where
    it reads the reviewers' preferences. Due dates in 2020 are overdue whatever day it is (the
    worker's clock cannot be pinned)."""

    chengqu, jincheng = (make_staff("cq_r", Role.COUNTY_REVIEWER, "140502"),
                         make_staff("jc_r", Role.CITY_REVIEWER, "140500"))
    collections = [make_collection(make_accountant(sequence=300 + i, name=f"城区{i}"), "submitted")
                   for i in range(6)]
    changes = [make_change(make_accountant(address="140521", sequence=400 + i, name=f"沁水{i}"), "submitted",
                           jurisdiction="140521") for i in range(4)]
    qinshui = list(type(chengqu).objects.filter(region_id="140521", role=Role.COUNTY_REVIEWER))
    assert len(qinshui) == 2  # the factory's two 沁水 reviewers
    for user in (chengqu, jincheng, *qinshui):
        user.email = f"{user.username}@czj.example.cn"
        user.save(update_fields=["email"])
    for model in (CollectionApplication, ChangeRequest):
        model.objects.update(due_date="2020-01-06")
    items = [*collections, *changes]

    log = tmp_path / "worker.log"
    rows, table = connect(), connect()
    got_table = threading.Event()
    try:
        rows.execute("SELECT id FROM accounts_user WHERE id = %s FOR UPDATE", [chengqu.pk])
        workers.append(Worker(private_queue, log).start())
        escalate_overdue_steps.delay()
        wait_for(lambda: backends_waiting("transactionid"), 60, "the first batch to wait at COMMIT", workers[0])
        assert not CollectionApplication.objects.filter(escalated_for__isnull=False).exists()  # not yet

        def lock_preferences():
            table.execute("LOCK TABLE kjzx_notificationpreference IN ACCESS EXCLUSIVE MODE")
            got_table.set()

        threading.Thread(target=lock_preferences, daemon=True).start()
        wait_for(lambda: backends_waiting("relation"), 30, "the test to queue for the table lock")
        rows.rollback()  # the first batch commits; the test gets the table before the second batch starts
        assert got_table.wait(30)
        wait_for(lambda: backends_waiting("relation"), 60, "the second batch to wait for the preferences",
                 workers[0])
        assert CollectionApplication.objects.filter(escalated_for="2020-01-06").count() == 6  # committed
        assert not ChangeRequest.objects.filter(escalated_for__isnull=False).exists()  # stamped, uncommitted
        workers[0].kill()
    finally:
        rows.close()
        table.close()  # ends its transaction: the lock goes
    wait_for(lambda: backends_in_a_transaction() == 0, 30, "the killed worker's transaction to end")
    assert not ChangeRequest.objects.filter(escalated_for__isnull=False).exists()  # rolled back, not half-done
    assert not [e for c in changes for e in history_for(c) if e.event_type == "change.overdue"]

    workers.append(Worker(private_queue, log).start())
    escalate_overdue_steps.delay()
    finished = re.compile(r"Task kjzx\.tasks\.escalate_overdue_steps\[[^\]]+\] succeeded")
    wait_for(lambda: finished.search(log.read_text()), 60, "the sweep to finish", workers[1])
    workers[1].stop()
    assert escalate_overdue_steps() == 0  # a third run: nothing left

    for obj in items:
        obj.refresh_from_db()
        assert str(obj.escalated_for) == "2020-01-06"
        assert [e.event_type for e in history_for(obj)].count(f"{obj.KIND}.overdue") == 1
    escalations = Notification.objects.filter(event="review.overdue")
    told = Counter(escalations.values_list("user__username", "title"))
    assert set(told.values()) == {1}  # nobody told twice about anything
    per_item = Counter(title.split(" ")[1] for _user, title in told)
    assert per_item == {**{c.number: 2 for c in collections}, **{c.number: 3 for c in changes}}
    assert Delivery.objects.filter(channel="digest").count() == escalations.count() == 6 * 2 + 4 * 3
