"""Small request helpers shared by pages and API views: the client's address, and throttles keyed by it.

One function decides who "the client" is (:func:`client_ip`): the lockout (AXES_CLIENT_IP_CALLABLE),
the audit rows and every throttle use it, so a made-up ``X-Forwarded-For`` moves none of them. The
header is read only when ``TRUSTED_PROXY_COUNT`` proxies stand in front, and then only the entry the
nearest trusted proxy wrote (security issue, "Rate limits are skipped with a made-up X-Forwarded-For").
"""

from django.conf import settings
from rest_framework.throttling import ScopedRateThrottle, SimpleRateThrottle


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or the trusted proxy's X-Forwarded-For entry."""
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    if proxies and forwarded:
        hops = [hop.strip() for hop in forwarded.split(",") if hop.strip()]
        if len(hops) >= proxies:
            return hops[-proxies]
    return request.META.get("REMOTE_ADDR") or None


class ClientAddressThrottle(SimpleRateThrottle):
    """A throttle per client address as :func:`client_ip` reads it (DRF's own reading is replaced).

    Subclasses set ``scope`` (a key of REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]). Usable from a page
    too: ``Throttle().allow_request(request, None)`` counts one request of that address.
    """

    def get_ident(self, request):
        return client_ip(request) or "unknown"

    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class ScopedClientAddressThrottle(ScopedRateThrottle):
    """DRF's ScopedRateThrottle (the view's ``throttle_scope``), keyed by :func:`client_ip`."""

    def get_ident(self, request):
        return client_ip(request) or "unknown"


class RegistrationThrottle(ClientAddressThrottle):
    """实名注册 from one address: its answer tells whether an ID number is registered, so it is tight."""

    scope = "register"
