from django.apps import AppConfig


class RecordsConfig(AppConfig):
    """The archive: information collection (信息采集) and archive changes (档案变更), R-COL-*, R-CHG-*."""

    name = "records"
    verbose_name = "会计人员档案"
