"""Tags every page may load: ``{% load pages %}``."""

from django import template

register = template.Library()


@register.simple_tag(takes_context=True)
def page_href(context, param: str, number) -> str:
    """The current query string with ``param`` set to ``number``: the filters of a list survive paging."""
    query = context["request"].GET.copy()
    query[param] = number
    return f"?{query.urlencode()}"
