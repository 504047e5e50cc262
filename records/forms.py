"""HTML forms of the accountant's records pages: they parse input into the services' data shape.

Every field is optional text or a choice: the rules live in :mod:`records.rules`, and the services
answer with every missing or wrong item at once, keyed like ``contact.mobile`` or
``education[0].school`` (R-COL-2). :class:`ArchiveSections` turns a POST into that shape and puts
the answer back beside the fields it names; :func:`error_summary` lists them all at the top.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django import forms
from django.conf import settings
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from accounts.forms import DateInput
from accounts.models import Region
from kjzx.api import DomainError
from records import selectors
from records.models import (
    AttachmentKind,
    ChangeItem,
    Degree,
    EducationLevel,
    QualificationLevel,
    StudyMode,
    UnitType,
)
from records.rules import ERROR_KEY_RE, REQUIRED_FIELDS
from records.uploads import attachment_create

ETHNIC_GROUPS = (
    "汉族 蒙古族 回族 藏族 维吾尔族 苗族 彝族 壮族 布依族 朝鲜族 满族 侗族 瑶族 白族 土家族 哈尼族 哈萨克族 傣族 黎族 "
    "傈僳族 佤族 畲族 高山族 拉祜族 水族 东乡族 纳西族 景颇族 柯尔克孜族 土族 达斡尔族 仫佬族 羌族 布朗族 撒拉族 "
    "毛南族 仡佬族 锡伯族 阿昌族 普米族 塔吉克族 怒族 乌孜别克族 俄罗斯族 鄂温克族 德昂族 保安族 裕固族 京族 "
    "塔塔尔族 独龙族 鄂伦春族 赫哲族 门巴族 珞巴族 基诺族 其他"
).split()  # the 56 groups of GB 3304, and 其他

SECTION_LABELS = {item.value: item.label for item in ChangeItem}
LIST_SECTIONS = ("education", "qualifications")


CHOOSE = _("请选择")


def _blank(choices, label=CHOOSE):
    return [("", label), *choices]


def _text(label, max_length, **attrs) -> forms.CharField:
    # No length check here: the rules check it and say so in the same answer as everything else (a
    # draft saves what is well-formed, so a second, different message from Django would only confuse).
    widget = forms.TextInput(attrs={"maxlength": max_length, **attrs})
    return forms.CharField(label=label, required=False, widget=widget)


def _date(label, help_text="") -> forms.CharField:
    # Text, not a DateField: the rules check dates and say what is wrong in the same answer as the rest.
    return forms.CharField(label=label, required=False, widget=DateInput(), help_text=help_text)


class ChoiceInput(forms.ChoiceField):
    """A select whose value the rules judge (records.rules), not Django: one message per problem."""

    def valid_value(self, value):
        return True


def _select(label, choices, initial="") -> forms.ChoiceField:
    return ChoiceInput(label=label, choices=_blank(choices), required=False, initial=initial)


def mark_required(form: forms.Form, names) -> None:
    """Mark the fields a submission needs (records.rules.REQUIRED_FIELDS): * beside the label and
    ``aria-required``; no ``required`` attribute, since a draft may leave them empty."""
    for name in names:
        if name in form.fields:
            form.fields[name].marked_required = True
            form.fields[name].widget.attrs["aria-required"] = "true"


UNSAVED_SUFFIX = _("未保存此项")


def unsaved_message(message) -> str:
    """A draft's message for a value it did not save: ``邮箱格式不正确（…），未保存此项。``."""
    return f"{str(message).rstrip('。')}，{UNSAVED_SUFFIX}。"


# --- the archive's sections (records.rules.SECTIONS) -------------------------------------------

class SectionForm(forms.Form):
    """One section of the archive; its field names are the service's keys."""

    def to_data(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name, "") for name in self.fields}

    def mark_required(self, section: str) -> None:
        mark_required(self, REQUIRED_FIELDS.get(section, ()))


class BasicForm(SectionForm):
    name = _text(_("姓名"), 50, autocomplete="name")
    ethnicity = _select(_("民族"), [(g, g) for g in ETHNIC_GROUPS])

    def __init__(self, *args, name_editable=True, **kwargs):
        super().__init__(*args, **kwargs)
        if not name_editable:  # the name is identity: after registration only an approved change alters it
            del self.fields["name"]
        value = (self.initial or {}).get("ethnicity")
        if value and value not in ETHNIC_GROUPS:  # a value that came in by the API or a transfer
            self.fields["ethnicity"].choices = [*self.fields["ethnicity"].choices, (value, value)]


