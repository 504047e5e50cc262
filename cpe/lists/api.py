"""REST endpoints of the bulk credit sources, ``/api/v1/cpe/…``: face-to-face lists and exam pass lists (R-CE-9, 10).

Face-to-face lists (面授学员名单), over :mod:`cpe.lists.services.face_to_face`:

- ``POST /cpe/trainings/{id}/attendance/`` (multipart ``file`` + one or more ``evidence``): the
  institution that owns the training uploads its list; the file's bounds and header are checked and
  it is stored → 201 with the list, ``status`` ``checking``; its rows are checked in the background
  (``check_attendance_list``, queued after the commit). Another's training: 404.
- ``GET /cpe/attendance/{id}/``: the list, for its institution or a reviewer of its region (else 404):
  progress while ``checking`` (``done_rows`` / ``total_rows``), ``error`` when ``failed``, then its
  counts and every row's result and problem in words.
- ``POST /cpe/attendance/{id}/register/``: the bureau registers every valid row in one step → 200
  with the list and ``result`` {registered, duplicate, invalid}; a second time → 409.

Exam pass lists (考试合格名单), over :mod:`cpe.lists.services.exams`, province staff only (403 for every other
role):

- ``POST /cpe/exam-imports/`` (multipart ``year``, ``exam``, ``file``) → 202; the check runs in the
  background (``check_exam_import``, queued after the commit as the page queues it).
- ``GET /cpe/exam-imports/{id}/``: progress, counts and the first rows with problems.
- ``POST /cpe/exam-imports/{id}/register/`` → 202; ``register_exam_import`` queued after the commit.

ID numbers in rows are masked (security item 46), as on the pages. No rule lives here: the services decide.
"""

from __future__ import annotations

from dataclasses import asdict

from django.db.models import Case, IntegerField, Value, When
from django.shortcuts import get_object_or_404
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.parsers import MultiPartParser
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import REVIEWER_ROLES, Role, mask_id_number
from accounts.permissions import HasRole, IsReviewer
from cpe import tasks
from cpe.lists import selectors
from cpe.lists.services import exams, face_to_face
from cpe.models import AttendanceList, ExamImport, ExamKind, ExamRow, RowState
from kjzx.parsers import JSONParser
from kjzx.tasks import enqueue_after_commit
from kjzx.workflow_api import AttachmentIdsField, choices_help, errors

IsInstitution = HasRole.of(Role.INSTITUTION)
IsProvinceStaff = HasRole.of(Role.PROVINCE_STAFF)
CanReadAttendance = HasRole.of(Role.INSTITUTION, *sorted(REVIEWER_ROLES))
PROBLEM_ROWS = 50  # rows with problems in an exam import's answer, invalid first (as the page's first page)


# --- serializers ----------------------------------------------------------------------------------

@extend_schema_field(serializers.CharField(help_text="证件号码（脱敏）"))
class MaskedIdNumberField(serializers.Field):
    def to_representation(self, value):
        return mask_id_number(value or "")  # the rows' masked_id_number, the one masking function


class CountsSerializer(serializers.Serializer):
    valid = serializers.IntegerField(help_text="可登记")
    invalid = serializers.IntegerField(help_text="有误")
    pending = serializers.IntegerField(help_text="待信息采集完成后登记")
    registered = serializers.IntegerField(help_text="已登记")
    duplicate = serializers.IntegerField(help_text="此前已登记")
    total = serializers.IntegerField(help_text="总行数")


class AttendanceRowSerializer(serializers.Serializer):
    row_no = serializers.IntegerField(help_text="Excel 中的行号")
    id_number = MaskedIdNumberField()
    name = serializers.CharField()
    hours = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True, help_text="学时")
    credits = serializers.DecimalField(max_digits=5, decimal_places=1, allow_null=True,
                                       help_text="学分（按面授培训学分计量标准）")
    state = serializers.CharField(help_text=choices_help("结果", RowState))
    problem = serializers.CharField(help_text="问题（中文），无问题时为空")


class AttendanceListSerializer(serializers.Serializer):
    """A face-to-face list (面授学员名单) with its counts and every row (R-CE-9)."""

    id = serializers.IntegerField()
    training = serializers.IntegerField(source="training_id", help_text="面授培训编号")
    training_title = serializers.CharField(source="training.title")
    status = serializers.CharField(help_text=choices_help("状态", AttendanceList.Status))
    status_display = serializers.CharField(source="get_status_display")
    file_name = serializers.CharField(help_text="上传时的文件名")
    total_rows = serializers.IntegerField(help_text="总行数（校验中为估计值）")
    done_rows = serializers.IntegerField(help_text="已校验行数（进度）")
    error = serializers.CharField(help_text="校验未通过的原因（status 为 failed 时）")
    evidence = AttachmentIdsField(help_text="实证材料的附件编号（/api/v1/attachments/{id}/file/）")
    uploaded_at = serializers.DateTimeField()
    registered_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.SerializerMethodField()
    rows = serializers.SerializerMethodField()

    @extend_schema_field(CountsSerializer)
    def get_counts(self, attendance) -> dict:
        return selectors.list_counts(attendance)

    @extend_schema_field(AttendanceRowSerializer(many=True))
    def get_rows(self, attendance) -> list:
        return AttendanceRowSerializer(attendance.rows.order_by("row_no"), many=True).data


