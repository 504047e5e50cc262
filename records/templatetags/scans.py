"""``{{ attachment|scan_preview }}``: the page images of a PDF scan (records.previews), rendered on first use."""

from django import template

from records.previews import pdf_preview

register = template.Library()


@register.filter
def scan_preview(attachment):
    """A :class:`records.previews.Preview` for a PDF scan, None for an image."""
    return pdf_preview(attachment)
