from django.apps import AppConfig


class TransfersConfig(AppConfig):
    """Transfers within Shanxi and across provinces (调转), R-TRF-*, and the national exchange."""

    name = "transfers"
    verbose_name = "档案调转"

    def ready(self):
        # Transfers join the records machinery: the review queue, R-CHG-4's one open application,
        # and the scans a reviewer may open.
        from records import selectors as records_selectors
        from transfers import selectors, services  # noqa: F401  (services registers audit labels)
        from transfers.models import Transfer

        records_selectors.QUEUE_MODELS["transfer"] = Transfer
        if selectors.archive_open_transfer not in records_selectors.OPEN_APPLICATION_CHECKS:
            records_selectors.OPEN_APPLICATION_CHECKS.append(selectors.archive_open_transfer)
        if selectors.transfers_visible_to_reviewer not in records_selectors.ATTACHMENT_HOLDERS:
            records_selectors.ATTACHMENT_HOLDERS.append(selectors.transfers_visible_to_reviewer)
