"""/api/exchange/v1/: the national-platform exchange (API.md §2)."""

from django.urls import path

from transfers import exchange_api

urlpatterns = [
    path("outbound/", exchange_api.OutboundListView.as_view(), name="exchange-outbound"),
    path("outbound/<str:transfer_no>/ack/", exchange_api.OutboundAckView.as_view(), name="exchange-outbound-ack"),
    path("outbound/<str:transfer_no>/result/", exchange_api.OutboundResultView.as_view(),
         name="exchange-outbound-result"),
    path("inbound/", exchange_api.InboundReceiveView.as_view(), name="exchange-inbound"),
    path("inbound/<str:transfer_no>/", exchange_api.InboundStatusView.as_view(), name="exchange-inbound-status"),
]
