"""我的信息—信息采集 in six steps (R-COL-2, R-COL-4a, R-COL-4, R-DL-2).

``/me/collection/?step=<slug>`` shows one step of :data:`records.forms.COLLECTION_STEPS` (身份信息, 学历,
资格, 工作单位与属地, 扫描件, 承诺与提交) with the progress; each step's POST is a draft save that keeps
every well-formed value (:func:`records.services.archive_draft_save`) and every accepted file, names
the rest beside its field ("…，未保存此项。") with what was typed, and moves on, back, or stays. The
last step submits (:func:`kjzx.workflow.workflow_transition`), and what is still missing links to
the step that mends it. Works without JavaScript; static/js/collection.js adds rows at once and
keeps what is typed in the browser until it is saved.
"""

from __future__ import annotations

from django.contrib import messages
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts.permissions import accountant_required
from kjzx.api import Conflict, DomainError
from kjzx.workflow import annotate_days_left, history_rows, workflow_transition
from kjzx.workflow_views import REFUSALS
from records import services
from records.forms import (
    COLLECTION_STEPS,
    LIST_SECTIONS,
    STEP_BY_SLUG,
    ArchiveSections,
    JurisdictionForm,
    PledgeForm,
    Step,
    add_error,
    step_of,
    unsaved_message,
)
from records.rules import SECTIONS
from records.views_person.common import (
    CAMERA_KINDS,
    COLLECTION_KINDS,
    REQUIRED_KINDS,
    error_summary,
    iso_day,
    own_archive_first,
    refused,
    uploads_form,
)

COLLECTION = "person_collection"


@accountant_required
@require_http_methods(["GET", "POST"])
@own_archive_first
def collection(request):
    """信息采集 in six steps, each saved on its own; its status and history (R-COL-2, R-COL-4a, R-COL-4, R-DL-2).

    ``?step=<slug>`` picks the step (forms.COLLECTION_STEPS); every step's POST saves a draft that
    keeps each well-formed value (R-COL-2) and moves on, back, or stays; the last one submits.
    """
    user = request.user
    archive = services.archive_for_person(user)
    editable = services.archive_is_editable(archive)
    if request.method == "POST":
        if not editable:
            messages.error(request, _("信息采集正在审核或已完成，不能修改。"))
            return redirect(COLLECTION)
        return _collection_post(request, archive)
    step = STEP_BY_SLUG.get(request.GET.get("step", ""), COLLECTION_STEPS[0])
    ctx = _step_forms(user, archive, step, extra=_extra_rows(step, request.GET.get("rows")))
    if step.slug == "submit" and editable:  # what a submission would still name, before it is tried
        ctx.update(summary=_missing_summary(archive, services.collection_missing(archive)), summary_calm=True)
    return _render_collection(request, archive, step, ctx)


def _extra_rows(step: Step, rows) -> dict[str, int]:
    return {section: int(rows) for section in step.sections if section in LIST_SECTIONS} \
        if str(rows or "").isdigit() else {}


def _step_forms(user, archive, step: Step, data=None, files=None, *, extra=None) -> dict:
    """The forms of one step, prefilled from the archive (or bound to a POST)."""
    ctx: dict = {"sections": ArchiveSections(step.sections, data, initial=services.archive_data(archive),
                                             name_editable=False, extra=extra)}
    if "jurisdiction" in step.items:
        ctx["place"] = JurisdictionForm(data, initial={"jurisdiction": archive.jurisdiction_id or ""})
    if "pledge_accepted" in step.items:
        ctx["pledge"] = PledgeForm(data, initial={"pledge_accepted": archive.pledge_accepted_at is not None})
    if "attachments" in step.items:
        ctx["uploads"] = uploads_form(user, archive.attachments.all(), data, files, kinds=COLLECTION_KINDS,
                                       camera=CAMERA_KINDS, required=REQUIRED_KINDS)
    return ctx


def _step_data(ctx: dict, archive) -> dict:
    """What a step's POST gives the draft save: its sections, and the jurisdiction, scans or pledge."""
    data = ctx["sections"].data()
    if "basic" in data:
        data["basic"]["name"] = archive.name  # identity is shown, not edited
    for key in ("place", "pledge"):
        if key in ctx:
            data.update(ctx[key].to_data())
    if "uploads" in ctx:
        data["attachments"] = ctx["uploads"].keep_ids()
    return data


def _collection_post(request, archive):
    """Save the step as a draft (every well-formed value, R-COL-2), then move as asked, or submit."""
    user = request.user
    step = STEP_BY_SLUG.get(request.POST.get("step", ""))
    if step is None:
        messages.error(request, _("页面已过期，请重新打开信息采集后再填写。"))
        return redirect(COLLECTION)
    ctx = _step_forms(user, archive, step, request.POST, request.FILES)
    forms_ = [ctx["sections"], *(ctx[k] for k in ("place", "pledge", "uploads") if k in ctx)]
    all([form.is_valid() for form in forms_])  # a list: every form parses, each keeps its own errors
    if "uploads" in ctx:
        ctx["uploads"].store(user)
    try:
        archive, unsaved = services.archive_draft_save(archive=archive, by=user, data=_step_data(ctx, archive))
    except Conflict as exc:
        refused(request, exc)
        return redirect(COLLECTION)
    if "uploads" in ctx:
        ctx["uploads"].saved(archive.attachments.all())
    _place_errors(ctx, {key: [unsaved_message(m) for m in msgs] for key, msgs in unsaved.items()})
    problems = _step_summary(ctx)
    if problems:
        messages.warning(request, _("已保存本步中填写正确的内容；标出的 %(n)s 项未保存，请修改后再保存。") % {
            "n": len(problems)})
        return _render_collection(request, archive, step, {**ctx, "summary": problems})
    for notes in (ctx["uploads"].notes.values() if "uploads" in ctx else []):
        for note in notes:  # a file already there: said on the next page
            messages.info(request, note)
    if request.POST.get("add") in step.sections:
        section = request.POST["add"]
        messages.success(request, _("已保存，并添加了一条空白记录，请在下方填写。"))
        rows = ctx["sections"][section].blank_count() + 1
        return redirect(f"{reverse(COLLECTION)}?step={step.slug}&rows={rows}&saved={step.slug}#section-{section}")
    if "submit" in request.POST and step.slug == "submit":
        return _collection_submit(request, archive, step, ctx)
    target = _step_after(step, request.POST.get("go"))
    if target == step:
        messages.success(request, _("草稿已保存。信息填写完整后，请在“承诺与提交”一步提交审核。"))
    else:
        messages.success(request, _("“%(title)s”已保存。") % {"title": step.title})
    return redirect(f"{reverse(COLLECTION)}?step={target.slug}&saved={step.slug}")


