"""Exam pass lists (考试合格名单), provincial staff's workbench pages, included at the site root (R-CE-10)."""

from django.urls import path

from cpe import views_exams

urlpatterns = [
    path("workbench/exams/", views_exams.exam_import_list, name="workbench_exam_imports"),
    path("workbench/exams/new/", views_exams.exam_import_new, name="workbench_exam_import_new"),
    path("workbench/exams/<int:pk>/", views_exams.exam_import_detail, name="workbench_exam_import"),
    path("workbench/exams/<int:pk>/register/", views_exams.exam_import_register,
         name="workbench_exam_import_register"),
]
