"""Admin of the archive (/manage/): read only. Archives and applications change only through their
workflows (pages, API), so that every change is checked, scoped and audited."""

from django.contrib import admin

from kjzx.admin import ReadOnlyAdmin
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication


@admin.register(Archive)
class ArchiveAdmin(ReadOnlyAdmin):
    """Read only, the ID number masked in the list, the search (not echoed) and the detail (item 46)."""

    list_display = ["name", "masked_id_number", "jurisdiction", "status", "collected_at"]
    list_filter = ["status"]
    search_fields = ["=id_number", "=name"]
    search_help_text = "按完整证件号码或姓名精确查找（证件号码脱敏显示）。"
    list_select_related = ["jurisdiction__parent"]
    exclude = ["attachments", "id_number"]  # the whole number only through the workbench's audited reveal
    readonly_fields = ["masked_id_number"]


@admin.register(CollectionApplication, ChangeRequest)
class ApplicationAdmin(ReadOnlyAdmin):
    list_display = ["number", "archive", "jurisdiction", "status", "submitted_at", "due_date"]
    list_filter = ["status"]
    list_select_related = ["archive", "jurisdiction__parent"]
    raw_id_fields = ["archive", "applicant"]


@admin.register(Attachment)
class AttachmentAdmin(ReadOnlyAdmin):
    list_display = ["name", "kind", "owner", "content_type", "size", "created_at"]
    list_select_related = ["owner"]
    exclude = ["file"]  # the bytes are served only by the scoped /files/ view