def _step_after(step: Step, go: str | None) -> Step:
    i = COLLECTION_STEPS.index(step)
    if go == "next":
        return COLLECTION_STEPS[min(i + 1, len(COLLECTION_STEPS) - 1)]
    if go == "back":
        return COLLECTION_STEPS[max(i - 1, 0)]
    return step


def _collection_submit(request, archive, step: Step, ctx: dict):
    """提交审核: the application is opened and submitted; what is missing is named with a link to its step."""
    user = request.user
    try:
        application = workflow_transition(services.collection_open(person=user), "submit", by=user)
    except REFUSALS as exc:
        refused(request, exc)
        return redirect(COLLECTION)
    except DomainError as exc:  # the draft is saved: every missing item named, each with its step (R-COL-2)
        messages.warning(request, _("草稿已保存，但信息尚不完整，暂不能提交审核。请补充下列各项后再提交。"))
        return _render_collection(request, archive, step, {**ctx, "summary": _missing_summary(archive, exc.errors)})
    messages.success(request, _("已提交审核（申请编号 %(number)s），属地财政部门将于 %(due)s 前办结。") % {
        "number": application.number, "due": iso_day(application.due_date)})
    return redirect(f"{reverse(COLLECTION)}?saved=all")


def _place_errors(ctx: dict, errors: dict) -> None:
    """Each message beside its field on this step's forms."""
    rest = ctx["sections"].apply_errors(errors)
    for message in rest.pop("attachments", []):
        if "uploads" in ctx:
            add_error(ctx["uploads"], None, message)
    for key, form in (("jurisdiction", ctx.get("place")), ("pledge_accepted", ctx.get("pledge"))):
        for message in rest.pop(key, []):
            if form is not None:
                add_error(form, key, message)


def _step_summary(ctx: dict) -> list[dict]:
    return error_summary(ctx["sections"], *((ctx[k], _("扫描件") if k == "uploads" else "")
                                       for k in ("place", "uploads", "pledge") if k in ctx))


OTHER_ITEMS = {  # what is not an archive section: (label, the anchor on its step)
    "jurisdiction": (gettext_lazy("管理属地"), "id_jurisdiction"),
    "attachments": (gettext_lazy("扫描件"), "section-attachments"),
    "pledge_accepted": (gettext_lazy("承诺书"), "id_pledge_accepted"),
}


def _missing_summary(archive, errors: dict) -> list[dict]:
    """Every missing or wrong item of the archive, each linking to the step (and field) where it is mended."""
    sections = ArchiveSections(SECTIONS, initial=services.archive_data(archive), name_editable=False)
    rest = sections.apply_errors(errors)
    items = []
    for item in sections.summary():
        section = item["anchor"].removeprefix("id_").removeprefix("section-").split("-")[0]
        items.append({**item, "href": f"?step={step_of(section).slug}#{item['anchor']}"})
    for key, messages_ in rest.items():
        label, anchor = OTHER_ITEMS.get(key, ("", ""))
        items += [{"label": label, "message": m, "href": f"?step={step_of(key).slug}#{anchor}"} for m in messages_]
    return items


def _render_collection(request, archive, step: Step, ctx: dict):
    user = request.user
    editable = services.archive_is_editable(archive)
    current = services.collection_current(user)
    if current is not None:
        annotate_days_left([current])
    missing = services.collection_missing(archive) if editable else {}
    number = COLLECTION_STEPS.index(step) + 1
    steps = [{"step": s, "n": n, "current": s == step, "done": not any(s.holds(key) for key in missing)}
             for n, s in enumerate(COLLECTION_STEPS, start=1)]
    saved = request.GET.get("saved", "")
    ctx.update({
        "archive": archive, "current": current, "editable": editable, "menu": "collection",
        "history": history_rows(current) if current else [], "step": step, "steps": steps, "step_number": number,
        "step_total": len(COLLECTION_STEPS), "previous_step": COLLECTION_STEPS[number - 2] if number > 1 else None,
        "next_step": COLLECTION_STEPS[number] if number < len(COLLECTION_STEPS) else None,
        "draft_key": f"collection:{user.pk}:{step.slug}" if step.slug in DRAFT_STEPS else "",
        "draft_clear": _draft_keys_saved(user, saved),
    })
    ctx.setdefault("summary", [])
    status = 200
    return render(request, "records/person/collection.html", ctx, status=status)


DRAFT_STEPS = ("identity", "education", "qualifications", "employer")  # what the browser keeps until saved


def _draft_keys_saved(user, saved: str) -> str:
    """The browser's kept drafts to forget now that they are saved (``saved``: a step, or ``all``)."""
    if saved == "all":
        return f"collection:{user.pk}:"
    return f"collection:{user.pk}:{saved}" if saved in DRAFT_STEPS else ""
