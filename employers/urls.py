"""The employers' pages (included at the site root): the employer's own people, and provincial staff's
management of employer administrators."""

from django.urls import path

from employers import views

urlpatterns = [
    path("employer/", views.people, name="employer_people"),
    path("employer/people.xlsx", views.people_export, name="employer_people_export"),
    path("employer/people/<int:pk>/", views.person_detail, name="employer_person"),
    path("employer/people/<int:pk>/remind/", views.person_remind, name="employer_person_remind"),
    path("employer/remind/", views.remind_behind, name="employer_remind_behind"),
    path("employers/manage/", views.manage, name="employers_manage"),
    path("employers/manage/new/", views.manage_new, name="employers_manage_new"),
    path("employers/manage/<int:pk>/", views.manage_units, name="employers_manage_units"),
]
