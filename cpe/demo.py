"""Demo data of continuing education (演示数据：继续教育), loaded by ``load_demo``: each capability's demo, in order.

1. the ledger's credit histories (:mod:`cpe.ledger.demo`) and online learning (:mod:`cpe.learning.demo`),
   before the freeze, so whatever they register in past years lands first;
2. every year whose registration has closed is frozen (:func:`cpe.ledger.services.due_years_close`);
3. the printout of each demo person's state, read from ``year_status`` after everything has loaded;
4. institutions, a face-to-face list, claims and an exam pass list, waiting for the bureaus and the
   province (:mod:`cpe.institutions.demo`, :mod:`cpe.lists.demo`, :mod:`cpe.claims.demo`).

Every part goes through the real services and is safe to load twice.
"""

from __future__ import annotations

from cpe.claims import demo as claims_demo
from cpe.institutions import demo as institutions_demo
from cpe.learning import demo as learning_demo
from cpe.ledger import demo as ledger_demo
from cpe.ledger.services import due_years_close
from cpe.lists import demo as lists_demo


def load(out) -> None:
    archives, made = ledger_demo.histories_load()
    learning_demo.load(out)
    closed = due_years_close()
    ledger_demo.report(out, archives, made, closed)
    lines = [institutions_demo.load(), lists_demo.face_to_face_load(), claims_demo.load(), lists_demo.exam_list_load()]
    out.write("继续教育其他来源（演示）：")
    for line in filter(None, lines):
        out.write(f"  {line}")
