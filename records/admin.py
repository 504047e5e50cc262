"""Admin of the archive (/manage/): read only. Archives and applications change only through their
workflows (pages, API), so that every change is checked, scoped and audited."""

from django.contrib import admin

from kjzx.admin import ReadOnlyAdmin
from records.models import Archive, Attachment, ChangeRequest, CollectionApplication


@admin.register(Archive)
class ArchiveAdmin(ReadOnlyAdmin):
    list_display = ["name", "masked_id_number", "jurisdiction", "status", "collected_at"]
    list_filter = ["status"]
    search_fields = ["=id_number", "=name"]
    list_select_related = ["jurisdiction__parent"]
    exclude = ["attachments"]


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
