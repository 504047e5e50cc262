"""Hypothesis state machines over the five workflow kinds, written from the transition tables in
docs/workflows/ (not from the models): who may take which transition from which state, to which state.

A machine holds one application of its kind, opened through the kind's service. Each step picks a
transition name, an actor among the applicant, another accountant, reviewers inside and outside the
region (county, city, province) and a reason or none, and calls :func:`kjzx.workflow.workflow_transition`.
The table says whether it must succeed and where it leads; the machine checks, after every step:

- the row's state is the table's (a state is reached only by its transitions);
- the history is complete: one audit row per transition taken, with its from and to, none for a refusal;
- 初审 and 复审 are two different people (R-COL-4);
- at most one open change or transfer per archive (R-CHG-4): opening another while one is open is refused.

Every run (Hypothesis example) is a savepoint rolled back at its end, so runs do not see each other.
"""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Callable

from django.db import transaction
from django_fsm import TransitionNotAllowed
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from kjzx.api import Conflict, DomainError

REASONS = ("", "材料不全，请补充后再提交。")
YEAR = 2026
STEPS = {"count": 0, "taken": 0, "refused": 0, "examples": 0}


@dataclasses.dataclass(frozen=True)
class Edge:
    sources: tuple[str, ...]
    target: str
    who: str  # "applicant", "origin", "destination", "scope" (a reviewer of the object's region)
    reason: bool = False  # a reason is required


def _covers(user, region_code: str) -> bool:
    """A reviewer's region contains ``region_code`` (county, city or the province), from the codes alone."""
    from accounts.models import REVIEWER_ROLES

    if user is None or user.role not in REVIEWER_ROLES or not region_code:
        return False
    own = user.region_id
    prefix = own[:2] if own.endswith("0000") else own[:4] if own.endswith("00") else own
    return region_code.startswith(prefix)


@dataclasses.dataclass
class Kind:
    """One workflow kind: its table (name → edges) and how to open a fresh application."""

    name: str
    table: dict[str, list[Edge]]
    open: Callable  # (cast) → obj
    region: Callable = lambda obj: obj.jurisdiction_id  # the region whose reviewers act ("scope")
    open_again: Callable | None = None  # (cast) → obj: a second application of the same person


class WorkflowMachine(RuleBasedStateMachine):
    """Subclassed per kind by :func:`machine_for`, with ``kind`` and ``cast`` (the people) set."""

    kind: Kind
    cast: dict  # "applicant", "other_accountant", reviewers… → User

    def __init__(self):
        super().__init__()
        self._atomic = transaction.atomic()
        self._atomic.__enter__()
        STEPS["examples"] += 1
        self.obj = self.kind.open(self.cast)
        self.state = self.obj.status
        self.taken = self._history()  # (name, before, after, by pk); a filing is opened submitted
        self.first_reviewer = None

    def teardown(self):
        transaction.set_rollback(True)
        self._atomic.__exit__(None, None, None)

    # --- what the table says -------------------------------------------------------------------
    def allowed(self, name: str, by, reason: str) -> Edge | None:
        for edge in self.kind.table.get(name, []):
            if self.state not in edge.sources or not self._is(edge.who, by):
                continue
            if edge.reason and not reason.strip():
                return None
            if self.kind.name == "collection" and name == "approve_second" and by.pk == self.first_reviewer:
                return None  # R-COL-4
            return edge
        return None

    def _is(self, who: str, by) -> bool:
        if who == "applicant":
            return by.pk == self.obj.applicant_id
        if who == "origin":
            return _covers(by, self.obj.from_region_id)
        if who == "destination":
            return _covers(by, self.obj.to_region_id)
        return _covers(by, self.kind.region(self.obj))

    # --- the steps -------------------------------------------------------------------------------
    @rule(data=st.data())
    def transition(self, data):
        from kjzx.workflow import workflow_transition

        names = sorted({*self.kind.table, "approve", "return", "submit", "withdraw"})
        moves = [(n, w, r) for n in names for w in sorted(self.cast) for r in REASONS
                 if self.allowed(n, self.cast[w], r)]
        if moves and data.draw(st.booleans(), label="a move the table allows"):
            name, who, reason = data.draw(st.sampled_from(moves), label="move")
        else:  # anything at all: most of it must be refused
            name = data.draw(st.sampled_from(names), label="transition")
            who = data.draw(st.sampled_from(sorted(self.cast)), label="actor")
            reason = data.draw(st.sampled_from(REASONS), label="reason")
        by = self.cast[who]
        edge = self.allowed(name, by, reason)
        before = self.state
        STEPS["count"] += 1
        try:
            self.obj = workflow_transition(self.obj, name, by=by, reason=reason)
        except (TransitionNotAllowed, DomainError, Conflict) as exc:
            STEPS["refused"] += 1
            assert edge is None, f"{name} by {who} from {before} refused ({exc!r}) but the table allows it"
            self.obj.refresh_from_db()
            return
        STEPS["taken"] += 1
        assert edge is not None, f"{name} by {who} from {before} succeeded but the table forbids it"
        assert self.obj.status == edge.target, (name, before, self.obj.status, edge.target)
        self.state = edge.target
        self.taken.append((name, before, edge.target, by.pk))
        if name == "approve_first":
            self.first_reviewer = by.pk

    @precondition(lambda self: self.kind.open_again is not None)
    @rule()
    def open_another(self):
        """R-CHG-4: one open change or transfer per archive; once this one is closed, another may open."""
        was_open = self.state in type(self.obj).OPEN_STATES
        try:
            other = self.kind.open_again(self.cast)
        except DomainError:
            assert was_open, f"opening another was refused with {self.state} closed"
            return
        assert not was_open, f"a second application opened while {self.state} is open"
        self.obj, self.state, self.first_reviewer = other, other.status, None
        self.taken = self._history()

    # --- after every step --------------------------------------------------------------------
    @invariant()
    def row_is_in_the_tables_state(self):
        assert type(self.obj).objects.get(pk=self.obj.pk).status == self.state

    @invariant()
    def history_is_complete(self):
        assert self._history() == self.taken, (self._history(), self.taken)

    def _history(self) -> list[tuple]:
        from kjzx.audit import history_for

        return [(e.extra.get("transition"), e.from_state, e.to_state, e.actor_id) for e in history_for(self.obj)
                if e.extra.get("transition")]

    @invariant()
    def two_people_review_a_collection(self):
        """Each 复审 is by someone else than the 初审 before it (R-COL-4)."""
        first = None
        for name, _before, _after, by in self.taken:
            if name == "approve_first":
                first = by
            elif name == "approve_second":
                assert by != first, self.taken

    @invariant()
    def one_open_change_or_transfer(self):
        if self.kind.name in ("change", "transfer"):
            from records.models import ChangeRequest
            from transfers.models import Transfer

            person = self.obj.applicant_id
            open_ = (ChangeRequest.objects.filter(applicant_id=person, status__in=ChangeRequest.OPEN_STATES).count()
                     + Transfer.objects.filter(applicant_id=person, status__in=Transfer.OPEN_STATES).count())
            assert open_ <= 1, open_


