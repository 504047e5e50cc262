"""REST glue shared by every app: the domain error, the one exception handler, and JSON errors.

Services raise :class:`DomainError` (→ 400 with fields) or django-fsm's ``TransitionNotAllowed``
(→ 409); the handler below maps them, so no view holds that knowledge (STYLE §6). Errors raised
before a DRF view runs (an address no route matches, ``/api/v1/collections/abc/``) go through
Django's handlers; under ``/api/`` those answer JSON too (:func:`error_handler`, kjzx/urls.py).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from django_fsm import TransitionNotAllowed
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


class DomainError(Exception):
    """A rule said no. ``errors`` maps field names to Chinese messages; ``status`` is 400 or 409."""

    def __init__(self, errors: dict[str, list[str]] | str, *, status_code: int = 400):
        if isinstance(errors, str):
            errors = {"detail": [errors]}
        self.errors = errors
        self.status_code = status_code
        super().__init__(errors)

    @property
    def message(self) -> str:
        return "；".join(msg for msgs in self.errors.values() for msg in msgs)


class Conflict(DomainError):
    """The request conflicts with the current state (409)."""

    def __init__(self, message: str):
        super().__init__({"detail": [message]}, status_code=status.HTTP_409_CONFLICT)


def exception_handler(exc, context):
    if isinstance(exc, (RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent)):
        return Response({"detail": ["请求内容过大，或包含的字段、文件过多。"]}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.ParseError):
        return Response({"detail": ["请求内容无法解析：请发送有效的 JSON 或表单数据。"]},
                        status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, exceptions.UnsupportedMediaType):
        return Response({"detail": ["不支持的请求内容类型。"]}, status=status.HTTP_415_UNSUPPORTED_MEDIA_TYPE)
    if isinstance(exc, DomainError):
        return Response(exc.errors, status=exc.status_code)
    if isinstance(exc, TransitionNotAllowed):
        return Response({"detail": ["当前状态下不能执行该操作。"]}, status=status.HTTP_409_CONFLICT)
    if isinstance(exc, DjangoValidationError):
        errors = exc.message_dict if hasattr(exc, "error_dict") else {"detail": exc.messages}
        return Response(errors, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound("未找到。")
    return drf_exception_handler(exc, context)


API_PREFIX = "/api/"
API_ERRORS = {
    400: "请求无效。",
    403: "您无权执行该操作。",
    404: "未找到。",
    500: "服务器内部错误，请稍后再试；如持续出现，请联系属地财政部门。",
}


def _api_error(request, status_code: int) -> JsonResponse | None:
    if request.path.startswith(API_PREFIX):
        # The shape DRF gives its own 404 ({"detail": "未找到。"}), whichever layer answers.
        return JsonResponse({"detail": API_ERRORS[status_code]}, status=status_code,
                            json_dumps_params={"ensure_ascii": False})
    return None


def bad_request(request, exception):
    return _api_error(request, 400) or defaults.bad_request(request, exception)


def permission_denied(request, exception):
    return _api_error(request, 403) or defaults.permission_denied(request, exception)


def page_not_found(request, exception):
    return _api_error(request, 404) or defaults.page_not_found(request, exception)


def server_error(request):
    return _api_error(request, 500) or defaults.server_error(request)
