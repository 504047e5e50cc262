"""REST endpoints of the records app (API.md §1 "The archive" and "Workflow objects").

- ``/me/archive/`` (GET, PATCH) and ``/me/archive/history/``: the accountant's own archive, in the
  flat person-record shape of API.md §2; PATCH maps it onto :func:`records.services.archive_update`'s
  sections, so every error comes back keyed as the rules name it (``contact.mobile``,
  ``education[0].school``…), and a collected archive answers 409 (R-COL-2, R-CHG-2). API.md's errors
  are 400 with the fields, so PATCH stays all or nothing; ``?partial=true`` asks for the draft save
  the pages do (every well-formed value saved, 200 with ``"unsaved"`` naming the rest).
- ``/attachments/`` (POST multipart), ``/attachments/{id}/`` and ``/attachments/{id}/file/``: scans,
  checked by :mod:`records.uploads` (413 too big, 415 wrong content), read through
  :func:`records.selectors.attachment_get` (owner, or a reviewer of what holds it; else 404).
- ``/collections/`` and ``/changes/``: lists, opening, the object (:mod:`kjzx.workflow_api`) and its
  transitions. Visibility is the selectors' (R-ACL-1, R-ACL-2); the rules are the services'.
- ID numbers (security item 46): the applicant and the archive inside a workflow object are masked
  (``140***********0022``), for reviewers and applicants alike; only the person's own
  ``/me/archive/`` has the whole number. A reviewer gets it with ``POST …/{id}/reveal-id/`` and a
  reason, which writes an audit row (:func:`records.privacy.archive_reveal_id_number`).
"""

from __future__ import annotations

from django.http import FileResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    extend_schema,
    extend_schema_field,
    extend_schema_view,
)
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import IdType, Role, Sex
from accounts.permissions import IsAccountant
from kjzx.http import client_ip
from kjzx.parsers import JSONParser
from kjzx.workflow_api import (
    ERROR_PAGE_404,
    AttachmentIdsField,
    IgnoreClientContentNegotiation,
    WorkflowDetailView,
    WorkflowListView,
    WorkflowObjectSerializer,
    WorkflowObjectView,
    WorkflowSummarySerializer,
    WorkflowTransitionView,
    choices_help,
    detail_schema,
    errors,
    list_schema,
    request_object,
    transition_schema,
)
from records import selectors
from records.models import (
    Archive,
    AttachmentKind,
    ChangeItem,
    ChangeRequest,
    CollectionApplication,
    Degree,
    EducationLevel,
    QualificationLevel,
    StudyMode,
    UnitType,
)
from records.privacy import REASON_MAX, REASON_MIN, REASON_SUGGESTIONS, archive_reveal_id_number
from records.services import (
    archive_data,
    archive_draft_save,
    archive_for_person,
    archive_is_editable,
    archive_update,
    change_open,
    change_update,
    collection_current,
    collection_open,
)
from records.uploads import attachment_create

# --- the archive -------------------------------------------------------------------------------

class EducationSerializer(serializers.Serializer):
    level = serializers.CharField(help_text=choices_help("学历", EducationLevel))
    degree = serializers.ChoiceField(choices=Degree.choices, required=False)
    major = serializers.CharField()
    school = serializers.CharField()
    mode = serializers.ChoiceField(choices=StudyMode.choices, required=False)
    graduated_on = serializers.DateField(allow_null=True)


class QualificationSerializer(serializers.Serializer):
    level = serializers.CharField(help_text=choices_help("资格级别", QualificationLevel))
    certificate_no = serializers.CharField()
    obtained_on = serializers.DateField(allow_null=True)


class EmployerSerializer(serializers.Serializer):
    name = serializers.CharField(source="employer_name", allow_blank=True, help_text="工作单位；在校学生填写“无”")
    credit_code = serializers.CharField(source="employer_credit_code", allow_blank=True,
                                        help_text="统一社会信用代码（18位）；学生为空")
    unit_type = serializers.ChoiceField(source="employer_unit_type", choices=UnitType.choices, allow_blank=True)


class PledgeField(serializers.BooleanField):
    """Shown as true once the pledge (承诺书) is accepted (R-COL-4a)."""

    def get_attribute(self, instance):
        return instance.pledge_accepted_at is not None


