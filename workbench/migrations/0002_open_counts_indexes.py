"""The dashboards' live counts read from the index alone.

The review figures count each kind's open rows per jurisdiction, due today, overdue and by age since the
last submission (``workbench.stats._open_counts``): with ``(jurisdiction, due_date, submitted_at)`` on the
open states, that is an index-only scan grouped in index order, never the table (at a million applications
with 200,000 open: 320 ms → under 100 ms, ``bench/dashboard_bench.py``). Made here because only the
dashboards read by them; the models do not declare them, so the migration state is unchanged (as
``employers`` does for its own lookup). Each predicate is the kind's ``review_q()``: its ``REVIEW_STATES``,
and for a transfer, not an outbound one accepted (it waits for the national platform, not for a bureau).
"""

from django.db import migrations

OPEN_COUNTS_INDEXES = {  # index → (table, review states, any further condition of review_q)
    "collection_open_counts_idx": ("records_collectionapplication", ("submitted", "first_reviewed"), ""),
    "change_open_counts_idx": ("records_changerequest", ("submitted",), ""),
    "transfer_open_counts_idx": ("transfers_transfer", ("submitted", "accepted", "received"),
                                 "NOT (type = 'outbound' AND status = 'accepted')"),
    "claim_open_counts_idx": ("cpe_creditclaim", ("submitted",), ""),
    "filing_open_counts_idx": ("cpe_institutionfiling", ("submitted",), ""),
}


def _create(name: str, table: str, states: tuple[str, ...], extra: str) -> str:
    listed = ", ".join(f"'{state}'" for state in states)
    return (f"CREATE INDEX IF NOT EXISTS {name} ON {table} (jurisdiction_id, due_date, submitted_at) "
            f"WHERE status IN ({listed})" + (f" AND {extra}" if extra else ""))


class Migration(migrations.Migration):

    dependencies = [
        ("cpe", "0012_queue_keyset_indexes"),
        ("records", "0004_queue_keyset_indexes"),
        ("transfers", "0004_queue_keyset_indexes"),
        ("workbench", "0001_decision_tally"),
    ]

    operations = [
        migrations.RunSQL(_create(name, table, states, extra), f"DROP INDEX IF EXISTS {name}")
        for name, (table, states, extra) in OPEN_COUNTS_INDEXES.items()
    ]
