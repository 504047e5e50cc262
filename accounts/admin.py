from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.utils.translation import gettext_lazy as _

from accounts.models import Region, User


@admin.register(Region)
class RegionAdmin(admin.ModelAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    ordering = ("code",)

    def has_delete_permission(self, request, obj=None):
        return False  # the tree is shipped data; archives point at it


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    list_display = ("username", "name", "role", "region", "is_active", "date_joined")
    list_filter = ("role", "is_active", "region__level")
    search_fields = ("username", "name", "mobile")
    ordering = ("-date_joined",)
    autocomplete_fields = ("region",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份信息"), {"fields": ("name", "id_type", "id_number", "sex", "birth_date", "mobile", "email")}),
        (_("角色与属地"), {"fields": ("role", "region", "organisation")}),
        (_("权限"), {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("username", "name", "role", "region",
                                                              "password1", "password2")}),)
