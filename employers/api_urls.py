"""/api/v1/employer/: an employer administrator's own people (API.md §1, "GET /api/v1/employer/people/")."""

from django.urls import path

from employers import api

urlpatterns = [
    path("employer/people/", api.PeopleListView.as_view(), name="api-employer-people"),
    path("employer/people/<int:pk>/", api.PersonDetailView.as_view(), name="api-employer-person"),
    path("employer/people/<int:pk>/remind/", api.PersonRemindView.as_view(), name="api-employer-person-remind"),
]
