"""Online-learning pages (网络学习), included at the site root: the accountant's, and the institutions'
course content management (课程内容管理) beside their workbench."""

from django.urls import path

from cpe.learning import views, views_institution

urlpatterns = [
    path("cpe/courses/", views.course_list, name="cpe_course_list"),
    path("cpe/courses/<int:pk>/", views.course_detail, name="cpe_course_detail"),
    path("cpe/courses/<int:pk>/enrol/", views.course_enrol, name="cpe_course_enrol"),
    path("cpe/courses/<int:pk>/test/", views.course_test, name="cpe_course_test"),
    path("cpe/lessons/<int:pk>/", views.lesson_detail, name="cpe_lesson_detail"),
    path("cpe/lessons/<int:pk>/media/", views.lesson_media, name="cpe_lesson_media"),
    path("cpe/lessons/<int:pk>/complete/", views.lesson_complete, name="cpe_lesson_complete"),
    path("institution/courses/", views_institution.course_list, name="institution_courses"),
    path("institution/courses/new/", views_institution.course_edit, name="institution_course_new"),
    path("institution/courses/<int:pk>/", views_institution.course_edit, name="institution_course"),
    path("institution/courses/<int:course_pk>/lessons/new/", views_institution.lesson_edit,
         name="institution_lesson_new"),
    path("institution/lessons/<int:pk>/", views_institution.lesson_edit, name="institution_lesson"),
    path("institution/courses/<int:pk>/questions/", views_institution.question_add, name="institution_question_add"),
    path("institution/questions/<int:pk>/retire/", views_institution.question_retire,
         name="institution_question_retire"),
]
