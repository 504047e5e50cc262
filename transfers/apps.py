from django.apps import AppConfig


class TransfersConfig(AppConfig):
    """Transfers within Shanxi and across provinces (调转), R-TRF-*, and the national exchange."""

    name = "transfers"
    verbose_name = "档案调转"