class ContactForm(SectionForm):
    mobile = _text(_("手机号码"), 11, inputmode="numeric", autocomplete="tel")
    email = forms.CharField(label=_("电子邮箱"), required=False,
                            widget=forms.EmailInput(attrs={"autocomplete": "email", "maxlength": 254}))
    address = _text(_("通讯地址"), 200, autocomplete="street-address")


class EmployerForm(SectionForm):
    name = _text(_("工作单位"), 200)
    credit_code = _text(_("统一社会信用代码"), 18, spellcheck="false", autocapitalize="characters")
    unit_type = _select(_("单位性质"), UnitType.choices)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["name"].help_text = _("在校学生填写“无”，无需填写统一社会信用代码和单位性质。")
        self.fields["credit_code"].help_text = _("国家机关、事业单位、企业、社会团体必填。")


class CareerForm(SectionForm):
    began_accounting_on = _date(_("参加会计工作时间"), _("在职人员必填；在校学生可不填。"))


class EducationForm(SectionForm):
    level = _select(_("学历"), EducationLevel.choices)
    degree = _select(_("学位"), Degree.choices, initial=Degree.NONE)
    major = _text(_("所学专业"), 100)
    school = _text(_("毕业院校"), 100)
    mode = _select(_("学习形式"), StudyMode.choices, initial=StudyMode.FULL_TIME)
    graduated_on = _date(_("毕业时间"))

    filled_by = ("level", "major", "school", "graduated_on")  # defaults alone make an empty row


class QualificationForm(SectionForm):
    level = _select(_("资格级别"), QualificationLevel.choices)
    certificate_no = _text(_("证书编号"), 50, spellcheck="false")
    obtained_on = _date(_("取得时间"))

    filled_by = ("level", "certificate_no", "obtained_on")


class EntryFormSet(forms.BaseFormSet):
    """Several entries of a list section; empty and deleted rows are left out (no JavaScript needed)."""

    def entries(self) -> list[dict]:
        """The filled rows in the service's shape; ``positions`` maps each back to its form."""
        self.positions: list[int] = []
        rows = []
        for i, form in enumerate(self.forms):
            data = getattr(form, "cleaned_data", {}) or {}
            if data.get("DELETE") or not any(data.get(name) for name in form.filled_by):
                continue
            self.positions.append(i)
            rows.append(form.to_data())
        return rows

    def blank_count(self) -> int:
        """How many rows of the POST were left empty (a "添加一条" without JavaScript adds one more)."""
        return sum(1 for form in self.forms
                   if not any((getattr(form, "cleaned_data", {}) or {}).get(name) for name in form.filled_by))

    def add_form_error(self, index: int, field: str, message: str) -> bool:
        positions = getattr(self, "positions", None) or range(len(self.forms))
        if index >= len(positions):
            return False
        form = self.forms[positions[index]]
        if field not in form.fields:
            return False
        add_error(form, field, message)
        return True


def _entry_formset(form_class):
    return forms.formset_factory(form_class, formset=EntryFormSet, extra=1, can_delete=True, max_num=10,
                                 absolute_max=10, validate_max=True)


EducationFormSet = _entry_formset(EducationForm)
QualificationFormSet = _entry_formset(QualificationForm)

SECTION_FORMS = {"basic": BasicForm, "contact": ContactForm, "education": EducationFormSet,
                 "qualifications": QualificationFormSet, "employer": EmployerForm, "career": CareerForm}