class AttendanceUploadInput(serializers.Serializer):
    """For the schema only: :func:`cpe.lists.services.face_to_face.attendance_upload` checks everything."""

    file = serializers.FileField(help_text="学员名单：Excel（.xlsx）或 CSV，列“证件号码”“姓名”“学时”")
    evidence = serializers.ListField(child=serializers.FileField(),
                                     help_text="签到表等实证材料（PDF、JPG、PNG），至少一个")


class RegisterResultSerializer(serializers.Serializer):
    registered = serializers.IntegerField(help_text="本次登记人数")
    duplicate = serializers.IntegerField(help_text="此前已登记、未重复登记的行数")
    invalid = serializers.IntegerField(help_text="有误未登记的行数")


class AttendanceRegisteredSerializer(AttendanceListSerializer):
    result = RegisterResultSerializer()


class ExamImportStatusSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField(help_text=choices_help("状态", ExamImport.Status))
    total_rows = serializers.IntegerField(help_text="总行数（校验开始后可知）")
    done_rows = serializers.IntegerField(help_text="已处理行数（进度）")


class ExamRowSerializer(serializers.Serializer):
    row_no = serializers.IntegerField(help_text="Excel 中的行号")
    id_number = MaskedIdNumberField()
    name = serializers.CharField()
    subjects = serializers.IntegerField(allow_null=True, help_text="通过科目数")
    state = serializers.CharField(help_text=choices_help("结果", RowState))
    problem = serializers.CharField()


class ExamImportSerializer(ExamImportStatusSerializer):
    """An exam pass list (考试合格名单): progress, counts and the first rows with problems (R-CE-10)."""

    year = serializers.IntegerField(source="year_id", help_text="考试年度（学分计入该年度）")
    exam = serializers.CharField(help_text=choices_help("考试", ExamKind))
    exam_display = serializers.CharField(source="get_exam_display")
    status_display = serializers.CharField(source="get_status_display")
    file_name = serializers.CharField()
    error = serializers.CharField(help_text="处理失败的原因")
    uploaded_at = serializers.DateTimeField()
    registered_at = serializers.DateTimeField(allow_null=True)
    counts = serializers.SerializerMethodField()
    problem_rows = serializers.SerializerMethodField(
        help_text=f"有问题的行（有误在前，其后待信息采集、此前已登记），最多{PROBLEM_ROWS}行")

    @extend_schema_field(CountsSerializer)
    def get_counts(self, exam_import) -> dict:
        counts = selectors.exam_import_counts(exam_import)
        return {**counts, "total": sum(counts.values())}

    @extend_schema_field(ExamRowSerializer(many=True))
    def get_problem_rows(self, exam_import) -> list:
        order = Case(When(state=RowState.INVALID, then=Value(0)), When(state=RowState.PENDING, then=Value(1)),
                     default=Value(2), output_field=IntegerField())
        rows = (ExamRow.objects.filter(import_file=exam_import).exclude(problem="")
                .annotate(first=order).order_by("first", "row_no")[:PROBLEM_ROWS])
        return ExamRowSerializer(rows, many=True).data


class ExamImportInput(serializers.Serializer):
    """For the schema only: :func:`cpe.lists.services.exams.exam_import_create` checks everything."""

    year = serializers.IntegerField(help_text="考试年度，如 2024；已归档年度不能登记")
    exam = serializers.ChoiceField(choices=ExamKind.choices, help_text=choices_help("考试", ExamKind))
    file = serializers.FileField(help_text="Excel（.xlsx）或 CSV，前10行内有“证件号码”“姓名”“通过科目数”表头")


# --- face-to-face lists (R-CE-9) ------------------------------------------------------------------

