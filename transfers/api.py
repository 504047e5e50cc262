"""REST endpoints of transfers, ``/api/v1/transfers/`` (API.md §1 "Workflow objects"), R-TRF-1…4.

- ``GET /transfers/``: what the caller may see (:func:`transfers.selectors.transfer_list`): an
  accountant their own transfers and the inbound records approved for their ID (to claim, R-TRF-4);
  a reviewer those leaving from, going to or waiting in their region, oldest submission first.
- ``POST /transfers/``: an accountant opens a draft, ``{"type": "intra", "to_region", "to_unit",
  "attachments"}`` or ``{"type": "outbound", "to_province", "to_unit", "attachments"}``
  (:func:`transfers.services.transfer_open`): 400 with the fields (``to_province`` "…暂缓办理…" for a
  province not on the national platform, R-TRF-3), 409 while another change or transfer is open (R-CHG-4).
- ``GET /transfers/{id}/`` and ``POST /transfers/{id}/transitions/{name}/``: the generic workflow
  views of :mod:`kjzx.workflow_api` with the transfer selectors; the exchange's own moves
  (``mark_uploaded``, ``mark_received``, ``mark_rejected``, ``time_out``) are nobody's, so 409 here.

ID numbers are masked in every workflow object, the person record of an inbound one included
(security item 46). ``archive`` is filled only for who may read the archive now
(:func:`transfers.selectors.transfer_archive_for`, the rule the page applies too): the destination
before the origin accepted, or the origin after the archive moved, gets ``null``.
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.response import Response

from accounts.models import mask_id_number
from kjzx.parsers import JSONParser
from kjzx.workflow_api import (
    AttachmentIdsField,
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
    transition_schema,
)
from records.api import MaskedArchiveSerializer
from transfers import selectors
from transfers.exchange_api import PersonRecordSerializer
from transfers.models import Transfer, TransferType
from transfers.services import transfer_open


class TransferSummarySerializer(WorkflowSummarySerializer):
    """A transfer in a list: the workflow shape plus where it goes."""

    type = serializers.CharField(help_text=choices_help("调转类型", TransferType))
    type_display = serializers.CharField(source="get_type_display")
    from_region = serializers.CharField(source="from_region_id", allow_null=True, help_text="调出地区划代码")
    to_region = serializers.CharField(source="to_region_id", allow_null=True,
                                      help_text="调入地区划代码（省内调转、跨省调入）")
    to_province = serializers.CharField(allow_blank=True, help_text="调入省份两位代码（跨省调出）")
    to_unit = serializers.CharField(help_text="调入单位；在校学生为“无”")
    destination_label = serializers.CharField(help_text="调入地名称")
    person_name = serializers.CharField(help_text="被调转档案的人员姓名")


class TransferSerializer(WorkflowObjectSerializer, TransferSummarySerializer):
    """A transfer (档案调转申请), API.md §1: the workflow object with the transfer's own fields."""

    transfer_no = serializers.CharField(allow_null=True, help_text="全国平台调转编号（跨省调出受理后、跨省调入）")
    from_province = serializers.CharField(allow_blank=True, help_text="调出省份两位代码（跨省调入）")
    accepted_at = serializers.DateTimeField(allow_null=True, help_text="调出地受理时间")
    uploaded_at = serializers.DateTimeField(allow_null=True, help_text="上传全国平台时间（跨省调出）")
    attachments = AttachmentIdsField(read_only=True, help_text="工作证明或学籍证明的附件编号")
    person = serializers.SerializerMethodField(help_text=(
        "人员信息（API.md §2 的形状，证件号码脱敏）：跨省调入为全国平台推送的记录，跨省调出为受理时上传的记录"))
    archive = serializers.SerializerMethodField(help_text=(
        "被调转的本省档案（证件号码脱敏），仅向档案现管理属地和当前办理环节的财政部门（及申请人本人）提供；"
        "调入地在调出地受理前、调出地在档案调走后为空；跨省调入审核通过前为空"))

    @extend_schema_field(MaskedArchiveSerializer(allow_null=True))
    def get_archive(self, transfer: Transfer) -> dict | None:
        """Only who may read the archive now gets it: the same rule as the page (R-ACL-1)."""
        archive = selectors.transfer_archive_for(transfer, self.context["request"].user)
        return MaskedArchiveSerializer(archive, context=self.context).data if archive is not None else None

    @extend_schema_field(PersonRecordSerializer(allow_null=True))
    def get_person(self, transfer: Transfer) -> dict | None:
        if not transfer.person_record:
            return None
        record = dict(transfer.person_record)
        record["id_number"] = mask_id_number(str(record.get("id_number") or ""))
        return record


@extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
class IdListField(serializers.ListField):
    """Attachment ids, checked by the service (one message for the field, not one per item)."""


class TransferOpenInput(serializers.Serializer):
    type = serializers.CharField(required=False, default="", help_text="intra（省内调转）或 outbound（跨省调出）")
    to_region = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                      help_text="省内调转：调入地区划代码，如 140521")
    to_province = serializers.CharField(required=False, allow_blank=True, allow_null=True, default=None,
                                        help_text="跨省调出：调入省份两位代码，如 11；未接入全国平台的省份暂缓办理")
    to_unit = serializers.CharField(required=False, allow_blank=True, default="",
                                    help_text="调入单位（不超过200字）；在校学生填写“无”")
    attachments = IdListField(required=False, default=list,
                              help_text="工作证明（employment_proof）或学籍证明（student_proof）的附件编号")


class TransferView:
    model = Transfer
    selector = staticmethod(selectors.transfer_get)
    serializer_class = TransferSerializer


@extend_schema_view(get=list_schema(TransferSummarySerializer, "档案调转申请"))
class TransferListView(WorkflowListView):
    """``/transfers/``: the caller's transfers; POST opens the accountant's own (R-TRF-1, R-TRF-3)."""

    model = Transfer
    list_selector = staticmethod(selectors.transfer_list)
    serializer_class = TransferSummarySerializer
    parser_classes = [JSONParser]
    filterset_fields = ["status", "type"]

    @extend_schema(
        summary="申请档案调转", request=TransferOpenInput,
        description="创建调转申请（草稿），提交后由调出地财政部门受理。省内调转填 to_region，跨省调出填 to_province；"
                    "调往未接入全国平台的省份 → 400（to_province：暂缓办理）；信息采集未完成，或已有未办结的变更、"
                    "调转 → 409。",
        responses={201: TransferSerializer, **errors(400, 401, 403, 409, 415)})
    def post(self, request):
        data = TransferOpenInput(data=request_object(request))
        data.is_valid(raise_exception=True)
        transfer = transfer_open(person=request.user, **data.validated_data)
        return Response(TransferSerializer(transfer, context={"request": request}).data,
                        status=status.HTTP_201_CREATED)


@extend_schema_view(get=detail_schema(TransferSerializer, "档案调转申请"))
class TransferDetailView(TransferView, WorkflowDetailView):
    pass


@extend_schema_view(post=transition_schema(TransferSerializer, "档案调转申请"))
class TransferTransitionView(TransferView, WorkflowTransitionView):
    parser_classes = [JSONParser]