class ArchiveSections:
    """The chosen sections of the archive as forms: parse a POST, prefill from data, place errors.

    ``extra`` asks for more blank rows of a list section than the one there always is (the
    "添加一条" of a page without JavaScript). Fields a submission needs are marked (``*``).
    """

    def __init__(self, sections, data=None, *, initial: dict | None = None, name_editable=True,
                 extra: dict[str, int] | None = None):
        initial = initial or {}
        self.forms: dict[str, Any] = {}
        self.section_errors: dict[str, list[str]] = {}
        for section in sections:
            cls = SECTION_FORMS[section]
            kwargs = {"prefix": section, "initial": initial.get(section) or ([] if section in LIST_SECTIONS else None)}
            if section == "basic":
                kwargs["name_editable"] = name_editable
            self.forms[section] = cls(data, **kwargs)
            if section in LIST_SECTIONS and (extra or {}).get(section):
                self.forms[section].extra = max(1, min(int(extra[section]), 10))
        for section, form in self.forms.items():
            if section not in LIST_SECTIONS:
                form.mark_required(section)
        for section, formset in self.formset_items:
            for i, form in enumerate(formset.forms):
                form.mark_required(section)
                if i < formset.initial_form_count():
                    form.fields["DELETE"].label = _("删除此条")
                else:  # a blank row: leaving it empty is enough
                    del form.fields["DELETE"]

    @property
    def formset_items(self) -> list[tuple[str, EntryFormSet]]:
        return [(s, f) for s, f in self.forms.items() if s in LIST_SECTIONS]

    @property
    def template_forms(self) -> dict[str, forms.Form]:
        """Per list section, the blank row a script copies for "添加一条" (``__prefix__`` for its index)."""
        if not hasattr(self, "_template_forms"):
            self._template_forms = {}
            for section, formset in self.formset_items:
                form = formset.empty_form
                del form.fields["DELETE"]
                form.mark_required(section)
                self._template_forms[section] = form
        return self._template_forms

    def __getitem__(self, section):
        return self.forms[section]

    def is_valid(self) -> bool:
        return all([form.is_valid() for form in self.forms.values()])  # a list: validate every one

    def data(self) -> dict[str, Any]:
        """The sections as the services take them; a list whose rows could not be read (a tampered or
        overlong form) is left out, so a draft keeps what it had, and said beside the section."""
        data = {}
        for section, form in self.forms.items():
            if section in LIST_SECTIONS and form.is_bound and form.non_form_errors():
                self.section_errors.setdefault(section, []).extend(unsaved_message(m) for m in form.non_form_errors())
                continue
            data[section] = form.entries() if section in LIST_SECTIONS else form.to_data()
        return data

    def apply_errors(self, errors: dict[str, list[str]]) -> dict[str, list[str]]:
        """Put each message beside its field; returns what does not belong to a section."""
        rest: dict[str, list[str]] = {}
        for key, messages in errors.items():
            match = ERROR_KEY_RE.match(key)
            section = match["section"] if match else None
            if section not in self.forms:
                rest[key] = messages
                continue
            for message in messages:
                if not self._place(section, match["index"], match["field"], message):
                    self.section_errors.setdefault(section, []).append(message)
        return rest

    def _place(self, section, index, field, message) -> bool:
        form = self.forms[section]
        if section in LIST_SECTIONS:
            return index is not None and field is not None and form.add_form_error(int(index), field, message)
        if field in form.fields:
            add_error(form, field, message)
            return True
        return False

    def summary(self) -> list[dict]:
        items = []
        for section, form in self.forms.items():
            title = SECTION_LABELS[section]
            items += [{"label": title, "message": m, "anchor": f"section-{section}"}
                      for m in self.section_errors.get(section, [])]
            if section in LIST_SECTIONS:
                for n, entry in enumerate(form.forms, start=1):
                    items += form_error_items(entry, _("%(section)s第%(n)s条") % {"section": title, "n": n})
            else:
                items += form_error_items(form, title)
        return items


def form_error_items(form: forms.Form, title="", anchor="") -> list[dict]:
    """A form's errors as summary lines ``{"label", "message", "anchor"}`` linking to each field."""
    items = []
    for name, messages in form.errors.items():
        if name == "__all__":
            items += [{"label": str(title), "message": m, "anchor": anchor} for m in messages]
            continue
        field = form[name]
        short = getattr(field.field, "summary_label", field.label)
        label = f"{title}·{short}" if title else str(short)
        items += [{"label": label, "message": m, "anchor": field.id_for_label} for m in messages]
    return items


def describe_section(section: str, value) -> list[str]:
    """A section's values in words (labels, choice names), for old → new and the archive pages."""
    if value in (None, "", [], {}):
        return []
    form_class = SECTION_FORMS[section]
    if section in LIST_SECTIONS:
        return ["　".join(filter(None, _describe_fields(form_class.form, entry, with_labels=False)))
                for entry in value]
    return _describe_fields(form_class, value, with_labels=True)


def _describe_fields(form_class, value: dict, *, with_labels: bool) -> list[str]:
    lines = []
    for name, field in form_class.base_fields.items():
        raw = value.get(name)
        if raw in (None, ""):
            continue
        text = dict(field.choices).get(raw, raw) if isinstance(field, forms.ChoiceField) else raw
        if name == "degree" and raw == Degree.NONE:
            continue
        lines.append(f"{field.label}：{text}" if with_labels else str(text))
    return lines


