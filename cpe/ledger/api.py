"""REST endpoints of the person's continuing education (API.md "Continuing education"), R-CE-3, 4, 13, 15, R-ACL-2.

- ``/me/cpe/{year}/``: the year's figures from :func:`cpe.ledger.selectors.year_status` (credits as decimal
  strings); ``/me/cpe/{year}/entries/``: that year's ledger entries; ``/me/cpe/{year}/certificate.pdf``:
  the 学分证明, 404 while the year is not complete. Accountants only (403 for staff), and only the
  caller's own archive: no id of anyone's in these URLs (R-ACL-2). A year without a policy is a 404.
- ``/verify/{code}/``: public (no authentication at all), throttled per client address; what the
  certificate states (as kept at issue), its number, whether it stands or was revoked (已作废, with the
  date and reason), the ID number masked, or 404 ``{"valid": false}`` for an unknown code.
"""

from __future__ import annotations

from django.conf import settings
from django.http import Http404, HttpResponse
from django.utils.http import content_disposition_header
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsAccountant
from cpe.ledger import selectors
from cpe.ledger.certificates.services import NOT_COMPLETE, certificate_for, certificate_pdf
from cpe.ledger.selectors import CertificateState
from cpe.models import CreditEntry, CreditForm, SourceType, SubjectKind
from kjzx.http import ClientAddressThrottle
from kjzx.workflow_api import IgnoreClientContentNegotiation, choices_help, errors

NOT_FOUND = "未找到该证明，请核对验证码。"
SYSTEM = "系统"


class VerifyThrottle(ClientAddressThrottle):
    """Per client address, logged in or not; ``DEFAULT_THROTTLE_RATES["verify"]`` overrides 60/minute."""

    scope = "verify"

    def get_rate(self):
        return settings.REST_FRAMEWORK.get("DEFAULT_THROTTLE_RATES", {}).get(self.scope) or "60/minute"


def credits_field(**kwargs):
    return serializers.DecimalField(max_digits=7, decimal_places=1, coerce_to_string=True, **kwargs)


def by_form_field():
    return serializers.DictField(child=credits_field(), help_text=choices_help("学习形式 → 学分", CreditForm))


# --- the person's year ----------------------------------------------------------------------------

class YearStatusOutput(serializers.Serializer):
    """API.md: ``{"year", "obliged", …, "frozen"}``; credits as decimal strings."""

    year = serializers.IntegerField()
    obliged = serializers.BooleanField(help_text="本年度是否应参加继续教育（R-CE-1）")
    required_total = credits_field()
    required_professional = credits_field()
    total = credits_field()
    professional = credits_field()
    general = credits_field()
    by_form = by_form_field()
    completed = serializers.BooleanField()
    deadline = serializers.DateField()
    frozen = serializers.BooleanField(help_text="学分登记已截止并纳入信用信息档案（R-CE-13）")
    pending_online = credits_field(help_text="网络学习已学待登记的学分（测试合格、尚未登记，R-CE-8）；不计入 total")
    pending_online_professional = credits_field(help_text="其中专业科目")


class MyYearMixin:
    permission_classes = [IsAccountant]

    def year_of(self, year: int):
        """(archive or None, the year's policy): the caller's own, a year without a policy 404."""
        return selectors.person_archive(self.request.user), selectors.ce_year_get(year)


class MyYearView(MyYearMixin, APIView):
    @extend_schema(summary="本人年度学分", responses={200: YearStatusOutput, **errors(401, 403, 404)})
    def get(self, request, year: int):
        archive, policy = self.year_of(year)
        return Response(YearStatusOutput(selectors.person_year_status(archive, policy)).data)


class EntrySourceOutput(serializers.Serializer):
    type = serializers.ChoiceField(source="source_type", choices=SourceType.choices)
    type_display = serializers.CharField(source="get_source_type_display")
    label = serializers.CharField(source="source_label")


class RegisteredByField(serializers.CharField):
    def get_attribute(self, instance):
        return instance.registered_by.name if instance.registered_by_id else SYSTEM


class EntryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    year = serializers.IntegerField(source="year_id")
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices)
    subject_kind_display = serializers.CharField(source="get_subject_kind_display")
    form = serializers.ChoiceField(choices=CreditForm.choices)
    form_display = serializers.CharField(source="get_form_display")
    credits = credits_field(help_text="学分；冲销记录为负数")
    source = EntrySourceOutput(source="*")
    registered_at = serializers.DateTimeField()
    registered_by = RegisteredByField(help_text=f"登记人姓名；自动登记为“{SYSTEM}”")
    reverses = serializers.IntegerField(source="reverses_id", allow_null=True, help_text="冲销的记录编号")
    reason = serializers.CharField(help_text="更正原因（冲销记录）")


class MyYearEntriesView(MyYearMixin, ListAPIView):
    serializer_class = EntryOutput
    queryset = CreditEntry.objects.none()  # for the schema; get_queryset() is the caller's own

    @extend_schema(summary="本人年度学分登记记录", responses={200: EntryOutput(many=True), **errors(401, 403, 404)})
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return self.queryset
        archive, policy = self.year_of(self.kwargs["year"])
        if archive is None:
            return CreditEntry.objects.none()
        return selectors.entries_of(archive, policy.year).order_by("registered_at", "id")


def pdf_response(certificate) -> HttpResponse:
    """The certificate's signed PDF, the same bytes every time (cpe.ledger.certificates.services)."""
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition_header(
        True, f"学分证明-{certificate.year_id}年度.pdf")
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


class MyCertificateView(MyYearMixin, APIView):
    content_negotiation_class = IgnoreClientContentNegotiation

    @extend_schema(summary="下载本人学分证明（PDF）",
                   description="本年度未完成（不足90学分或专业科目不足60学分）→ 404。",
                   responses={(200, "application/pdf"): OpenApiResponse(OpenApiTypes.BINARY),
                              **errors(401, 403, 404)})
    def get(self, request, year: int):
        archive, policy = self.year_of(year)
        try:
            certificate = certificate_for(archive, policy)
        except Http404:
            raise exceptions.NotFound(NOT_COMPLETE) from None
        return pdf_response(certificate)


# --- public verification -------------------------------------------------------------------------

class VerifyOutput(serializers.Serializer):
    valid = serializers.BooleanField(help_text="证明由本系统出具且未作废")
    state = serializers.ChoiceField(choices=CertificateState.choices,
                                    help_text=choices_help("证明状态", CertificateState))
    state_display = serializers.CharField(help_text="有效 / 已作废")
    number = serializers.CharField(source="certificate.number", help_text="证明编号，如 晋财会继教证〔2026〕000123")
    revoked_at = serializers.DateTimeField(source="certificate.revoked_at", allow_null=True,
                                           help_text="作废时间（未作废为 null）")
    revoked_reason = serializers.CharField(source="certificate.revoked_reason", help_text="作废原因")
    name = serializers.CharField()
    id_number = serializers.CharField(source="masked_id_number", help_text="证件号码（脱敏）")
    year = serializers.IntegerField(source="status.year")
    total = credits_field(source="status.total")
    professional = credits_field(source="status.professional")
    general = credits_field(source="status.general")
    by_form = serializers.DictField(source="status.by_form", child=credits_field(),
                                    help_text=choices_help("学习形式 → 学分", CreditForm))
    completed = serializers.BooleanField(source="status.completed")
    issued_at = serializers.DateTimeField(source="certificate.issued_at")
    issuer = serializers.CharField()


NOT_FOUND_SCHEMA = {"type": "object", "properties": {"valid": {"type": "boolean", "enum": [False]},
                                                     "detail": {"type": "array", "items": {"type": "string"}}}}


class VerifyView(APIView):
    """Anyone may check a certificate (R-CE-15): no login, no session, a throttle per address."""

    permission_classes = [AllowAny]
    authentication_classes = []
    throttle_classes = [VerifyThrottle]

    @extend_schema(summary="查验学分证明", auth=[], responses={
        200: VerifyOutput, 404: OpenApiResponse(NOT_FOUND_SCHEMA, description="未找到该证明"),
        429: OpenApiResponse(description="查询过于频繁，请稍后再试")})
    def get(self, request, code: str):
        statement = selectors.certificate_verify(code)
        if statement is None:
            return Response({"valid": False, "detail": [NOT_FOUND]}, status=404)
        return Response(VerifyOutput(statement).data)
