"""Schemathesis against the published schema (``/api/schema/``), in process (API.md, docs/security.md).

Every operation gets generated requests (bodies, query strings and path values: valid ones in CI, valid
and invalid ones in the big run), each sent three times: as accountant A, as the reviewer of 城区 and as
the reviewer of 沁水. Each answer must not be a server error and must conform to the schema: a documented
status code, content type and body; and an operation that declares security must refuse the same request
without valid credentials (schemathesis' ``ignored_auth``). Every request, with those probes, runs in a
savepoint rolled back after it, so the small province stays as built. The stateful phase (links between
operations) is tests/surface/test_fuzz_stateful.py.

Budget: a few examples per operation in CI (``budget``); ``bash scripts/reliability.sh --big`` runs
many more. Hypothesis' seed is the run's seed (``KJZX_RELIABILITY_SEED``).
"""

from __future__ import annotations

import collections

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)

from tests.reliability.figures import Clock, big, budget, record, seed
from tests.surface.fuzzing import as_curl, failure_titles

# ignored_auth: an answer in 2xx to an operation that declares security is sent again with no credentials and
# with made-up ones (a Bearer token, a session cookie); each must be refused (401/403), else a failure.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          ignored_auth]
CALLERS = ("accountant_a", "county_in", "county_out")
EXAMPLES = budget(1, 25)
# CI: valid input only (the negative phase doubles the time); the big run: invalid input too.
MODES = (GenerationMode.POSITIVE, GenerationMode.NEGATIVE) if big() else (GenerationMode.POSITIVE,)



def _operations(world):
    from django.core.wsgi import get_wsgi_application

    api = schemathesis.openapi.from_wsgi("/api/schema/", get_wsgi_application())
    return [result.ok() for result in api.get_all_operations()]




def _exercise(operation, mode, world, tally):
    """Hypothesis drives ``operation`` in ``mode``; every case is sent as each caller and checked."""

    @hypothesis_seed(seed())
    @settings(max_examples=EXAMPLES, deadline=None, database=None, suppress_health_check=list(HealthCheck),
              phases=[Phase.explicit, Phase.generate])
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case):
        tally["cases"] += 1
        for caller in CALLERS:
            headers = {"Authorization": f"Bearer {world.actors[caller].token}"}
            with transaction.atomic():  # the request and the probes of ignored_auth, rolled back
                response = case.call(headers=headers)
                try:
                    case.validate_response(response, checks=CHECKS, headers=headers)
                    titles = []
                except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failure group: one line each
                    titles = failure_titles(exc)
                transaction.set_rollback(True)
            tally["requests"] += 1
            tally["statuses"][response.status_code] += 1
            for title in titles:
                tally["failures"].append(f"{operation.label} [{mode.value}] as {caller}: "
                                         f"{response.status_code} {title} — {as_curl(case)}")

    try:
        run()
    except Unsatisfiable:  # e.g. no invalid variant of an operation without parameters or body
        tally["unsatisfiable"].append(f"{operation.label} [{mode.value}]")


@pytest.mark.django_db
def test_api_answers_conform_and_never_fail(world, in_process):
    """No 5xx and every answer as documented, valid and invalid input, three callers; every secured operation
    refuses the request without valid credentials (R-ACL-1, API.md: 401 with no or bad credentials)."""
    clock = Clock()
    tally = {"cases": 0, "requests": 0, "failures": [], "statuses": collections.Counter(), "unsatisfiable": []}
    operations = _operations(world)
    for operation in operations:
        for mode in MODES:
            _exercise(operation, mode, world, tally)
    record("schemathesis", cases=tally["cases"], requests=tally["requests"], failures=len(tally["failures"]),
           operations=len(operations), examples_per_operation_and_mode=EXAMPLES, modes=[m.value for m in MODES],
           callers=list(CALLERS), checks=[check.__name__ for check in CHECKS],
           statuses=dict(sorted(tally["statuses"].items())), seconds=clock.seconds,
           without_invalid_variant=tally["unsatisfiable"], failure_list=tally["failures"][:60],
           schemathesis=schemathesis.SCHEMATHESIS_VERSION)
    assert not tally["failures"], "\n".join(tally["failures"][:60])
