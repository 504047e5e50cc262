"""/api/v1/cpe/institutions/ and /api/v1/cpe/filings/ (API.md §1 "Workflow objects"), R-CE-14."""

from django.urls import path

from cpe.institutions import api

urlpatterns = [
    path("cpe/institutions/", api.PublicInstitutionListView.as_view(), name="api-cpe-institutions"),
    path("cpe/institutions/<int:pk>/teachers/", api.TeacherListView.as_view(),
         name="api-cpe-institution-teachers"),
    path("cpe/institutions/<int:pk>/trainings/", api.TrainingCreateView.as_view(),
         name="api-cpe-institution-trainings"),
    path("cpe/filings/", api.FilingCreateView.as_view(), name="api-cpe-filings"),
    path("cpe/filings/<int:pk>/", api.FilingDetailView.as_view(), name="api-cpe-filing"),
    path("cpe/filings/<int:pk>/transitions/<str:name>/", api.FilingTransitionView.as_view(),
         name="api-cpe-filing-transition"),
]
