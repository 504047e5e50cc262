"""Schemathesis' stateful phase against the published schema (``/api/schema/``), in process (API.md).

The per-operation phases are tests/surface/test_fuzz.py. Here schemathesis' state machine
(``schema.as_state_machine()``) chains operations over the schema's links: each step's request is built from
an earlier answer (the id of the object just opened, listed or read; the transition its
``available_transitions`` offers), so the requests reach real objects and move them through their workflow.

The links. drf-spectacular publishes none; schemathesis 4 infers them from the schema (its dependency analysis:
``POST /collections/`` → ``GET /collections/{id}/`` and so on, ``x-schemathesis.is_inferred``). To those we add
what the analysis cannot see (:data:`EXPLICIT_LINKS`): a workflow queue's rows lead to the object
(``results/*/id``, the way a reviewer works) and an object's ``available_transitions`` to its transition door.

One machine per caller — the county reviewer of 城区 (inside) and of 沁水 (outside), accountant A — each request
with that caller's Bearer token. Every answer is checked: not a server error, a documented status code,
content type and body, and schemathesis' stateful and authorization checks (``use_after_free``,
``ensure_resource_availability``: an object just created can be read; ``ignored_auth``: an operation that
declares security refuses the same request with no credentials and with made-up ones); and, as in the access
matrix, no body holds a name, ID number, mobile, street or certificate number of a person the caller may not see.

State: the objects a run creates must outlive the step that made them, so each caller's runs share the test's
transaction (the package's small province, rolled back at the end). Each request runs in a savepoint kept when
the answer is not a 5xx (a server error's half-done work is rolled back so it cannot poison the transaction);
a logout's savepoint is always rolled back (it would revoke the caller's token for every later step), and so
is every probe the checks send. Requests are generated as schemathesis' stateful phase does by default: valid
ones, and one step in ten invalid.

Budget (``budget``): per caller, 10 Hypothesis examples of at most 20 steps in CI (about 800 requests in all,
some 20 s); 150 examples of at most 30 steps with ``bash scripts/reliability.sh --big``, or this file alone with
``KJZX_RELIABILITY=big bash scripts/test.sh tests/surface/test_fuzz_stateful.py --timeout=0`` (about 16,000
requests, 7 minutes on 2 cores). The seed is the run's seed (``KJZX_RELIABILITY_SEED``); the figure is
``var/reliability/schemathesis_stateful.json``.
"""

from __future__ import annotations

import collections
import copy

import pytest
import schemathesis
from django.db import transaction
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from schemathesis.checks import (
    content_type_conformance,
    ensure_resource_availability,
    ignored_auth,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    use_after_free,
)
from schemathesis.generation.stateful.state_machine import normalize_name

from tests.reliability.figures import Clock, budget, record, seed
from tests.surface.fuzzing import as_curl, failure_titles

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          use_after_free, ensure_resource_availability, ignored_auth]
# The reviewers first: nothing they do (a queue's transitions; every intra transfer of the province goes to 阳城)
# lets a later caller see more, so each caller may see exactly whom the small province says (``Actor.sees``).
CALLERS = ("county_in", "county_out", "accountant_a")
# A certificate's check shows its holder (R-CE-15) to whoever holds the code, as in the access matrix.
SHOWN_BY = {"GET /api/v1/verify/{code}/": "A"}
RUNS = budget(10, 150)  # Hypothesis examples (state-machine runs) per caller
STEPS = budget(20, 30)  # at most this many requests per run
# Whose effect never outlives its step: a logout revokes the caller's token.
ROLLED_BACK = {"POST /api/v1/auth/logout/"}
WORKFLOWS = ("collections", "changes", "transfers", "cpe/claims")


def _ref(path: str, method: str) -> str:
    return "#/paths/" + path.replace("~", "~0").replace("/", "~1") + "/" + method


def _link(target: str, method: str, **parameters: str) -> dict:
    # Schemathesis 4.32 evaluates a ``*`` (any row, any offered transition) only in the links it marks as inferred;
    # ours carry the same mark for that (the figure counts them apart: ``links.explicit``).
    return {"operationRef": _ref(target, method), "parameters": parameters, "x-schemathesis": {"is_inferred": True}}


def _explicit_links() -> list[tuple[str, str, str, str, dict]]:
    """(source path, method, status, link name, link) the dependency analysis does not infer."""
    links = []
    for kind in WORKFLOWS:
        listing, detail = f"/api/v1/{kind}/", f"/api/v1/{kind}/{{id}}/"
        door = f"/api/v1/{kind}/{{id}}/transitions/{{name}}/"
        row = {"path.id": "$response.body#/results/*/id"}
        links.append((listing, "get", "200", "QueueRowToObject", _link(detail, "get", **row)))
        links.append((listing, "get", "200", "QueueRowToTransition", _link(door, "post", **row)))
        take = _link(door, "post", **{"path.id": "$response.body#/id",
                                      "path.name": "$response.body#/available_transitions/*"})
        links.append((detail, "get", "200", "TakeAvailableTransition", take))
        links.append((door, "post", "200", "TakeNextTransition", take))
        links.append((listing, "post", "201", "TakeFirstTransition", take))
    return links