class ArchiveSerializer(serializers.Serializer):
    """The archive in the person-record shape of API.md §2, plus what the collection adds (R-COL-2)."""

    id_type = serializers.ChoiceField(choices=IdType.choices, read_only=True)
    id_number = serializers.CharField(read_only=True, help_text="证件号码（本人档案显示完整号码）")
    name = serializers.CharField()
    sex = serializers.ChoiceField(choices=Sex.choices, read_only=True)
    birth_date = serializers.DateField(read_only=True)
    ethnicity = serializers.CharField(allow_blank=True, help_text="民族")
    mobile = serializers.CharField(allow_blank=True)
    email = serializers.CharField(allow_blank=True)
    address = serializers.CharField(allow_blank=True, help_text="通讯地址")
    education = EducationSerializer(many=True)
    qualifications = QualificationSerializer(many=True)
    employer = EmployerSerializer(source="*")
    began_accounting_on = serializers.DateField(allow_null=True, help_text="参加会计工作时间")
    jurisdiction = serializers.CharField(source="jurisdiction_id", allow_null=True,
                                         help_text="管理属地的区划代码（GB/T 2260，如 140502）")
    pledge_accepted = PledgeField(help_text="已阅读并确认承诺书（R-COL-4a）")
    attachments = AttachmentIdsField(help_text="附件编号（先用 POST /api/v1/attachments/ 上传）")
    status = serializers.CharField(read_only=True, help_text=choices_help("档案状态", Archive.Status))
    editable = serializers.SerializerMethodField(help_text="此刻能否直接修改（草稿或被退回时）")

    def get_editable(self, archive: Archive) -> bool:
        return archive_is_editable(archive)


class DraftArchiveSerializer(ArchiveSerializer):
    """The archive after a draft save (``PATCH ?partial=true``), with what was not saved and why."""

    unsaved = serializers.DictField(
        child=serializers.ListField(child=serializers.CharField()), read_only=True,
        help_text="未保存的字段及原因，键名同 400 应答（如 contact.email、education[0].graduated_on）；"
                  "全部保存时为空对象")


class MaskedArchiveSerializer(ArchiveSerializer):
    """The archive as a workflow object carries it: the same shape, the ID number masked (security item 46)."""

    id_number = serializers.CharField(source="masked_id_number", read_only=True,
                                      help_text="证件号码（脱敏）；审核人员可通过 reveal-id 说明原因后查看完整号码")


# flat field of API.md §2 → (section, key) of records.rules
FLAT_FIELDS = {
    "name": ("basic", "name"), "ethnicity": ("basic", "ethnicity"),
    "mobile": ("contact", "mobile"), "email": ("contact", "email"), "address": ("contact", "address"),
    "began_accounting_on": ("career", "began_accounting_on"),
}
PASSED_AS_IS = ("education", "qualifications", "employer", "jurisdiction", "attachments", "pledge_accepted")


def archive_input(body: dict) -> dict:
    """The flat PATCH body as archive_update's sections; a section given in part keeps the rest there."""
    data: dict = {}
    for key, (section, field) in FLAT_FIELDS.items():
        if key in body:
            data.setdefault(section, {})[field] = body[key]
    data.update({key: body[key] for key in PASSED_AS_IS if key in body})
    return data  # the services judge every value, pledge_accepted's type too


PARTIAL = OpenApiParameter(
    "partial", bool, default=False,
    description="true：按草稿保存，格式正确的字段都保存，格式不对的不保存并在 unsaved 中说明，应答 200"
                "（页面“保存草稿”的做法）；不给或 false：任一字段有误即 400，什么都不保存。")


def wants_partial(request) -> bool:
    return str(request.query_params.get("partial", "")).lower() in ("1", "true", "yes")


