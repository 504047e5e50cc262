"""The REST door of every workflow kind (API.md §1 "Workflow objects"): one shape, one way to move.

Collections, changes, transfers and credit claims all answer ``GET /api/v1/<kind>/{id}/`` with
:class:`WorkflowObjectSerializer` (extended by the kind's own fields) and move only through
``POST /api/v1/<kind>/{id}/transitions/{name}/`` → :func:`kjzx.workflow.workflow_transition`.
A kind's API is a few attribute-only subclasses::

    class CollectionView:
        model = CollectionApplication
        selector = staticmethod(application_get)      # (model, user, pk) → object, or Http404
        serializer_class = CollectionSerializer

    @extend_schema_view(get=detail_schema(CollectionSerializer, "信息采集申请"))
    class CollectionDetailView(CollectionView, WorkflowDetailView): ...

The selector decides visibility: anything outside the caller's jurisdiction or ownership is a 404
before any rule is asked (R-ACL-1, R-ACL-2). The transition service decides the rest: a transition
not available to this caller now (or an unknown name) is a 409, a missing reason a 400.
"""

from __future__ import annotations

from collections.abc import Callable

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import REVIEWER_ROLES, Role
from accounts.permissions import HasRole, IsAccountant
from kjzx.api import DomainError
from kjzx.workflow import WorkflowModel, history_rows, workflow_transition

# Who may open the application lists at all; which objects they see is the selector's business.
CanReadApplications = HasRole.of(Role.ACCOUNTANT, *sorted(REVIEWER_ROLES))


# --- error bodies, as the exception handler (kjzx.api) writes them --------------------------------

FIELD_ERRORS = {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}},
                "example": {"field": ["请填写此项。"]}}
MESSAGE = {"type": "object", "properties": {"detail": {"type": "string"}}, "required": ["detail"]}
MESSAGES = {"type": "object", "properties": {"detail": {"type": "array", "items": {"type": "string"}}},
            "required": ["detail"]}

ERROR_400 = OpenApiResponse(FIELD_ERRORS, description="输入有误：字段 → 中文提示列表")
ERROR_401 = OpenApiResponse(MESSAGE, description="未提供登录凭据")
ERROR_403 = OpenApiResponse(MESSAGE, description="当前角色不能执行该操作")
ERROR_404 = OpenApiResponse(MESSAGE, description="不存在，或不在您的管辖范围（属地）或本人名下")
ERROR_409 = OpenApiResponse(MESSAGES, description="当前状态下不能执行该操作，或与现有申请冲突")
ERROR_413 = OpenApiResponse(FIELD_ERRORS, description="文件超过大小上限")
ERROR_PAGE_404 = OpenApiResponse(MESSAGE, description="页码超出范围（page 大于最后一页）")
ERROR_415 = OpenApiResponse({"oneOf": [FIELD_ERRORS, MESSAGE]},
                            description="不接受的文件类型（按内容识别），或请求的 Content-Type 不被接受")


def document_content_negotiation(result, generator, request, public):
    """drf-spectacular postprocessing hook: the answers of content negotiation, on every operation they apply to.

    - **406** on every operation: an ``Accept`` header that no renderer of the view can satisfy is DRF's
      NotAcceptable (``{"detail": …}`` in JSON, kjzx.api's exception handler), whatever the operation;
    - **415** on every operation that reads a body: a Content-Type none of the view's parsers reads is DRF's
      UnsupportedMediaType, not only on the uploads.

    Schemathesis' stateful phase found both undocumented (tests/surface/test_fuzz_stateful.py).
    """
    for item in result.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            responses.setdefault("406", {"content": {"application/json": {"schema": MESSAGE}},
                                         "description": "请求的 Accept 无法满足（本接口返回 application/json）"})
            if "requestBody" in operation:
                responses.setdefault("415", {
                    "content": {"application/json": {"schema": {"oneOf": [FIELD_ERRORS, MESSAGE]}}},
                    "description": ERROR_415.description})
    return result


def errors(*codes: int) -> dict[int, OpenApiResponse]:
    """The documented error responses of an operation: ``errors(400, 401, 404)``."""
    table = {400: ERROR_400, 401: ERROR_401, 403: ERROR_403, 404: ERROR_404, 409: ERROR_409, 413: ERROR_413,
             415: ERROR_415}
    return {code: table[code] for code in codes}


# --- small parsing and documenting helpers every kind's API uses ---------------------------------

def request_object(request) -> dict:
    """The JSON body, which must be an object (a list or a string is a 400, not a 500)."""
    if not isinstance(request.data, dict):
        raise DomainError({"non_field_errors": ["请求内容应为 JSON 对象。"]})
    return request.data


def choices_help(label: str, choices) -> str:
    """``学历：secondary（中专）、…``: a field's codes for the schema, without a shared enum component."""
    return f"{label}：" + "、".join(f"{value}（{text}）" for value, text in choices.choices)


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class AttachmentIdsField(serializers.Field):
    """The ids of the attachments a record holds (API.md §1: ``"attachments": [ids]``)."""

    def to_representation(self, value):
        return list(value.order_by("pk").values_list("pk", flat=True))

    def to_internal_value(self, data):
        return data


# --- the shape every workflow object has (API.md §1) -----------------------------------------------

class ApplicantSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    id_number = serializers.CharField(source="masked_id_number", help_text="证件号码（脱敏）")


