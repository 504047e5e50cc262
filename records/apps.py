from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The archive: information collection (信息采集) and archive changes (档案变更), R-COL-*, R-CHG-*."""

    name = "records"
    verbose_name = "会计人员档案"

    def ready(self):
        # Services and privacy register their audit labels on import; every process (web, worker,
        # commands) must know them.
        from records import privacy, services  # noqa: F401