EXPLICIT_LINKS = _explicit_links()


def _schema():
    """The published schema with the explicit links added, then schemathesis' inferred ones."""
    from django.core.wsgi import get_wsgi_application

    app = get_wsgi_application()
    raw = copy.deepcopy(schemathesis.openapi.from_wsgi("/api/schema/", app).raw_schema)
    declared = sum(len(response.get("links", {})) for item in raw["paths"].values() for operation in item.values()
                   if isinstance(operation, dict) for response in operation.get("responses", {}).values())
    for path, method, status, name, link in EXPLICIT_LINKS:
        response = raw["paths"][path][method]["responses"][status]  # a KeyError here: the schema changed
        response.setdefault("links", {})[name] = link
    api = schemathesis.openapi.from_dict(raw)
    api.app = app
    api.location = "/api/schema/"
    inference = api.apply_stateful_inference(None)
    return api, {"declared_by_the_schema": declared, "explicit": len(EXPLICIT_LINKS),
                 "inferred": inference.inferred, "total": inference.total}




def _machine(api, world, caller: str, tally: dict):
    """Schemathesis' state machine for ``api``, sending ``caller``'s token, counting into ``tally``."""
    actor = world.actors[caller]
    headers = {"Authorization": f"Bearer {actor.token}"}

    base = api.as_state_machine()
    # Chains start where a client starts: an operation that needs no id (a list, a creation, one's own pages).
    # An operation with an id in its path is reached through a link; random ids are test_fuzz.py's.
    with_id = {label for label in base._root_labels if "{" in label}
    hidden = {normalize_name(f"RANDOM -> {label}") for label in with_id} & base.root_rules

    class CallerMachine(base):
        root_rules = base.root_rules - hidden
        _root_labels = base._root_labels - with_id

        def setup(self):
            tally["runs"] += 1
            self._labels = {}

        def step(self, input):
            self._labels[input.case.id] = input.case.operation.label
            if input.transition is not None:
                source = self._labels.get(input.transition.parent_id, "?")
                used = "links_followed" if input.is_applied else "links_not_applied"
                tally[used][f"{source} → {input.case.operation.label}"] += 1
            return super().step(input)

        def before_call(self, case):
            # A list's first page, so that its rows can lead on (generated page numbers are test_fuzz.py's).
            if isinstance(case.query, dict):
                case.query.pop("page", None)
            super().before_call(case)

        def get_call_kwargs(self, case):
            return {"headers": headers}

        def call(self, case, **kwargs):
            with transaction.atomic():
                response = case.call(**kwargs)
                if response.status_code >= 500 or case.operation.label in ROLLED_BACK:
                    transaction.set_rollback(True)
            tally["requests"] += 1
            tally["statuses"][response.status_code] += 1
            tally["operations"].add(case.operation.label)
            if case.operation.label.endswith("/transitions/{name}/") and response.status_code == 200:
                tally["transitions_taken"][f"{case.path_parameters.get('name')} as {caller}"] += 1
            return response

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            try:
                with transaction.atomic():  # the probes of ignored_auth change nothing that lasts
                    try:
                        case.validate_response(response, checks=CHECKS, additional_checks=additional_checks,
                                               headers=headers, transport_kwargs=kwargs or None,
                                               recorder=self.recorder)
                    finally:
                        transaction.set_rollback(True)
            except (Exception, BaseExceptionGroup) as exc:  # schemathesis' failure group: one line each
                for title in failure_titles(exc):
                    tally["failures"].append(f"{case.operation.label} as {caller}: {response.status_code} {title}"
                                             f" — {as_curl(case)}")
            # R-ACL-1/2 as the access matrix checks it: nothing of a person the caller may not see, in any answer.
            text = response.content.decode("utf-8", "replace")
            shown = frozenset(SHOWN_BY.get(case.operation.label, ""))
            for person, marker in world.markers_foreign_to(actor, shown):
                if marker in text:
                    tally["failures"].append(f"{case.operation.label} as {caller}: {response.status_code} "
                                             f"{person}'s {marker!r} in the body — {as_curl(case)}")
                    tally["leaks"] += 1

    for name in hidden:
        setattr(CallerMachine, name, None)
    CallerMachine.rule_order_seed = seed()
    return hypothesis_seed(seed())(CallerMachine)


