from django.apps import AppConfig


class KjzxConfig(AppConfig):
    """Cross-cutting machinery: audit events, notices, the working-day calendar, PDFs, the API glue."""

    name = "kjzx"
    verbose_name = "平台公共"
