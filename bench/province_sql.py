"""The province's applications in SQL, shared by ``bench/records_bench.py`` (people sealed and hashed in Python,
streamed with COPY) and ``bench/dashboard_bench.py`` (people in SQL alone, placeholder seals): a collection for
every archive and the changes, as one INSERT … SELECT each. No Django import here: either bench sets up Django
its own way before it runs them.

``APPLICATIONS_SQL`` takes ``%(changes)s`` and ``%(open_change)s`` from :data:`BACKLOGS` and the sealed
``%(new_values)s`` / ``%(old_values)s`` literals (base64 and a key id: safe as literals), replaced as text.
"""

APPLICATIONS_SQL = """
INSERT INTO records_collectionapplication (status, applicant_id, jurisdiction_id, submitted_at, due_date, decided_at,
                                           reason, created_at, updated_at, archive_id)
  SELECT CASE WHEN a.status = 'active' THEN 'approved'
              WHEN a.id % 3 = 0 THEN 'submitted' WHEN a.id % 3 = 1 THEN 'first_reviewed' ELSE 'returned' END,
         a.person_id, a.jurisdiction_id,
         CASE WHEN a.status = 'active' THEN now() - (a.id % 330 + 14) * interval '1 day'
              ELSE now() - (a.id % 43200) * interval '1 minute' END,
         CASE WHEN a.status = 'collecting' AND a.id % 3 < 2
              THEN (now() - (a.id % 43200) * interval '1 minute')::date + 7 END,
         CASE WHEN a.status = 'active' THEN now() - (a.id % 330 + 14) * interval '1 day'
                                            + (a.id % 7 + a.id % 11) * interval '1 day' END,
         '', now() - interval '60 days', now(), a.id
  FROM records_archive a;
INSERT INTO records_changerequest (status, applicant_id, jurisdiction_id, submitted_at, due_date, decided_at, reason,
                                   created_at, updated_at, archive_id, items, new_values, old_values)
  SELECT CASE WHEN %(open_change)s THEN 'submitted' ELSE 'approved' END, a.person_id, a.jurisdiction_id,
         now() - (a.id % 30000) * interval '1 minute',
         CASE WHEN %(open_change)s THEN (now() - (a.id % 30000) * interval '1 minute')::date + 14 END,
         CASE WHEN %(open_change)s THEN NULL ELSE now() END,
         '', now() - interval '30 days', now(), a.id, '["contact"]',
         %(new_values)s, %(old_values)s
  FROM records_archive a WHERE a.status = 'active' AND a.id % %(changes)s = 1;
"""
# Which changes exist and which of them wait for review: the quiet province (a change for one person in ten, one
# in twenty of those open: ~18,000 open applications at a million) and the busy one (a change for one in five,
# fourteen in fifteen of those open: with the open collections, 20% of the people — 200,000 at a million).
BACKLOGS = {"quiet": ("10", "a.id % 200 = 1"), "busy": ("5", "a.id % 75 <> 1")}


def applications_sql(backlog: str, *, new_values: str, old_values: str) -> str:
    """:data:`APPLICATIONS_SQL` for ``backlog`` ("quiet" or "busy") with the sealed change values given."""
    every, open_change = BACKLOGS[backlog]
    return (APPLICATIONS_SQL.replace("%(changes)s", every).replace("%(open_change)s", open_change)
            .replace("%(new_values)s", f"'{new_values}'").replace("%(old_values)s", f"'{old_values}'"))
