"""REST glue shared by every app: the domain error, and the one exception handler.

Services raise :class:`DomainError` (→ 400 with fields) or django-fsm's ``TransitionNotAllowed``
(→ 409); the handler below maps them, so no view holds that knowledge (STYLE §6).
"""

from __future__ import annotations

from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent, TooManyFilesSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
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

