"""API authentication classes (kept apart from kjzx.api: DRF imports these while it loads)."""

from rest_framework.authentication import TokenAuthentication


class BearerTokenAuthentication(TokenAuthentication):
    """``Authorization: Bearer <token>`` (API.md §1)."""

    keyword = "Bearer"
