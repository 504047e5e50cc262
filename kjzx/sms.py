"""Sending text messages (短信). Production plugs in the province's SMS gateway via SMS_BACKEND."""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class ConsoleBackend:
    """Development: prints the message (with the mobile masked in the log line's prefix)."""

    def send(self, mobile: str, text: str) -> None:
        print(f"[短信] {mobile[:3]}****{mobile[-4:]}: {text}")


class UnconfiguredBackend:
    """Production without a gateway: nothing is sent, and the log says why (never the code itself)."""

    def send(self, mobile: str, text: str) -> None:
        logger.error("SMS_BACKEND is not configured: a text message was not sent.")


class MemoryBackend:
    """Tests: keeps messages in ``outbox``."""

    outbox: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str) -> None:
        MemoryBackend.outbox.append((mobile, text))


def send_sms(mobile: str, text: str) -> None:
    import_string(settings.SMS_BACKEND)().send(mobile, text)
