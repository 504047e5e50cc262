"""``{% work_counts %}``: 待办, 今日到期, 逾期 of the reviewer's region at the top of their workbench (issue 13)."""

from django import template

from workbench.stats import work_counts

register = template.Library()


@register.inclusion_tag("workbench/_counts.html", takes_context=True)
def work_counts_head(context):
    """The caller's counts, each linking to the queue it counts; nothing for someone who reviews nothing."""
    user = context.get("user")
    return {"counts": work_counts(user) if user is not None else None, "region": getattr(user, "region_id", None)}
