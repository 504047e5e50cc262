"""/api/v1/cpe/institutions/ and /api/v1/cpe/filings/ (API.md §1 "Workflow objects"), R-CE-14."""

from django.urls import path

from cpe import api_institutions

urlpatterns = [
    path("cpe/institutions/", api_institutions.PublicInstitutionListView.as_view(), name="api-cpe-institutions"),
    path("cpe/institutions/<int:pk>/teachers/", api_institutions.TeacherListView.as_view(),
         name="api-cpe-institution-teachers"),
    path("cpe/institutions/<int:pk>/trainings/", api_institutions.TrainingCreateView.as_view(),
         name="api-cpe-institution-trainings"),
    path("cpe/filings/", api_institutions.FilingCreateView.as_view(), name="api-cpe-filings"),
    path("cpe/filings/<int:pk>/", api_institutions.FilingDetailView.as_view(), name="api-cpe-filing"),
    path("cpe/filings/<int:pk>/transitions/<str:name>/", api_institutions.FilingTransitionView.as_view(),
         name="api-cpe-filing-transition"),
]
