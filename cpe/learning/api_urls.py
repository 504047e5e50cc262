"""/api/v1/cpe/courses/… and /api/v1/cpe/lessons/…: online learning (网络学习)."""

from django.urls import path

from cpe.learning import api

urlpatterns = [
    path("cpe/courses/", api.CourseListView.as_view(), name="api-cpe-courses"),
    path("cpe/courses/<int:pk>/", api.CourseDetailView.as_view(), name="api-cpe-course"),
    path("cpe/courses/<int:pk>/enrol/", api.CourseEnrolView.as_view(), name="api-cpe-course-enrol"),
    path("cpe/courses/<int:pk>/test/", api.CourseTestView.as_view(), name="api-cpe-course-test"),
    path("cpe/lessons/<int:pk>/session/", api.LessonSessionView.as_view(), name="api-cpe-lesson-session"),
    path("cpe/lessons/<int:pk>/heartbeat/", api.LessonHeartbeatView.as_view(), name="api-cpe-lesson-heartbeat"),
    path("cpe/lessons/<int:pk>/complete/", api.LessonCompleteView.as_view(),
         name="api-cpe-lesson-complete"),
]
