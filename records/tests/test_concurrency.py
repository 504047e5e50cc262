"""Two reviewers at the same moment, on two real database connections (R-COL-4, API.md §1 409).

Each thread has its own connection (Django's are per thread) and starts its transition at a
barrier, so both reach the row lock together. ``serialized_rollback`` puts the migration data
(regions, step deadlines, the calendar) back after the flush a transactional test ends with.
"""

from __future__ import annotations

import threading

import pytest
from django.db import connection
from django_fsm import TransitionNotAllowed
from rest_framework.test import APIClient

from kjzx.api import Conflict
from kjzx.models import AuditEvent
from kjzx.workflow import workflow_transition
from records.models import Archive, CollectionApplication
from tests.factories import make_change, make_collection

pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)


def at_once(*calls) -> list[tuple[str, object]]:
    """Run each call in its own thread and connection, released together; ("ok"|"conflict"|"error", value)."""
    barrier = threading.Barrier(len(calls), timeout=10)
    results: list = [None] * len(calls)

    def run(index, call):
        try:
            barrier.wait()
            results[index] = ("ok", call())
        except (Conflict, TransitionNotAllowed) as exc:
            results[index] = ("conflict", exc)
        except Exception as exc:  # reported by the assertions below, never lost in the thread
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads), "a transition hung on the row lock"
    assert not [r for r in results if r[0] == "error"], results
    return results


def transition_in_thread(model, pk, name, user, reason=""):
    def call():
        obj = model.objects.get(pk=pk)  # each reviewer loads the application on their own connection
        return workflow_transition(obj, name, by=user, reason=reason).status

    return call


def events(obj, event_type) -> int:
    return AuditEvent.objects.filter(target_id=str(obj.pk), event_type=event_type).count()


def test_two_reviewers_first_review_at_once_one_wins(accountant, county_reviewer, second_reviewer):
    """Only one first review happens; the other reviewer gets a conflict and nothing is written twice (R-COL-4)."""
    collection = make_collection(accountant, "submitted")
    results = at_once(*(transition_in_thread(CollectionApplication, collection.pk, "approve_first", reviewer)
                        for reviewer in (county_reviewer, second_reviewer)))
    assert sorted(kind for kind, _ in results) == ["conflict", "ok"]
    collection.refresh_from_db()
    assert collection.status == "first_reviewed"
    winner = (county_reviewer, second_reviewer)[[kind for kind, _ in results].index("ok")]
    assert collection.first_reviewed_by_id == winner.pk
    assert events(collection, "collection.approve_first") == 1


def test_two_reviewers_approving_a_change_through_the_api_one_gets_409(accountant, county_reviewer,
                                                                        second_reviewer):
    """Two POSTs of the same decision at once: one 200, one 409, and the archive changes once (API.md §1)."""
    change = make_change(accountant, "submitted")
    clients = []
    for reviewer in (county_reviewer, second_reviewer):
        client = APIClient()
        client.force_authenticate(reviewer)
        clients.append(client)
    url = f"/api/v1/changes/{change.pk}/transitions/approve/"
    results = at_once(*(lambda c=client: c.post(url, {}, format="json").status_code for client in clients))
    assert sorted(code for _, code in results) == [200, 409]
    change.refresh_from_db()
    assert change.status == "approved"
    assert events(change, "change.approve") == 1
    archive = Archive.objects.get(pk=change.archive_id)
    assert archive.mobile == "13911112222"
    assert events(archive, "archive.changed") == 1


def test_first_review_and_return_at_once_serialise_and_never_lose_the_return(accountant, county_reviewer,
                                                                             second_reviewer):
    """One reviewer passes 初审 while another returns: the two serialise on the row lock (R-COL-4, R-ACL-3).

    Whatever the order, each success writes exactly one event and a refusal none, the final state is
    that of the last success, and a return that succeeded is never undone. ``return`` is available
    from ``first_reviewed`` too, so when the first review wins the lock the return may still follow
    it (409 only "if {name} is not available now", API.md §1).
    """
    collection = make_collection(accountant, "submitted")
    results = at_once(
        transition_in_thread(CollectionApplication, collection.pk, "approve_first", county_reviewer),
        transition_in_thread(CollectionApplication, collection.pk, "return", second_reviewer, "照片不清晰"),
    )
    succeeded = [name for name, (kind, _) in zip(("approve_first", "return"), results, strict=True) if kind == "ok"]
    assert succeeded
    order = [event.split(".")[1] for event in AuditEvent.objects.filter(
        target_id=str(collection.pk), event_type__in=["collection.approve_first", "collection.return"],
    ).order_by("at", "id").values_list("event_type", flat=True)]
    assert sorted(order) == sorted(succeeded)
    assert order != ["return", "approve_first"]  # nothing passes an application that was just returned
    collection.refresh_from_db()
    assert collection.status == {"approve_first": "first_reviewed", "return": "returned"}[order[-1]]
    if "return" in succeeded:
        assert collection.reason == "照片不清晰"
