"""/api/exchange/v1/: the national-platform exchange (API.md §2)."""

urlpatterns = []
