"""The national-platform exchange, ``/api/exchange/v1/`` (API.md §2), R-TRF-3, R-TRF-4.

Only an exchange client's token opens these doors (``Authorization: Bearer <token>``, made with
``create_exchange_token``): no credentials → 401, anyone else's token → 403. The views parse and
answer; :mod:`transfers.services` decides, so every call is safe to repeat — the same call twice
leaves the same state and gives the same answer:

- ``GET outbound/?cursor=&limit=``: accepted outbound transfers not yet acknowledged, oldest first
  (:func:`transfers.selectors.outbox`), a keyset page; ``next_cursor`` is opaque (urlsafe base64
  of the last row's ``accepted_at`` and id) and null on the last page.
- ``POST outbound/{transfer_no}/ack/`` → ``uploaded`` (:func:`~transfers.services.outbound_ack`).
- ``POST outbound/{transfer_no}/result/`` → ``completed`` or ``returned``
  (:func:`~transfers.services.outbound_result`); the same result again → 200, another → 409.
- ``POST inbound/`` → a ``received`` inbound transfer (:func:`~transfers.services.inbound_receive`):
  201 new, 200 the same body again, 409 the same number with another body, 400 with the fields.
- ``GET inbound/{transfer_no}/`` → the destination bureau's decision.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import IdType, Sex
from accounts.permissions import IsExchangeClient
from kjzx.api import DomainError
from kjzx.authentication import BearerTokenAuthentication
from kjzx.parsers import JSONParser
from kjzx.workflow_api import errors, request_object
from records.api import EducationSerializer, QualificationSerializer
from records.models import UnitType
from transfers import selectors, services
from transfers.models import Transfer

LIMIT_DEFAULT, LIMIT_MAX = 50, 200
# --- the person record (API.md §2), used both ways ----------------------------------------------

class PersonEmployerSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="工作单位；在校学生为“无”")
    credit_code = serializers.CharField(allow_blank=True, help_text="统一社会信用代码（18位，GB 32100）；学生为空")
    unit_type = serializers.ChoiceField(choices=UnitType.choices, allow_blank=True)


class PersonCpeYearSerializer(serializers.Serializer):
    year = serializers.IntegerField()
    total = serializers.CharField(help_text="学分（十进制字符串）")
    professional = serializers.CharField(help_text="专业科目学分（十进制字符串）")
    completed = serializers.BooleanField()


class PersonRecordSerializer(serializers.Serializer):
    """A person record of the exchange (API.md §2); ``cpe`` is filled by the portal and read-only."""

    id_type = serializers.ChoiceField(choices=IdType.choices)
    id_number = serializers.CharField(help_text="证件号码（居民身份证须通过 GB 11643 校验）")
    name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Sex.choices)
    birth_date = serializers.DateField()
    mobile = serializers.CharField(allow_blank=True)
    education = EducationSerializer(many=True)
    qualifications = QualificationSerializer(many=True)
    employer = PersonEmployerSerializer()
    began_accounting_on = serializers.DateField(allow_null=True, help_text="参加会计工作时间")
    cpe = PersonCpeYearSerializer(many=True, required=False, help_text="继续教育完成情况（只读，由本省填写）")


# --- outbound (跨省调出) ----------------------------------------------------------------------------

class OutboundRowSerializer(serializers.Serializer):
    transfer_no = serializers.CharField(help_text="调转编号（本省的申请编号）")
    person = serializers.SerializerMethodField(help_text="人员信息（调出地受理时的档案）")
    from_region = serializers.CharField(source="from_region_id", help_text="调出地区划代码")
    to_province = serializers.CharField(help_text="调入省份（两位代码）")
    to_unit = serializers.CharField(help_text="调入单位")
    accepted_at = serializers.DateTimeField(help_text="调出地受理时间")

    @extend_schema_field(PersonRecordSerializer)
    def get_person(self, transfer: Transfer) -> dict:
        return transfer.person_record  # as taken from the archive when the origin accepted it


class OutboundPageSerializer(serializers.Serializer):
    results = OutboundRowSerializer(many=True)
    next_cursor = serializers.CharField(allow_null=True, help_text="下一页的游标；最后一页为 null")


class ExchangeStatusSerializer(serializers.Serializer):
    transfer_no = serializers.CharField()
    status = serializers.CharField(help_text="调转状态代码")


class ResultInput(serializers.Serializer):
    result = serializers.CharField(help_text="received（调入地已接收）或 rejected（调入地退回）")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500,
                                   help_text="退回原因：rejected 时必填")


# --- inbound (跨省调入) -----------------------------------------------------------------------------

class InboundInput(serializers.Serializer):
    transfer_no = serializers.CharField(max_length=40, help_text="全国平台的调转编号（字母、数字、“-”、“_”）")
    from_province = serializers.CharField(help_text="调出省份（两位代码，不能是山西 14）")
    person = PersonRecordSerializer()
    to_region = serializers.CharField(help_text="调入地：山西省内的区划代码，如 140502")
    to_unit = serializers.CharField(help_text="调入单位；在校学生为“无”")


class InboundAnswerSerializer(serializers.Serializer):
    transfer_no = serializers.CharField()
    status = serializers.CharField(help_text="received（待调入地审核）、approved（已通过）、rejected（不予通过）、"
                                             "claimed（本人已认领）")
    reason = serializers.CharField(allow_blank=True, help_text="不予通过的原因")
    id = serializers.IntegerField(help_text="本省系统中的编号")
    number = serializers.CharField(help_text="本省系统中的申请编号")


# --- the cursor ------------------------------------------------------------------------------------

def cursor_encode(transfer: Transfer) -> str:
    raw = f"{transfer.accepted_at.isoformat()}|{transfer.pk}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_decode(cursor: str | None) -> tuple[dt.datetime, int] | None:
    """The (accepted_at, id) after which the next page starts; a cursor we did not write is a 400."""
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = raw.split("|")
        accepted_at = dt.datetime.fromisoformat(moment)
        if accepted_at.tzinfo is None:
            raise ValueError(moment)
        return accepted_at, int(pk)
    except (binascii.Error, UnicodeError, ValueError):
        raise DomainError({"cursor": ["无效的游标：请使用上一页应答中的 next_cursor。"]}) from None


def limit_parse(value: str | None) -> int:
    if value in (None, ""):
        return LIMIT_DEFAULT
    try:
        limit = int(value)
    except ValueError:
        raise DomainError({"limit": [f"limit 应为1至{LIMIT_MAX}的整数。"]}) from None
    if limit < 1:
        raise DomainError({"limit": [f"limit 应为1至{LIMIT_MAX}的整数。"]})
    return min(limit, LIMIT_MAX)


# --- the views -------------------------------------------------------------------------------------

class ExchangeView(APIView):
    """The platform's token only; a person's or a bureau's token is a 403, none a 401."""

    authentication_classes = [BearerTokenAuthentication]
    permission_classes = [IsAuthenticated, IsExchangeClient]
    parser_classes = [JSONParser]


