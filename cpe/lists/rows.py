# ruff: noqa: S608, S611  (SQL is built from the models' table and column names only; values are parameters)
"""The one row checker of name lists, for both list kinds (R-CE-9, R-CE-10, R-CE-12).

A face-to-face list (证件号码, 姓名, 学时) and an exam pass list (证件号码, 姓名, 通过科目数) are
checked by the same code, every problem in words, in two steps:

1. :func:`row_read` (per row, while the file streams, no query): the ID number classified
   (:func:`id_number_problem` — empty, stored by Excel as a number, a wrong resident ID with the
   reason, another known format, or wrong), the name present and normalised (:func:`normalise_name`:
   spaces and the middle dot of minority names, ·•‧・ and their look-alikes), the list's own quantity
   parsed by its :class:`Quantity`. The rows go into a staging table (:mod:`cpe.lists.staging`), the
   number already sealed for its row table and beside it its keyed hash ``id_hash`` (:mod:`kjzx.fields`:
   ID numbers are stored encrypted; every comparison below is on the hash).
2. Set-based, one SQL statement over the whole list (:func:`checked_rows_sql`): a person listed
   twice (the later line "与第M行重复"; the first too when the quantities differ), then for the rows
   without a problem (:func:`match_sql`) the person found by ID number (an approved collection first,
   then a resident ID's, if a number has two archives), the name compared with the archive's (the
   same normalisation, in SQL: :func:`normalised_name_sql`), R-CE-12 asked with the ledger's own
   predicate (:data:`cpe.ledger.rules.COLLECTION_APPROVED`, compiled by the ORM), and this source
   already in the ledger for the person (此前已登记). People not collected yet wait (``pending``) on
   a list that waits for them (exam lists, R-CE-10) and are ``invalid`` on one that does not
   (face-to-face lists). :func:`match_sql` also re-checks waiting rows later (an exam list's pending
   people, once collected).

The SQL runs on PostgreSQL and on SQLite (the demo) alike: window functions, ``UPDATE … FROM``,
``IS DISTINCT FROM``, ``substr``, ``||``; the name's normalisation is ``translate`` on PostgreSQL and
:func:`normalise_name` itself, registered as an SQL function, on SQLite.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Case, F, IntegerField, Value, When, Window
from django.db.models.expressions import RawSQL
from django.db.models.functions import RowNumber

from accounts.validators import OTHER_ID_FORMATS, parse_resident_id
from cpe.ledger.rules import COLLECTION_APPROVED, NOT_COLLECTED
from cpe.models import CreditEntry, RowState
from records.models import Archive

MIDDLE_DOTS = "·\u0387•‧・･∙⋅．."  # what people and input methods type for the dot in 阿卜杜·热合曼
# What ``\s`` matches in a str pattern: str.isspace(); none lies above U+3000 (a test checks it).
WHITESPACE = "".join(ch for ch in map(chr, range(0x3001)) if ch.isspace())
_NAME = str.maketrans({**dict.fromkeys(WHITESPACE), **dict.fromkeys(MIDDLE_DOTS, "·")})
_ID = str.maketrans(dict.fromkeys(WHITESPACE))
NAME_LENGTH, ID_LENGTH, PROBLEM_LENGTH = 60, 40, 300
EXCEL_NUMBER = re.compile(r"-?\d(\.\d+)?E[+-]\d+", re.IGNORECASE)
RESIDENT_LIKE = re.compile(r"\d{14,19}X?")
_OTHER_FORMATS = [re.compile(pattern) for pattern, _message in OTHER_ID_FORMATS.values()]

NO_ARCHIVE = "本省尚无该人员档案"
TRANSFERRED_OUT = "该人员档案已调出本省，不在本省登记学分"
NAME_DIFFERS = "姓名与档案不一致"
ALREADY_REGISTERED = "此前已登记，不再重复登记"
SEPARATOR = "；"


def normalise_name(raw: str) -> str:
    """A name as compared and kept: no spaces, one middle dot (U+00B7) for every look-alike."""
    return str(raw or "").translate(_NAME)[:NAME_LENGTH]


def normalise_id(raw: str) -> str:
    return str(raw or "").translate(_ID).upper()


def id_number_problem(number: str) -> str:
    """Why ``number`` (normalised) is not an ID number the portal knows, in words; "" when it is one."""
    if not number:
        return "缺少证件号码"
    if EXCEL_NUMBER.fullmatch(number):
        return f"证件号码被 Excel 存成了数字（{number}），请把该列设为文本后重新输入"
    if RESIDENT_LIKE.fullmatch(number):
        try:
            parse_resident_id(number)
        except ValidationError as exc:
            return exc.messages[0].replace("，请核对后重新输入", "").rstrip("。")
        return ""
    if any(pattern.fullmatch(number) for pattern in _OTHER_FORMATS):
        return ""
    return "证件号码格式不正确（身份证号码应为18位）"


@dataclasses.dataclass(frozen=True)
class Quantity:
    """A list's own column: its key and label, and how a cell becomes a value (value, problem in words)."""

    key: str
    label: str
    parse: Callable[[str], tuple[object, str]]


