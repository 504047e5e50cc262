"""Eight identical actions at the same moment: exactly one wins, once (R-COL-4, API.md §1, STYLE §2).

Each round opens a submitted collection, then eight threads — eight connections to PostgreSQL, released
together by a barrier — send the same 初审通过 by the same reviewer (a double click, a retried request,
two tabs). Exactly one call succeeds and the others get the 409 of a transition taken; the collection
holds one ``collection.approve_first`` audit row and its applicant one notification of it. CI runs a
few rounds (``budget``); ``bash scripts/reliability.sh --big`` runs 200.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_fsm import TransitionNotAllowed

from accounts.models import Role
from kjzx.api import Conflict
from tests.factories import make_accountant, make_collection, make_staff
from tests.reliability.figures import Clock, budget, record

THREADS = 8
ROUNDS = budget(3, 200)


def _race(collection, reviewer) -> list[str]:
    """Eight threads, one barrier: each outcome is "won", "409" or the unexpected exception's name."""
    from kjzx.workflow import workflow_transition

    barrier = threading.Barrier(THREADS)
    outcomes: list[str] = []
    lock = threading.Lock()

    def act():
        try:
            barrier.wait(timeout=30)
            workflow_transition(collection, "approve_first", by=reviewer)
            outcome = "won"
        except (Conflict, TransitionNotAllowed):
            outcome = "409"
        except Exception as exc:  # anything else is a finding, counted and shown
            outcome = f"{type(exc).__name__}: {exc}"
        finally:
            connection.close()
        with lock:
            outcomes.append(outcome)

    threads = [threading.Thread(target=act) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return outcomes


@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_eight_identical_approvals_have_exactly_one_winner_each_round():
    from kjzx.audit import history_for
    from kjzx.models import Notification

    clock = Clock()
    reviewer = make_staff("race_first", Role.COUNTY_REVIEWER, "140502")
    second = make_staff("race_second", Role.COUNTY_REVIEWER, "140502")
    rounds_ok, findings = 0, []
    for number in range(ROUNDS):
        person = make_accountant(sequence=500 + number % 400, born=_born(number), name="并发", mobile="13900000500")
        collection = make_collection(person, "submitted", first=reviewer, second=second)
        before = Notification.objects.filter(user=person).count()
        outcomes = _race(collection, reviewer)
        rows = [e for e in history_for(collection) if e.event_type == "collection.approve_first"]
        told = Notification.objects.filter(user=person).count() - before
        collection.refresh_from_db()
        fine = (sorted(outcomes) == ["409"] * (THREADS - 1) + ["won"] and len(rows) == 1 and told == 1
                and collection.status == "first_reviewed" and collection.first_reviewed_by_id == reviewer.pk)
        rounds_ok += fine
        if not fine:
            findings.append(f"round {number}: outcomes {sorted(outcomes)}, audit rows {len(rows)}, "
                            f"notifications {told}, status {collection.status}")
    record("concurrency", rounds=ROUNDS, threads=THREADS, rounds_with_one_winner=rounds_ok, findings=findings[:20],
           seconds=clock.seconds, action="collection approve_first, same reviewer, 8 connections, one barrier")
    assert not findings, "\n".join(findings[:20])


def _born(number: int):
    import datetime as dt

    return dt.date(1980, 1, 1) + dt.timedelta(days=number // 400)
