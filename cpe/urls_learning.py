"""Online-learning pages of the accountant (网络学习), included at the site root."""

from django.urls import path

from cpe import views_learning

urlpatterns = [
    path("cpe/courses/", views_learning.course_list, name="cpe_course_list"),
    path("cpe/courses/<int:pk>/", views_learning.course_detail, name="cpe_course_detail"),
    path("cpe/courses/<int:pk>/enrol/", views_learning.course_enrol, name="cpe_course_enrol"),
    path("cpe/courses/<int:pk>/test/", views_learning.course_test, name="cpe_course_test"),
    path("cpe/lessons/<int:pk>/", views_learning.lesson_detail, name="cpe_lesson_detail"),
    path("cpe/lessons/<int:pk>/complete/", views_learning.lesson_complete, name="cpe_lesson_complete"),
]