# --- the collection page: jurisdiction, pledge, uploads ------------------------------------------

def jurisdiction_choices() -> list:
    """Every Shanxi jurisdiction, grouped by city: 省直, then each city's 市直 and its counties."""
    regions = list(Region.objects.select_related("parent").order_by("code"))
    groups: dict[str, list] = {}
    province = [(r.code, r.jurisdiction_label) for r in regions if r.level == Region.Level.PROVINCE]
    for region in regions:
        if region.level == Region.Level.CITY:
            groups[region.code] = [region.name, [(region.code, region.jurisdiction_label)]]
    for region in regions:
        if region.level == Region.Level.COUNTY and region.parent_id in groups:
            groups[region.parent_id][1].append((region.code, region.jurisdiction_label))
    return [("", _("请选择管理属地")), (_("省直单位"), province), *[tuple(g) for g in groups.values()]]


class JurisdictionForm(forms.Form):
    """The jurisdiction (管理属地) the archive is managed in (R-COL-2)."""

    jurisdiction = ChoiceInput(
        label=_("管理属地"), required=False,
        help_text=_("选择您的档案由哪一级财政部门管理：省直单位选“省直”，市直单位选“××市市直”，其他选所在县（市、区）。"))

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["jurisdiction"].choices = jurisdiction_choices()
        mark_required(self, ["jurisdiction"])

    def to_data(self) -> dict[str, Any]:
        return {"jurisdiction": self.cleaned_data.get("jurisdiction") or None}