class TrainingAttendanceUploadView(APIView):
    """``POST /cpe/trainings/{id}/attendance/``: the owning institution uploads a list (R-CE-9)."""

    permission_classes = [IsAuthenticated, IsInstitution]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="上传面授培训学员名单", request={"multipart/form-data": AttendanceUploadInput},
        description="培训结束后由举办培训的已备案机构上传；文件保存后在后台逐行校验（status 为 checking，"
                    "进度见 done_rows），每行的问题用中文写明，登记前不产生学分。缺少文件或实证材料、表头有误 → 400；"
                    "非本机构的培训 → 404；同一文件仍在校验或等待登记、年度已归档 → 409；"
                    "文件过大或超出名单上限（行数、列数、解压大小等）→ 413；不是 Excel/CSV 或扫描件类型不符 → 415。",
        responses={201: AttendanceListSerializer, **errors(400, 401, 403, 404, 409, 413, 415)})
    def post(self, request, pk: int):
        training = selectors.institution_training_get(request.user, pk)
        attendance = face_to_face.attendance_upload(training=training, file=request.FILES.get("file"),
                                                    evidence=request.FILES.getlist("evidence"), by=request.user)
        enqueue_after_commit(tasks.check_attendance_list, attendance.pk)
        return Response(AttendanceListSerializer(attendance).data, status=status.HTTP_201_CREATED)


def _attendance_get(user, pk: int) -> AttendanceList:
    if user.role == Role.INSTITUTION:
        return selectors.institution_list_get(user, pk)
    return selectors.bureau_list_get(user, pk)


class AttendanceDetailView(APIView):
    permission_classes = [IsAuthenticated, CanReadAttendance]

    @extend_schema(summary="面授培训学员名单", description="上传的机构或属地财政部门可见；其他人 → 404。",
                   responses={200: AttendanceListSerializer, **errors(401, 403, 404)})
    def get(self, request, pk: int):
        return Response(AttendanceListSerializer(_attendance_get(request.user, pk)).data)


class AttendanceRegisterView(APIView):
    permission_classes = [IsAuthenticated, IsReviewer]
    parser_classes = [JSONParser]

    @extend_schema(
        summary="登记有效学员学分", request=None,
        description="属地财政部门一次登记全部有效行（按面授培训学分计量标准，计入培训年度）；此前已登记的人不重复登记，"
                    "有误的行退回机构。不在管辖范围 → 404；尚未校验完成、已登记或年度已归档 → 409。",
        responses={200: AttendanceRegisteredSerializer, **errors(401, 403, 404, 409)})
    def post(self, request, pk: int):
        attendance = selectors.bureau_list_get(request.user, pk)
        result = face_to_face.attendance_register(attendance=attendance, by=request.user)
        return Response({**AttendanceListSerializer(attendance).data, "result": asdict(result)})


# --- exam pass lists (R-CE-10) --------------------------------------------------------------------

class ExamImportListView(APIView):
    permission_classes = [IsAuthenticated, IsProvinceStaff]
    parser_classes = [MultiPartParser]

    @extend_schema(
        summary="上传考试合格名单", request={"multipart/form-data": ExamImportInput},
        description="省级工作人员上传某年度某考试的合格名单；文件保存后在后台逐行校验（进度见 done_rows）。"
                    "年度、考试或文件内容有误 → 400；非省级工作人员 → 403；"
                    "文件过大或超出名单上限（行数、列数、解压大小等）→ 413；不是 Excel/CSV → 415。",
        responses={202: ExamImportStatusSerializer, **errors(400, 401, 403, 413, 415)})
    def post(self, request):
        exam_import = exams.exam_import_create(year=request.data.get("year", ""), exam=request.data.get("exam", ""),
                                               upload=request.FILES.get("file"), by=request.user)
        enqueue_after_commit(tasks.check_exam_import, exam_import.pk)
        return Response(ExamImportStatusSerializer(exam_import).data, status=status.HTTP_202_ACCEPTED)


class ExamImportDetailView(APIView):
    permission_classes = [IsAuthenticated, IsProvinceStaff]

    @extend_schema(summary="考试合格名单", responses={200: ExamImportSerializer, **errors(401, 403, 404)})
    def get(self, request, pk: int):
        exam_import = get_object_or_404(ExamImport, pk=pk)
        return Response(ExamImportSerializer(exam_import).data)


class ExamImportRegisterView(APIView):
    permission_classes = [IsAuthenticated, IsProvinceStaff]
    parser_classes = [JSONParser]

    @extend_schema(
        summary="按考试合格名单登记学分", request=None,
        description="校验完成的名单开始在后台登记：每通过一科按该年度考试学分计量标准登记学分，计入考试年度；待信息采集的人员在采集"
                    "审核通过后自动登记。尚未校验完成、已登记或年度已归档 → 409。",
        responses={202: ExamImportStatusSerializer, **errors(401, 403, 404, 409)})
    def post(self, request, pk: int):
        exam_import = exams.exam_import_register_start(exam_import=get_object_or_404(ExamImport, pk=pk),
                                                       by=request.user)
        enqueue_after_commit(tasks.register_exam_import, exam_import.pk, request.user.pk)
        return Response(ExamImportStatusSerializer(exam_import).data, status=status.HTTP_202_ACCEPTED)
