"""/api/v1/cpe/trainings/{id}/attendance/, /cpe/attendance/… and /cpe/exam-imports/… (R-CE-9, R-CE-10)."""

from django.urls import path

from cpe.lists import api

urlpatterns = [
    path("cpe/trainings/<int:pk>/attendance/", api.TrainingAttendanceUploadView.as_view(),
         name="api-cpe-training-attendance"),
    path("cpe/attendance/<int:pk>/", api.AttendanceDetailView.as_view(), name="api-cpe-attendance"),
    path("cpe/attendance/<int:pk>/register/", api.AttendanceRegisterView.as_view(),
         name="api-cpe-attendance-register"),
    path("cpe/exam-imports/", api.ExamImportListView.as_view(), name="api-cpe-exam-imports"),
    path("cpe/exam-imports/<int:pk>/", api.ExamImportDetailView.as_view(), name="api-cpe-exam-import"),
    path("cpe/exam-imports/<int:pk>/register/", api.ExamImportRegisterView.as_view(),
         name="api-cpe-exam-import-register"),
]
