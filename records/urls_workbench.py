"""The bureau's workbench: the review queue, application pages, attachments."""

urlpatterns = []
