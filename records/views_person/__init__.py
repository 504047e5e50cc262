"""The accountant's records pages: 我的信息—信息采集, 我的档案, 档案变更登记 (R-COL-2…4a, R-CHG-1…4).

-:mod:`.collection`: 信息采集 in steps, each a draft save that never loses work;
- :mod:`.changes`: 我的档案 and 档案变更登记;
- :mod:`.common`: uploads on a page, refusals, the error summary.
"""

from records.views_person.changes import (
    archive_detail,
    change_detail,
    change_edit,
    change_list,
    change_new,
    change_submit,
    change_withdraw,
)
from records.views_person.collection import collection

__all__ = ["archive_detail", "change_detail", "change_edit", "change_list", "change_new", "change_submit",
           "change_withdraw", "collection"]
