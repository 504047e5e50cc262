"""Records pages: the accountant's (urls_person) and the bureau's workbench (urls_workbench)."""

from django.urls import include, path

urlpatterns = [
    path("", include("records.urls_person")),
    path("", include("records.urls_workbench")),
]