class PledgeForm(forms.Form):
    """The pledge (承诺书) accepted before submitting (R-COL-4a)."""

    pledge_accepted = forms.BooleanField(label=_("我已阅读上述承诺书，承诺所填信息真实、准确、完整"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["pledge_accepted"].summary_label = _("承诺书")
        mark_required(self, ["pledge_accepted"])

    def to_data(self) -> dict[str, Any]:
        return {"pledge_accepted": bool(self.cleaned_data.get("pledge_accepted"))}


@dataclass(frozen=True)
class Step:
    """One step of 信息采集: the archive sections and the other items it holds."""

    slug: str
    title: str
    sections: tuple[str, ...] = ()
    items: tuple[str, ...] = ()  # jurisdiction, attachments, pledge_accepted

    def holds(self, error_key: str) -> bool:
        match = ERROR_KEY_RE.match(error_key)
        return bool(match) and (match["section"] in self.sections or match["section"] in self.items)


COLLECTION_STEPS = (
    Step("identity", _("身份信息"), ("basic", "contact")),
    Step("education", _("学历"), ("education",)),
    Step("qualifications", _("资格"), ("qualifications",)),
    Step("employer", _("工作单位与属地"), ("employer", "career"), ("jurisdiction",)),
    Step("scans", _("扫描件"), (), ("attachments",)),
    Step("submit", _("承诺与提交"), (), ("pledge_accepted",)),
)
STEP_BY_SLUG = {step.slug: step for step in COLLECTION_STEPS}


def step_of(error_key: str) -> Step:
    """The step where an error (``education[0].school``, ``attachments``…) is mended; else the last."""
    return next((step for step in COLLECTION_STEPS if step.holds(error_key)), COLLECTION_STEPS[-1])


class MultipleFileInput(forms.FileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Zero, one or several files in one input; records.uploads checks each one's type and size."""

    def __init__(self, *, multiple=True, **kwargs):
        widget = MultipleFileInput if multiple else forms.FileInput
        kwargs.setdefault("widget", widget(attrs={"accept": "application/pdf,image/jpeg,image/png"}))
        super().__init__(required=False, **kwargs)

    def clean(self, data, initial=None):
        files = data if isinstance(data, (list, tuple)) else [data] if data else []
        return [super(FilesField, self).clean(f, initial) for f in files]


class AttachmentsForm(forms.Form):
    """Uploads of some kinds, the files already attached (to keep or remove), and pending ones.

    ``pending`` carries the ids of files uploaded with a form that then failed, so nobody uploads
    twice; the services accept only the caller's own attachments. For a ``single`` kind (the
    photo) the newest file replaces the others. A kind in ``camera`` (a photo of a document) gets
    a second input that opens a phone's camera; one in ``required`` is marked with * (R-COL-2).
    """

    remove = forms.MultipleChoiceField(label=_("删除"), required=False, widget=forms.CheckboxSelectMultiple)

    def __init__(self, *args, kinds, attached=(), pending=(), single=(), camera=(), required=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.kinds, self.single, self.camera = list(kinds), set(single), set(camera)
        self.attached, self.pending, self.new = list(attached), list(pending), []
        self.notes: dict[str, list[str]] = {}
        for kind in self.kinds:
            self.fields[kind] = FilesField(label=AttachmentKind(kind).label, multiple=kind not in self.single)
        mark_required(self, required)
        self.fields["remove"].choices = [(str(a.pk), a.name) for a in self.current]

    @classmethod
    def for_user(cls, user, data=None, files=None, *, kinds, attached=(), **options) -> AttachmentsForm:
        """The upload part of a page for ``user``: files uploaded with a form that then failed come
        back as pending — the caller's own only (anyone else's id is skipped), of ``kinds`` and not
        attached already — read in one query."""
        attached = list(attached)
        pending = [found for found in selectors.attachments_own(user, cls.pending_ids(data), kinds=kinds)
                   if found not in attached]
        return cls(data, files, kinds=kinds, attached=attached, pending=pending, **options)

    def store(self, user) -> None:
        """Save each chosen file through :func:`records.uploads.attachment_create` (checked by content,
        413/415). A refused one is named beside its input with the words of a value not saved; one
        already uploaded (the same bytes, by hash) is noted and not stored twice."""
        for kind in self.kinds:
            for upload in (getattr(self, "cleaned_data", None) or {}).get(kind) or []:
                try:
                    attachment = attachment_create(owner=user, kind=kind, upload=upload)
                except DomainError as exc:
                    for message in exc.errors.get("file") or [exc.message]:
                        add_error(self, kind, unsaved_message(f"{upload.name}：{message}"))
                    continue
                if getattr(attachment, "reused", False):
                    self.add_note(kind, gettext("%(name)s 与已上传的“%(existing)s”是同一文件，未重复保存。") % {
                        "name": upload.name, "existing": attachment.name})
                self.add_new([attachment])

    @staticmethod
    def pending_ids(data) -> list[int]:
        raw = data.get("pending", "") if data is not None else ""
        return [int(x) for x in str(raw).split(",") if x.strip().isdigit()][:50]

    @property
    def max_mb(self) -> int:
        return settings.UPLOAD_MAX_BYTES // (1024 * 1024)

    @property
    def current(self) -> list:
        return self.attached + self.pending + self.new

    @property
    def pending_value(self) -> str:
        return ",".join(str(a.pk) for a in self.pending + self.new)

    def add_new(self, attachments) -> None:
        self.new += [a for a in attachments if a not in self.current]

    def add_note(self, kind: str, message: str) -> None:
        """Something to say beside a kind's input that is not an error (a file already uploaded)."""
        self.notes.setdefault(kind, []).append(message)

    def saved(self, attachments) -> None:
        """After a draft was saved: what is attached now; nothing is pending any more."""
        self.attached, self.pending, self.new = list(attachments), [], []

    def keep_ids(self) -> list[int]:
        """What stays attached: everything not removed; of a single kind only the newest."""
        removed = {int(x) for x in (self.cleaned_data.get("remove") or []) if str(x).isdigit()}
        kept = [a for a in self.current if a.pk not in removed]
        newest = {a.kind: a.pk for a in kept if a.kind in self.single}
        return [a.pk for a in kept if a.kind not in self.single or newest[a.kind] == a.pk]

    def rows(self) -> list[dict]:
        """What the template draws per kind: the input, what is there (and whether ticked for removal)."""
        removed = set(self.data.getlist("remove")) if hasattr(self.data, "getlist") else set()
        return [{"kind": kind, "field": self[kind], "camera": kind in self.camera, "notes": self.notes.get(kind, []),
                 "attachments": [{"a": a, "removed": str(a.pk) in removed, "pending": a not in self.attached}
                                 for a in self.current if a.kind == kind]}
                for kind in self.kinds]


def add_error(form: forms.Form, field: str | None, message: str) -> None:
    """``form.add_error`` that also works on an unbound form (errors on what was saved)."""
    if not hasattr(form, "cleaned_data"):
        form.errors  # noqa: B018 - runs full_clean, which sets up _errors
        form.cleaned_data = getattr(form, "cleaned_data", {})
    form.add_error(field if field is None or field in form.fields else None, message)


class ChangeItemsForm(forms.Form):
    """The items a change alters (变更事项), R-CHG-1."""

    items = forms.MultipleChoiceField(label=_("变更事项"), choices=ChangeItem.choices, required=False,
                                      widget=forms.CheckboxSelectMultiple)
