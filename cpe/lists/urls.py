"""Name-list pages, included at the site root: face-to-face lists (R-CE-9) and exam pass lists (R-CE-10)."""

from django.urls import path

from cpe.lists import views

urlpatterns = [
    path("institution/trainings/<int:pk>/attendance/", views.attendance_upload, name="institution_attendance_upload"),
    path("institution/attendance/<int:pk>/", views.institution_attendance, name="institution_attendance"),
    path("workbench/attendance/", views.bureau_attendance_list, name="workbench_attendance_list"),
    path("workbench/attendance/<int:pk>/", views.bureau_attendance, name="workbench_attendance"),
    path("workbench/attendance/<int:pk>/register/", views.bureau_attendance_register,
         name="workbench_attendance_register"),
    path("workbench/exams/", views.exam_import_list, name="workbench_exam_imports"),
    path("workbench/exams/new/", views.exam_import_new, name="workbench_exam_import_new"),
    path("workbench/exams/<int:pk>/", views.exam_import_detail, name="workbench_exam_import"),
    path("workbench/exams/<int:pk>/register/", views.exam_import_register,
         name="workbench_exam_import_register"),
]