def exchange_schema(summary: str, description: str, *, request=None, responses: dict, parameters=None):
    return extend_schema(tags=["exchange"], summary=summary, description=description, request=request,
                         parameters=parameters or [], responses={**responses, **errors(401, 403)})


def answer(transfer: Transfer, code: int = status.HTTP_200_OK) -> Response:
    return Response(ExchangeStatusSerializer(transfer).data, status=code)


class OutboundListView(ExchangeView):
    """``GET outbound/``: what Shanxi sends out, oldest acceptance first (R-TRF-3)."""

    @exchange_schema(
        "待上传的跨省调出记录",
        "调出地已受理、尚未确认上传的跨省调出记录，按受理时间先后排列。用 next_cursor 取下一页；"
        f"limit 默认 {LIMIT_DEFAULT}，最大 {LIMIT_MAX}（更大的值按 {LIMIT_MAX} 处理）。无效的游标或 limit → 400。",
        parameters=[
            OpenApiParameter("cursor", OpenApiTypes.STR, description="上一页应答中的 next_cursor；第一页不填"),
            OpenApiParameter("limit", OpenApiTypes.INT, description=f"每页条数，1–{LIMIT_MAX}，默认 {LIMIT_DEFAULT}"),
        ],
        responses={200: OutboundPageSerializer, **errors(400)})
    def get(self, request):
        after = cursor_decode(request.query_params.get("cursor"))
        limit = limit_parse(request.query_params.get("limit"))
        rows = selectors.outbox(limit + 1, after)
        page = rows[:limit]
        next_cursor = cursor_encode(page[-1]) if len(rows) > limit else None
        return Response({"results": OutboundRowSerializer(page, many=True).data, "next_cursor": next_cursor})


class OutboundAckView(ExchangeView):
    """``POST outbound/{transfer_no}/ack/``: the platform has taken the record."""

    @exchange_schema(
        "确认已取走跨省调出记录",
        "全国平台已取走该记录：状态变为 uploaded。可重复调用：已确认过（或已有结果）时返回当前状态。"
        "编号不存在 → 404；记录不在可确认的状态 → 409。",
        responses={200: ExchangeStatusSerializer, **errors(404, 409)})
    def post(self, request, transfer_no: str):
        return answer(services.outbound_ack(transfer_no=transfer_no))


class OutboundResultView(ExchangeView):
    """``POST outbound/{transfer_no}/result/``: the destination province's answer."""

    @exchange_schema(
        "登记调入地结果",
        "received → completed（档案调出本省，作为历史保留）；rejected → returned（须附原因，退回调出地）。"
        "同样的结果再次提交 → 200；不同的结果 → 409；result 不是 received 或 rejected、rejected 缺少原因 → 400；"
        "编号不存在 → 404。结果早于确认上传到达时，一并视为已上传。",
        request=ResultInput, responses={200: ExchangeStatusSerializer, **errors(400, 404, 409, 415)})
    def post(self, request, transfer_no: str):
        data = ResultInput(data=request_object(request))
        data.is_valid(raise_exception=True)
        return answer(services.outbound_result(transfer_no=transfer_no, **data.validated_data))


class InboundReceiveView(ExchangeView):
    """``POST inbound/``: a record coming into Shanxi (R-TRF-4)."""

    @exchange_schema(
        "推送跨省调入记录",
        "建立待调入地审核（received）的跨省调入记录，进入 to_region 所属财政部门的审核队列。新记录 → 201；"
        "同一内容再次推送 → 200（同一记录）；同一编号、不同内容 → 409；数据有误（证件号码校验位错误、"
        "调入地不在山西、缺少字段等）→ 400，按字段列出（人员信息的字段为 person.id_number 等）。",
        request=InboundInput,
        responses={201: InboundAnswerSerializer, 200: InboundAnswerSerializer, **errors(400, 409, 415)})
    def post(self, request):
        transfer, created = services.inbound_receive(body=request_object(request))
        return Response(InboundAnswerSerializer(transfer).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


class InboundStatusView(ExchangeView):
    """``GET inbound/{transfer_no}/``: the destination bureau's decision."""

    @exchange_schema(
        "查询跨省调入的审核结果",
        "received：待审核；approved：审核通过；rejected：不予通过（reason 为原因，调转终止）；claimed：本人已认领。"
        "编号未推送过 → 404。",
        responses={200: InboundAnswerSerializer, **errors(404)})
    def get(self, request, transfer_no: str):
        return Response(InboundAnswerSerializer(selectors.inbound_get(transfer_no)).data)

