"""The access matrix: every route and method × every role × objects of one's own, one's county, another
county and another city (R-ACL-1, R-ACL-2, docs/security.md).

Each cell must get the class of answer :func:`tests.surface.doors.expect` gives (a door one's role may
not pass is 403, or the login for the anonymous; an object outside one's region or ownership is the
same 404 as a missing one), never a server error, and no name, ID number (full or masked), mobile,
street or certificate number of a person the actor may not see may be in the body (pages, JSON and the
cells of spreadsheets). CI sends a seeded sample of the cells (``budget``); ``bash scripts/reliability.sh
--big`` sends all of them.
"""

from __future__ import annotations

import collections
import random

import pytest

from tests.reliability.figures import Clock, budget, record, seed
from tests.surface import doors
from tests.surface.matrix import Sender, cells, classify
from tests.surface.routes import all_routes

# Whose markers a door may show beyond what the actor sees anyway: the public check of a certificate shows
# the holder (R-CE-15) to whoever holds its code.
SHOWN_BY_DOOR = {"cpe_verify": "A", "api-verify": "A"}


@pytest.mark.django_db
def test_every_cell_gets_its_expected_answer_and_nothing_of_another_region(world):
    """Every sampled cell: the expected class of answer, no 5xx, no foreign marker in the body."""
    clock = Clock()
    everything = cells(all_routes(), world)
    n = budget(600, len(everything))
    chosen = everything if n >= len(everything) else random.Random(seed()).sample(everything, n)
    sender = Sender(world)
    wrong, leaks, statuses, places = [], [], collections.Counter(), collections.Counter()
    for cell in chosen:
        actor = world.actors[cell.actor]
        path, response, body = sender.send(cell)
        got = classify(response)
        statuses[response.status_code] += 1
        places[doors.relation(actor, cell.target)] += 1
        allowed = doors.expect(cell.route, cell.method, actor, cell.target)
        if response.status_code >= 500 or got not in allowed:
            wrong.append(f"{cell.label()} ({path}): {response.status_code} {got}, expected {sorted(allowed)}")
        shown = frozenset(SHOWN_BY_DOOR.get(cell.route.name, ""))
        for person, marker in world.markers_foreign_to(actor, shown):
            if marker in body:
                leaks.append(f"{cell.label()} ({path}): {person}'s {marker!r}")
    record("access_matrix", requests=len(chosen), cells_total=len(everything), wrong=len(wrong),
           leaks=len(leaks), statuses=dict(sorted(statuses.items())), objects=dict(places.most_common()),
           seconds=clock.seconds,
           routes=len({c.route.name for c in everything}), actors=len(world.actors),
           failures=(wrong + leaks)[:50])
    assert not wrong, "\n".join(wrong[:80])
    assert not leaks, "\n".join(leaks[:80])