def machine_for(kind: Kind, cast: dict) -> type[WorkflowMachine]:
    return type(f"{kind.name.title()}Machine", (WorkflowMachine,), {"kind": kind, "cast": cast})


# --- the five kinds: their tables (docs/workflows/*.md) and how one is opened ------------------------

COLLECTION = {
    "submit": [Edge(("draft", "returned"), "submitted", "applicant")],
    "approve_first": [Edge(("submitted",), "first_reviewed", "scope")],
    "approve_second": [Edge(("first_reviewed",), "approved", "scope")],
    "return": [Edge(("submitted", "first_reviewed"), "returned", "scope", reason=True)],
}
CHANGE = {
    "submit": [Edge(("draft", "returned"), "submitted", "applicant")],
    "approve": [Edge(("submitted",), "approved", "scope")],
    "return": [Edge(("submitted",), "returned", "scope", reason=True)],
    "withdraw": [Edge(("draft", "submitted", "returned"), "withdrawn", "applicant")],
}
TRANSFER = {  # within Shanxi
    "submit": [Edge(("draft",), "submitted", "applicant")],
    "accept": [Edge(("submitted",), "accepted", "origin")],
    "return": [Edge(("submitted",), "returned", "origin", reason=True)],
    "withdraw": [Edge(("draft", "submitted"), "withdrawn", "applicant")],
    "approve": [Edge(("accepted",), "completed", "destination")],
    "reject": [Edge(("accepted",), "rejected", "destination", reason=True)],
}
CLAIM = {
    "submit": [Edge(("draft", "returned"), "submitted", "applicant")],
    "approve": [Edge(("submitted",), "approved", "scope")],
    "return": [Edge(("submitted",), "returned", "scope", reason=True)],
}
FILING = {
    "submit": [Edge(("draft", "returned"), "submitted", "applicant")],
    "approve": [Edge(("submitted",), "filed", "scope")],
    "return": [Edge(("submitted",), "returned", "scope", reason=True)],
    "revoke": [Edge(("filed",), "revoked", "scope", reason=True)],
}


def _open_collection(cast):
    from records.services import collection_open

    return collection_open(person=cast["applicant"])


_CHANGES = itertools.count(1)


def _open_change(cast):
    """A change of mobile and address to values the archive has not had (the same values are refused at
    submission: nothing to change)."""
    from records.services import change_open
    from tests.factories import make_attachment

    n = next(_CHANGES)
    values = {"contact": {"mobile": f"1391111{n % 10000:04d}", "email": "", "address": f"山西省晋城市城区新市街{n}号"}}
    return change_open(person=cast["applicant"], items=list(values), values=values,
                       attachments=[make_attachment(cast["applicant"], "evidence").pk])


def _open_transfer(cast):
    from records.services import archive_for_person
    from tests.factories import make_attachment
    from transfers.services import transfer_open

    person = cast["applicant"]
    here = archive_for_person(person).jurisdiction_id
    return transfer_open(person=person, type="intra", to_region="140521" if here == "140502" else "140502",
                         to_unit="某会计师事务所", attachments=[make_attachment(person, "employment_proof").pk])


def _open_claim(cast):
    from cpe.claims.services import claim_open
    from tests.factories import make_attachment

    return claim_open(person=cast["applicant"], year=YEAR, form="conference", details={"days": 2},
                      attachments=[make_attachment(cast["applicant"], "evidence").pk])


def _open_filing(cast):
    from cpe.institutions.services import filing_apply
    from tests.factories import valid_credit_code

    return filing_apply(user=cast["applicant"], data={
        "name": "晋城市状态机培训中心", "credit_code": valid_credit_code("52140502MJ0QXW7KR"), "kind": "both",
        "address": "晋城市城区状态机路1号", "contact": "0356-1000009"})


KINDS = {
    "collection": Kind("collection", COLLECTION, _open_collection),
    "change": Kind("change", CHANGE, _open_change, open_again=_open_change),
    "transfer": Kind("transfer", TRANSFER, _open_transfer, region=lambda obj: obj.from_region_id,
                     open_again=_open_transfer),
    "claim": Kind("claim", CLAIM, _open_claim),
    "filing": Kind("filing", FILING, _open_filing),
}
