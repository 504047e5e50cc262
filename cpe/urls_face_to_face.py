"""Face-to-face list pages (面授学员名单), R-CE-9, included at the site root.

- ``institution_attendance_upload``: ``/institution/trainings/<pk>/attendance/`` (the institution).
- ``institution_attendance``: ``/institution/attendance/<pk>/`` (the institution's view of one list).
- ``workbench_attendance_list``: ``/workbench/attendance/`` (the bureau: lists of its region).
- ``workbench_attendance``: ``/workbench/attendance/<pk>/`` (the bureau: preview, evidence, 登记).
- ``workbench_attendance_register``: POST ``/workbench/attendance/<pk>/register/``.
"""

from django.urls import path

from cpe import views_face_to_face as views

urlpatterns = [
    path("institution/trainings/<int:pk>/attendance/", views.attendance_upload, name="institution_attendance_upload"),
    path("institution/attendance/<int:pk>/", views.institution_attendance, name="institution_attendance"),
    path("workbench/attendance/", views.bureau_attendance_list, name="workbench_attendance_list"),
    path("workbench/attendance/<int:pk>/", views.bureau_attendance, name="workbench_attendance"),
    path("workbench/attendance/<int:pk>/register/", views.bureau_attendance_register,
         name="workbench_attendance_register"),
]
