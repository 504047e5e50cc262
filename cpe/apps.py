from django.apps import AppConfig


class CpeConfig(AppConfig):
    """Continuing education (继续教育): the credit ledger, year policies, courses, certificates, R-CE-*."""

    name = "cpe"
    verbose_name = "继续教育"
