"""Response hardening that applies to every page."""


class NoStoreForAuthenticatedMiddleware:
    """Authenticated responses must not be kept by the browser or a proxy (ASVS 14.3.2)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if user is not None and user.is_authenticated and "Cache-Control" not in response:
            response["Cache-Control"] = "no-store"
        return response
