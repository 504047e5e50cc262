"""Sending text messages (短信): the provider interface and its backends.

``settings.SMS_BACKEND`` names a class with one method, ``send(mobile, text)``. It returns when the
provider has **accepted** the message, and raises:

- :class:`SmsTransientError` when the provider certainly did not accept it and a later try may work
  (the gateway is down, a rate limit, HTTP 5xx before any answer about the message): the delivery is
  retried with backoff;
- :class:`SmsRejected` when it will never be accepted (an invalid number, content refused, no
  gateway): the delivery is marked failed;
- anything else when the outcome is not known (a timeout after the request went out): the delivery
  is marked "结果不明" and never sent again — notifications are sent at most once (``kjzx.deliveries``).

Backends here:

- :class:`LoggingBackend` — the embedded default with DEBUG on: logs ``[短信] 138****0001: …`` on the
  ``kjzx.sms`` logger (the mobile masked, the text in full: development only, since a password-reset
  text carries its code).
- :class:`UnconfiguredBackend` — the default with DEBUG off until the province's gateway is wired:
  sends nothing, logs an error without the text, and raises :class:`SmsNotConfigured`.
- :class:`MemoryBackend` — tests: keeps ``(mobile, text)`` in ``MemoryBackend.outbox``.

The slot for the real gateway (docs/deployment.md, "SMS gateway"): a class, e.g.
``kjzx.sms_gateway.GatewayBackend``, whose ``send`` calls the gateway with its credentials read from
settings, maps the gateway's answers onto the two exceptions above, logs only :func:`mask_mobile`
of the number, and is named in ``SMS_BACKEND``.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.utils.module_loading import import_string

logger = logging.getLogger(__name__)


class SmsError(Exception):
    """The provider did not accept the message."""


class SmsTransientError(SmsError):
    """Not accepted, and a later try may succeed."""


class SmsRejected(SmsError):
    """Not accepted, and it never will be."""


class SmsNotConfigured(SmsRejected):
    """No gateway is configured (production before the province's gateway is wired)."""


def mask_mobile(mobile: str) -> str:
    """138****0001: what a log line, an admin page or an error may show of a mobile number."""
    mobile = mobile or ""
    if len(mobile) < 8:
        return "*" * len(mobile)
    return f"{mobile[:3]}{'*' * (len(mobile) - 7)}{mobile[-4:]}"


class LoggingBackend:
    """Development: logs the message with the mobile masked (``[短信] 138****0001: text``)."""

    def send(self, mobile: str, text: str) -> None:
        logger.info("[短信] %s: %s", mask_mobile(mobile), text)


class ConsoleBackend(LoggingBackend):
    """The earlier name of :class:`LoggingBackend`, kept for environments that still name it."""


class UnconfiguredBackend:
    """Production without a gateway: nothing is sent, and the log says so (never the text, never the number)."""

    def send(self, mobile: str, text: str) -> None:
        logger.error("SMS_BACKEND is not configured: a text message was not sent.")
        raise SmsNotConfigured("短信网关未配置")


class MemoryBackend:
    """Tests: keeps messages in ``outbox``."""

    outbox: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str) -> None:
        MemoryBackend.outbox.append((mobile, text))


def sms_backend():
    return import_string(settings.SMS_BACKEND)()


def send_sms(mobile: str, text: str) -> None:
    """Send one text now, for a password-reset code: never raises (the page answers the same either way)."""
    try:
        sms_backend().send(mobile, text)
    except SmsNotConfigured:
        pass  # already logged by the backend
    except Exception:
        logger.exception("a text message to %s was not sent", mask_mobile(mobile))
