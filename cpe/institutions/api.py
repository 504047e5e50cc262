"""REST endpoints of training institutions (继续教育培训机构), R-CE-14, over :mod:`cpe.institutions`.

- ``GET /cpe/institutions/``: public (no login needed): the filed (已备案、公布) institutions, ``?q=`` by
  name, paginated.
- ``POST /cpe/filings/`` ``{"name", "credit_code", "kind", "address", "contact"}``: an institution account
  applies for filing (:func:`cpe.institutions.services.filing_apply`) → 201 with the filing, already submitted.
- ``GET /cpe/filings/{id}/`` and ``POST /cpe/filings/{id}/transitions/{name}/``: the generic workflow
  views (``approve``, ``return`` and ``revoke`` with a reason; ``submit`` again after a return). The
  institution account sees its own institutions' filings; a bureau its region's submitted ones; anything
  else is a 404 (R-ACL-1).
- ``GET``/``POST /cpe/institutions/{id}/teachers/``: the owner's teacher pool (师资库);
  ``POST /cpe/institutions/{id}/trainings/``: the owner files a face-to-face training's plan before it
  starts. Someone else's institution is a 404.

Every rule is the services'; these views only parse, call and answer.
"""

from __future__ import annotations

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, extend_schema_view
from rest_framework import serializers, status
from rest_framework.generics import ListAPIView
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import Role
from accounts.permissions import HasRole
from cpe.institutions import selectors, services
from cpe.models import InstitutionFiling, InstitutionKind, SubjectKind, Teacher
from kjzx.parsers import JSONParser
from kjzx.workflow_api import (
    ERROR_PAGE_404,
    WorkflowDetailView,
    WorkflowObjectSerializer,
    WorkflowTransitionView,
    choices_help,
    detail_schema,
    errors,
    request_object,
    transition_schema,
)

IsInstitution = HasRole.of(Role.INSTITUTION)


# --- serializers ----------------------------------------------------------------------------------

class PublicInstitutionSerializer(serializers.Serializer):
    """A filed and published institution, as anyone may look it up (R-CE-14)."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField(help_text=choices_help("培训形式", InstitutionKind))
    kind_display = serializers.CharField(source="get_kind_display")
    region = serializers.CharField(source="region_id", help_text="备案地区划代码（GB/T 2260）")
    region_name = serializers.CharField(source="region.full_name", help_text="备案地名称")


class InstitutionSerializer(PublicInstitutionSerializer):
    """The institution a filing is about, with the details it filed."""

    credit_code = serializers.CharField(help_text="统一社会信用代码")
    address = serializers.CharField()
    contact = serializers.CharField()
    filed = serializers.BooleanField(help_text="已备案并公布（只有已备案的机构可以开展培训）")


class FilingSerializer(WorkflowObjectSerializer):
    """A filing application (培训机构备案申请), API.md §1: the workflow object plus its institution."""

    institution = InstitutionSerializer()


class FilingInput(serializers.Serializer):
    """For the schema only: :func:`cpe.institutions.services.filing_apply` checks every field (400 per field)."""

    name = serializers.CharField(help_text="机构名称，不超过100个字符")
    credit_code = serializers.CharField(help_text="统一社会信用代码（18位，含校验码）；本系统中不能重复")
    kind = serializers.CharField(help_text=choices_help("培训形式", InstitutionKind))
    address = serializers.CharField(help_text="机构地址，不超过200个字符")
    contact = serializers.CharField(help_text="联系方式，不超过100个字符")


class TeacherSerializer(serializers.Serializer):
    """One teacher of the pool (师资库)."""

    id = serializers.IntegerField(read_only=True)
    name = serializers.CharField(help_text="姓名，必填，不超过50个字符")
    title = serializers.CharField(help_text="职称，必填，不超过50个字符")
    field = serializers.CharField(help_text="研究领域，必填，不超过100个字符")
    cv = serializers.CharField(required=False, allow_blank=True, help_text="简历，不超过2000个字符")


class TrainingInput(serializers.Serializer):
    """A face-to-face training's plan; the service checks the rules (the daily cap, not started yet…)."""

    title = serializers.CharField(max_length=200, help_text="培训名称")
    starts_on = serializers.DateField(help_text="开始日期；须在培训开始前报送")
    ends_on = serializers.DateField(help_text="结束日期")
    hours_per_day = serializers.DecimalField(max_digits=4, decimal_places=1,
                                             help_text="每日学时（每学时45分钟，不超过当年度面授培训学分计量标准的每日上限）")
    subject_kind = serializers.ChoiceField(choices=SubjectKind.choices, help_text=choices_help("科目类别", SubjectKind))
    venue = serializers.CharField(max_length=200, help_text="培训地点")
    teachers = serializers.PrimaryKeyRelatedField(many=True, queryset=Teacher.objects.none(),
                                                  help_text="授课教师：本机构师资库中的教师编号")
    capacity = serializers.IntegerField(min_value=1, max_value=100000, help_text="计划人数")

    def __init__(self, *args, institution=None, **kwargs):
        super().__init__(*args, **kwargs)
        if institution is not None:
            self.fields["teachers"].child_relation.queryset = institution.teachers.all()


