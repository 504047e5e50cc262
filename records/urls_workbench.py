"""The bureau's workbench: the review queue, application pages, attachments.

The queue itself is ``/workbench/`` (``accounts:workbench``, routed in accounts/urls.py to
:func:`records.views_workbench.queue`). Each kind has its own named routes
(``workbench_collection``, ``workbench_collection_transition``, ``workbench_collection_reveal``,
``workbench_change``, …), so transfers and claims may route their own ``workbench/<kind>/…`` pages.
"""

from django.urls import path

from records import views_workbench as views

urlpatterns = [
    path("workbench/export.xlsx", views.queue_export, name="workbench_export"),
    path("files/<int:pk>/", views.attachment_file, name="attachment_file"),
]
for segment, model in views.KINDS.items():
    urlpatterns += [
        path(f"workbench/{segment}/<int:pk>/", views.application_detail, {"kind": segment},
             name=f"workbench_{model.KIND}"),
        path(f"workbench/{segment}/<int:pk>/transitions/<slug:name>/", views.application_transition,
             {"kind": segment}, name=f"workbench_{model.KIND}_transition"),
        path(f"workbench/{segment}/<int:pk>/reveal-id/", views.application_reveal_id, {"kind": segment},
             name=f"workbench_{model.KIND}_reveal"),
    ]
