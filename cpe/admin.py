"""Admin of continuing education (/manage/cpe/): the policy provincial staff keep, the ledger read only.

- 继续教育年度: each year's 90 / 60, deadline, make-up window and the day registration closes
  (R-CE-3, 5, 6, 13). Checked by :mod:`cpe.ledger.policy` (the same checks whoever saves); once a year is
  frozen its numbers and dates are read only, only the note may change. A year is never deleted.
- 学分计量标准: the credit standards of the SPEC table; a value changes by adding a row with a later
  起始年度, so the years before keep theirs. A row in force for a frozen year keeps its numbers.
- 学分证明用章: the issuing bureau's seal on certificates (R-CE-15): uploaded here (a transparent PNG,
  checked by :func:`cpe.ledger.certificates.services.seal_upload`), the newest in use, never changed or
  deleted (the certificates that bear it point at it).
- 学分登记, 继续教育信用记录, 学分证明: read only. Credits move only through ``cpe.ledger.services`` (with
  reversals for corrections), the file only by the year's freeze, certificates only by their service.
  Lists show the person's name with the masked ID number; search takes the full ID number, exactly.

Every edit here writes an audit event through the service.
"""

import copy

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Subquery
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from cpe.ledger.certificates.document import seal_data_uri
from cpe.ledger.certificates.seal import SealError, seal_png
from cpe.ledger.certificates.services import seal_upload
from cpe.ledger.policy import (
    YEAR_NUMBERS,
    ce_year_errors,
    ce_year_save,
    credit_standard_errors,
    credit_standard_is_fixed,
    credit_standard_save,
)
from cpe.ledger.selectors import ISSUER
from cpe.models import (
    Certificate,
    CertificateSeal,
    CEYear,
    CreditEntry,
    CreditStandard,
    Enrolment,
    IntegrityRecord,
    TrainingInstitution,
)
from kjzx.admin import PolicyHelpMixin, ReadOnlyAdmin

ID_SEARCH_HELP = _("输入完整证件号码精确查找。")


class PolicyForm(forms.ModelForm):
    """Runs the policy service's checks on what would be saved, so the admin shows the same Chinese
    messages by field as any other caller gets; the model's own checks and constraints run only after."""

    policy_errors = None  # a function of the instance: {field: [message]}

    def _post_clean(self):
        if not self._errors:  # every field parsed
            candidate = forms.models.construct_instance(self, copy.copy(self.instance), self._meta.fields,
                                                        self._meta.exclude)
            errors = type(self).policy_errors(candidate)
            for field, messages in errors.items():
                for message in messages:
                    self.add_error(field if field in self.fields else None, message)
            if errors:
                return
        super()._post_clean()


class CEYearForm(PolicyForm):
    policy_errors = staticmethod(ce_year_errors)

    class Meta:
        model = CEYear
        fields = ["year", *YEAR_NUMBERS, "note"]