def row_read(raw: dict, quantity: Quantity) -> tuple[int, str, str, object, str]:
    """Step 1 for one row: (line number, ID number, name, the quantity's value, its own problems in words)."""
    number, name = normalise_id(raw.get("id_number", "")), normalise_name(raw.get("name", ""))
    cell = (raw.get(quantity.key) or "").strip()
    problems = []
    if problem := id_number_problem(number):
        problems.append(problem)
    if not name:
        problems.append("缺少姓名")
    value, problem = quantity.parse(cell) if cell else (None, f"缺少{quantity.label}")
    if problem:
        problems.append(problem)
    return raw["row"], number[:ID_LENGTH], name, value, SEPARATOR.join(problems)


# --- step 2, set-based ----------------------------------------------------------------------------

def _compiled(queryset) -> tuple[str, tuple]:
    sql, params = queryset.query.sql_with_params()
    return sql, tuple(params)


def normalised_name_sql(column: str) -> tuple[str, list]:
    """SQL of :func:`normalise_name` applied to ``column``: on PostgreSQL the same characters removed and
    replaced by ``translate`` (a test compares the two); elsewhere (SQLite) the Python function itself."""
    if connection.vendor == "postgresql":
        return f"substr(translate({column}, %s, %s), 1, {NAME_LENGTH})", [MIDDLE_DOTS + WHITESPACE,
                                                                          "·" * len(MIDDLE_DOTS)]
    connection.ensure_connection()
    connection.connection.create_function("lists_normalise_name", 1, normalise_name, deterministic=True)
    return f"lists_normalise_name({column})", []


def _appended(problem: str, addition: str) -> str:
    """``problem`` with ``addition`` after the separator (SQL; ``addition`` NULL leaves it as it is)."""
    return (f"CASE WHEN {addition} IS NULL THEN {problem} WHEN {problem} = '' THEN {addition} "
            f"ELSE {problem} || '{SEPARATOR}' || {addition} END")


def duplicates_sql(stage: str, label: str) -> str:
    """The staged rows (``row_no, id_number, id_hash, name, quantity, own_problem`` and more) with
    ``problem``: their own problems, then "与第M行重复" when an earlier line has the same ID number, or
    on the first line "与第N行重复且{label}不同，请核实" when a later one differs in the quantity."""
    duplicate = ("CASE WHEN d.id_hash = '' THEN NULL "
                 "WHEN d.row_no > d.first_no THEN '与第' || CAST(d.first_no AS TEXT) || '行重复' "
                 f"WHEN d.differs_no IS NOT NULL "
                 f"THEN '与第' || CAST(d.differs_no AS TEXT) || '行重复且{label}不同，请核实' "
                 "END")
    return (f"SELECT d.*, {_appended('d.own_problem', duplicate)} AS problem FROM ("
            "SELECT f.*, min(CASE WHEN f.row_no > f.first_no AND f.quantity IS DISTINCT FROM f.first_quantity "
            "THEN f.row_no END) OVER (PARTITION BY f.id_hash) AS differs_no FROM ("
            "SELECT s.*, min(s.row_no) OVER (PARTITION BY s.id_hash) AS first_no, "
            "first_value(s.quantity) OVER (PARTITION BY s.id_hash ORDER BY s.row_no) AS first_quantity "
            f"FROM {stage} s) f) d")


def _fence() -> str:
    """Ends a subquery PostgreSQL must compute once, not inline into every expression that reads it."""
    return " OFFSET 0" if connection.vendor == "postgresql" else ""


