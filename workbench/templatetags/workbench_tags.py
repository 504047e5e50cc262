"""``{% work_counts_head %}``: 待办, 今日到期, 逾期 at the top of a reviewer's or a training institution's workbench."""

from django import template
from django.urls import reverse

from cpe.institutions.selectors import institution_work_counts, is_institution_user
from workbench.stats import work_counts

register = template.Library()


@register.inclusion_tag("workbench/_counts.html", takes_context=True)
def work_counts_head(context):
    """The caller's counts, each linking to where that work is done; nothing for someone who has none.

    A reviewer's are the open work of their region (:func:`workbench.stats.work_counts`), linking to the queue
    (the overdue count to the queue filtered to it); an institution's are what its institutions owe
    (:func:`cpe.institutions.selectors.institution_work_counts`), listed under the counts."""
    user = context.get("user")
    if user is None or not user.is_authenticated:
        return {"counts": None}
    if is_institution_user(user):
        home = reverse("institution_home")
        return {"counts": institution_work_counts(user), "items": True,
                "links": {"open": home, "due_today": home, "overdue": home}}
    queue = reverse("accounts:workbench")
    return {"counts": work_counts(user), "items": False,
            "links": {"open": queue, "due_today": queue, "overdue": f"{queue}?overdue=on"}}
