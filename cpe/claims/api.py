"""REST endpoints of other-form credit claims, ``/api/v1/cpe/claims/`` (API.md §1 and "Continuing education"), R-CE-11.

- ``GET /cpe/claims/``: the caller's claims (the person's own, newest first; a bureau's region's
  submitted ones, oldest submission first), ``?status=``, ``?form=``, ``?year=``.
- ``POST /cpe/claims/`` ``{"year", "form", "details", "attachments"}``: an accountant opens a draft
  whose ``proposed_credits`` come from the standards in force for the year (:func:`cpe.claims.services.claim_open`).
- ``GET``/``PATCH /cpe/claims/{id}/``: the workflow object plus the claim's fields; the applicant
  edits a draft or a returned claim.
- ``POST /cpe/claims/{id}/transitions/{name}/``: ``submit``, ``approve``, ``return`` (reason). The
  body of ``approve`` may carry ``{"credits": "60.0", "reason": "…"}``: credits other than proposed
  need the reason (``adjust_reason``); without ``credits`` the proposal is registered.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import Role
from cpe.claims import selectors, services
from cpe.models import ClaimForm, CreditClaim
from kjzx.parsers import JSONParser
from kjzx.workflow_api import (
    TRANSITION_NAME,
    AttachmentIdsField,
    TransitionInput,
    WorkflowDetailView,
    WorkflowListView,
    WorkflowObjectSerializer,
    WorkflowSummarySerializer,
    WorkflowTransitionView,
    choices_help,
    detail_schema,
    errors,
    list_schema,
    request_object,
)

DETAILS_HELP = ("形式的详情：exam {exam: accounting_qualification|cpa|asset_appraiser|tax_adviser|other, "
                "subjects_passed}；conference {days}；degree {courses_passed}；research {role: sole|host|participant}；"
                "paper {authorship: sole|first|other, cn_number: CN14-1234/F}；book {authorship: sole|first|other}")


class ClaimSummarySerializer(WorkflowSummarySerializer):
    """A claim in a list: the workflow shape plus what is claimed."""

    year = serializers.IntegerField(source="year_id", help_text="学分所属年度")
    form = serializers.CharField(help_text=choices_help("形式", ClaimForm))
    form_display = serializers.CharField(source="get_form_display")
    proposed_credits = serializers.DecimalField(max_digits=5, decimal_places=1, help_text="按学分计量标准的建议学分")
    approved_credits = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True,
                                                help_text="审核通过时登记的学分；未通过前为空")


class ClaimSerializer(WorkflowObjectSerializer, ClaimSummarySerializer):
    """An other-form credit claim (学分登记申请), API.md §1: the workflow object with the claim's fields."""

    details = serializers.DictField(help_text=DETAILS_HELP)
    adjust_reason = serializers.CharField(allow_blank=True, help_text="登记学分与建议学分不同时的调整原因")
    attachments = AttachmentIdsField(read_only=True, help_text="证明材料的附件编号")


class ClaimInput(serializers.Serializer):
    """For the schema only: the service checks every field (400 ``{"details.days": […]}``)."""

    year = serializers.IntegerField(help_text="学分所属年度，如 2024；已归档年度不能申请")
    form = serializers.CharField(help_text=choices_help("形式", ClaimForm))
    details = serializers.DictField(help_text=DETAILS_HELP)
    attachments = serializers.ListField(child=serializers.IntegerField(), required=False,
                                        help_text="证明材料（evidence）的附件编号；提交时必须至少一个")


class ClaimTransitionInput(TransitionInput):
    credits = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                    help_text="仅 approve：登记学分（如 \"60.0\"）；与建议学分不同时须填写 reason")


class ClaimView:
    model = CreditClaim
    selector = staticmethod(lambda model, user, pk: selectors.claim_get(user, pk))
    serializer_class = ClaimSerializer


@extend_schema_view(get=list_schema(ClaimSummarySerializer, "学分登记申请"))
class ClaimListView(WorkflowListView):
    """``/cpe/claims/``: the caller's claims; POST opens the accountant's own (R-CE-11)."""

    model = CreditClaim
    list_selector = staticmethod(lambda model, user: selectors.claim_list(user))
    serializer_class = ClaimSummarySerializer
    parser_classes = [JSONParser]
    filterset_fields = ["status", "form", "year"]

    @extend_schema(
        summary="申请其他形式学分登记", request=ClaimInput,
        description="创建学分登记申请（草稿），proposed_credits 按该年度适用的学分计量标准计算。详情有误 → 400（字段如 "
                    "details.days）；信息采集未审核通过 → 409（R-CE-12）；已归档年度 → 400（year）。",
        responses={201: ClaimSerializer, **errors(400, 401, 403, 409, 415)})
    def post(self, request):
        body = request_object(request)
        claim = services.claim_open(person=request.user, year=body.get("year"), form=body.get("form"),
                                  details=body.get("details"), attachments=body.get("attachments"))
        return Response(ClaimSerializer(claim, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=detail_schema(ClaimSerializer, "学分登记申请"),
    patch=extend_schema(summary="修改学分登记申请", request=ClaimInput,
                        description="草稿或已退回时由申请人修改；未给出的字段保持不变，建议学分重新计算。",
                        responses={200: ClaimSerializer, **errors(400, 401, 403, 404, 409)}))
class ClaimDetailView(ClaimView, WorkflowDetailView):
    parser_classes = [JSONParser]

    def patch(self, request, pk: int):
        claim = self.get_object()  # 404 outside the caller's scope, before anything else
        if request.user.role != Role.ACCOUNTANT:
            self.permission_denied(request, message="只有申请人可以修改学分登记申请。")
        body = request_object(request)
        claim = services.claim_update(claim=claim, by=request.user, year=body.get("year"), form=body.get("form"),
                                    details=body.get("details"), attachments=body.get("attachments"))
        return self.respond(claim)


@extend_schema_view(post=extend_schema(
    summary="学分登记申请：执行操作", request=ClaimTransitionInput, parameters=[TRANSITION_NAME],
    description="submit（申请人）、approve（审核通过并登记学分；可带 credits 调整登记学分，"
                "与建议学分不同时 reason 必填）、"
                "return（退回，reason 必填）。该操作此刻不可用或名称未知 → 409；缺少原因或学分有误 → 400；"
                "不在管辖范围内 → 404；年度已归档 → 409。",
    responses={200: ClaimSerializer, **errors(400, 401, 404, 409)}))
class ClaimTransitionView(ClaimView, WorkflowTransitionView):
    parser_classes = [JSONParser]

    def post(self, request, pk: int, name: str):
        claim = self.get_object()
        data = ClaimTransitionInput(data=request_object(request))
        data.is_valid(raise_exception=True)
        claim = services.claim_transition(claim, name, by=request.user, reason=data.validated_data["reason"],
                                        credits=data.validated_data.get("credits"))
        return self.respond(claim)