def match_sql(rows_sql: str, rows_params, *, numbers_sql: str, numbers_params=(), carry: tuple[str, ...] = (),
              year: int, source_type: str, source_id: str, waits_for_collection: bool) -> tuple[str, list]:
    """Whose row it is and whether it can register, for the rows of ``rows_sql`` (columns ``key,
    id_hash, name, problem`` and the ``carry`` ones): ``key``, the carried columns, ``archive_id``,
    ``state`` and ``problem``. A row with a problem stays ``invalid`` with it. ``numbers_sql`` gives
    the keyed hashes of the ID numbers to look up (any superset of the rows' own).

    Two levels: the inner query finds each row's archive and its one outcome (each test computed once
    per row), the outer one turns the outcome into the state, the words and the archive kept.
    """
    approved = Case(When(COLLECTION_APPROVED, then=Value(1)), default=Value(0), output_field=IntegerField())
    resident = Case(When(id_type="resident_id", then=Value(1)), default=Value(0), output_field=IntegerField())
    archives_sql, archives_params = _compiled(
        Archive.objects.filter(id_number_hash__in=RawSQL(numbers_sql, tuple(numbers_params)))
        .annotate(approved=approved, resident=resident)
        .annotate(pick=Window(RowNumber(), partition_by=[F("id_number_hash")],
                              order_by=[F("approved").desc(), F("resident").desc(), F("pk").asc()]))
        .values("id", "id_number_hash", "name", "status", "approved", "pick").order_by())
    entries = CreditEntry._meta
    column = {name: entries.get_field(name).column for name in ("archive", "year", "source_type", "source_id")}
    # by the unique source's index: no plan depends on how fresh the ledger's statistics are
    registered = (f"EXISTS (SELECT 1 FROM {entries.db_table} e WHERE e.{column['archive']} = a.id "
                  f"AND e.{column['year']} = %s AND e.{column['source_type']} = %s AND e.{column['source_id']} = %s)")
    name_sql, name_params = normalised_name_sql("c.name")
    waiting = RowState.PENDING if waits_for_collection else RowState.INVALID
    # the outcomes, tested in this order: (condition, its parameters, state, problem (None: the row's own),
    # the archive kept)
    outcomes = [
        ("r.problem <> ''", [], RowState.INVALID, None, False),
        ("a.id IS NULL", [], waiting, NO_ARCHIVE, False),
        ("a.norm_name <> r.name", [], RowState.INVALID, NAME_DIFFERS, False),
        ("a.status = %s", [Archive.Status.TRANSFERRED_OUT], RowState.INVALID, TRANSFERRED_OUT, True),
        ("a.approved = 0", [], waiting, NOT_COLLECTED, True),
        (registered, [year, source_type, source_id], RowState.DUPLICATE, ALREADY_REGISTERED, True),
    ]
    test, test_params = ["CASE"], []
    for number, (condition, given, _state, _words, _keeps) in enumerate(outcomes, start=1):
        test.append(f"WHEN {condition} THEN {number}")
        test_params += given
    state, problem, problem_params = ["CASE m.outcome"], ["CASE m.outcome"], []
    for number, (_condition, _given, outcome, words, _keeps) in enumerate(outcomes, start=1):
        state.append(f"WHEN {number} THEN '{outcome}'")
        problem.append(f"WHEN {number} THEN {'m.problem' if words is None else '%s'}")
        problem_params += [] if words is None else [words]
    dropped = ", ".join(str(number) for number, outcome in enumerate(outcomes, start=1) if not outcome[4])
    carried = "".join(f"r.{name}, " for name in carry)
    fence = _fence()
    inner = (f"SELECT r.key, r.problem, {carried}a.id AS archive, {' '.join(test)} ELSE 0 END AS outcome "
             f"FROM ({rows_sql}{fence}) r LEFT JOIN (SELECT c.*, {name_sql} AS norm_name FROM ({archives_sql}) c "
             f"WHERE c.pick = 1{fence}) a ON a.id_number_hash = r.id_hash AND r.problem = ''{fence}")
    sql = (f"SELECT m.key, {''.join(f'm.{name}, ' for name in carry)}"
           f"CASE WHEN m.outcome IN ({dropped}) THEN NULL ELSE m.archive END AS archive_id, "
           f"{' '.join(state)} ELSE '{RowState.VALID}' END AS state, "
           f"substr({' '.join(problem)} ELSE '' END, 1, {PROBLEM_LENGTH}) AS problem FROM ({inner}) m")
    return sql, [*problem_params, *test_params, *rows_params, *name_params, *archives_params]


def checked_rows_sql(stage: str, label: str, carry: tuple[str, ...], **source) -> tuple[str, list]:
    """Every staged row checked — duplicates (:func:`duplicates_sql`), then :func:`match_sql` — as
    ``key`` (the line number), the ``carry`` columns of the stage, ``archive_id``, ``state``, ``problem``."""
    rows_sql = f"SELECT d.row_no AS key, d.* FROM ({duplicates_sql(stage, label)}) d"
    return match_sql(rows_sql, [], numbers_sql=f"SELECT id_hash FROM {stage}", carry=carry, **source)