@admin.register(CEYear)
class CEYearAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """Each CE year's policy (R-CE-3, R-CE-5, R-CE-6, R-CE-13), edited by provincial staff."""

    form = CEYearForm
    help_texts = {
        "required_total": _("本年度应修的总学分（一般为90）。修改后，本年度每个人是否完成、还差多少学分、学分证明和统计"
                            "都按新数重新判断；年度归档后不能再改。"),
        "required_professional": _("其中专业科目至少应修的学分（一般为60，不超过总学分）。修改后同样按新数重新判断。"),
    }
    list_display = ["__str__", "required_total", "required_professional", "deadline", "makeup_until",
                    "registration_closes_on", "frozen_label"]
    list_filter = [("frozen_at", admin.EmptyFieldListFilter)]
    ordering = ["-year"]

    def get_fields(self, request, obj=None):
        return ["year", *YEAR_NUMBERS, "note", "frozen_at"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["frozen_at"]
        if obj.is_frozen:  # R-CE-13: what the year's results were judged by
            return ["year", *YEAR_NUMBERS, "frozen_at"]
        return ["year", "frozen_at"]  # the year is the key: changing it would make another row

    def has_delete_permission(self, request, obj=None):
        return False  # the ledger and the credit-information file point at the year

    @admin.display(description=_("状态"), ordering="frozen_at")
    def frozen_label(self, obj):
        if obj.is_frozen:
            return _("已归档（%(date)s）") % {"date": f"{timezone.localtime(obj.frozen_at):%Y-%m-%d}"}
        if obj.registration_closes_on < timezone.localdate():
            return _("登记已截止，待系统归档")
        return _("登记中")

    def save_model(self, request, obj, form, change):
        ce_year_save(policy=obj, by=request.user)
        if not obj.is_frozen and obj.registration_closes_on < timezone.localdate():
            self.message_user(request, _("%(year)s年度的学分登记截止日期已过：系统将在今夜结束该年度的学分登记，"
                                         "并将结果纳入会计人员信用信息档案。") % {"year": obj.year},
                              messages.WARNING)


class CreditStandardForm(PolicyForm):
    policy_errors = staticmethod(credit_standard_errors)

    class Meta:
        model = CreditStandard
        fields = ["form", "variant", "label", "credits", "per", "daily_cap", "subject_kind", "effective_from"]


@admin.register(CreditStandard)
class CreditStandardAdmin(PolicyHelpMixin, admin.ModelAdmin):
    """The credit standards (学分计量标准, SPEC table): a new value is a new row with a later 起始年度."""

    form = CreditStandardForm
    help_texts = {
        "credits": _("每个计量单位折算的学分。新登记（含新提出的其他形式学分申请）按此计算；已登记的学分不变。"),
        "daily_cap": _("每天最多计入的学分（如面授培训）；空表示不限。"),
        "effective_from": _("自该年度起适用，此前各年度仍按原标准。要从某年度起改变标准，"
                            "请新增一行并填写更晚的起始年度，不要修改已在适用的行。"),
    }
    list_display = ["label", "form", "variant", "credits", "per", "daily_cap", "subject_kind", "effective_from"]
    list_filter = ["form", "effective_from"]
    search_fields = ["label", "variant"]
    ordering = ["form", "variant", "-effective_from"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and credit_standard_is_fixed(obj):
            return ["form", "variant", "credits", "per", "daily_cap", "subject_kind", "effective_from"]
        return []

    def has_delete_permission(self, request, obj=None):
        return False  # a wrong value is superseded by a later row, never erased

    def save_model(self, request, obj, form, change):
        credit_standard_save(standard=obj, by=request.user)


# --- the ledger, read only ---------------------------------------------------------------------

class PersonColumn:
    """The person's name and masked ID number (never the raw number), from the row's archive."""

    @admin.display(description=_("人员"))
    def person(self, obj):
        return f"{obj.archive.name}（{obj.archive.masked_id_number}）"


@admin.register(CreditEntry)
class CreditEntryAdmin(PersonColumn, ReadOnlyAdmin):
    """学分登记, append-only (STYLE §3): corrections are reversing entries made by the ledger service."""

    list_display = ["year", "person", "form", "subject_kind", "credits", "source_type", "source_label",
                    "registered_at", "registered_by"]
    list_filter = ["year", "form", "source_type"]
    search_fields = ["=archive__id_number"]
    search_help_text = ID_SEARCH_HELP
    list_select_related = ["archive", "registered_by"]
    ordering = ["-id"]  # newest first, along the primary key (registration order)
    show_full_result_count = False  # a province's ledger is millions of rows: no full counts, no facets
    show_facets = admin.ShowFacets.NEVER
    fields = ["year", "person", "subject_kind", "form", "credits", "source_type", "source_id", "source_label",
              "evidence", "registered_by", "registered_at", "reverses", "reason"]
    readonly_fields = list(fields)


@admin.register(IntegrityRecord)
class IntegrityRecordAdmin(PersonColumn, ReadOnlyAdmin):
    """继续教育信用记录: a closed year's result in the credit-information file (R-CE-13), never changed."""

    list_display = ["year", "person", "completed", "total", "professional", "general", "frozen_at"]
    list_filter = ["year", "completed"]
    search_fields = ["=archive__id_number"]
    search_help_text = ID_SEARCH_HELP
    list_select_related = ["archive"]
    ordering = ["-id"]  # newest year first, along the primary key
    show_full_result_count = False
    show_facets = admin.ShowFacets.NEVER
    fields = ["year", "person", "completed", "total", "professional", "general", "by_form", "frozen_at"]
    readonly_fields = list(fields)


@admin.register(Certificate)
class CertificateAdmin(PersonColumn, ReadOnlyAdmin):
    """学分证明 issued for completed years (R-CE-15), found by number, verification code or full ID number."""

    list_display = ["number", "year", "person", "code", "issued_at", "revoked_at"]
    list_filter = ["year", ("revoked_at", admin.EmptyFieldListFilter)]
    search_fields = ["=number", "=code", "=archive__id_number"]
    search_help_text = _("输入证明编号、验证码或完整证件号码精确查找。")
    list_select_related = ["archive"]
    ordering = ["-id"]
    fields = ["number", "year", "person", "code", "issued_at", "seal", "signed_by", "revoked_at", "revoked_reason"]
    readonly_fields = list(fields)


class SealForm(forms.ModelForm):
    """The seal's image is checked (and normalised) by the same code as the service uses."""

    upload = forms.FileField(label=_("印章图片"), help_text=_(
        "透明背景的PNG图片（红色圆形印章居中），边长300至4000像素，不超过2MB。上传后，此后签发的学分证明使用新印章。"))

    class Meta:
        model = CertificateSeal
        fields = ["issuer"]

    def clean_upload(self):
        data = self.cleaned_data["upload"].read()
        try:
            seal_png(data)
        except SealError as error:
            raise ValidationError(str(error)) from None
        return data


@admin.register(CertificateSeal)
class CertificateSealAdmin(admin.ModelAdmin):
    """学分证明用章 (R-CE-15): upload a new one; the newest is in use; none is changed or deleted."""

    form = SealForm
    list_display = ["issuer", "preview", "in_use", "uploaded_at", "uploaded_by"]
    list_select_related = ["uploaded_by"]
    readonly_fields = ["issuer", "preview", "uploaded_at", "uploaded_by"]

    def get_fields(self, request, obj=None):
        return ["issuer", "upload"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def get_changeform_initial_data(self, request):
        return {"issuer": ISSUER}

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description=_("印章"))
    def preview(self, obj):
        return format_html('<img src="{}" alt="" width="96" height="96">', seal_data_uri(obj))

    def get_queryset(self, request):
        newest = CertificateSeal.objects.order_by("-uploaded_at", "-id").values("pk")[:1]
        return super().get_queryset(request).annotate(newest=Subquery(newest))

    @admin.display(description=_("使用中"), boolean=True)
    def in_use(self, obj):
        return obj.pk == obj.newest

    def save_model(self, request, obj, form, change):
        seal = seal_upload(issuer=form.cleaned_data["issuer"], image=form.cleaned_data["upload"], by=request.user)
        obj.pk, obj.image, obj.uploaded_by, obj.uploaded_at = seal.pk, seal.image, seal.uploaded_by, seal.uploaded_at



# --- online learning (网络学习): the catalogue staff maintain until institutions publish their own --------

@admin.register(TrainingInstitution)
class TrainingInstitutionAdmin(admin.ModelAdmin):
    """Training institutions (继续教育培训机构); the filing workflow of R-CE-14 arrives with the next issue."""

    list_display = ["name", "credit_code", "kind", "region", "filed"]
    list_filter = ["kind", "filed"]
    search_fields = ["name", "=credit_code"]
    list_select_related = ["region"]


# Courses (read-only lessons and question banks), the timing policy and the refusal log: cpe/learning/admin.py.
from cpe.learning import admin as learning_admin  # noqa: E402, F401 (registers them)


@admin.register(Enrolment)
class EnrolmentAdmin(PersonColumn, ReadOnlyAdmin):
    list_display = ["person", "course", "enrolled_at", "passed_at", "best_score"]
    list_select_related = ["archive", "course"]
    show_full_result_count = False