class ArchiveMeView(APIView):
    """``/me/archive/``: the accountant's own archive (R-COL-2, R-ACL-2)."""

    permission_classes = [IsAuthenticated, IsAccountant]
    parser_classes = [JSONParser]

    @extend_schema(summary="我的档案", responses={200: ArchiveSerializer, **errors(401, 403)})
    def get(self, request):
        return Response(ArchiveSerializer(archive_for_person(request.user)).data)

    @extend_schema(
        summary="保存信息采集", request=ArchiveSerializer, parameters=[PARTIAL],
        description="只在档案为草稿或被退回时可改（否则 409，采集完成后请办理档案变更）。只需提交要改的字段；"
                    "education、qualifications 整体替换，employer 按字段合并。错误按规则的字段名返回，"
                    "如 contact.mobile、education[0].school。默认任一字段有误即 400、不保存；"
                    "?partial=true 时按草稿保存：格式正确的都保存，格式不对的字段保持原值（学历、资格条目中的"
                    "该项留空），不存在的附件编号略去，应答 200，unsaved 列出未保存的字段及原因。"
                    "提交审核（collections 的 submit）仍检查全部必填项。",
        responses={200: DraftArchiveSerializer, **errors(400, 401, 403, 409, 415)})
    def patch(self, request):
        archive, data = archive_for_person(request.user), archive_input(request_object(request))
        if not wants_partial(request):
            return Response(ArchiveSerializer(archive_update(archive=archive, by=request.user, data=data)).data)
        archive, unsaved = archive_draft_save(archive=archive, by=request.user, data=data)
        return Response({**ArchiveSerializer(archive).data, "unsaved": unsaved})


class ArchiveChangeSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    number = serializers.CharField()
    items = serializers.ListField(child=serializers.CharField(), help_text=choices_help("变更事项", ChangeItem))
    old_values = serializers.DictField(help_text="变更前（按事项）")
    new_values = serializers.DictField(help_text="变更后（按事项）")
    decided_at = serializers.DateTimeField()


@extend_schema_view(get=extend_schema(summary="我的档案变更记录", responses={
    200: ArchiveChangeSerializer(many=True), **errors(401, 403), 404: ERROR_PAGE_404}))
class ArchiveHistoryView(ListAPIView):
    """``/me/archive/history/``: the approved changes of the own archive, newest first (R-CHG-2)."""

    permission_classes = [IsAuthenticated, IsAccountant]
    serializer_class = ArchiveChangeSerializer
    filter_backends = []

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return ChangeRequest.objects.none()
        return selectors.archive_history(archive_for_person(self.request.user))


# --- attachments -------------------------------------------------------------------------------

class AttachmentSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    name = serializers.CharField(help_text="上传时的文件名")
    size = serializers.IntegerField(help_text="字节")
    sha256 = serializers.CharField()


class AttachmentUploadedSerializer(AttachmentSerializer):
    reused = serializers.BooleanField(
        default=False, help_text="true：本人已上传过同一类别的同一文件（SHA-256 相同），未另存一份，返回的是原附件")


class AttachmentUploadSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=AttachmentKind.choices)
    file = serializers.FileField(help_text="PDF、JPG 或 PNG（按内容识别），不超过上传大小上限")


class AttachmentUploadView(APIView):
    """``POST /attachments/``: upload one scan (R-COL-2, R-CHG-1)."""

    permission_classes = [IsAuthenticated, IsAccountant]
    parser_classes = [MultiPartParser]

    @extend_schema(summary="上传附件", request={"multipart/form-data": AttachmentUploadSerializer},
                   description="同一人以同一类别再次上传同一文件（按 SHA-256 识别）时不另存，"
                               "应答原附件，reused 为 true。",
                   responses={201: AttachmentUploadedSerializer, **errors(400, 401, 403, 413, 415)})
    def post(self, request):
        attachment = attachment_create(owner=request.user, kind=request.data.get("kind", ""),
                                       upload=request.FILES.get("file"))
        return Response(AttachmentUploadedSerializer(attachment).data, status=status.HTTP_201_CREATED)


class AttachmentDetailView(APIView):
    permission_classes = [IsAuthenticated]

    @extend_schema(summary="附件信息", responses={200: AttachmentSerializer, **errors(401, 404)})
    def get(self, request, pk: int):
        return Response(AttachmentSerializer(selectors.attachment_get(request.user, pk)).data)


EXTENSIONS = {"application/pdf": (".pdf",), "image/jpeg": (".jpg", ".jpeg"), "image/png": (".png",)}


def download_name(attachment) -> str:
    """The uploaded name, with an extension that agrees with the checked content (never "x.html")."""
    stem, dot, extension = attachment.name.rpartition(".")
    if dot and f".{extension.lower()}" in EXTENSIONS[attachment.content_type]:
        return attachment.name
    return (stem if dot else attachment.name) + EXTENSIONS[attachment.content_type][0]