class TrainingSerializer(serializers.Serializer):
    """A filed training plan (面授培训方案)."""

    id = serializers.IntegerField()
    institution = serializers.IntegerField(source="institution_id")
    year = serializers.IntegerField(source="year_id", help_text="学分所属年度（培训开始的年度）")
    title = serializers.CharField()
    starts_on = serializers.DateField()
    ends_on = serializers.DateField()
    hours_per_day = serializers.DecimalField(max_digits=4, decimal_places=1)
    subject_kind = serializers.CharField(help_text=choices_help("科目类别", SubjectKind))
    venue = serializers.CharField()
    teachers = serializers.SerializerMethodField(help_text="授课教师编号")
    capacity = serializers.IntegerField()
    filed_at = serializers.DateTimeField()
    filed_late = serializers.BooleanField(help_text="报送时培训已开始（逾期报送）")

    @extend_schema_field(serializers.ListField(child=serializers.IntegerField()))
    def get_teachers(self, plan) -> list[int]:
        return sorted(teacher.pk for teacher in plan.teachers.all())


# --- the public list --------------------------------------------------------------------------------

@extend_schema_view(get=extend_schema(
    summary="已备案培训机构名录", auth=[],
    parameters=[OpenApiParameter("q", OpenApiTypes.STR, description="按机构名称查找（不超过50个字符）")],
    description="已备案并公布的继续教育培训机构（R-CE-14），任何人无需登录即可查询。",
    responses={200: PublicInstitutionSerializer(many=True), **errors(400), 404: ERROR_PAGE_404}))
class PublicInstitutionListView(ListAPIView):
    permission_classes = [AllowAny]
    serializer_class = PublicInstitutionSerializer

    def get_queryset(self):
        return selectors.public_institutions(self.request.query_params.get("q", ""))


# --- filings ----------------------------------------------------------------------------------------

class FilingView:
    model = InstitutionFiling
    selector = staticmethod(lambda model, user, pk: selectors.filing_get(user, pk))
    serializer_class = FilingSerializer
    parser_classes = [JSONParser]


class FilingCreateView(APIView):
    permission_classes = [IsAuthenticated, IsInstitution]
    parser_classes = [JSONParser]

    @extend_schema(
        summary="申请培训机构备案", request=FilingInput,
        description="培训机构账号登记本机构并提交备案申请，由本账号所在属地的财政部门审核（R-CE-14）。"
                    "字段有误或统一社会信用代码已登记 → 400；非培训机构账号 → 403。",
        responses={201: FilingSerializer, **errors(400, 401, 403)})
    def post(self, request):
        filing = services.filing_apply(user=request.user, data=request_object(request))
        return Response(FilingSerializer(filing, context={"request": request}).data, status=status.HTTP_201_CREATED)


@extend_schema_view(get=detail_schema(FilingSerializer, "培训机构备案申请"))
class FilingDetailView(FilingView, WorkflowDetailView):
    pass


@extend_schema_view(post=transition_schema(FilingSerializer, "培训机构备案申请"))
class FilingTransitionView(FilingView, WorkflowTransitionView):
    """approve（准予备案）、return（退回，原因必填）、revoke（撤销备案，原因必填）、submit（退回后重新提交）."""


# --- the owner's teacher pool and trainings ---------------------------------------------------------

class OwnedInstitutionMixin:
    permission_classes = [IsAuthenticated, IsInstitution]
    parser_classes = [JSONParser]

    def institution(self):
        return selectors.owned_institution_get(self.request.user, self.kwargs["pk"])  # someone else's: 404


@extend_schema_view(
    get=extend_schema(summary="师资库", description="本机构的师资库（仅机构账号本人；他人的机构 → 404）。",
                      responses={200: TeacherSerializer(many=True), **errors(401, 403, 404)}),
    post=extend_schema(summary="加入师资库", request=TeacherSerializer,
                       description="姓名、职称、研究领域必填 → 否则 400。",
                       responses={201: TeacherSerializer, **errors(400, 401, 403, 404)}))
class TeacherListView(OwnedInstitutionMixin, ListAPIView):
    serializer_class = TeacherSerializer

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return Teacher.objects.none()
        return self.institution().teachers.order_by("name", "id")

    def post(self, request, pk: int):
        teacher = services.teacher_save(user=request.user, institution=self.institution(),
                                        data=request_object(request))
        return Response(TeacherSerializer(teacher).data, status=status.HTTP_201_CREATED)


class TrainingCreateView(OwnedInstitutionMixin, APIView):
    @extend_schema(
        summary="报送面授培训方案", request=TrainingInput,
        description="面授培训机构在每期培训开始前报送培训方案（R-CE-9、R-CE-14）。每日学时超过当年度学分计量标准的上限、开始日期已过、"
                    "教师不在本机构师资库、机构未备案 → 400；他人的机构 → 404。",
        responses={201: TrainingSerializer, **errors(400, 401, 403, 404)})
    def post(self, request, pk: int):
        institution = self.institution()
        data = TrainingInput(data=request_object(request), institution=institution)
        data.is_valid(raise_exception=True)
        plan = services.training_file(user=request.user, institution=institution, **data.validated_data)
        return Response(TrainingSerializer(plan).data, status=status.HTTP_201_CREATED)
