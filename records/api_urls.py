"""/api/v1/ routes of the records app (API.md §1)."""

from django.urls import path

from records import api

urlpatterns = [
    path("me/archive/", api.ArchiveMeView.as_view(), name="api-archive"),
    path("me/archive/history/", api.ArchiveHistoryView.as_view(), name="api-archive-history"),
    path("attachments/", api.AttachmentUploadView.as_view(), name="api-attachments"),
    path("attachments/<int:pk>/", api.AttachmentDetailView.as_view(), name="api-attachment"),
    path("attachments/<int:pk>/file/", api.AttachmentFileView.as_view(), name="api-attachment-file"),
    path("collections/", api.CollectionListView.as_view(), name="api-collections"),
    path("collections/<int:pk>/", api.CollectionDetailView.as_view(), name="api-collection"),
    path("collections/<int:pk>/transitions/<str:name>/", api.CollectionTransitionView.as_view(),
         name="api-collection-transition"),
    path("collections/<int:pk>/reveal-id/", api.CollectionRevealIdView.as_view(), name="api-collection-reveal"),
    path("changes/", api.ChangeListView.as_view(), name="api-changes"),
    path("changes/<int:pk>/", api.ChangeDetailView.as_view(), name="api-change"),
    path("changes/<int:pk>/transitions/<str:name>/", api.ChangeTransitionView.as_view(),
         name="api-change-transition"),
    path("changes/<int:pk>/reveal-id/", api.ChangeRevealIdView.as_view(), name="api-change-reveal"),
]