class AttachmentFileView(APIView):
    """The bytes, shown inline but sandboxed: a scan can never run as a page of the portal."""

    permission_classes = [IsAuthenticated]
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(summary="附件文件", responses={
        (200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
        (200, "image/jpeg"): OpenApiResponse(OpenApiTypes.BINARY),
        (200, "image/png"): OpenApiResponse(OpenApiTypes.BINARY),
        **errors(401, 404)})
    def get(self, request, pk: int):
        attachment = selectors.attachment_get(request.user, pk)
        response = FileResponse(attachment.file.open("rb"), content_type=attachment.content_type,
                                as_attachment=False, filename=download_name(attachment))
        response["X-Content-Type-Options"] = "nosniff"
        response["Content-Security-Policy"] = "sandbox"
        response["Cache-Control"] = "private, no-store"
        return response


# --- the full ID number, for a reviewer, with a reason (security item 46) ---------------------------

class RevealInput(serializers.Serializer):
    reason = serializers.CharField(
        min_length=REASON_MIN, max_length=REASON_MAX,
        help_text=f"查看原因（{REASON_MIN}–{REASON_MAX}字），如“{REASON_SUGGESTIONS[0]}”；记入审计记录")


class RevealOutput(serializers.Serializer):
    id_number = serializers.CharField(help_text="完整证件号码：只在本次应答中出现，请勿保存或转发")


def reveal_schema(label: str):
    return extend_schema(
        summary=f"{label}：查看完整证件号码", request=RevealInput,
        description="审核人员说明原因后取得申请人的完整证件号码；每次调用写一条审计记录（查看人、档案、原因）。"
                    f"缺少原因，原因不足{REASON_MIN}字、超过{REASON_MAX}字或含空字符 → 400；"
                    "不在管辖范围内，或调用者不是审核人员 → 404。",
        responses={200: RevealOutput, **errors(400, 401, 404, 415)})


class RevealIdView:
    """``POST /api/v1/<kind>/{id}/reveal-id/`` with ``{"reason"}`` → ``{"id_number"}`` (security item 46).

    The application comes through the kind's scoped selector (404 outside the caller's scope); the
    service then refuses anyone but a reviewer who may see the archive (404 again: the applicant has
    their number on /me/archive/), checks the reason and writes the audit row.
    """

    parser_classes = [JSONParser]

    def post(self, request, pk: int):
        obj = self.get_object()
        reason = request.data.get("reason") if isinstance(request.data, dict) else None
        number = archive_reveal_id_number(archive=obj.archive, by=request.user, reason=reason, via=obj,
                                          ip=client_ip(request))
        return Response({"id_number": number}, headers={"Cache-Control": "private, no-store"})


# --- collections (信息采集) --------------------------------------------------------------------------

class CollectionSerializer(WorkflowObjectSerializer):
    """An information collection application (信息采集申请) with the archive it collects."""

    archive = MaskedArchiveSerializer(help_text="申请所采集的档案（与 /api/v1/me/archive/ 同一形状，证件号码脱敏）")


class CollectionView:
    model = CollectionApplication
    selector = staticmethod(selectors.application_get)
    serializer_class = CollectionSerializer


@extend_schema_view(get=list_schema(WorkflowSummarySerializer, "信息采集申请"))
class CollectionListView(WorkflowListView):
    """``/collections/``: the caller's collections; POST opens the accountant's own (API.md §1)."""

    model = CollectionApplication
    list_selector = staticmethod(selectors.application_list)
    serializer_class = WorkflowSummarySerializer
    parser_classes = [JSONParser]

    @extend_schema(summary="开始信息采集", request=None,
                   description="从本人档案创建信息采集申请（草稿），201；已有未办结的申请时返回该申请，200。",
                   responses={201: CollectionSerializer, 200: CollectionSerializer, **errors(401, 403, 409)})
    def post(self, request):
        before = collection_current(request.user)
        collection = collection_open(person=request.user)
        created = before is None or before.pk != collection.pk
        return Response(CollectionSerializer(collection, context={"request": request}).data,
                        status=status.HTTP_201_CREATED if created else status.HTTP_200_OK)


@extend_schema_view(get=detail_schema(CollectionSerializer, "信息采集申请"))
class CollectionDetailView(CollectionView, WorkflowDetailView):
    pass


@extend_schema_view(post=transition_schema(CollectionSerializer, "信息采集申请"))
class CollectionTransitionView(CollectionView, WorkflowTransitionView):
    pass


@extend_schema_view(post=reveal_schema("信息采集申请"))
class CollectionRevealIdView(CollectionView, RevealIdView, WorkflowObjectView):
    pass


# --- changes (档案变更登记) ----------------------------------------------------------------------

VALUES_HELP = ("按事项给出变更后的信息：basic {name, ethnicity}；contact {mobile, email, address}；"
               "education [{level, degree, major, school, mode, graduated_on}]；"
               "qualifications [{level, certificate_no, obtained_on}]；employer {name, credit_code, unit_type}；"
               "career {began_accounting_on}")


class ChangeSummarySerializer(WorkflowSummarySerializer):
    """An archive change in a list."""

    items = serializers.ListField(child=serializers.CharField(), help_text=choices_help("变更事项", ChangeItem))


class ChangeSerializer(WorkflowObjectSerializer):
    """An archive change (档案变更申请): the items, the new values, and the old and current ones to compare."""

    items = serializers.ListField(child=serializers.CharField(), help_text=choices_help("变更事项", ChangeItem))
    new_values = serializers.DictField(help_text="变更后。" + VALUES_HELP)
    old_values = serializers.DictField(help_text="变更前（提交和审核通过时记录）")
    current_values = serializers.SerializerMethodField(help_text="档案此刻的值（所选事项），供比对")
    attachments = AttachmentIdsField(read_only=True, help_text="证明材料的附件编号")

    @extend_schema_field(serializers.DictField())
    def get_current_values(self, change: ChangeRequest) -> dict:
        current = archive_data(change.archive)
        return {item: current[item] for item in change.items if item in current}


class ChangeDraftSerializer(serializers.Serializer):
    items = serializers.ListField(child=serializers.ChoiceField(choices=ChangeItem.choices))
    values = serializers.DictField(help_text=VALUES_HELP)
    attachments = serializers.ListField(child=serializers.IntegerField(), help_text="证明材料的附件编号")


class ChangeView:
    model = ChangeRequest
    selector = staticmethod(selectors.application_get)
    serializer_class = ChangeSerializer


@extend_schema_view(get=list_schema(ChangeSummarySerializer, "档案变更申请"))
class ChangeListView(WorkflowListView):
    """``/changes/``: the caller's changes; POST starts the accountant's own (R-CHG-1, R-CHG-4)."""

    model = ChangeRequest
    list_selector = staticmethod(selectors.application_list)
    serializer_class = ChangeSummarySerializer
    parser_classes = [JSONParser]

    @extend_schema(summary="申请档案变更", request=ChangeDraftSerializer,
                   description="创建变更申请（草稿）。采集未完成，或已有未办结的变更、调转时 409。",
                   responses={201: ChangeSerializer, **errors(400, 401, 403, 409, 415)})
    def post(self, request):
        body = request_object(request)
        change = change_open(person=request.user, items=body.get("items"), values=body.get("values"),
                             attachments=body.get("attachments"))
        return Response(ChangeSerializer(change, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema_view(
    get=detail_schema(ChangeSerializer, "档案变更申请"),
    patch=extend_schema(summary="修改档案变更申请", request=ChangeDraftSerializer,
                        description="草稿或已退回时由申请人修改；未给出的部分保持不变。",
                        responses={200: ChangeSerializer, **errors(400, 401, 403, 404, 409, 415)}))
class ChangeDetailView(ChangeView, WorkflowDetailView):
    parser_classes = [JSONParser]

    def patch(self, request, pk: int):
        change = self.get_object()  # 404 outside the caller's scope, before anything else
        if request.user.role != Role.ACCOUNTANT:
            self.permission_denied(request, message="只有申请人可以修改变更申请。")
        body = request_object(request)
        attachments = body.get("attachments", list(change.attachments.values_list("pk", flat=True)))
        change = change_update(change=change, by=request.user, items=body.get("items", change.items),
                               values=body.get("values", change.new_values), attachments=attachments)
        return self.respond(change)


@extend_schema_view(post=transition_schema(ChangeSerializer, "档案变更申请"))
class ChangeTransitionView(ChangeView, WorkflowTransitionView):
    pass


@extend_schema_view(post=reveal_schema("档案变更申请"))
class ChangeRevealIdView(ChangeView, RevealIdView, WorkflowObjectView):
    pass
