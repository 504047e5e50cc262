"""Random transitions by random actors over every workflow kind (STYLE §2; R-COL-4, R-CHG-4, R-ACL-1).

One Hypothesis state machine per kind (:mod:`tests.reliability.machines`): CI runs a few examples of a
few steps each (``budget``); ``bash scripts/reliability.sh --big`` runs many more. The seed is the run's
(``KJZX_RELIABILITY_SEED``); the figures go to docs/reliability.md.
"""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from hypothesis import HealthCheck, Phase, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.stateful import run_state_machine_as_test

from accounts.models import Role
from tests.factories import fill_archive, make_accountant, make_active_archive, make_staff
from tests.reliability import machines
from tests.reliability.figures import Clock, budget, record, seed

NOW = dt.datetime(2026, 6, 15, 10, 0, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # a Monday
EXAMPLES = budget(4, 100)
STEPS = budget(10, 30)


def _cast(kind: str) -> dict:
    """The applicant and everyone who might try: another accountant, reviewers inside and outside."""
    from cpe.ledger.policy import ce_year_ensure

    ce_year_ensure(machines.YEAR)
    reviewers = {key: make_staff(f"sm_{key}", role, region) for key, role, region in (
        ("county_1", Role.COUNTY_REVIEWER, "140502"), ("county_2", Role.COUNTY_REVIEWER, "140502"),
        ("other_county", Role.COUNTY_REVIEWER, "140521"), ("city", Role.CITY_REVIEWER, "140500"),
        ("other_city", Role.CITY_REVIEWER, "140100"), ("province", Role.PROVINCE_STAFF, "140000"))}
    other = make_accountant(address="140502", sequence=412, name="旁观者", mobile="13900000412")
    if kind == "filing":
        applicant = make_staff("sm_institution", Role.INSTITUTION, "140502")
    else:
        applicant = make_accountant(address="140502", sequence=411, name="状态机", mobile="13900000411")
        if kind == "collection":
            fill_archive(applicant)
        else:
            make_active_archive(applicant)
    return {"applicant": applicant, "other_accountant": other, **reviewers}


@pytest.mark.django_db
@pytest.mark.parametrize("kind", sorted(machines.KINDS))
def test_random_transitions_keep_every_invariant(kind):
    """Every transition the table allows succeeds and lands where it says; every other one is refused and
    leaves no trace; the history holds one row per transition taken (STYLE §3)."""
    clock = Clock()
    machines.STEPS.update(count=0, taken=0, refused=0, examples=0)
    with time_machine.travel(NOW, tick=True):
        machine = machines.machine_for(machines.KINDS[kind], _cast(kind))
        _run(machine)
    record(f"state_machine_{kind}", kind=kind, examples=machines.STEPS["examples"], steps=machines.STEPS["count"],
           taken=machines.STEPS["taken"], refused=machines.STEPS["refused"], max_steps_per_example=STEPS,
           seconds=clock.seconds)
    assert machines.STEPS["taken"] > 0


def _run(machine):
    @hypothesis_seed(seed())
    def go():
        run_state_machine_as_test(machine, settings=settings(
            max_examples=EXAMPLES, stateful_step_count=STEPS, deadline=None, database=None,
            phases=[Phase.generate, Phase.shrink], suppress_health_check=list(HealthCheck)))

    go()
