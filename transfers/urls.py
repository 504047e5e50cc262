"""Transfer pages: the person's 档案调出申请 and the bureau's transfer pages (included at the site root).

``workbench_transfer`` is the name :meth:`transfers.models.Transfer.reviewer_url` and the review
queue link to; ``/me/transfers/<pk>/`` is :meth:`~transfers.models.Transfer.applicant_url`.
"""

from django.urls import path

from transfers import views_person, views_workbench

urlpatterns = [
    path("me/transfers/", views_person.transfer_list, name="person_transfer_list"),
    path("me/transfers/new/", views_person.transfer_new, name="person_transfer_new"),
    path("me/transfers/<int:pk>/", views_person.transfer_detail, name="person_transfer_detail"),
    path("me/transfers/<int:pk>/transitions/<slug:name>/", views_person.transfer_transition,
         name="person_transfer_transition"),
    *views_workbench.TransferPage.urls("workbench/transfers/"),  # workbench_transfer, workbench_transfer_transition
    path("workbench/exchange/", views_workbench.exchange_monitor, name="workbench_exchange"),
]
