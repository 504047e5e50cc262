"""The person's CE pages (学分查询, 学分证明) and the public certificate check (included at the site root).

``cpe_verify`` (``/verify/<code>``) is the address printed and QR-coded on every certificate.
"""

from django.urls import path

from cpe.ledger import views

urlpatterns = [
    path("me/cpe/", views.cpe_overview, name="person_cpe"),
    path("me/cpe/<int:year>/", views.cpe_year, name="person_cpe_year"),
    path("me/cpe/<int:year>/certificate.pdf", views.cpe_certificate, name="person_cpe_certificate"),
    path("verify/", views.verify_form, name="cpe_verify_form"),
    path("verify/<str:code>", views.verify, name="cpe_verify"),
]
