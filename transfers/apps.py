from django.apps import AppConfig


class TransfersConfig(AppConfig):
    """Transfers within Shanxi and across provinces (调转), R-TRF-*, and the national exchange."""

    name = "transfers"
    verbose_name = "档案调转"

    def ready(self):
        # Records cannot import transfers, yet two of its rules must hold for transfers too: R-CHG-4's
        # one open application per archive, and the scans a reviewer may open. (The review queue
        # reads Transfer directly: it is the workbench app's, above both.)
        from records import selectors as records_selectors
        from transfers import selectors, services  # noqa: F401  (services registers audit labels)

        if selectors.archive_open_transfer not in records_selectors.OPEN_APPLICATION_CHECKS:
            records_selectors.OPEN_APPLICATION_CHECKS.append(selectors.archive_open_transfer)
        if selectors.transfers_visible_to_reviewer not in records_selectors.ATTACHMENT_HOLDERS:
            records_selectors.ATTACHMENT_HOLDERS.append(selectors.transfers_visible_to_reviewer)
