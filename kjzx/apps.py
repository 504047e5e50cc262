from django.apps import AppConfig


class KjzxConfig(AppConfig):
    """Cross-cutting machinery: audit events, notices, the working-day calendar, PDFs, the API glue."""

    name = "kjzx"
    verbose_name = "平台公共"

    def ready(self):
        # The sweeps register their audit labels ("逾期未办理") on import; the web process shows them too.
        from kjzx import deadlines  # noqa: F401
