"""API authentication classes (kept apart from kjzx.api: DRF imports these while it loads).

``Authorization: Bearer <token>`` (API.md §1) with django-rest-knox: only a SHA-512 digest of each token
is stored, every person's token expires (REST_KNOX["TOKEN_TTL"], 10 hours), logout revokes it and a
password change revokes them all (accounts.services). The national platform's token is the same kind
of credential without an expiry (accounts.services.exchange_token_create; docs/exchange.md).
"""

from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from knox.auth import TokenAuthentication
from rest_framework import exceptions

INVALID_TOKEN = _("令牌无效或已过期，请重新获取。")


class BearerTokenAuthentication(TokenAuthentication):
    """A knox token after ``Bearer``; refusals in Chinese, and the same refusal for every kind of bad token."""

    def authenticate(self, request):
        try:
            return super().authenticate(request)
        except exceptions.AuthenticationFailed:
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None

    def authenticate_credentials(self, token):
        try:
            token.decode("ascii")
        except UnicodeDecodeError:  # knox would answer a 500 on bytes it cannot read
            raise exceptions.AuthenticationFailed(INVALID_TOKEN) from None
        return super().authenticate_credentials(token)


class BearerTokenScheme(OpenApiAuthenticationExtension):
    """The OpenAPI security scheme of :class:`BearerTokenAuthentication`."""

    target_class = "kjzx.authentication.BearerTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Bearer")  # noqa: S106
