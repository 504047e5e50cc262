"""Admin actions in the audit history: every add, change and deletion in 管理后台.

Django's admin writes a ``LogEntry`` for each; :class:`AuditedModelAdmin` mirrors it into the audit
history (``admin.added``, ``admin.changed``, ``admin.deleted``) with who, which object, which fields
(their names, never their values) and from where. The admin site mixes it into every ModelAdmin it
registers (``kjzx.admin_site.KjzxAdminSite.register``), so no admin can forget it.
"""

from __future__ import annotations

from django.contrib.admin import ModelAdmin

from kjzx.audit import record_event


def _changed_fields(message) -> list[str]:
    """The field names of an admin change message (a list of {"changed": {"fields": [...]}} items)."""
    names: list[str] = []
    for item in message if isinstance(message, list) else []:
        for action in ("added", "changed", "deleted"):
            names.extend(str(name) for name in (item.get(action) or {}).get("fields", []))
    return names


def _record(request, obj, event_type: str, message=None) -> None:
    extra = {"model": obj._meta.label_lower}
    fields = _changed_fields(message)
    if fields:
        extra["fields"] = fields
    record_event(obj, event_type, by=request.user, extra=extra, request=request)


class AuditedModelAdmin(ModelAdmin):
    """Writes an audit row next to each LogEntry (in the same transaction as the admin's change)."""

    def log_addition(self, request, obj, message):
        entry = super().log_addition(request, obj, message)
        _record(request, obj, "admin.added", message)
        return entry

    def log_change(self, request, obj, message):
        entry = super().log_change(request, obj, message)
        _record(request, obj, "admin.changed", message)
        return entry

    def log_deletions(self, request, queryset):
        objects = list(queryset)  # called before the deletion: the objects still have their keys
        entries = super().log_deletions(request, objects)
        for obj in objects:
            _record(request, obj, "admin.deleted")
        return entries


def audited(admin_class: type[ModelAdmin]) -> type[ModelAdmin]:
    """``admin_class`` with :class:`AuditedModelAdmin` mixed in (itself if already audited)."""
    if issubclass(admin_class, AuditedModelAdmin):
        return admin_class
    return type(admin_class.__name__, (AuditedModelAdmin, admin_class),
                {"__module__": admin_class.__module__, "__doc__": admin_class.__doc__})
