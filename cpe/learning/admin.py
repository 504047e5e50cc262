"""Admin of online learning (/manage/cpe/…), imported by ``cpe.admin``: R-CE-8, R-CE-14.

- 网络课程: provincial staff see every course with its lessons and question bank, and may change a
  course's fields (e.g. withdraw it: 已发布 off). Lessons and questions are read only here: institutions
  upload and maintain them on their own pages (``/institution/courses/``), where each file is checked
  by its content and a video's real duration measured — nothing reaches a learner unprobed.
- 网络学习计时规则: the one row of the timing policy (completion ratio, playback-rate cap, tolerance,
  heartbeat interval), edited by provincial staff; saved through
  :func:`cpe.learning.services.learning_policy_save` (audited, each change with its old and new value).
- 学习记录拒收日志: every refused heartbeat or 学完本节, read only.
"""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from cpe.learning.services import learning_policy_save
from cpe.models import Course, LearningPolicy, LearningRefusal, Lesson, Question
from kjzx.admin import ReadOnlyAdmin


class LessonInline(admin.StackedInline):
    model = Lesson
    extra = 0
    ordering = ["order"]
    fields = readonly_fields = ["order", "title", "kind", "duration_seconds", "media", "media_type", "media_seconds",
                                "body"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


class QuestionInline(admin.TabularInline):
    model = Question
    extra = 0
    ordering = ["order"]
    fields = readonly_fields = ["order", "text", "choices", "answer", "retired"]
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(admin.ModelAdmin):
    """Online courses (网络课程) with their lessons and question bank, as the institutions keep them (R-CE-8)."""

    list_display = ["title", "institution", "year", "subject_kind", "credits", "hours", "published"]
    list_filter = ["year", "subject_kind", "published"]
    search_fields = ["title"]
    list_select_related = ["institution", "year"]
    inlines = [LessonInline, QuestionInline]


@admin.register(LearningPolicy)
class LearningPolicyAdmin(admin.ModelAdmin):
    """网络学习计时规则: one row, changed only (never added or deleted)."""

    list_display = ["__str__", "completion_ratio", "max_playback_rate", "seek_tolerance_seconds",
                    "heartbeat_seconds", "updated_at", "updated_by"]
    fields = ["completion_ratio", "max_playback_rate", "seek_tolerance_seconds", "heartbeat_seconds",
              "updated_at", "updated_by"]
    readonly_fields = ["updated_at", "updated_by"]

    def has_add_permission(self, request):
        return not LearningPolicy.objects.exists()

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        learning_policy_save(by=request.user, policy=obj)


@admin.register(LearningRefusal)
class LearningRefusalAdmin(ReadOnlyAdmin):
    """学习记录拒收日志: what the server would not believe, and why (R-CE-8)."""

    list_display = ["at", "person", "kind", "lesson", "reason"]
    list_filter = ["kind"]
    date_hierarchy = "at"
    list_select_related = ["archive", "lesson"]
    show_full_result_count = False

    @admin.display(description=_("人员"))
    def person(self, obj):
        return f"{obj.archive.name}（{obj.archive.masked_id_number}）"