# "from" is a Python keyword, so this one is built rather than declared.
HistoryRowSerializer = type("WorkflowHistoryRowSerializer", (serializers.Serializer,), {
    "__doc__": "One step of an application's history, oldest first (R-ACL-3: who, when, why).",
    "transition": serializers.CharField(help_text="操作名称，如 submit、approve_first、return"),
    "from": serializers.CharField(allow_blank=True, help_text="操作前状态"),
    "to": serializers.CharField(allow_blank=True, help_text="操作后状态"),
    "by": serializers.CharField(help_text="操作人姓名；“系统”为自动处理"),
    "at": serializers.DateTimeField(),
    "reason": serializers.CharField(allow_blank=True, help_text="退回或不予通过的原因"),
})


class WorkflowSummarySerializer(serializers.Serializer):
    """An application in a list: the shape of API.md §1 without the history."""

    id = serializers.IntegerField()
    number = serializers.CharField(help_text="申请编号，如 CJ2026-000017")
    status = serializers.CharField(help_text="状态代码（见 API.md §1 各类申请的状态）")
    status_display = serializers.CharField(help_text="状态的中文名称")
    applicant = ApplicantSerializer(allow_null=True)
    jurisdiction = serializers.CharField(source="jurisdiction_id", allow_null=True,
                                         help_text="办理该申请的属地区划代码（GB/T 2260）")
    submitted_at = serializers.DateTimeField(allow_null=True)
    due_date = serializers.DateField(allow_null=True, help_text="当前审核环节的办理时限（工作日计算，R-DL-1）")
    overdue = serializers.BooleanField(help_text="已超过办理时限而审核未完成")
    available_transitions = serializers.SerializerMethodField(help_text="当前用户此刻可以执行的操作")

    @extend_schema_field(serializers.ListField(child=serializers.CharField()))
    def get_available_transitions(self, obj: WorkflowModel) -> list[str]:
        return obj.transition_names_for(self.context["request"].user)


class WorkflowObjectSerializer(WorkflowSummarySerializer):
    """One application, exactly as API.md §1 shows it; a kind's serializer adds its own fields."""

    history = serializers.SerializerMethodField()

    @extend_schema_field(HistoryRowSerializer(many=True))
    def get_history(self, obj: WorkflowModel) -> list[dict]:
        return HistoryRowSerializer(history_rows(obj), many=True).data


class TransitionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                   help_text="原因：退回、不予通过时必填，将告知申请人（R-ACL-3）")


# --- the views ------------------------------------------------------------------------------------

class WorkflowObjectView(APIView):
    """One application, fetched through the kind's scoped selector (else 404)."""

    model: type[WorkflowModel]
    selector: Callable  # (model, user, pk) → object; Http404 outside the caller's scope
    serializer_class: type[WorkflowObjectSerializer]
    permission_classes = [IsAuthenticated]

    def get_object(self) -> WorkflowModel:
        return self.selector(self.model, self.request.user, self.kwargs["pk"])

    def respond(self, obj: WorkflowModel, status: int = 200) -> Response:
        return Response(self.serializer_class(obj, context={"request": self.request}).data, status=status)


class WorkflowDetailView(WorkflowObjectView):
    """``GET /api/v1/<kind>/{id}/``."""

    def get(self, request, pk: int):
        return self.respond(self.get_object())


class WorkflowTransitionView(WorkflowObjectView):
    """``POST /api/v1/<kind>/{id}/transitions/{name}/`` with ``{"reason"}`` → 200 with the object."""

    def post(self, request, pk: int, name: str):
        obj = self.get_object()
        data = TransitionInput(data=request.data)
        data.is_valid(raise_exception=True)
        obj = workflow_transition(obj, name, by=request.user, reason=data.validated_data["reason"])
        return self.respond(obj)


class WorkflowListView(ListAPIView):
    """``GET /api/v1/<kind>/``: what the caller may see, filterable by ``?status=``, paginated.

    A reviewer's list is a queue: oldest submission first (R-COL-4); an applicant's, newest first.
    """

    model: type[WorkflowModel]
    list_selector: Callable  # (model, user) → queryset scoped to the caller
    permission_classes = [IsAuthenticated, CanReadApplications]
    filterset_fields = ["status"]

    def get_permissions(self):
        if self.request.method == "POST":  # a person opens their own application; nobody else does
            return [IsAuthenticated(), IsAccountant()]
        return super().get_permissions()

    def get_queryset(self):
        qs = self.list_selector(self.model, self.request.user)
        if getattr(self.request.user, "role", None) in REVIEWER_ROLES:
            return qs.order_by("submitted_at", "id")
        return qs.order_by("-created_at", "-id")


# --- schema helpers: each kind's subclass gets its own serializer in the documentation ---------

TRANSITION_NAME = OpenApiParameter("name", OpenApiTypes.STR, OpenApiParameter.PATH,
                                   description="操作名称（见对象的 available_transitions）")


def detail_schema(serializer, label: str):
    return extend_schema(summary=f"{label}详情", responses={200: serializer, **errors(401, 404)})


def transition_schema(serializer, label: str):
    return extend_schema(
        summary=f"{label}：执行操作", request=TransitionInput, parameters=[TRANSITION_NAME],
        description="执行一个当前可用的操作（提交、审核通过、退回……）。该操作此刻不可用或名称未知 → 409；"
                    "退回等操作缺少原因 → 400；不在管辖范围内 → 404。",
        responses={200: serializer, **errors(400, 401, 404, 409)})


def list_schema(serializer, label: str):
    return extend_schema(summary=f"{label}列表", description="申请人看到本人的申请（新→旧）；审核人员看到本属地"
                         "已提交的申请，按提交时间先后排列（先提交的在前）。",
                         responses={200: serializer(many=True), **errors(400, 401, 403), 404: ERROR_PAGE_404})


class IgnoreClientContentNegotiation(BaseContentNegotiation):
    """For file downloads: whatever the client's Accept says, answer with the file (or a JSON error)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type