@pytest.mark.django_db
def test_stateful_phase_conforms_and_never_fails(world, in_process):
    """Chained requests (links: an object's id from the answer that made, listed or read it; its next transition
    from ``available_transitions``) as the reviewers of 城区 and 沁水 and accountant A: no 5xx, every answer as
    documented, an object just created can be read, every secured operation refuses the request without valid
    credentials, and no answer holds a marker of a person the caller may not see (R-ACL-1, R-ACL-2; API.md)."""
    clock = Clock()
    api, links = _schema()
    counters = ("statuses", "links_followed", "links_not_applied", "transitions_taken")
    tally = {"runs": 0, "requests": 0, "failures": [], "leaks": 0, "operations": set(),
             **{name: collections.Counter() for name in counters}}
    hypothesis_settings = settings(max_examples=RUNS, stateful_step_count=STEPS, deadline=None, database=None,
                                   suppress_health_check=list(HealthCheck), phases=[Phase.generate])
    for caller in CALLERS:
        _machine(api, world, caller, tally).run(settings=hypothesis_settings)
    followed = tally["links_followed"]
    record("schemathesis_stateful", runs=tally["runs"], max_steps_per_run=STEPS, runs_per_caller=RUNS,
           requests=tally["requests"], failures=len(tally["failures"]), foreign_markers=tally["leaks"], links=links,
           links_followed=sum(followed.values()), distinct_links_followed=len(followed),
           links_not_applied=sum(tally["links_not_applied"].values()),
           operations_reached=len(tally["operations"]),
           modes=[mode.value for mode in api.config.generation_for(phase="stateful").modes],
           workflow_transitions_taken=dict(tally["transitions_taken"].most_common()), callers=list(CALLERS),
           checks=[check.__name__ for check in CHECKS], statuses=dict(sorted(tally["statuses"].items())),
           seconds=clock.seconds, followed=dict(followed.most_common()), failure_list=tally["failures"][:60],
           schemathesis=schemathesis.SCHEMATHESIS_VERSION)
    assert tally["requests"] > 0 and followed, "the state machine sent nothing or followed no link"
    assert not tally["failures"], "\n".join(tally["failures"][:60])


@pytest.mark.django_db
@pytest.mark.parametrize(("person", "kind"), [("A", "collection"), ("S", "change")])
def test_reveal_reason_with_a_nul_character_is_a_400(world, person, kind):
    """The stateful phase's finding, kept: a reviewer of 城区 asking for the full ID number of an application in
    the county with a NUL character in the reason got a 500 (PostgreSQL stores no U+0000); it is the documented
    400 on ``reason``, and no number is shown (security item 46, API.md: never a 500 for what a client sends)."""
    from django.test import Client

    obj = world.people[person].objects[kind]
    response = Client().post(f"/api/v1/{kind}s/{obj.pk}/reveal-id/", {"reason": "核对证件\x00扫描件"},
                             content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {world.actors['county_in'].token}")
    assert response.status_code == 400, response.content
    assert set(response.json()) == {"reason"}


@pytest.mark.django_db
@pytest.mark.parametrize(("body", "field"), [
    ({"year": 2026, "form": [], "details": {}, "attachments": []}, "form"),
    ({"year": 2026, "form": {"exam": 1}, "details": {}, "attachments": []}, "form"),
    ({"year": 2026, "form": "exam", "details": {"exam": ["cpa"], "subjects_passed": 1}, "attachments": []},
     "details.exam"),
    ({"year": 2026, "form": "research", "details": {"role": {}}, "attachments": []}, "details.role"),
])
def test_claim_with_a_list_or_object_where_a_choice_belongs_is_a_400(world, body, field):
    """The big stateful run's finding, kept: opening an other-form claim (R-CE-11) with ``form`` (or a detail
    that is a choice) sent as a list or an object was a 500 (``unhashable type``); it is the documented 400
    naming the field (API.md: never a 500 for what a client sends)."""
    from django.test import Client

    response = Client().post("/api/v1/cpe/claims/", body, content_type="application/json",
                             HTTP_AUTHORIZATION=f"Bearer {world.actors['accountant_a'].token}")
    assert response.status_code == 400, response.content
    assert field in response.json()


@pytest.mark.django_db
def test_every_operation_documents_the_answers_of_content_negotiation(client):
    """The stateful phase's findings, kept: an operation that reads a body answers 415 to a Content-Type none of
    its parsers reads (a reviewer's transition door did, undocumented), and any operation answers 406 to an
    Accept header it cannot satisfy (``accept: c[`` on the changes list, in the big run); every operation
    documents them (API.md: every error is in the schema; kjzx.workflow_api.document_content_negotiation)."""
    paths = client.get("/api/schema/?format=json").json()["paths"]
    operations = [(f"{method.upper()} {path}", operation) for path, item in paths.items()
                  for method, operation in item.items() if isinstance(operation, dict) and "responses" in operation]
    assert not [name for name, operation in operations if "406" not in operation["responses"]]
    missing = [name for name, operation in operations
               if "requestBody" in operation and "415" not in operation["responses"]]
    assert not missing, missing
    answer = client.get("/api/v1/changes/", HTTP_ACCEPT="c[")
    assert answer.status_code in (401, 406)  # anonymous: the 401 may come first; either is documented
