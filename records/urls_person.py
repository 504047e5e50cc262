"""The accountant's records pages: 我的信息—信息采集, 我的档案, 档案变更登记."""

from django.urls import path

from records import views_person

urlpatterns = [
    path("me/collection/", views_person.collection, name="person_collection"),
    path("me/archive/", views_person.archive_detail, name="person_archive"),
    path("me/changes/", views_person.change_list, name="person_change_list"),
    path("me/changes/new/", views_person.change_new, name="person_change_new"),
    path("me/changes/<int:pk>/", views_person.change_detail, name="person_change_detail"),
    path("me/changes/<int:pk>/edit/", views_person.change_edit, name="person_change_edit"),
    path("me/changes/<int:pk>/submit/", views_person.change_submit, name="person_change_submit"),
    path("me/changes/<int:pk>/withdraw/", views_person.change_withdraw, name="person_change_withdraw"),
]
