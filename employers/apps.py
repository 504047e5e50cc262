from django.apps import AppConfig


class EmployersConfig(AppConfig):
    """Employers (用人单位): their administrators read, and only read, their own accountants.

    Above records, transfers and cpe in the dependency graph: it reads them; none of them imports it.
    """

    name = "employers"
    verbose_name = "用人单位"

    def ready(self):
        from employers import services  # noqa: F401  (audit labels, in every process)
