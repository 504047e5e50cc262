"""Transfer pages: the person's 档案调出申请 and the bureau's transfer pages."""

urlpatterns = []
