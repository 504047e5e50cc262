"""``/api/v1/employer/``: an employer administrator's own people (API.md §1). Anyone else 403.

- ``GET /employer/people/?year=&ce=&credit_code=&page=``: the accountants whose archive names one of the
  employer's units (:func:`employers.selectors.people_of`), by name, 20 a page, each with exactly API.md's
  fields — ``name``, ``id_number`` (masked), ``credit_code``, ``collection_status``, ``year``, ``total``,
  ``professional``, ``completed``, ``missing_total``, ``missing_professional`` — and ``id``, the key of the
  two calls below. ``year`` defaults to this year; a year without a CE policy, or not a year, is a 400.
- ``GET /employer/people/{id}/``: one of them, with their changes, transfers and the reminders sent;
  anyone else's person is a 404, as if it did not exist.
- ``POST /employer/people/{id}/remind/`` (``{"year"}`` optional): a reminder (单位提醒), 201; 409 when the
  person may not be reminded now (year complete or not owed, year frozen, no login, already reminded today).

Credits are decimal strings ("24.0"), as everywhere in the CE API. For a year the person does not owe,
``completed`` is false and both ``missing_*`` are "0.0".
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from cpe.models import CEYear
from employers import selectors, services
from employers.selectors import CeFilter
from kjzx.api import DomainError
from kjzx.workflow_api import choices_help, errors
from records.models import Archive, CollectionApplication
from transfers.models import TransferType

IsEmployer = HasRole.of(Role.EMPLOYER)
COLLECTION_STATES = [(value, label) for value, label in CollectionApplication.Status.choices if value != "draft"]


class _Choices:
    def __init__(self, choices):
        self.choices = choices


def _credits(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=6, decimal_places=1, coerce_to_string=True, **kwargs)


class EmployerPersonSerializer(serializers.Serializer):
    """One of the employer's people in a year (API.md ``GET /api/v1/employer/people/``)."""

    id = serializers.IntegerField(source="archive.pk", help_text="档案编号：详情与提醒接口路径中的 {id}")
    name = serializers.CharField(source="archive.name", help_text="姓名")
    id_number = serializers.CharField(source="archive.masked_id_number", help_text="证件号码（已脱敏）")
    credit_code = serializers.CharField(source="archive.employer_credit_code",
                                        help_text="档案所填工作单位的统一社会信用代码")
    collection_status = serializers.CharField(help_text=choices_help("信息采集状态", _Choices(COLLECTION_STATES)))
    year = serializers.IntegerField(help_text="继续教育年度")
    total = _credits(help_text="本年度已取得总学分")
    professional = _credits(help_text="其中专业科目学分")
    completed = serializers.BooleanField(help_text="本年度是否已完成（总学分与专业科目学分均达到要求）")
    missing_total = _credits(help_text="尚差总学分；已完成或本年度无需参加为 0.0")
    missing_professional = _credits(help_text="尚差专业科目学分；已完成或本年度无需参加为 0.0")


class ChangeBriefSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="申请编号")
    items = serializers.ListField(child=serializers.CharField(), source="item_labels", help_text="变更事项")
    status = serializers.CharField()
    status_display = serializers.CharField()
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class TransferBriefSerializer(serializers.Serializer):
    number = serializers.CharField(help_text="申请编号")
    type = serializers.CharField(help_text=choices_help("调转类型", TransferType))
    type_display = serializers.CharField(source="get_type_display")
    status = serializers.CharField()
    status_display = serializers.CharField()
    destination = serializers.CharField(source="destination_label", help_text="调入地（省内属地或外省）")
    submitted_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True)


class ReminderSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    person = serializers.IntegerField(source="archive_id", help_text="档案编号")
    year = serializers.IntegerField(source="year_id")
    sent_at = serializers.DateTimeField()
    sent_by = serializers.CharField(source="sent_by.username", help_text="发送的用人单位管理员")
    missing_total = _credits(help_text="发送时尚差总学分")
    missing_professional = _credits(help_text="发送时尚差专业科目学分")


