"""/api/v1/cpe/courses/… and /api/v1/cpe/lessons/…: online learning (网络学习)."""

from django.urls import path

from cpe import api_learning

urlpatterns = [
    path("cpe/courses/", api_learning.CourseListView.as_view(), name="api-cpe-courses"),
    path("cpe/courses/<int:pk>/", api_learning.CourseDetailView.as_view(), name="api-cpe-course"),
    path("cpe/courses/<int:pk>/enrol/", api_learning.CourseEnrolView.as_view(), name="api-cpe-course-enrol"),
    path("cpe/courses/<int:pk>/test/", api_learning.CourseTestView.as_view(), name="api-cpe-course-test"),
    path("cpe/lessons/<int:pk>/complete/", api_learning.LessonCompleteView.as_view(),
         name="api-cpe-lesson-complete"),
]
