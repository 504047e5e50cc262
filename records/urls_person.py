"""The accountant's records pages: 我的信息—信息采集, 我的档案, 档案变更登记."""

urlpatterns = []