class EmployerPersonDetailSerializer(EmployerPersonSerializer):
    """One person: the list's fields, the year's requirement, and their changes, transfers and reminders."""

    employer_name = serializers.CharField(source="archive.employer_name", help_text="工作单位名称")
    jurisdiction = serializers.CharField(source="archive.jurisdiction_id", allow_null=True,
                                         help_text="管理属地区划代码")
    obliged = serializers.BooleanField(help_text="本年度是否应参加继续教育")
    required_total = _credits(source="policy.required_total")
    required_professional = _credits(source="policy.required_professional")
    deadline = serializers.DateField(source="policy.deadline", help_text="本年度完成期限")
    frozen = serializers.BooleanField(source="policy.is_frozen", help_text="本年度是否已归档（不再变化）")
    reminded_today = serializers.BooleanField(help_text="今天是否已提醒过（每人每天最多一次）")
    remind_refusal = serializers.CharField(help_text="现在不能提醒的原因；可以提醒时为空")
    changes = serializers.SerializerMethodField(help_text="档案变更（已提交的），新的在前")
    transfers = serializers.SerializerMethodField(help_text="档案调转（已提交的），新的在前")
    reminders = serializers.SerializerMethodField(help_text="已发送的单位提醒（最近20条）")

    @extend_schema_field(ChangeBriefSerializer(many=True))
    def get_changes(self, row):
        return ChangeBriefSerializer(self.context["history"].changes, many=True).data

    @extend_schema_field(TransferBriefSerializer(many=True))
    def get_transfers(self, row):
        return TransferBriefSerializer(self.context["history"].transfers, many=True).data

    @extend_schema_field(ReminderSerializer(many=True))
    def get_reminders(self, row):
        return ReminderSerializer(self.context["history"].reminders, many=True).data


class RemindInput(serializers.Serializer):
    year = serializers.IntegerField(required=False, help_text="继续教育年度，默认为本年度")


YEAR = OpenApiParameter("year", int, required=False, description="继续教育年度（四位数字），默认为本年度")
CE = OpenApiParameter("ce", str, required=False, enum=[value for value, _label in CeFilter.CHOICES],
                      description="只看本年度 behind（未完成）或 completed（已完成）的人员")
CREDIT_CODE = OpenApiParameter("credit_code", str, required=False,
                               description="只看所辖单位中的这一个（统一社会信用代码）")


def policy_of(raw) -> CEYear:
    """The CE year asked for (``?year=`` or ``{"year"}``), this year by default; anything else a 400."""
    raw = "" if raw is None else str(raw).strip()
    if raw and not (raw.isdigit() and len(raw) == 4):
        raise DomainError({"year": ["年度应为四位数字，如 2026。"]})
    policy = selectors.ce_year_for(int(raw) if raw else None)
    if policy is None:
        raise DomainError({"year": [f"没有{raw}年度的继续教育安排。" if raw else "尚无继续教育年度安排。"]})
    return policy


def _ce(request) -> str:
    ce = request.query_params.get("ce", "").strip()
    if ce and ce not in dict(CeFilter.CHOICES):
        raise DomainError({"ce": ["应为 behind（未完成）或 completed（已完成）。"]})
    return ce


class PeopleListView(ListAPIView):
    permission_classes = [IsEmployer]
    serializer_class = EmployerPersonSerializer
    filter_backends = []  # the filters are this view's own query parameters, checked below

    def get_queryset(self):
        return Archive.objects.none()  # the rows are built in list(); the schema only needs a model

    @extend_schema(summary="本单位会计人员", parameters=[YEAR, CE, CREDIT_CODE],
                   description="档案所填工作单位为本账号所辖单位（统一社会信用代码）的会计人员，按姓名排序，分页。",
                   responses={200: EmployerPersonSerializer(many=True), **errors(400, 401, 403)})
    def get(self, request, *args, **kwargs):
        policy = policy_of(request.query_params.get("year"))
        people = selectors.people_list(request.user, policy, ce=_ce(request),
                                       credit_code=request.query_params.get("credit_code", ""))
        page = self.paginate_queryset(people)
        rows = selectors.person_rows(page, policy)
        return self.get_paginated_response(self.get_serializer(rows, many=True).data)


class PersonDetailView(APIView):
    permission_classes = [IsEmployer]

    @extend_schema(summary="本单位会计人员详情", parameters=[YEAR],
                   responses={200: EmployerPersonDetailSerializer, **errors(400, 401, 403, 404)})
    def get(self, request, pk: int):
        policy = policy_of(request.query_params.get("year"))
        row = selectors.person_get(request.user, pk, policy)
        return Response(EmployerPersonDetailSerializer(row, context={
            "history": selectors.person_history(row.archive, request.user)}).data)


class PersonRemindView(APIView):
    permission_classes = [IsEmployer]

    @extend_schema(summary="提醒本单位会计人员完成继续教育", request=RemindInput,
                   description="向本年度（或 year 指定年度）继续教育未完成的人员发送“单位提醒”站内消息，"
                               "附本人学分查询页面链接；每人每天最多一次。已完成、无需参加、年度已归档、"
                               "尚未登录平台或今天已提醒 → 409。",
                   responses={201: ReminderSerializer, **errors(400, 401, 403, 404, 409)})
    def post(self, request, pk: int):
        data = request.data if isinstance(request.data, dict) else {}
        policy = policy_of(data.get("year", request.query_params.get("year")))
        reminder = services.reminder_send(employer=request.user, archive_id=pk, policy=policy)
        return Response(ReminderSerializer(reminder).data, status=status.HTTP_201_CREATED)
